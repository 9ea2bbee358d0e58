package faultmatrix

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/modelarts-notifier/modelarts-notifier/eventsapi"
	"github.com/modelarts-notifier/modelarts-notifier/eventsapi/eventsapitest"
	"github.com/modelarts-notifier/modelarts-notifier/functions/checkpoint"
	"github.com/modelarts-notifier/modelarts-notifier/functions/checkpoint/checkpointtest"
	"github.com/modelarts-notifier/modelarts-notifier/functions/timeline"
	"github.com/modelarts-notifier/modelarts-notifier/functions/watch"
	"github.com/modelarts-notifier/modelarts-notifier/notifier"
	"github.com/modelarts-notifier/modelarts-notifier/notifier/notifiertest"
)

var (
	flagRuns  = flag.Int("faultmatrix.runs", 0, "fault matrix runs (seeds 1..N); default $FAULTMATRIX_RUNS or 32 (6 with -short)")
	flagSeed  = flag.Uint64("faultmatrix.seed", 0, "run only this seed")
	flagBug   = flag.String("faultmatrix.bug", "", "comma-separated fixed bugs (knownBugs) whose triggers the runs contain (default: all)")
	flagTrace = flag.Bool("faultmatrix.trace", false, "log every poll: the script's changes, the faults and the result")
)

// runs is the number of seeds to run.
func runs(t *testing.T) []uint64 {
	if *flagSeed != 0 {
		return []uint64{*flagSeed}
	}
	n := *flagRuns
	if n == 0 {
		if v, err := strconv.Atoi(os.Getenv("FAULTMATRIX_RUNS")); err == nil && v > 0 {
			n = v
		}
	}
	if n == 0 {
		n = 32
		if testing.Short() {
			n = 6
		}
	}
	seeds := make([]uint64, n)
	for i := range seeds {
		seeds[i] = uint64(i + 1)
	}
	return seeds
}

// Fault kinds, in the table's order.
const (
	kAPI429 = iota
	kAPI5xx
	kAPITruncated
	kAPIDeadline
	kHook429
	kHook5xx
	kHookTimeout
	kHookAcceptedTimeout
	kSlack429
	kSlack5xx
	kSlackTimeout
	kCrash
	kConcurrent
	kCorrupt
	kAPILyingTotal
	kAPIIgnoreOffset
	kHookDown
	kSlackDown
	// Made by the script, not drawn per poll:
	kFirstPollDown
	kFuture
	kStop
	kStallStop
	numKinds
)

var kindNames = [numKinds]string{
	"modelarts 429", "modelarts 5xx", "modelarts truncated body", "modelarts latency past deadline",
	"webhook 429", "webhook 5xx", "webhook timeout", "webhook timeout after accepting",
	"slack 429", "slack 5xx", "slack timeout",
	"crash before checkpoint save", "two polls at once", "corrupt checkpoint file",
	"modelarts lying total_count", "modelarts ignoring offset",
	"webhook down past lookback (polls)", "slack down past lookback (polls)",
	"first poll, dest. down past lookback", "event dated 1 h to 1 year ahead",
	"stop mid-deploy", "stop after a reported stall",
}

// maxFaultyInARow bounds consecutive polls with faults, so that anything
// lasting longer is seen by a poll without any.
const maxFaultyInARow = 3

// Timing of the real (not simulated) clock.
const (
	peerTimeout  = 400 * time.Millisecond // destinations' HTTP client timeout
	pollDeadline = 700 * time.Millisecond // a poll hit by latency past its deadline
	pollBudget   = 30 * time.Second       // any other poll
)

// slackToken is the bot token the Slack stand-in accepts.
const slackToken = "xoxb-faultmatrix-token"

// stats is what one run (or all of them) counted.
type stats struct {
	runs, polls       int
	faults            [numKinds]int
	expected          int // (item, destination) pairs
	delivered         int
	dupAllowed        int
	dupForbidden      int
	lost              int
	unexpected        int
	conflicts         int
	checkpointWrites  int
	modelartsRequests int64
	modelartsRetries  int64
}

func (s *stats) add(o stats) {
	s.runs += o.runs
	s.polls += o.polls
	for i := range s.faults {
		s.faults[i] += o.faults[i]
	}
	s.expected += o.expected
	s.delivered += o.delivered
	s.dupAllowed += o.dupAllowed
	s.dupForbidden += o.dupForbidden
	s.lost += o.lost
	s.unexpected += o.unexpected
	s.conflicts += o.conflicts
	s.checkpointWrites += o.checkpointWrites
	s.modelartsRequests += o.modelartsRequests
	s.modelartsRetries += o.modelartsRetries
}

func (s *stats) table() string {
	var b strings.Builder
	fmt.Fprintf(&b, "fault matrix\n")
	row := func(k string, v any) { fmt.Fprintf(&b, "  %-44s %8v\n", k, v) }
	row("runs", s.runs)
	row("polls", s.polls)
	for i, n := range s.faults {
		row("faults: "+kindNames[i], n)
	}
	row("notifications expected (item x destination)", s.expected)
	row("delivered", s.delivered)
	row("duplicated, allowed re-send (same webhook-id)", s.dupAllowed)
	row("duplicated, forbidden", s.dupForbidden)
	row("lost", s.lost)
	row("unexpected (spam)", s.unexpected)
	row("checkpoint conflicts (two polls at once)", s.conflicts)
	row("checkpoint writes", s.checkpointWrites)
	row("modelarts requests (retries)", fmt.Sprintf("%d (%d)", s.modelartsRequests, s.modelartsRetries))
	return b.String()
}

// simClock is the simulated time the poller and the fake live in.
type simClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *simClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *simClock) set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

// simDeadline is a context that ends at a real deadline but reports its
// deadline on the simulated clock, which is what the poller compares it
// with (watch.Config.Now). Code that compares it with the real clock sees
// a deadline still to come (the simulated clock is ahead) and relies on
// Done, which fires at the real deadline.
type simDeadline struct {
	context.Context
	at time.Time
}

func (c simDeadline) Deadline() (time.Time, bool) { return c.at, true }

// crashingStore makes the next Save calls fail without saving: the
// process "dies" between delivery and checkpoint write.
type crashingStore struct {
	checkpoint.Store
	fail atomic.Int32
}

func (s *crashingStore) Save(ctx context.Context, cp *checkpoint.Checkpoint) error {
	if s.fail.Add(-1) >= 0 {
		return errors.New("injected crash before the checkpoint was written")
	}
	return s.Store.Save(ctx, cp)
}

// SaveMany is how the poll saves: a crash takes the whole batch (the
// process dies before writing anything).
func (s *crashingStore) SaveMany(ctx context.Context, cps []*checkpoint.Checkpoint) []error {
	if s.fail.Add(-1) >= 0 {
		errs := make([]error, len(cps))
		for i := range errs {
			errs[i] = errors.New("injected crash before the checkpoint was written")
		}
		return errs
	}
	return s.Store.SaveMany(ctx, cps)
}

func noSleep(ctx context.Context, _ time.Duration) error { return ctx.Err() }

var (
	dynaliteOnce     sync.Once
	dynaliteEndpoint string
)

func TestFaultMatrix(t *testing.T) {
	seeds := runs(t)
	bugs := bugsFlag(t)
	var total stats
	for _, seed := range seeds {
		ok := t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			st := runSeed(t, seed, bugs)
			total.add(st)
			if t.Failed() {
				t.Logf("reproduce with: go test ./functions/faultmatrix -run 'TestFaultMatrix/seed=%d$' -v -faultmatrix.seed=%d", seed, seed)
			}
		})
		if !ok {
			break
		}
	}
	t.Log("\n" + total.table())
}

// env is one run's world.
type env struct {
	t       *testing.T
	rng     *rand.Rand
	clock   *simClock
	srv     *eventsapitest.Server
	api     *eventsapi.Client
	hook    *notifiertest.WebhookReceiver
	slack   *notifiertest.SlackAPI
	slackRx *notifiertest.Recorder
	dests   []notifier.Destination
	store   checkpoint.Store // the real store
	crash   *crashingStore
	file    string // the checkpoint file, for file runs
	cfg     watch.Config
	poll    atomic.Int64
	// licensed polls: a receipt during one of them may be delivered again.
	licensed map[int64]bool
	// bugs are the known product bugs whose triggers this run may contain.
	bugs map[string]bool
}

func runSeed(t *testing.T, seed uint64, bugs map[string]bool) stats {
	rng := rand.New(rand.NewPCG(seed, 0x5eed))
	e := &env{t: t, rng: rng, clock: &simClock{now: base}, licensed: map[int64]bool{}, bugs: bugs}
	st := stats{runs: 1}

	e.srv = eventsapitest.NewServer(eventsapitest.WithClock(e.clock.Now))
	t.Cleanup(e.srv.Close)
	api, err := eventsapi.New(eventsapi.Config{
		Endpoint: e.srv.URL, ProjectID: e.srv.ProjectID, Auth: eventsapi.StaticToken(e.srv.Token),
		HTTPClient:     &http.Client{Timeout: 5 * time.Second},
		RetryBaseDelay: time.Millisecond, RetryMaxDelay: 5 * time.Millisecond, MaxRetries: 2,
		MaxRetryAfter: 5 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	e.api = api

	secret := "whsec_ZmF1bHRtYXRyaXgtc2VjcmV0LWtleS0wMTIzNDU2Nzg5"
	e.hook = notifiertest.NewWebhookReceiver(t, secret, notifiertest.WithRound(e.poll.Load))
	e.slack = notifiertest.NewSlackAPI(t, slackToken)
	retry := notifier.RetryPolicy{MaxAttempts: 3, BaseDelay: time.Millisecond, MaxDelay: 5 * time.Millisecond}
	wh, err := notifier.NewWebhook(notifier.WebhookConfig{URL: e.hook.URL, Secret: secret,
		HTTPClient: &http.Client{Timeout: peerTimeout}, Sleep: noSleep, Retry: retry}, nil)
	if err != nil {
		t.Fatal(err)
	}
	bot, err := notifier.NewSlackBot(notifier.SlackBotConfig{Token: slackToken, Channel: "C0FAULTS", APIURL: e.slack.URL,
		HTTPClient: &http.Client{Timeout: peerTimeout}, Sleep: noSleep, Retry: retry}, nil)
	if err != nil {
		t.Fatal(err)
	}
	// Slack messages carry no notification id: the ids Slack got are the
	// ones its destination reported delivered.
	e.slackRx = notifiertest.NewRecorder(bot, notifiertest.WithRound(e.poll.Load))
	e.dests = []notifier.Destination{{Name: "webhook", Notifier: wh}, {Name: "slack", Notifier: e.slackRx}}

	useFile := seed%2 == 1
	if useFile {
		e.file = filepath.Join(t.TempDir(), "checkpoints.json")
		f, err := checkpoint.NewFile(e.file)
		if err != nil {
			t.Fatal(err)
		}
		e.store = f
	} else {
		dynaliteOnce.Do(func() { dynaliteEndpoint = checkpointtest.StartDynalite(sharedTB) })
		client := checkpointtest.NewDynamoClient(t, dynaliteEndpoint)
		e.store = checkpoint.NewDynamoDB(client, checkpointtest.NewTable(t, client))
	}
	e.crash = &crashingStore{Store: e.store}

	thresholds := timeline.Thresholds{}
	for _, p := range notifier.PhaseNames {
		thresholds[p] = stallThreshold
	}
	e.cfg = watch.Config{ProjectID: e.srv.ProjectID, Thresholds: thresholds, FirstRunLookback: firstRunLookback,
		Overlap: 2 * time.Minute, Now: e.clock.Now}

	nServices := 3 + rng.IntN(3)
	sc := newScript(rng, nServices, bugs)
	last := sc.last
	st.faults[kFirstPollDown] += sc.firstDown
	st.faults[kFuture] += sc.future
	st.faults[kStop] += sc.stops
	st.faults[kStallStop] += sc.stallStops
	outage := ""
	if sc.down != "" {
		outage = fmt.Sprintf(", %s down for the first %d polls (%s)", sc.down, len(sc.outage),
			sc.resume.Sub(base).Round(time.Minute))
	}
	t.Logf("seed %d: %d services, %d polls with faults, %d items, store %s%s", seed, nServices, last, len(sc.items),
		map[bool]string{true: "file", false: "dynamodb"}[useFile], outage)

	var backup []byte // the last good checkpoint file
	backupPoll := int64(-1)
	faultyInARow := 0
	k := 0
	for ; k <= last; k++ {
		e.clock.set(sc.stepTime(k))
		e.poll.Store(int64(k))
		for _, svc := range sc.services {
			if sc.born[svc] == k {
				e.srv.AddService(svc, svc, eventsapi.StatusRunning)
				e.srv.AppendEvents(svc, sc.initial[svc]...)
			}
		}
		for svc, a := range sc.steps[k] {
			if len(a.events) > 0 {
				e.srv.AppendEvents(svc, a.events...)
			}
			if a.status != "" {
				e.srv.SetStatus(svc, a.status, a.errMsg)
			}
		}
		kinds := e.drawFaults(faultyInARow, backup != nil)
		if sc.inOutage(k) {
			// The outage's faults come first: they take every request.
			var down []int
			if sc.down != "slack" {
				down = append(down, kHookDown)
			}
			if sc.down != "webhook" {
				down = append(down, kSlackDown)
			}
			kinds = append(down, kinds...)
		}
		if len(kinds) > 0 {
			faultyInARow++
		} else {
			faultyInARow = 0
		}
		for _, kd := range kinds {
			st.faults[kd]++
		}
		if *flagTrace {
			e.trace(sc, k, kinds)
		}
		res := e.pollWith(kinds, &st)
		if *flagTrace {
			var due strings.Builder
			for _, n := range res.Notifications {
				fmt.Fprintf(&due, "\n  due %s %s %s %s", n.Summary.ServiceID, n.Kind, n.Summary.Phase, n.ID)
				if n.ParentUpdate {
					due.WriteString(" (parent update)")
				}
			}
			t.Logf("poll %d: due %d delivered %d failed %d err %v%s", k, res.Due, res.Delivered, res.DeliveryFailed, res.Err, due.String())
		}
		if slices.Contains(kinds, kCorrupt) {
			// The operator restores the last good copy; what was delivered
			// since it was taken may be delivered again.
			if err := os.WriteFile(e.file, backup, 0o600); err != nil {
				t.Fatal(err)
			}
			for p := backupPoll + 1; p <= int64(k); p++ {
				e.licensed[p] = true
			}
		}
		if e.file != "" && res.Err == nil {
			if b, err := os.ReadFile(e.file); err == nil {
				backup, backupPoll = b, int64(k)
			}
		}
		e.checkReadThrough(sc, k)
		if t.Failed() {
			return st
		}
	}
	// Faults stop: poll until a poll has nothing left to do.
	for settle := 0; ; settle++ {
		k++
		e.clock.set(sc.stepTime(k))
		e.poll.Store(int64(k))
		res := e.pollWith(nil, &st)
		e.checkReadThrough(sc, k)
		if res.Err == nil && res.Due == 0 {
			break
		}
		if settle == 5 {
			t.Errorf("poll %d after faults stopped: due=%d err=%v", k, res.Due, res.Err)
			break
		}
	}
	e.checkFinal(sc, &st)
	as := e.api.Stats()
	st.modelartsRequests, st.modelartsRetries = as.Requests, as.Retries
	return st
}

// trace logs what poll k changes and suffers.
func (e *env) trace(sc *script, k int, kinds []int) {
	var b strings.Builder
	fmt.Fprintf(&b, "poll %d at %s:", k, sc.stepTime(k).Format("15:04"))
	for _, kd := range kinds {
		fmt.Fprintf(&b, " [%s]", kindNames[kd])
	}
	for _, svc := range sc.services {
		a, ok := sc.steps[k][svc]
		if !ok {
			continue
		}
		fmt.Fprintf(&b, "\n  %s", svc)
		if a.status != "" {
			fmt.Fprintf(&b, " status=%s", a.status)
		}
		for _, ev := range a.events {
			fmt.Fprintf(&b, " | %d %s %q", ev.OccurTime, ev.EventType, ev.EventInfo)
		}
	}
	e.t.Log(b.String())
}

// sharedTB owns process-wide fixtures (dynalite): it is the top-level test.
var sharedTB testing.TB

func TestMain(m *testing.M) {
	flag.Parse()
	code := runMain(m)
	os.Exit(code)
}

// runMain runs the tests with a fixture owner whose cleanups run at exit.
func runMain(m *testing.M) int {
	owner := &fixtureOwner{}
	sharedTB = owner
	defer owner.cleanup()
	return m.Run()
}

// drawFaults picks the faults of one poll.
func (e *env) drawFaults(faultyInARow int, haveBackup bool) []int {
	if faultyInARow >= maxFaultyInARow || e.rng.IntN(100) < 35 {
		return nil
	}
	switch r := e.rng.IntN(100); {
	case r < 4:
		return []int{kAPIDeadline}
	case r < 12:
		return []int{kConcurrent}
	case r < 16 && e.file != "" && haveBackup:
		return []int{kCorrupt}
	}
	var out []int
	for range 1 + e.rng.IntN(2) {
		var kd int
		switch r := e.rng.IntN(100); {
		case r < 10:
			kd = kAPI429
		case r < 20:
			kd = kAPI5xx
		case r < 28:
			kd = kAPITruncated
		case r < 36:
			kd = kHook429
		case r < 44:
			kd = kHook5xx
		case r < 48:
			kd = kHookTimeout
		case r < 52:
			kd = kHookAcceptedTimeout
		case r < 60:
			kd = kSlack429
		case r < 68:
			kd = kSlack5xx
		case r < 72:
			kd = kSlackTimeout
		case r < 80:
			kd = kAPILyingTotal
		case r < 88:
			kd = kAPIIgnoreOffset
		default:
			kd = kCrash
		}
		if !slices.Contains(out, kd) {
			out = append(out, kd)
		}
	}
	return out
}

// pollWith injects kinds, runs one poll (two for kConcurrent), clears the
// faults and checks what a poll must do under them.
func (e *env) pollWith(kinds []int, st *stats) watch.Result {
	t := e.t
	k := e.poll.Load()
	budget := pollBudget
	n := func(max int) int { return 1 + e.rng.IntN(max) }
	for _, kd := range kinds {
		switch kd {
		case kAPI429:
			e.srv.Fail(n(4), eventsapitest.Fault{Path: "/events", Status: http.StatusTooManyRequests})
		case kAPI5xx:
			if e.rng.IntN(3) == 0 { // the service list: the poll's first request
				e.srv.Fail(n(3), eventsapitest.Fault{Status: http.StatusBadGateway})
			} else {
				e.srv.Fail(n(4), eventsapitest.Fault{Path: "/events", Status: []int{500, 502, 503, 504}[e.rng.IntN(4)]})
			}
		case kAPITruncated:
			e.srv.Fail(n(3), eventsapitest.Fault{Path: "/events", Truncate: true})
		case kAPIDeadline:
			e.srv.Fail(1, eventsapitest.Fault{Path: "/events", Latency: 10 * time.Second})
			budget = pollDeadline
			e.licensed[k] = true // a delivery cut by the deadline may have arrived
		case kHook429:
			e.hook.Fail(n(4), notifiertest.TooManyRequests)
		case kHook5xx:
			e.hook.Fail(n(4), notifiertest.ServerError)
		case kHookTimeout:
			e.hook.Fail(n(2), notifiertest.Hang)
		case kHookAcceptedTimeout:
			e.hook.Fail(1, notifiertest.AcceptAndHang)
			e.licensed[k] = true
		case kSlack429:
			e.slack.Fail(n(4), notifiertest.TooManyRequests)
		case kSlack5xx:
			e.slack.Fail(n(4), notifiertest.ServerError)
		case kSlackTimeout:
			e.slack.Fail(n(2), notifiertest.Hang)
			e.licensed[k] = true // Slack may have posted what it did not answer
		case kCrash:
			e.crash.fail.Store(1)
			e.licensed[k] = true
		case kConcurrent:
			e.licensed[k] = true
		case kAPILyingTotal:
			// A total_count far above the truth: past the real end the
			// fake answers the last page again. Small pages for some polls,
			// so that paging goes through many offsets first.
			e.srv.SetLyingTotal(1000 + e.rng.IntN(100_000))
			if e.rng.IntN(2) == 0 && !slices.Contains(kinds, kAPIIgnoreOffset) {
				e.srv.SetMaxPageSize(n(4))
			}
		case kAPIIgnoreOffset:
			// Every request gets the first page from start_time. Pages hold
			// every event a read can ask for: the client must stop asking
			// (the next offset brings the same page when total_count lies)
			// and lose nothing. With bugTruncatedRead they hold 2 to 5
			// events, so that a read ends early: see knownBugs.
			e.srv.SetIgnoreOffset(true)
			page := 1
			for _, svc := range e.srv.ServiceIDs() {
				page = max(page, len(e.srv.Events(svc))+1)
			}
			if e.bugs[bugTruncatedRead] {
				page = 2 + e.rng.IntN(4)
			} else if e.rng.IntN(2) == 0 {
				e.srv.SetLyingTotal(1000 + e.rng.IntN(100_000))
			}
			e.srv.SetMaxPageSize(page)
		case kHookDown:
			e.hook.Fail(1000, notifiertest.ServerError)
		case kSlackDown:
			e.slack.Fail(1000, notifiertest.ServerError)
		case kCorrupt:
			if err := os.WriteFile(e.file, []byte(`{"svc-00": {"service_id": "svc-00", "read_th`), 0o600); err != nil {
				t.Fatal(err)
			}
		}
	}
	defer func() {
		e.srv.SetLyingTotal(0)
		e.srv.SetIgnoreOffset(false)
		e.srv.SetMaxPageSize(0)
		e.srv.ClearFaults()
		e.hook.ClearFaults()
		e.slack.ClearFaults()
		e.crash.fail.Store(0)
	}()

	newCtx := func() (context.Context, context.CancelFunc) {
		real, cancel := context.WithTimeout(context.Background(), budget)
		return simDeadline{Context: real, at: e.clock.Now().Add(budget)}, cancel
	}
	poller := func() *watch.Poller { return watch.New(e.cfg, e.api, e.crash, e.dests, slog.New(slog.DiscardHandler)) }

	hooksBefore := len(e.hook.Received())
	slackBefore := len(e.slackRx.Received())

	if slices.Contains(kinds, kConcurrent) {
		var res [2]watch.Result
		var wg sync.WaitGroup
		for i := range res {
			wg.Go(func() {
				ctx, cancel := newCtx()
				defer cancel()
				res[i] = poller().Poll(ctx)
			})
		}
		wg.Wait()
		st.polls += 2
		st.checkpointWrites += res[0].CheckpointWrites + res[1].CheckpointWrites
		both := map[string]bool{}
		for _, n := range res[0].Notifications {
			both[n.ID] = true
		}
		overlap := false
		for _, n := range res[1].Notifications {
			overlap = overlap || both[n.ID]
		}
		c0, c1 := errors.Is(res[0].Err, checkpoint.ErrConflict), errors.Is(res[1].Err, checkpoint.ErrConflict)
		if c0 || c1 {
			st.conflicts++
		}
		if overlap && res[0].DeliveryFailed == 0 && res[1].DeliveryFailed == 0 && !c0 && !c1 {
			t.Errorf("poll %d: two polls at once both delivered the same notifications and neither lost with a conflict:\n%v\n%v", k, res[0].Err, res[1].Err)
		}
		down := slices.Contains(kinds, kHookDown) || slices.Contains(kinds, kSlackDown)
		for i, r := range res {
			if r.Err != nil && !errors.Is(r.Err, checkpoint.ErrConflict) && !down {
				t.Errorf("poll %d (run %d of two at once): unexpected error: %v", k, i, r.Err)
			}
		}
		return res[0]
	}

	ctx, cancel := newCtx()
	defer cancel()
	res := poller().Poll(ctx)
	st.polls++
	st.checkpointWrites += res.CheckpointWrites

	switch {
	case slices.Contains(kinds, kCorrupt):
		if res.Err == nil || !strings.Contains(res.Err.Error(), e.file) {
			t.Errorf("poll %d over a corrupt checkpoint file: err = %v, want an error naming %s", k, res.Err, e.file)
		}
		if res.Delivered != 0 || len(e.hook.Received()) != hooksBefore || len(e.slackRx.Received()) != slackBefore {
			t.Errorf("poll %d over a corrupt checkpoint file delivered notifications", k)
		}
	case len(kinds) == 0:
		if res.Err != nil {
			t.Errorf("poll %d without faults: %v", k, res.Err)
		}
	case slices.Contains(kinds, kCrash):
		// A crash makes the poll fail only if something was to be saved.
	}
	return res
}

// deliveredEverywhere tells, per item, whether every destination has it.
func (e *env) deliveredEverywhere(sc *script) []bool {
	hooks, acks := e.hook.Received(), e.slackRx.Received()
	out := make([]bool, len(sc.items))
	for i, it := range sc.items {
		out[i] = slices.ContainsFunc(hooks, it.matches) && slices.ContainsFunc(acks, it.matches)
	}
	return out
}

// checkReadThrough checks that no checkpoint moved past an event whose
// notification is not yet delivered everywhere, and that a stalled
// deployment stays open in the checkpoint until its stall is delivered.
func (e *env) checkReadThrough(sc *script, k int) {
	done := e.deliveredEverywhere(sc)
	cps := map[string]checkpoint.Checkpoint{}
	for _, svc := range sc.services {
		cp, _, err := e.store.Load(context.Background(), svc)
		if err != nil {
			e.t.Fatalf("poll %d: load checkpoint of %s: %v", k, svc, err)
		}
		cps[svc] = cp
	}
	edge := e.clock.Now().Add(5 * time.Minute).UnixMilli()
	for _, svc := range sc.services {
		if rt := cps[svc].ReadThrough; rt > edge {
			e.t.Errorf("poll %d: checkpoint of %s reads through %d (%s), past now + 5 min (%s)", k, svc, rt,
				time.UnixMilli(rt).UTC().Format(time.RFC3339), time.UnixMilli(edge).UTC().Format(time.RFC3339))
		}
	}
	for i, it := range sc.items {
		if done[i] {
			continue
		}
		cp := cps[it.svc]
		if it.trigger != 0 && cp.ReadThrough >= it.trigger {
			e.t.Errorf("poll %d: checkpoint of %s reads through %d, past the event (%d) of an undelivered notification: %v",
				k, it.svc, cp.ReadThrough, it.trigger, it)
		}
		if it.stallBegin != 0 && cp.ReadThrough >= it.stallBegin && cp.DeploymentStart != it.start {
			e.t.Errorf("poll %d: checkpoint of %s closed the deployment (DeploymentStart %d) before its stall was delivered: %v",
				k, it.svc, cp.DeploymentStart, it)
		}
	}
}

// checkFinal checks, once faults have stopped and the polls settled, that
// every item reached every destination, nothing unexpected was sent, and
// any duplicate is an allowed re-send with the same webhook-id.
func (e *env) checkFinal(sc *script, st *stats) {
	t := e.t
	for _, d := range []struct {
		name string
		got  []notifiertest.Delivery
	}{{"webhook", e.hook.Received()}, {"slack", e.slackRx.Received()}} {
		st.expected += len(sc.items)
		for _, it := range sc.items {
			ids := map[string]bool{}
			for _, r := range d.got {
				if it.matches(r) && (r.Kind == it.kind || it.kind != notifier.KindAbnormal) {
					ids[r.ID] = true
				}
			}
			if len(ids) == 0 && !slices.ContainsFunc(d.got, it.matches) {
				st.lost++
				t.Errorf("%s: lost: %v", d.name, it)
				continue
			}
			st.delivered++
			if len(ids) > 1 {
				st.dupForbidden++
				t.Errorf("%s: %v delivered under %d different ids", d.name, it, len(ids))
			}
		}
		first := map[string]notifiertest.Delivery{}
		for _, r := range d.got {
			if !slices.ContainsFunc(sc.items, func(it item) bool { return it.matches(r) }) {
				st.unexpected++
				t.Errorf("%s: unexpected notification %s %s %s (poll %d)", d.name, r.Data.ServiceID, r.Kind, r.Data.Phase, r.Round)
			}
			f, seen := first[r.ID]
			if !seen {
				first[r.ID] = r
				continue
			}
			if e.licensed[f.Round] || e.licensedSince(f.Round, r.Round) {
				st.dupAllowed++
				continue
			}
			st.dupForbidden++
			t.Errorf("%s: %s %s %s delivered again at poll %d (first at poll %d) with no crash, concurrent run or timeout to explain it",
				d.name, r.Data.ServiceID, r.Kind, r.ID, r.Round, f.Round)
		}
	}
	// Every deployment of the script ended (succeeded, failed or was
	// stopped): none may still pin its service's read window.
	for _, svc := range sc.services {
		cp, _, err := e.store.Load(context.Background(), svc)
		if err != nil {
			t.Fatalf("load checkpoint of %s: %v", svc, err)
		}
		if cp.DeploymentStart != 0 {
			t.Errorf("checkpoint of %s keeps a deployment open (start %d) after every deployment ended", svc, cp.DeploymentStart)
		}
	}
	if bad := e.slack.Violations(); len(bad) > 0 {
		t.Errorf("slack stand-in rejected messages: %v", bad)
	}
	if bad := e.hook.Rejected(); len(bad) > 0 {
		t.Errorf("webhook receiver rejected requests: %v", bad)
	}
}

// licensedSince reports whether a licensed poll lies in (from, to): e.g. a
// restore of an old checkpoint after a first delivery.
func (e *env) licensedSince(from, to int64) bool {
	for p := from + 1; p < to; p++ {
		if e.licensed[p] {
			return true
		}
	}
	return false
}
