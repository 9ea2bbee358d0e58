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
	flagOpen  = flag.String("faultmatrix.open", "", "comma-separated open bugs (knownBugs) whose triggers the runs contain too (default: none)")
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
	kTeams429
	kFeishuRate
	kDingTalkRate
	kWeComRate
	kChatBusy
	kChatTimeout
	kChatAcceptedTimeout
	kCrash
	kConcurrent
	kCorrupt
	kAPILyingTotal
	kAPIIgnoreOffset
	kHookDown
	kSlackDown
	kChatDown
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
	"teams 429", "feishu 9499/11232/99991400", "dingtalk 130101 too fast", "wecom 45009 freq limit",
	"chat busy (5xx, errcode -1)", "chat timeout", "chat timeout after accepting",
	"crash before checkpoint save", "two polls at once", "corrupt checkpoint file",
	"modelarts lying total_count", "modelarts ignoring offset",
	"webhook down past lookback (polls)", "slack down past lookback (polls)", "chat down past lookback (polls)",
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

// Destinations, in the table's order.
const (
	dWebhook = iota
	dSlack
	dTeams
	dFeishu
	dDingTalk
	dWeCom
	numDests
)

var destNames = [numDests]string{"webhook", "slack", "teams", "feishu", "dingtalk", "wecom"}

// stats is what one run (or all of them) counted.
type stats struct {
	runs, polls       int
	runsDiscovery     int    // runs that list the services (no configured ids)
	services          [2]int // v1, v2
	items             [2]int // v1, v2
	faults            [numKinds]int
	expected          int // (item, destination) pairs
	delivered         int
	deliveredTo       [numDests]int
	dupAllowed        int
	dupForbidden      int
	lost              int
	unexpected        int
	grouped           int // abnormal events after the first of their deployment's phase: shown, not required
	runsLearning      int // runs with STALL_LEARNING on
	stallsChecked     int // stall deliveries checked against the threshold they state
	stallsLearned     int // ... of which the threshold was learned
	regrouped         int // events read again with news after a licensed poll, told in a group with another ID
	conflicts         int
	checkpointWrites  int
	modelartsRequests int64
	modelartsRetries  int64
	v2                v2Counts
	hostile           int // events ending with hostileText
	podsShown         int // failures and stalls delivered with their Warning pod events
	podsUnread        int // ... saying their pod events could not be read
	// podsWrongDeployment: ... with none, read from the service's newer
	// deployment (the open bug bugV2PodsNewest)
	podsWrongDeployment int
	chat                chatStats
	routing             routingStats
}

// chatStats are what the chat stand-ins received, read back from the
// platform bodies.
type chatStats struct {
	messages, digests int
	listed            int // (item, message) pairs a message shows
	unlisted          int // items only counted in a digest ("… and N more")
	folded            int // abnormal items inside a failure a digest lists
	dupAllowed        int
	dupForbidden      int
	lost              int
	unexpected        int
	rejected          int // refused: signature, limits, markup
	throttled         int // over the platform's per-minute limit
}

func (s *stats) add(o stats) {
	s.runs += o.runs
	s.polls += o.polls
	s.runsDiscovery += o.runsDiscovery
	for i := range s.services {
		s.services[i] += o.services[i]
		s.items[i] += o.items[i]
	}
	for i := range s.faults {
		s.faults[i] += o.faults[i]
	}
	s.expected += o.expected
	s.delivered += o.delivered
	for i := range s.deliveredTo {
		s.deliveredTo[i] += o.deliveredTo[i]
	}
	s.dupAllowed += o.dupAllowed
	s.dupForbidden += o.dupForbidden
	s.lost += o.lost
	s.unexpected += o.unexpected
	s.grouped += o.grouped
	s.runsLearning += o.runsLearning
	s.stallsChecked += o.stallsChecked
	s.stallsLearned += o.stallsLearned
	s.regrouped += o.regrouped
	s.conflicts += o.conflicts
	s.checkpointWrites += o.checkpointWrites
	s.modelartsRequests += o.modelartsRequests
	s.modelartsRetries += o.modelartsRetries
	s.v2.repeats += o.v2.repeats
	s.v2.longRepeats += o.v2.longRepeats
	s.v2.warnings += o.v2.warnings
	s.v2.chinese += o.v2.chinese
	s.v2.chineseOnly += o.v2.chineseOnly
	s.v2.podsExpected += o.v2.podsExpected
	s.v2.errorStatus += o.v2.errorStatus
	s.v2.upgrading += o.v2.upgrading
	s.v2.deployTimeout += o.v2.deployTimeout
	s.hostile += o.hostile
	s.podsShown += o.podsShown
	s.podsUnread += o.podsUnread
	s.podsWrongDeployment += o.podsWrongDeployment
	c, oc := &s.chat, o.chat
	c.messages += oc.messages
	c.digests += oc.digests
	c.listed += oc.listed
	c.unlisted += oc.unlisted
	c.folded += oc.folded
	c.dupAllowed += oc.dupAllowed
	c.dupForbidden += oc.dupForbidden
	c.lost += oc.lost
	c.unexpected += oc.unexpected
	c.rejected += oc.rejected
	c.throttled += oc.throttled
	s.routing.add(o.routing)
}

func (s *stats) table() string {
	var b strings.Builder
	fmt.Fprintf(&b, "fault matrix\n")
	row := func(k string, v any) { fmt.Fprintf(&b, "  %-46s %10v\n", k, v) }
	pair := func(a, b int) string { return fmt.Sprintf("%d / %d", a, b) }
	row("runs (discovering services / configured ids)", pair(s.runsDiscovery, s.runs-s.runsDiscovery))
	row("polls", s.polls)
	row("services v1 / v2", pair(s.services[0], s.services[1]))
	row("items v1 / v2", pair(s.items[0], s.items[1]))
	row("v2: record repeats merged", s.v2.repeats)
	row("v2: records repeating past the stall threshold", s.v2.longRepeats)
	row("v2: WARNING records", s.v2.warnings)
	row("v2: failures in Chinese (of them Chinese only)", pair(s.v2.chinese, s.v2.chineseOnly))
	row("v2: failures under ERROR, deploys under UPGRADING", pair(s.v2.errorStatus, s.v2.upgrading))
	row("v2: failures and stalls with Warning pod events", s.v2.podsExpected)
	row("v2: ... delivered with them / unreadable said", pair(s.podsShown, s.podsUnread))
	row("v2: ... with none, asked of a newer deployment", s.podsWrongDeployment)
	row("events with mention and link markup", s.hostile)
	for i, n := range s.faults {
		row("faults: "+kindNames[i], n)
	}
	r := s.routing
	row("runs with ROUTES / without", pair(r.runs, s.runs-r.runs))
	row("ROUTES: routes / mutes", pair(r.routes, r.mutes))
	row("mutes: absolute / recurring (wrapping midnight)", fmt.Sprintf("%d / %d (%d)", r.absolute, r.recurring, r.wrapping))
	row("items to every destination / a subset", pair(r.itemsAll, r.itemsSubset))
	row("items routed on the phase they are told in", r.itemsPhaseDependent)
	row("items muted (after a partial delivery)", fmt.Sprintf("%d (%d)", r.itemsMuted, r.itemsMutedPartly))
	row("items dropped (to: [])", r.itemsDropped)
	row("poller: routed / muted / to [] (router answers)", fmt.Sprintf("%d / %d / %d", r.routerCalls, r.routerMuted, r.routerDropped))
	row("poller: counted muted / dropped (poll results)", pair(r.countedMuted, r.countedDropped))
	row("checkpoints: recorded muted / dropped", pair(r.recordedMuted, r.recordedDropped))
	row("recorded muted after told somewhere", r.mutedTold)
	row("deliveries checked against ROUTES", r.checked)
	row("... to a destination not routed", r.notRouted)
	row("... while a mute matched", r.sentMuted)
	row("... after recorded muted or dropped", r.sentAfterDone)
	row("notifications expected (item x destination)", s.expected)
	row("delivered", s.delivered)
	for i, n := range s.deliveredTo {
		row("  delivered to "+destNames[i], n)
	}
	row("duplicated, allowed re-send (same webhook-id)", s.dupAllowed)
	row("  of which regrouped with news (another id)", s.regrouped)
	row("duplicated, forbidden", s.dupForbidden)
	row("abnormal events grouped (later in a phase)", s.grouped)
	row("runs learning thresholds; stalls past their threshold (learned)", fmt.Sprintf("%d; %d (%d)", s.runsLearning, s.stallsChecked, s.stallsLearned))
	row("lost", s.lost)
	row("unexpected (spam)", s.unexpected)
	row("chat bodies: messages (digests)", fmt.Sprintf("%d (%d)", s.chat.messages, s.chat.digests))
	row("chat bodies: items shown", s.chat.listed)
	row("chat bodies: items only counted in a digest", s.chat.unlisted)
	row("chat bodies: abnormal items in a listed failure", s.chat.folded)
	row("chat bodies: re-sent, allowed / forbidden", pair(s.chat.dupAllowed, s.chat.dupForbidden))
	row("chat bodies: lost / unexpected", pair(s.chat.lost, s.chat.unexpected))
	row("chat: refused (signature, limits, markup)", s.chat.rejected)
	row("chat: over the platform's rate limit", s.chat.throttled)
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
	fail    atomic.Int32
	crashes atomic.Int32 // crashes of SaveMany so far
}

func (s *crashingStore) Save(ctx context.Context, cp *checkpoint.Checkpoint) error {
	if s.fail.Add(-1) >= 0 {
		return errors.New("injected crash before the checkpoint was written")
	}
	return s.Store.Save(ctx, cp)
}

// SaveMany is how the poll saves: a crash takes the whole batch (the
// process dies before writing anything).
//
// Every other crash comes between a batch's items, as with DynamoDB, whose
// items are independent: the first half of the batch is saved, the rest
// is not (a partial batch failure).
func (s *crashingStore) SaveMany(ctx context.Context, cps []*checkpoint.Checkpoint) []error {
	if s.fail.Add(-1) >= 0 {
		errs := make([]error, len(cps))
		k := 0
		if s.crashes.Add(1)%2 == 0 {
			k = len(cps) / 2
			copy(errs, s.Store.SaveMany(ctx, cps[:k]))
		}
		for i := k; i < len(errs); i++ {
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
	chats   []*chatDest // Teams, Feishu, DingTalk, WeCom
	dests   []notifier.Destination
	store   checkpoint.Store // the real store
	crash   *crashingStore
	file    string // the checkpoint file, for file runs
	cfg     watch.Config
	// configured: the poller watches configured ids (the services born
	// so far), else it lists the services.
	configured bool
	poll       atomic.Int64
	// licensed polls: a receipt during one of them may be delivered again.
	licensed map[int64]bool
	// bugs are the known product bugs whose triggers this run may contain.
	bugs map[string]bool
	// labels are the URL entries' names (NAME=URL; "": none).
	labels [numDests]string
	// rt is the run's ROUTES (maybe none), expects each item's
	// expectation under it.
	rt      *routing
	expects []expectation
	// marks are the notifications the checkpoints recorded muted or
	// dropped, acked what each other one had been acknowledged by.
	marks map[string]mark
	acked map[string][]string
	// mutedAt is, per poll, the notifications the poll counted muted
	// (Result.Muted).
	mutedAt map[int64]int
	// restored are the polls after which the last good checkpoint file
	// was restored.
	restored []int64
}

// chatDest is one chat destination: the product's, reached through the
// registry, the platform stand-in it posts to, and a recorder of what it
// reported delivered.
type chatDest struct {
	dest  int // dTeams, ...
	srv   *notifiertest.ChatServer
	rx    *notifiertest.Recorder
	clock *destClock
}

// destClock is a chat destination's clock: the simulated one, run ahead
// by what the destination slept (its rate limiter's waits and retry
// delays), so that its pacing and the stand-in's rate limit see time pass
// within a poll.
type destClock struct {
	sim   *simClock
	mu    sync.Mutex
	ahead time.Time
}

func (c *destClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if n := c.sim.Now(); !c.ahead.After(n) {
		return n
	}
	return c.ahead
}

func (c *destClock) sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	n := c.now()
	c.mu.Lock()
	defer c.mu.Unlock()
	c.ahead = n.Add(d)
	return nil
}

// Chat signing secrets and keyword.
const (
	feishuSecret    = "faultmatrix-feishu-secret"
	dingtalkSecret  = "SECfaultmatrix-dingtalk-secret"
	dingtalkKeyword = "ModelArts"
)

// newDestinations builds every destination kind through the registry, as
// the poller's configuration does: a generic webhook (Standard Webhooks,
// signed), Slack with a bot token, and Teams, Feishu (signed), DingTalk
// (signed, keyword security) and WeCom, each against its stand-in. Slack's
// and the chat destinations are wrapped in recorders (their messages carry
// no notification id). The webhook and Slack keep the real clock (the
// webhook's timestamp is checked against it); each chat destination runs
// on its own destClock, shared with its stand-in.
func (e *env) newDestinations(secret string) {
	t := e.t
	retry := notifier.RetryPolicy{MaxAttempts: 3, BaseDelay: time.Millisecond, MaxDelay: 5 * time.Millisecond}
	opts := notifier.DestinationOptions{HTTPClient: &http.Client{Timeout: peerTimeout}, Sleep: noSleep, Retry: retry}
	entry := func(d int, url string) string {
		if e.labels[d] == "" {
			return url
		}
		return e.labels[d] + "=" + url
	}
	vars := map[string]string{
		"WEBHOOK_URLS": entry(dWebhook, e.hook.URL), "WEBHOOK_SECRET": secret,
		"SLACK_BOT_TOKEN": slackToken, "SLACK_CHANNEL": "C0FAULTS", "SLACK_API_URL": e.slack.URL,
		"FEISHU_SECRET": feishuSecret, "DINGTALK_SECRET": dingtalkSecret, "DINGTALK_KEYWORD": dingtalkKeyword,
	}
	chatVar := map[int]string{dTeams: "TEAMS_WEBHOOK_URLS", dFeishu: "FEISHU_WEBHOOK_URLS", dDingTalk: "DINGTALK_WEBHOOK_URLS", dWeCom: "WECOM_WEBHOOK_URLS"}
	byKind := map[string]*chatDest{}
	for d := dTeams; d <= dWeCom; d++ {
		c := &chatDest{dest: d, clock: &destClock{sim: e.clock}}
		cfg := notifiertest.ChatConfig{Now: c.clock.now, Round: e.poll.Load}
		switch d {
		case dTeams:
			c.srv = notifiertest.NewTeams(t, cfg)
		case dFeishu:
			cfg.Secret = feishuSecret
			c.srv = notifiertest.NewFeishu(t, cfg)
		case dDingTalk:
			cfg.Secret, cfg.Keyword = dingtalkSecret, dingtalkKeyword
			c.srv = notifiertest.NewDingTalk(t, cfg)
		case dWeCom:
			c.srv = notifiertest.NewWeCom(t, cfg)
		}
		vars[chatVar[d]] = entry(d, c.srv.WebhookURL)
		byKind[destNames[d]] = c
		e.chats = append(e.chats, c)
	}
	for _, k := range notifier.Registry() {
		o := opts
		c := byKind[k.Name]
		if c != nil {
			o.Now, o.Sleep = c.clock.now, c.clock.sleep
		}
		ds, err := k.New(vars, o)
		if err != nil {
			t.Fatalf("destination kind %s: %v", k.Name, err)
		}
		for _, d := range ds {
			switch {
			case k.Name == "slack-bot":
				// Slack messages carry no notification id: the ids Slack
				// got are the ones its destination reported delivered.
				e.slackRx = notifiertest.NewRecorder(d.Notifier, notifiertest.WithRound(e.poll.Load))
				d.Notifier = e.slackRx
			case c != nil:
				c.rx = notifiertest.NewRecorder(d.Notifier, notifiertest.WithRound(e.poll.Load))
				d.Notifier = c.rx
			}
			e.dests = append(e.dests, d)
		}
	}
	if len(e.dests) != numDests || e.slackRx == nil {
		t.Fatalf("%d destinations built, want %d", len(e.dests), numDests)
	}
	for _, c := range e.chats {
		if c.rx == nil {
			t.Fatalf("no %s destination built", destNames[c.dest])
		}
	}
}

// received is what each destination got, in destination order: the
// webhook receiver's deliveries, and what Slack's and each chat
// destination's recorder saw reported delivered.
func (e *env) received() [numDests][]notifiertest.Delivery {
	var out [numDests][]notifiertest.Delivery
	out[dWebhook], out[dSlack] = e.hook.Received(), e.slackRx.Received()
	for _, c := range e.chats {
		out[c.dest] = c.rx.Received()
	}
	return out
}

func runSeed(t *testing.T, seed uint64, bugs map[string]bool) stats {
	rng := rand.New(rand.NewPCG(seed, 0x5eed))
	e := &env{t: t, rng: rng, clock: &simClock{now: base}, licensed: map[int64]bool{}, bugs: bugs,
		marks: map[string]mark{}, acked: map[string][]string{}, mutedAt: map[int64]int{}}
	st := stats{runs: 1}
	// Routing draws from its own stream: the scenario and the faults are
	// what the seed made them before routing joined.
	rrng := rand.New(rand.NewPCG(seed, routesSalt))
	e.labels = entryLabels(rrng)

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
	e.newDestinations(secret)

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
	// Both generations are watched (MODELARTS_API=auto): listed, or, in
	// one run in two, configured by id (each looked up as v2 first; an
	// unknown v2 id answers 400, 403 or 404).
	// Learned thresholds (STALL_LEARNING) in every other run, chosen by
	// the seed so that the runs draw as before.
	e.cfg = watch.Config{ProjectID: e.srv.ProjectID, Thresholds: thresholds, FirstRunLookback: firstRunLookback,
		Overlap: 2 * time.Minute, Now: e.clock.Now, API: "auto", Learn: seed%2 == 0}
	if e.cfg.Learn {
		st.runsLearning++
	}
	e.configured = rng.IntN(2) == 0
	unknownV2 := http.StatusBadRequest
	if e.configured {
		unknownV2 = []int{http.StatusBadRequest, http.StatusForbidden, http.StatusNotFound}[rng.IntN(3)]
		e.srv.SetV2UnknownStatus(unknownV2)
	} else {
		st.runsDiscovery++
	}

	nServices := 3 + rng.IntN(3)
	sc := newScript(rng, nServices, bugs, serviceNames(rrng, nServices))
	last := sc.last
	rt, err := newRouting(rrng, sc, e.dests, *flagRoutes)
	if err != nil {
		t.Fatal(err)
	}
	e.rt = rt
	e.expects = rt.expect(sc)
	routed := "no ROUTES"
	if rt.on() {
		rt.log = &routerLog{tb: rt.tb, poll: e.poll.Load, clock: e.clock.Now}
		e.cfg.Router = rt.log
		st.routing.runs = 1
		st.routing.routes, st.routing.mutes = rt.routes, rt.mutes
		st.routing.absolute, st.routing.recurring, st.routing.wrapping = rt.absolute, rt.recurring, rt.wrapping
		routed = fmt.Sprintf("ROUTES (%s): %d routes, %d mutes", rt.format, rt.routes, rt.mutes)
		if *flagTrace {
			t.Logf("ROUTES:\n%s", rt.doc)
		}
		t.Cleanup(func() {
			if t.Failed() && !*flagTrace {
				t.Logf("ROUTES:\n%s", rt.doc)
			}
		})
	}
	st.faults[kFirstPollDown] += sc.firstDown
	st.faults[kFuture] += sc.future
	st.faults[kStop] += sc.stops
	st.grouped += sc.grouped
	st.faults[kStallStop] += sc.stallStops
	st.v2 = sc.v2
	st.hostile = sc.hostile
	for _, svc := range sc.services {
		st.services[genIndex(sc.gen[svc])]++
	}
	for _, it := range sc.items {
		st.items[genIndex(it.gen)]++
	}
	outage := ""
	if sc.down != "" {
		outage = fmt.Sprintf(", %s down for the first %d polls (%s)", sc.down, len(sc.outage),
			sc.resume.Sub(base).Round(time.Minute))
	}
	watching := "listed"
	if e.configured {
		watching = fmt.Sprintf("configured ids (unknown v2 id: %d)", unknownV2)
	}
	t.Logf("seed %d: %d services (%d v2), %s, %d polls with faults, %d items, store %s%s, %s", seed, nServices, st.services[1], watching,
		last, len(sc.items), map[bool]string{true: "file", false: "dynamodb"}[useFile], outage, routed)

	var backup []byte // the last good checkpoint file
	backupPoll := int64(-1)
	faultyInARow := 0
	k := 0
	for ; k <= last; k++ {
		e.clock.set(sc.stepTime(k))
		e.poll.Store(int64(k))
		e.apply(sc, k)
		kinds := e.drawFaults(faultyInARow, backup != nil)
		if sc.statusEnds[k] && !bugs[bugStatusEndMissed] {
			kinds = nil // the first read of a status that ends a deployment succeeds: see knownBugs
		}
		if sc.inOutage(k) {
			// The outage's faults come first: they take every request.
			var down []int
			switch sc.down {
			case "webhook":
				down = []int{kHookDown}
			case "slack":
				down = []int{kSlackDown}
			case "chat":
				down = []int{kChatDown}
			default:
				down = []int{kHookDown, kSlackDown, kChatDown}
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
				if n.Thread == notifier.ParentUpdate {
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
			e.restored = append(e.restored, int64(k))
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
		e.apply(sc, k)
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

func genIndex(gen string) int {
	if gen == genV2 {
		return 1
	}
	return 0
}

// apply makes what the script says happens before poll k: services
// appear (v2 ones with their history's deployments), events and records
// are appended (v2 repeats merge), statuses change, v2 deployments begin
// and get pod events. With configured ids, the ids are those of the
// services born so far (the operator adds a service when it is created).
func (e *env) apply(sc *script, k int) {
	for _, svc := range sc.services {
		if sc.born[svc] != k {
			continue
		}
		if sc.gen[svc] == genV2 {
			e.srv.AddServiceV2(svc, sc.names[svc], "RUNNING")
			if m := sc.deployTimeout[svc]; m > 0 {
				e.srv.SetDeployTimeout(svc, m)
			}
			for _, d := range sc.initialDeployments[svc] {
				e.srv.AddDeploymentV2(svc, d.deployment, d.deployAt)
			}
			e.srv.AppendV2Events(svc, sc.initial[svc]...)
		} else {
			e.srv.AddService(svc, sc.names[svc], eventsapi.StatusRunning)
			e.srv.AppendEvents(svc, sc.initial[svc]...)
		}
	}
	for svc, a := range sc.steps[k] {
		if sc.gen[svc] == genV2 {
			if a.deployment != "" {
				e.srv.AddDeploymentV2(svc, a.deployment, a.deployAt)
			}
			if len(a.events) > 0 {
				e.srv.AppendV2Events(svc, a.events...)
			}
			if a.raw != "" {
				e.srv.SetStatusV2(svc, a.raw, a.errMsg)
			}
			if len(a.pods) > 0 {
				e.srv.AddPodEvents(svc, a.pods...)
			}
			continue
		}
		if len(a.events) > 0 {
			e.srv.AppendEvents(svc, a.events...)
		}
		if a.status != "" {
			e.srv.SetStatus(svc, a.status, a.errMsg)
		}
	}
	if e.configured {
		var ids []string
		for _, svc := range sc.services {
			if sc.born[svc] <= k {
				ids = append(ids, svc)
			}
		}
		e.cfg.ServiceIDs = ids
	}
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
		fmt.Fprintf(&b, "\n  %s (%s)", svc, sc.gen[svc])
		if a.deployment != "" {
			fmt.Fprintf(&b, " deployment=%s", a.deployment)
		}
		if a.status != "" {
			fmt.Fprintf(&b, " status=%s", a.status)
			if a.raw != "" {
				fmt.Fprintf(&b, " (%s)", a.raw)
			}
		}
		for _, ev := range a.events {
			fmt.Fprintf(&b, " | %d %s %q", ev.OccurTime, ev.EventType, ev.EventInfo)
			if ev.EventInfoCN != "" {
				fmt.Fprintf(&b, " %q", ev.EventInfoCN)
			}
			if ev.ID != "" {
				fmt.Fprintf(&b, " id=…%s", ev.ID[len(ev.ID)-6:])
			}
		}
		for _, p := range a.pods {
			fmt.Fprintf(&b, " | pod %s %s", p.Type, p.Reason)
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
		switch r := e.rng.IntN(124); {
		case r < 10:
			kd = kAPI429
		case r < 20:
			kd = kAPI5xx
		case r < 28:
			kd = kAPITruncated
		case r < 34:
			kd = kHook429
		case r < 40:
			kd = kHook5xx
		case r < 44:
			kd = kHookTimeout
		case r < 48:
			kd = kHookAcceptedTimeout
		case r < 54:
			kd = kSlack429
		case r < 60:
			kd = kSlack5xx
		case r < 64:
			kd = kSlackTimeout
		case r < 68:
			kd = kTeams429
		case r < 72:
			kd = kFeishuRate
		case r < 76:
			kd = kDingTalkRate
		case r < 80:
			kd = kWeComRate
		case r < 86:
			kd = kChatBusy
		case r < 90:
			kd = kChatTimeout
		case r < 94:
			kd = kChatAcceptedTimeout
		case r < 102:
			kd = kAPILyingTotal
		case r < 110:
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
		case kTeams429:
			e.chat(dTeams).srv.Fail(n(3), notifiertest.TooManyRequests)
		case kFeishuRate:
			e.chat(dFeishu).srv.Fail(n(3), notifiertest.TooManyRequests)
		case kDingTalkRate:
			// The robot pauses a minute: the rest waits for the next poll.
			e.chat(dDingTalk).srv.Fail(n(2), notifiertest.TooManyRequests)
		case kWeComRate:
			e.chat(dWeCom).srv.Fail(n(2), notifiertest.TooManyRequests)
		case kChatBusy:
			for _, c := range e.someChats() {
				c.srv.Fail(n(4), notifiertest.ServerError)
			}
		case kChatTimeout:
			// Not accepted: the destination gives up and retries; the
			// platform has nothing to show twice.
			for _, c := range e.someChats() {
				c.srv.Fail(n(2), notifiertest.Hang)
			}
		case kChatAcceptedTimeout:
			for _, c := range e.someChats() {
				c.srv.Fail(1, notifiertest.AcceptAndHang)
			}
			e.licensed[k] = true
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
				e.srv.SetMaxPageSize(e.pageFloor(n(4)))
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
			for _, svc := range e.srv.ServiceIDsV2() {
				page = max(page, len(e.srv.EventsV2(svc))+1)
			}
			if e.bugs[bugTruncatedRead] {
				page = 2 + e.rng.IntN(4)
			} else if e.rng.IntN(2) == 0 {
				e.srv.SetLyingTotal(1000 + e.rng.IntN(100_000))
			}
			e.srv.SetMaxPageSize(e.pageFloor(page))
		case kHookDown:
			e.hook.Fail(1000, notifiertest.ServerError)
		case kSlackDown:
			e.slack.Fail(1000, notifiertest.ServerError)
		case kChatDown:
			for _, c := range e.chats {
				c.srv.Fail(1000, notifiertest.ServerError)
			}
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
		for _, c := range e.chats {
			c.srv.ClearFaults()
		}
		e.crash.fail.Store(0)
	}()

	newCtx := func() (context.Context, context.CancelFunc) {
		real, cancel := context.WithTimeout(context.Background(), budget)
		return simDeadline{Context: real, at: e.clock.Now().Add(budget)}, cancel
	}
	poller := func() *watch.Poller { return watch.New(e.cfg, e.api, e.crash, e.dests, slog.New(slog.DiscardHandler)) }

	before := e.deliveryCounts()

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
		for _, r := range res {
			st.routing.countedMuted += r.Muted
			st.routing.countedDropped += r.Dropped
			e.mutedAt[int64(k)] += r.Muted
		}
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
		down := slices.Contains(kinds, kHookDown) || slices.Contains(kinds, kSlackDown) || slices.Contains(kinds, kChatDown)
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
	st.routing.countedMuted += res.Muted
	st.routing.countedDropped += res.Dropped
	e.mutedAt[int64(k)] += res.Muted

	switch {
	case slices.Contains(kinds, kCorrupt):
		if res.Err == nil || !strings.Contains(res.Err.Error(), e.file) {
			t.Errorf("poll %d over a corrupt checkpoint file: err = %v, want an error naming %s", k, res.Err, e.file)
		}
		if res.Delivered != 0 || e.deliveryCounts() != before {
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

// pageFloor is a page size for the fake's answers, p unless the open bug
// bugV2ShortPage's trigger is off: then at least one more than any v2
// service's next read needs (see knownBugs).
func (e *env) pageFloor(p int) int {
	if e.bugs[bugV2ShortPage] {
		return p
	}
	need := 0
	now := e.clock.Now()
	for _, svc := range e.srv.ServiceIDsV2() {
		// The read goes back to the checkpoint's window start (a first
		// poll: FIRST_RUN_LOOKBACK, here with an hour to spare).
		from := now.Add(-firstRunLookback - time.Hour).UnixMilli()
		if cp, _, err := e.store.Load(context.Background(), svc); err == nil && cp.ReadThrough > 0 {
			from = max(cp.ReadThrough-e.cfg.Overlap.Milliseconds(), 0)
			if cp.DeploymentStart != 0 {
				from = min(from, cp.DeploymentStart)
			}
		}
		n := 0
		for _, ev := range e.srv.EventsV2(svc) {
			if max(ev.OccurTime, ev.LastOccurTime) >= from {
				n++
			}
		}
		need = max(need, n+1)
	}
	return max(p, need)
}

// chat returns the chat destination d.
func (e *env) chat(d int) *chatDest {
	for _, c := range e.chats {
		if c.dest == d {
			return c
		}
	}
	panic("no chat destination " + destNames[d])
}

// someChats picks one or two chat destinations.
func (e *env) someChats() []*chatDest {
	i := e.rng.IntN(len(e.chats))
	out := []*chatDest{e.chats[i]}
	if e.rng.IntN(2) == 0 {
		out = append(out, e.chats[(i+1+e.rng.IntN(len(e.chats)-1))%len(e.chats)])
	}
	return out
}

// deliveryCounts is how much each destination and chat stand-in has got
// so far.
func (e *env) deliveryCounts() [numDests + 4]int {
	var out [numDests + 4]int
	for i, got := range e.received() {
		out[i] = len(got)
	}
	for i, c := range e.chats {
		out[numDests+i] = len(c.srv.Messages())
	}
	return out
}

// settledItems tells, per item, whether it is done after poll k: every
// destination its route names whatever the phase (for an item that may be
// folded into its failure, the failure's route too) has it, or the poller
// routed it muted after its last delivery.
func (e *env) settledItems(sc *script, k int) (done []bool, missing [][]string) {
	got, last := e.itemDeliveries(sc)
	done = make([]bool, len(sc.items))
	missing = make([][]string, len(sc.items))
	for i, it := range sc.items {
		ex := e.expects[i]
		req := ex.certain
		if it.mayFold && ex.failure >= 0 {
			for d := range req {
				req[d] = req[d] && e.expects[ex.failure].certain[d]
			}
		}
		for d := range req {
			if req[d] && !got[i][d] {
				missing[i] = append(missing[i], destNames[d])
			}
		}
		switch {
		case len(missing[i]) == 0:
			done[i] = true
		case it.mayFold:
			// Muted on its own (its failure, which may carry it, is
			// checked on its own), or with its failure.
			done[i] = e.mutedAfter(sc, i, -1, int64(k)) || ex.failure >= 0 && e.mutedAfter(sc, ex.failure, last[ex.failure], int64(k))
		default:
			done[i] = e.mutedAfter(sc, i, last[i], int64(k))
		}
	}
	return done, missing
}

// checkReadThrough checks that no checkpoint moved past an event whose
// notification is not yet delivered everywhere its route names (or
// muted), and that a stalled deployment stays open in the checkpoint until
// its stall is; and reads the checkpoints' muted and dropped records.
func (e *env) checkReadThrough(sc *script, k int) {
	done, missing := e.settledItems(sc, k)
	cps := map[string]checkpoint.Checkpoint{}
	for _, svc := range sc.services {
		cp, _, err := e.store.Load(context.Background(), svc)
		if err != nil {
			e.t.Fatalf("poll %d: load checkpoint of %s: %v", k, svc, err)
		}
		cps[svc] = cp
	}
	e.observeMarks(int64(k), cps)
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
			e.t.Errorf("poll %d: checkpoint of %s reads through %d, past the event (%d) of a notification not delivered to %s: %v",
				k, it.svc, cp.ReadThrough, it.trigger, strings.Join(missing[i], ", "), it)
		}
		if it.stallBegin != 0 && cp.ReadThrough >= it.stallBegin && cp.DeploymentStart != it.start {
			e.t.Errorf("poll %d: checkpoint of %s closed the deployment (DeploymentStart %d) before its stall was delivered to %s: %v",
				k, it.svc, cp.DeploymentStart, strings.Join(missing[i], ", "), it)
		}
	}
}

// checkFinal checks, once faults have stopped and the polls settled, that
// every item reached every destination, nothing unexpected was sent, and
// any duplicate is an allowed re-send with the same webhook-id; that each
// chat platform's messages, read back, show every item and repeat none
// unless allowed; that v2 events kept their identity, type and texts, and
// failures and stalls their pod events; and that no stand-in refused
// anything.
func (e *env) checkFinal(sc *script, st *stats) {
	t := e.t
	need := e.routingOutcome(sc, st)
	for dest, got := range e.received() {
		name := destNames[dest]
		for i, it := range sc.items {
			if !need[i][dest] || it.optional {
				continue
			}
			st.expected++
			ids := map[string]bool{}
			var rounds []string // id@poll, for the message
			// regrouped: every receipt under another ID followed a
			// licensed poll (a crash before the checkpoint write, a
			// timeout after accepting, two polls at once): the events of
			// an abnormal group were read again with news, and the group
			// they make is another notification, with another ID.
			regrouped, last := true, int64(-1)
			for _, r := range got {
				if it.matches(r) && (r.Kind == it.kind || it.kind != notifier.KindAbnormal) {
					if !ids[r.ID] && last >= 0 && (it.kind != notifier.KindAbnormal || !e.reSendAllowed(last, r.Round)) {
						regrouped = false
					}
					ids[r.ID] = true
					last = r.Round
					rounds = append(rounds, fmt.Sprintf("%s@%d", r.ID, r.Round))
				}
			}
			if len(ids) == 0 && !slices.ContainsFunc(got, it.matches) {
				st.lost++
				t.Errorf("%s: lost: %v", name, it)
				continue
			}
			st.delivered++
			st.deliveredTo[dest]++
			if len(ids) > 1 && regrouped {
				st.dupAllowed++
				st.regrouped++
			} else if len(ids) > 1 {
				st.dupForbidden++
				t.Errorf("%s: %v delivered under %d different ids (%s)", name, it, len(ids), strings.Join(rounds, ", "))
			}
		}
		first := map[string]notifiertest.Delivery{}
		for _, r := range got {
			if !slices.ContainsFunc(sc.items, func(it item) bool { return it.matches(r) }) {
				st.unexpected++
				t.Errorf("%s: unexpected notification %s %s %s (poll %d)", name, r.Data.ServiceID, r.Kind, r.Data.Phase, r.Round)
			}
			f, seen := first[r.ID]
			if !seen {
				first[r.ID] = r
				continue
			}
			if e.reSendAllowed(f.Round, r.Round) {
				st.dupAllowed++
				continue
			}
			st.dupForbidden++
			t.Errorf("%s: %s %s %s delivered again at poll %d (first at poll %d) with no crash, concurrent run or timeout to explain it",
				name, r.Data.ServiceID, r.Kind, r.ID, r.Round, f.Round)
		}
	}
	for _, c := range e.chats {
		e.checkChatBodies(sc, c, st)
	}
	e.checkV2(sc, st)
	e.checkStallThresholds(sc, st)
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
		if want := sc.gen[svc]; cp.Generation != want {
			t.Errorf("checkpoint of %s remembers generation %q, want %q", svc, cp.Generation, want)
		}
	}
	if bad := e.slack.Violations(); len(bad) > 0 {
		t.Errorf("slack stand-in rejected messages: %v", bad)
	}
	if bad := e.hook.Rejected(); len(bad) > 0 {
		t.Errorf("webhook receiver rejected requests: %v", bad)
	}
	for _, c := range e.chats {
		if bad := c.srv.Rejected(); len(bad) > 0 {
			st.chat.rejected += len(bad)
			t.Errorf("%s stand-in refused requests: %q", destNames[c.dest], bad)
		}
		if bad := c.srv.Throttled(); len(bad) > 0 {
			st.chat.throttled += len(bad)
			t.Errorf("%s: the destination exceeded its platform's rate limit: %q", destNames[c.dest], bad)
		}
	}
}

// checkStallThresholds checks every stall delivered against the threshold
// it states (data.stall_threshold_ms, learned or configured): never told
// before its phase had been quiet for longer; and, where learning is off,
// that it states the configured threshold, not learned. (That every
// scripted stall is told is the items' check: always one after.)
func (e *env) checkStallThresholds(sc *script, st *stats) {
	for dest, got := range e.received() {
		for _, r := range got {
			if r.Kind != notifier.KindStalled {
				continue
			}
			for _, it := range sc.items {
				if it.kind != notifier.KindStalled || it.stallBegin == 0 || !it.matches(r) {
					continue
				}
				st.stallsChecked++
				th := r.Data.StallThresholdMS
				if th <= 0 {
					e.t.Errorf("%s: %v told without its threshold", destNames[dest], it)
					continue
				}
				if r.Data.StallThresholdLearned {
					st.stallsLearned++
				}
				if !e.cfg.Learn && (r.Data.StallThresholdLearned || th != stallThreshold.Milliseconds()) {
					e.t.Errorf("%s: %v says threshold %d ms (learned %v) with learning off, want the configured %d ms",
						destNames[dest], it, th, r.Data.StallThresholdLearned, stallThreshold.Milliseconds())
				}
				if at := sc.stepTime(int(r.Round)).UnixMilli(); at-it.stallBegin <= th {
					e.t.Errorf("%s: %v told at poll %d, %d ms into the phase, not past its threshold %d ms",
						destNames[dest], it, r.Round, at-it.stallBegin, th)
				}
			}
		}
	}
}

// reSendAllowed reports whether something first received during poll
// first may be received again during poll again: the first receipt was
// during a licensed poll (a crash before the checkpoint write, two polls
// at once, a timeout after accepting, a deadline), or a licensed poll
// lies in between (a restored checkpoint).
func (e *env) reSendAllowed(first, again int64) bool {
	return e.licensed[first] || e.licensedSince(first, again)
}

// checkChatBodies reads back what one chat platform received: each single
// message is the notification its kind, service id, phase, start (and,
// for abnormal events, the event's text and time) say; each line of a
// digest is one of the notifications of its kind, service and phase (and
// quoted event), the first one not yet received when several fit; a
// digest's unlisted notifications ("… and N more") stand for items of
// their kind that no message shows. Every item must be shown or counted,
// or (an abnormal event of a failed deployment) be part of a failure that
// is shown; an item shown by two messages is re-sent, allowed as for
// webhook ids; a message or line that fits no item is unexpected.
func (e *env) checkChatBodies(sc *script, c *chatDest, st *stats) {
	t := e.t
	name := destNames[c.dest]
	// Under ROUTES, the items its destination reported delivered must be
	// shown; those its route may name may be (a platform that took one
	// without answering, before a mute); no other.
	got, _ := e.itemDeliveries(sc)
	allowed := func(i int) bool { return e.expects[i].possible[c.dest] || got[i][c.dest] }
	type hit struct {
		msg    int
		round  int64
		folded bool // an abnormal item shown inside a failure: no re-send of it
	}
	hits := make([][]hit, len(sc.items))
	rx := e.received()[c.dest]
	// together is the items told by the abnormal notifications that told
	// item i to this destination at the poll.
	together := func(i int, round int64) []int {
		var out []int
		for _, r := range rx {
			if r.Round != round || r.Kind != notifier.KindAbnormal || !sc.items[i].matches(r) {
				continue
			}
			for j, it := range sc.items {
				if it.kind == notifier.KindAbnormal && it.matches(r) {
					out = append(out, j)
				}
			}
		}
		return out
	}
	type slot struct {
		kind notifier.Kind
		left int
	}
	var unlisted []slot
	for mi, m := range c.srv.Messages() {
		st.chat.messages++
		if len(m.Items) == 0 {
			st.chat.unexpected++
			t.Errorf("%s: message not understood (poll %d): %q", name, m.Round, m.Lines)
			continue
		}
		if !m.Digest {
			found := false
			for i, it := range sc.items {
				if ci := m.Items[0]; allowed(i) && it.from <= int(m.Round) && it.chatMatches(ci, false) {
					hits[i] = append(hits[i], hit{mi, m.Round, ci.Kind != it.kind})
					st.chat.listed++
					found = true
				}
			}
			if !found {
				st.chat.unexpected++
				t.Errorf("%s: unexpected message (poll %d): %+v", name, m.Round, m.Items[0])
			}
			continue
		}
		st.chat.digests++
		listed := map[notifier.Kind]int{}
		total := 0
		for _, n := range m.Counts {
			total += n
		}
		if total != m.Total || len(m.Items)+m.More != m.Total {
			t.Errorf("%s: digest (poll %d) says %d notifications, counts %v, lists %d and %d more", name, m.Round, m.Total, m.Counts, len(m.Items), m.More)
		}
		for _, ci := range m.Items {
			listed[ci.Kind]++
			best := -1
			for i, it := range sc.items {
				if !allowed(i) || it.from > int(m.Round) || !it.chatMatches(ci, true) {
					continue
				}
				if len(hits[i]) == 0 {
					best = i
					break
				}
				if best < 0 || e.reSendAllowed(hits[i][0].round, m.Round) {
					best = i
				}
			}
			if best < 0 {
				st.chat.unexpected++
				t.Errorf("%s: unexpected line of a digest (poll %d): %+v", name, m.Round, ci)
				continue
			}
			hits[best] = append(hits[best], hit{mi, m.Round, false})
			st.chat.listed++
			// A line stands for one notification: an abnormal group's
			// quotes one of its events, and shows the others of the
			// notification delivered with it.
			for _, j := range together(best, m.Round) {
				if j != best && allowed(j) {
					hits[j] = append(hits[j], hit{mi, m.Round, false})
				}
			}
		}
		for k, n := range m.Counts {
			if left := n - listed[k]; left > 0 {
				unlisted = append(unlisted, slot{k, left})
			}
		}
	}
	shown := func(i int) bool { return len(hits[i]) > 0 }
	for i, it := range sc.items {
		if shown(i) || !got[i][c.dest] {
			continue
		}
		found := false
		for j := range unlisted {
			if unlisted[j].kind == it.kind && unlisted[j].left > 0 {
				unlisted[j].left--
				st.chat.unlisted++
				found = true
				break
			}
		}
		if !found && it.mayFold {
			for j, f := range sc.items {
				if f.kind == notifier.KindFailed && f.svc == it.svc && f.start == it.start && shown(j) {
					st.chat.folded++
					found = true
					break
				}
			}
		}
		if !found {
			st.chat.lost++
			t.Errorf("%s: no message shows %v", name, it)
		}
	}
	for i, all := range hits {
		var hs []hit
		for _, h := range all {
			if !h.folded {
				hs = append(hs, h)
			}
		}
		if len(hs) < 2 {
			continue
		}
		for _, h := range hs[1:] {
			if h.msg == hs[0].msg {
				continue
			}
			if e.reSendAllowed(hs[0].round, h.round) {
				st.chat.dupAllowed++
				continue
			}
			st.chat.dupForbidden++
			t.Errorf("%s: %v shown again at poll %d (first at poll %d) with no crash, concurrent run or timeout to explain it",
				name, sc.items[i], h.round, hs[0].round)
		}
	}
}

// checkV2 checks the webhook's deliveries of v2 services: the summary
// says the generation; an abnormal item's event keeps its record's id,
// type (warning stays warning), texts in both languages and first
// occurrence, with its count and last occurrence; a failed or stalled
// deployment carries its Warning pod events, or says they could not be
// read.
func (e *env) checkV2(sc *script, st *stats) {
	t := e.t
	for _, r := range e.hook.Received() {
		for _, it := range sc.items {
			if !it.matches(r) {
				continue
			}
			if gen := r.Data.Generation; (it.gen == genV2) != (gen == genV2) {
				t.Errorf("webhook: %v delivered with generation %q", it, gen)
			}
			if it.kind == notifier.KindAbnormal && it.gen == genV2 {
				for _, got := range r.Data.AbnormalEvents {
					if got.ID != it.event.ID {
						continue
					}
					want := it.event
					if got.EventType != want.EventType || got.EventInfo != want.EventInfo || got.EventInfoCN != want.EventInfoCN ||
						got.OccurTime != want.OccurTime || got.EventCount < 1 || got.LastOccurTime < got.OccurTime {
						t.Errorf("webhook: %v delivered as %+v", it, got)
					}
				}
			}
			if !it.podsKnown || r.Kind != it.kind {
				continue
			}
			switch {
			case len(r.Data.PodEvents) > 0:
				var got, want []string
				for _, p := range r.Data.PodEvents {
					got = append(got, p.Type+" "+p.Reason+": "+p.Message)
				}
				for _, p := range it.pods {
					want = append(want, p.Type+" "+p.Reason+": "+p.Message)
				}
				if !slices.Equal(got, want) {
					t.Errorf("webhook: %v (poll %d) carries pod events %q, want %q", it, r.Round, got, want)
				}
				st.podsShown++
			case r.Data.PodEventsError != "":
				st.podsUnread++
			case len(it.pods) > 0 && it.nextDeploy > 0 && int(r.Round) >= it.nextDeploy && !e.bugs[bugV2PodsNewest]:
				// Asked of the service's newer deployment: see knownBugs.
				st.podsWrongDeployment++
			case len(it.pods) > 0:
				t.Errorf("webhook: %v (poll %d) carries no pod events and does not say why", it, r.Round)
			}
		}
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
