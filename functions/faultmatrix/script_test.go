package faultmatrix

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/modelarts-notifier/modelarts-notifier/eventsapi"
	"github.com/modelarts-notifier/modelarts-notifier/eventsapi/eventsapitest"
	"github.com/modelarts-notifier/modelarts-notifier/notifier"
	"github.com/modelarts-notifier/modelarts-notifier/notifier/notifiertest"
)

// The simulated clock starts here. It is ahead of the real clock on
// purpose: the poll's deadline is expressed on it (see simDeadline) and
// code that compares it with the real clock must see a deadline to come.
var base = time.Date(2030, 1, 7, 9, 0, 0, 0, time.UTC)

// step is the simulated time between two polls (the schedule's rate).
const step = time.Minute

// stallThreshold applies to every phase in the matrix.
const stallThreshold = 5 * time.Minute

// Generations of services.
const (
	genV1 = eventsapi.GenerationV1
	genV2 = eventsapi.GenerationV2
)

// schedule maps polls to simulated times: one step apart, except in an
// initial outage (polls before len(outage)), whose polls are further
// apart (the destinations are down longer than FIRST_RUN_LOOKBACK, and
// nothing scripted happens in it).
type schedule struct {
	outage []time.Time // the outage's polls, from base
	resume time.Time   // the first poll after the outage (base without one)
}

// stepTime is the time of poll k.
func (sc *schedule) stepTime(k int) time.Time {
	if k < len(sc.outage) {
		return sc.outage[k]
	}
	return sc.resume.Add(time.Duration(k-len(sc.outage)) * step)
}

// eventTime is the time of the i-th event appended before poll k: within
// the minute before it.
func (sc *schedule) eventTime(k, i int) time.Time {
	return sc.stepTime(k).Add(-50*time.Second + time.Duration(i)*3*time.Second)
}

// inOutage reports whether the destinations are down at poll k.
func (sc *schedule) inOutage(k int) bool { return k < len(sc.outage) }

// item is one thing the script makes worth telling: it must reach every
// destination.
type item struct {
	svc   string
	name  string // the service's name (its id is svc)
	gen   string // genV1 or genV2
	kind  notifier.Kind
	start int64  // the deployment's start (ms); 0 for runtime events
	phase string // failed, stalled and recovered phases
	// event is an abnormal item's event. A v2 record is identified by its
	// id (a repeat keeps it; its count and last occurrence grow), a v1
	// event by its type, text and time.
	event notifier.Event
	// mayFold: an abnormal event of a deployment that then failed; it may
	// arrive inside the failure's abnormal_events instead.
	mayFold bool
	// optional: an abnormal event of a deployment after the first of its
	// phase (grouping, PRODUCT.md "Notifications": at most one
	// service.abnormal per phase of a deployment). It is told when the
	// phase's notification reaches a destination after it arrived, and
	// in the deployment's later summaries; it need not be told on its own.
	optional bool
	// trigger is the occur_time (ms) of the event that makes the item due:
	// once a checkpoint's ReadThrough reaches it, the item must have been
	// delivered everywhere. 0: not checked that way (stalls, and events
	// that arrive late behind the read edge by design).
	trigger int64
	// from is the first poll that can send it: the one its event is
	// appended before.
	from int
	// stallBegin is, for a stall, the stalled phase's begin event (ms):
	// once read, the checkpoint must keep the deployment open until the
	// stall was delivered everywhere.
	stallBegin int64
	// pods are, for a v2 failure or stall, the Warning pod events its
	// summary is to carry (when its pod events could be read); podsKnown
	// says the item has such an expectation (none for phases before pods
	// exist).
	pods      []eventsapi.PodEvent
	podsKnown bool
	// nextDeploy is the poll the service's next deployment begins at (0:
	// none): from then on the service's newest deployment is another one.
	nextDeploy int
}

func (it item) String() string {
	switch it.kind {
	case notifier.KindAbnormal:
		text := it.event.EventInfo
		if text == "" {
			text = it.event.EventInfoCN
		}
		return fmt.Sprintf("%s (%s) %s %s %q@%d", it.svc, it.gen, it.kind, it.event.EventType, text, it.event.OccurTime)
	}
	return fmt.Sprintf("%s (%s) %s %s start=%d", it.svc, it.gen, it.kind, it.phase, it.start)
}

// sameEvent reports whether a delivered event is the item's: a v2 record
// by id, a v1 event by type, text and time.
func (it item) sameEvent(e notifier.Event) bool {
	if it.event.ID != "" {
		return e.ID == it.event.ID
	}
	return e == it.event
}

// matches reports whether a delivered notification satisfies it.
func (it item) matches(r notifiertest.Delivery) bool {
	if r.Data.ServiceID != it.svc {
		return false
	}
	switch it.kind {
	case notifier.KindAbnormal:
		if r.Kind != notifier.KindAbnormal && !(it.mayFold && r.Kind == notifier.KindFailed) {
			return false
		}
		for _, e := range r.Data.AbnormalEvents {
			if it.sameEvent(e) {
				return true
			}
		}
		return false
	case notifier.KindSucceeded:
		return r.Kind == it.kind && r.Data.StartedAt.UnixMilli() == it.start
	}
	return r.Kind == it.kind && r.Data.StartedAt.UnixMilli() == it.start && r.Data.Phase == it.phase
}

// chatTime is a time as the chat messages show it.
func chatTime(ms int64) string { return time.UnixMilli(ms).UTC().Format("2006-01-02 15:04:05 MST") }

// eventText is the text a chat message shows first for the item's event.
func (it item) eventText() string {
	if it.event.EventInfo != "" {
		return it.event.EventInfo
	}
	return it.event.EventInfoCN
}

// chatMatches reports whether a notification as a chat message shows it
// (one message, or one line of a digest) can be the item: same kind,
// service and phase; a single message also shows the deployment's start,
// and an abnormal event's text (escaped) and time.
func (it item) chatMatches(ci notifiertest.ChatItem, digest bool) bool {
	switch {
	case ci.Kind == it.kind:
	case it.kind == notifier.KindAbnormal && it.mayFold && ci.Kind == notifier.KindFailed && !digest:
	default:
		return false
	}
	if digest {
		if ci.Service != it.name {
			return false
		}
	} else if ci.ServiceID != it.svc {
		return false
	}
	if it.kind != notifier.KindAbnormal && it.kind != notifier.KindSucceeded && ci.Phase != it.phase {
		return false
	}
	if !digest && it.start != 0 && ci.Started != chatTime(it.start) {
		return false
	}
	if it.kind == notifier.KindAbnormal {
		text := notifier.EscapeChat(it.eventText())
		if digest {
			// A digest quotes the event's text (" / " its Chinese text,
			// " ×N" its count), cut to its budget, or not at all.
			lines := strings.Split(ci.Text, "\n")
			if len(lines) < 2 {
				return true
			}
			q := strings.TrimSuffix(strings.TrimSuffix(lines[1], "… (truncated)"), "…")
			q, _, _ = strings.Cut(q, " ×")
			q, _, _ = strings.Cut(q, " / ")
			return strings.HasPrefix(text, q) || strings.HasPrefix(q, text)
		}
		return strings.Contains(ci.Text, text) && strings.Contains(ci.Text, chatTime(it.event.OccurTime))
	}
	return true
}

// action is what the script does to one service before one poll.
type action struct {
	events []eventsapi.Event
	status string // the (v1) status; "" leaves it
	raw    string // v2: the raw status (status normalised is status)
	errMsg string
	// deployment (v2) is a new deployment (instance group) created at
	// deployAt, before the events.
	deployment string
	deployAt   time.Time
	pods       []eventsapi.PodEvent // v2: pod events of the newest deployment, added after the events
}

// script is a whole scenario: per service, per poll, what happens.
type script struct {
	*schedule
	services []string
	names    map[string]string            // service -> its name
	gen      map[string]string            // service -> genV1 or genV2
	born     map[string]int               // the poll a service appears at (its first poll)
	initial  map[string][]eventsapi.Event // its history, added when it appears
	// initialDeployments (v2) are its history's deployments, created when
	// it appears.
	initialDeployments map[string][]action
	deployTimeout      map[string]int // v2: deploy_timeout_minutes (0: none)
	steps              map[int]map[string]action
	items              []item
	start              int // the first poll with scripted changes
	last               int // the last poll with scripted changes
	// down names the destinations down in the initial outage: "webhook",
	// "slack", "chat" (Teams, Feishu, DingTalk and WeCom) or "all" ("":
	// no outage).
	down string
	// Counts of what the script made happen, for the table.
	future     int // runtime abnormal events dated 1 h to a year ahead
	stops      int // deployments stopped mid-deploy
	stallStops int // deployments stopped after their stall was reported
	grouped    int // abnormal events of a deployment after the first of their phase (optional items)
	firstDown  int // services whose first poll is in the outage
	hostile    int // events ending with hostileText
	v2         v2Counts
	records    int // v2 record ids handed out
	// failed: the service's last deployment failed (its status stays
	// failed until the next one).
	failed map[string]bool
	// statusEnded: the service's last deployment was ended by its status
	// (stopped, or failed by the status alone).
	statusEnded map[string]bool
	// deployStarts are the polls each service's deployments begin at.
	deployStarts map[string][]int
	// statusEnds are the polls before which a deployment is ended by the
	// service status alone (a stop, or a failure without a failure event).
	statusEnds map[int]bool
	// bugs are the known product bugs whose triggers the script may
	// contain (see knownBugs).
	bugs map[string]bool
}

// v2Counts are what the script did through the v2 API.
type v2Counts struct {
	repeats       int // appends that merged into an existing record
	longRepeats   int // records that kept repeating past the stall threshold
	warnings      int // WARNING records
	chinese       int // failures worded in Chinese (event_info_cn)
	chineseOnly   int // ... with no English text
	podsExpected  int // failures and stalls with Warning pod events
	errorStatus   int // failures by raw status ERROR (not FAILED)
	upgrading     int // deployments under raw status UPGRADING
	deployTimeout int // services with deploy_timeout_minutes
}

// warmup is the number of polls before the first scripted change after
// the outage (if any): by then every service has had a poll without
// faults (see maxFaultyInARow).
const warmup = maxFaultyInARow + 2

// firstRunLookback is the poller's FIRST_RUN_LOOKBACK.
const firstRunLookback = time.Hour

// outageKinds are what an initial outage takes down.
var outageKinds = []string{"webhook", "slack", "chat", "all"}

// newScript draws a scenario: nServices services (named names[i], or
// after their ids), svc-00 a v1 one and svc-01 a v2 one, the others either; and, for one run in four, an initial
// outage of the webhook, Slack, the chat destinations or all of them that
// lasts longer than FIRST_RUN_LOOKBACK past the first poll of every
// service; some services appear during it (their first poll is then
// later, and still in the outage).
func newScript(rng *rand.Rand, nServices int, bugs map[string]bool, names []string) *script {
	s := &script{schedule: &schedule{resume: base}, names: map[string]string{}, gen: map[string]string{}, born: map[string]int{},
		initial: map[string][]eventsapi.Event{}, initialDeployments: map[string][]action{}, deployTimeout: map[string]int{},
		steps: map[int]map[string]action{}, failed: map[string]bool{}, statusEnded: map[string]bool{}, deployStarts: map[string][]int{},
		statusEnds: map[int]bool{}, bugs: bugs}
	for i := range nServices {
		id := fmt.Sprintf("svc-%02d", i)
		s.services = append(s.services, id)
		s.names[id] = id
		if i < len(names) {
			s.names[id] = names[i]
		}
		switch {
		case i == 0:
			s.gen[id] = genV1
		case i == 1:
			s.gen[id] = genV2
		default:
			s.gen[id] = []string{genV1, genV2}[rng.IntN(2)]
		}
	}
	if rng.IntN(4) == 0 {
		s.down = outageKinds[rng.IntN(len(outageKinds))]
		lastBorn := 0
		for _, id := range s.services[1:] { // svc-00 is there from the start
			if rng.IntN(3) == 0 {
				s.born[id] = 1 + rng.IntN(2)
				lastBorn = max(lastBorn, s.born[id])
			}
		}
		gap := func() time.Duration { return time.Duration(6+rng.IntN(7)) * time.Minute }
		s.outage = []time.Time{base}
		// The destinations stay down until well past FIRST_RUN_LOOKBACK
		// after the last service's first poll.
		var until time.Time
		for at := base; ; {
			if len(s.outage) == lastBorn+1 {
				until = s.outage[lastBorn].Add(firstRunLookback + time.Duration(2+rng.IntN(19))*time.Minute)
			}
			if !until.IsZero() && !at.Before(until) {
				break
			}
			at = at.Add(gap())
			s.outage = append(s.outage, at)
		}
		s.resume = s.outage[len(s.outage)-1].Add(step)
		s.firstDown = nServices
	}
	s.start = len(s.outage) + warmup
	s.last = s.start + 25 + rng.IntN(10)
	for _, id := range s.services {
		s.genService(rng, id)
	}
	for i, it := range s.items {
		s.items[i].name = s.names[it.svc]
		for _, k := range s.deployStarts[it.svc] {
			if it.podsKnown && k > it.from {
				s.items[i].nextDeploy = k
				break
			}
		}
	}
	return s
}

// event makes an event of svc: a v1 one (no id, no Chinese text), or a
// new v2 record (a fresh id; cn is its event_info_cn).
func (s *script) event(svc, typ string, t time.Time, info, cn string) eventsapi.Event {
	e := eventsapi.Event{EventType: typ, EventInfo: info, OccurTime: t.UnixMilli()}
	if s.gen[svc] == genV2 {
		s.records++
		e.ID = fmt.Sprintf("%08x-0000-4000-b000-%012x", s.records, s.records)
		e.EventInfoCN = cn
	}
	return e
}

// repeat is a repeat at t of a v2 record: it merges into the record
// (event_count and update_at grow).
func repeat(e eventsapi.Event, t time.Time) eventsapi.Event {
	return eventsapi.Event{ID: e.ID, EventType: e.EventType, EventInfo: e.EventInfo, EventInfoCN: e.EventInfoCN, OccurTime: t.UnixMilli()}
}

func toEvent(e eventsapi.Event) notifier.Event {
	return notifier.Event{EventType: e.EventType, EventInfo: e.EventInfo, OccurTime: e.OccurTime, ID: e.ID, EventInfoCN: e.EventInfoCN}
}

func (s *script) add(k int, svc string, a action) {
	if s.steps[k] == nil {
		s.steps[k] = map[string]action{}
	}
	cur := s.steps[k][svc]
	cur.events = append(cur.events, a.events...)
	if a.status != "" {
		cur.status, cur.raw, cur.errMsg = a.status, a.raw, a.errMsg
	}
	if a.deployment != "" {
		cur.deployment, cur.deployAt = a.deployment, a.deployAt
	}
	cur.pods = append(cur.pods, a.pods...)
	s.steps[k][svc] = cur
}

// status is an action setting svc's status (a v1 status; a v2 service
// gets a raw status that normalises to it: deploying is DEPLOYING or
// UPGRADING, failed FAILED or ERROR, finished STOPPED).
func (s *script) status(rng *rand.Rand, svc, status, errMsg string) action {
	a := action{status: status, errMsg: errMsg}
	if s.gen[svc] != genV2 {
		return a
	}
	switch status {
	case eventsapi.StatusDeploying:
		a.raw = "DEPLOYING"
		if rng.IntN(3) == 0 {
			a.raw = "UPGRADING"
			s.v2.upgrading++
		}
	case eventsapi.StatusFailed:
		a.raw = "FAILED"
		if rng.IntN(3) == 0 {
			a.raw = "ERROR"
			s.v2.errorStatus++
		}
	case eventsapi.StatusFinished:
		a.raw = "STOPPED"
	default:
		a.raw = strings.ToUpper(status)
	}
	return a
}

// stopStatuses end a deployment without an outcome.
var stopStatuses = []string{eventsapi.StatusStopped, eventsapi.StatusStopping, eventsapi.StatusDeleting, eventsapi.StatusFinished}

// Texts of v2 records where MODELARTS-EVENT-TEXT.md documents them.
const (
	// textAbnormalInstances and textAbnormalInstancesCN: the runtime alarm
	// (T4), a WARNING here.
	textAbnormalInstances   = "Service error. There are %d abnormal instances."
	textAbnormalInstancesCN = "服务异常，不正常的实例数为%d"
	// textTimedOut and textTimedOutCN: a deployment ModelArts failed after
	// its deploy timeout (U2: "服务部署超时，错误信息：服务部署时间超过%s分钟，设置为失败。").
	textTimedOut   = "Service deployment timed out. Error: the deployment took longer than 20 minutes."
	textTimedOutCN = "服务部署超时，错误信息：服务部署时间超过20分钟，设置为失败。"
	// textCreateFailedCN: a new-version deployment that could not be
	// created (T5), with no English text.
	textCreateFailedCN = "部署【%s】创建失败。"
	// reasonInsufficientCN: ModelArts.3952's text (E1), as failure_reason.
	reasonInsufficientCN = "资源不足，请稍后重试。"
)

// genService writes one service's history and script.
func (s *script) genService(rng *rand.Rand, svc string) {
	name := s.names[svc]
	v2 := s.gen[svc] == genV2
	if v2 && rng.IntN(2) == 0 {
		s.deployTimeout[svc] = 30 + rng.IntN(60)
		s.v2.deployTimeout++
	}
	// History, relative to the service's first poll: an old failure, long
	// before FIRST_RUN_LOOKBACK: never to be reported. Then a recent
	// success inside the window, reported on the first poll, and for some
	// services a runtime abnormal event.
	first := s.stepTime(s.born[svc])
	old := first.Add(-5 * time.Hour)
	recent := first.Add(-30 * time.Minute)
	if v2 {
		s.initialDeployments[svc] = []action{
			{deployment: svc + "-old", deployAt: old},
			{deployment: svc + "-v0", deployAt: recent},
		}
	}
	for i, text := range eventsapitest.SuccessTexts("old", name)[:4] {
		s.initial[svc] = append(s.initial[svc], s.event(svc, eventsapi.EventTypeNormal, old.Add(time.Duration(i)*time.Second), text, ""))
	}
	s.initial[svc] = append(s.initial[svc], s.event(svc, eventsapi.EventTypeAbnormal, old.Add(10*time.Second), "Service "+name+" failed. Error: old history", ""))
	texts := eventsapitest.SuccessTexts("v0", name)
	for i, text := range texts {
		s.initial[svc] = append(s.initial[svc], s.event(svc, eventsapi.EventTypeNormal, recent.Add(time.Duration(i)*10*time.Second), text, ""))
	}
	last := recent.Add(time.Duration(len(texts)-1) * 10 * time.Second).UnixMilli()
	s.items = append(s.items, item{svc: svc, gen: s.gen[svc], kind: notifier.KindSucceeded, start: recent.UnixMilli(), trigger: last, from: s.born[svc]})
	if rng.IntN(2) == 0 {
		e := s.event(svc, eventsapi.EventTypeAbnormal, first.Add(-10*time.Minute), "Instance restarted: out of memory (history)", "")
		s.initial[svc] = append(s.initial[svc], e)
		s.items = append(s.items, item{svc: svc, gen: s.gen[svc], kind: notifier.KindAbnormal, event: toEvent(e), trigger: e.OccurTime, from: s.born[svc]})
	}

	k := s.start
	n := 0
	dated := false // a future-dated event was appended
	for {
		k += rng.IntN(3) // idle
		n++
		model := fmt.Sprintf("m%d", n)
		var end int
		r := rng.IntN(12)
		if r < 3 && s.statusEnded[svc] && !s.bugs[bugStatusEndKeepsLaterEvents] {
			r += 3 // a deployment next, no runtime event: see knownBugs
		}
		if r >= 9 && dated && !s.bugs[bugFutureJoinsDeployment] {
			r -= 6 // no stall after a future-dated event: see knownBugs
		}
		switch {
		case r < 2:
			end = s.runtimeAbnormal(rng, svc, k, n)
		case r < 3:
			end = s.futureAbnormal(rng, svc, k, n)
			dated = dated || end >= 0
		case r < 5:
			end = s.deploy(rng, svc, name, model, k, "", "", false, "")
		case r < 6:
			end = s.deploy(rng, svc, name, model, k, "", "", true, "")
		case r < 8:
			end = s.deploy(rng, svc, name, model, k, notifier.PhaseNames[rng.IntN(5)], "", rng.IntN(2) == 0, "")
		case r < 9:
			end = s.deploy(rng, svc, name, model, k, "", "", rng.IntN(2) == 0, stopStatuses[rng.IntN(len(stopStatuses))])
		case r < 11:
			end = s.deploy(rng, svc, name, model, k, "", notifier.PhaseNames[rng.IntN(5)], false, "")
		default:
			end = s.deploy(rng, svc, name, model, k, "", notifier.PhaseNames[rng.IntN(5)], false, stopStatuses[rng.IntN(len(stopStatuses))])
		}
		if end < 0 {
			return
		}
		k = end + 1
		if r == 2 && !s.bugs[bugFutureJoinsDeployment] {
			// Nothing until a poll without faults has delivered the
			// future-dated event: see knownBugs.
			k += maxFaultyInARow + 1
		}
	}
}

// runtimeAbnormal appends abnormal events to a running service: one at
// poll k, one arriving late (behind the previous poll's read edge, within
// the overlap), or two at one millisecond split across two polls; a v2
// service may instead get a WARNING record (ModelArts' "abnormal
// instances" alarm, English and Chinese) that repeats over the next polls:
// one record, one notification. It returns the last poll used, or -1 when
// it does not fit.
func (s *script) runtimeAbnormal(rng *rand.Rand, svc string, k, n int) int {
	if k+1 > s.last {
		return -1
	}
	text := func(what string) string { return fmt.Sprintf("Instance %s: out of memory (#%d)", what, n) }
	abnormal := func(t time.Time, info string) eventsapi.Event {
		return s.event(svc, eventsapi.EventTypeAbnormal, t, info, "")
	}
	kinds := 3
	if s.gen[svc] == genV2 {
		kinds = 4
	}
	c := rng.IntN(kinds)
	if c == 3 && s.failed[svc] && !s.bugs[bugImpliedFromRuntime] {
		c = 0 // no failure-worded alarm on a failed service: see knownBugs
	}
	if c == 1 && s.statusEnded[svc] {
		// Dated before the status change that ended the deployment, it
		// belongs to that deployment, whose outcome may already be told.
		c = 0
	}
	switch c {
	case 0:
		info := text("restarted")
		if rng.IntN(3) == 0 {
			info += hostileText
			s.hostile++
		}
		e := abnormal(s.eventTime(k, 0), info)
		s.add(k, svc, action{events: []eventsapi.Event{e}})
		s.items = append(s.items, item{svc: svc, gen: s.gen[svc], kind: notifier.KindAbnormal, event: toEvent(e), trigger: e.OccurTime, from: k})
		return k
	case 1:
		e := abnormal(s.stepTime(k).Add(-100*time.Second), text("restarted late"))
		s.add(k, svc, action{events: []eventsapi.Event{e}})
		s.items = append(s.items, item{svc: svc, gen: s.gen[svc], kind: notifier.KindAbnormal, event: toEvent(e), from: k})
		return k
	case 3:
		bad := 1 + rng.IntN(3)
		e := s.event(svc, eventsapi.EventTypeWarning, s.eventTime(k, 0), fmt.Sprintf(textAbnormalInstances, bad), fmt.Sprintf(textAbnormalInstancesCN, bad))
		s.add(k, svc, action{events: []eventsapi.Event{e}})
		s.items = append(s.items, item{svc: svc, gen: s.gen[svc], kind: notifier.KindAbnormal, event: toEvent(e), trigger: e.OccurTime, from: k})
		s.v2.warnings++
		last := k
		for p := k + 1; p <= min(k+1+rng.IntN(4), s.last); p++ {
			s.add(p, svc, action{events: []eventsapi.Event{repeat(e, s.eventTime(p, 0))}})
			s.v2.repeats++
			last = p
		}
		return last
	}
	at := s.eventTime(k, 1)
	a, b := abnormal(at, text("restarted")), abnormal(at, text("unhealthy"))
	s.add(k, svc, action{events: []eventsapi.Event{a}})
	s.add(k+1, svc, action{events: []eventsapi.Event{b}})
	s.items = append(s.items,
		item{svc: svc, gen: s.gen[svc], kind: notifier.KindAbnormal, event: toEvent(a), trigger: a.OccurTime, from: k},
		item{svc: svc, gen: s.gen[svc], kind: notifier.KindAbnormal, event: toEvent(b), from: k + 1})
	return k + 1
}

// hostileText is markup that mentions everyone or forges a link in
// Slack, Teams, Feishu, DingTalk or WeCom, were it not escaped: some
// runtime events end with it.
const hostileText = ` <!channel> <@U024BE7LH> <http://evil.example|click> @all @13800000000 @所有人 <at user_id="all">all</at> <at>Everyone</at> <@wecomuser> [details](http://evil.example) ![x](http://evil.example/x.png) <font color="warning">!</font>`

// futureAhead are how far ahead of the poll a future-dated event is.
var futureAhead = []time.Duration{time.Hour, 6 * time.Hour, 3 * 24 * time.Hour, 40 * 24 * time.Hour, 365 * 24 * time.Hour}

// futureAbnormal appends, at poll k, a runtime abnormal event dated an
// hour to a year ahead (a server with a wrong clock): it is to be reported
// once, and the read edge must never follow it. It returns the last poll
// used, or -1 when it does not fit.
func (s *script) futureAbnormal(rng *rand.Rand, svc string, k, n int) int {
	if k > s.last {
		return -1
	}
	ahead := futureAhead[rng.IntN(len(futureAhead))] + time.Duration(rng.IntN(3600))*time.Second
	e := s.event(svc, eventsapi.EventTypeAbnormal, s.stepTime(k).Add(ahead), fmt.Sprintf("Instance restarted: out of memory (#%d, dated ahead)", n), "")
	s.add(k, svc, action{events: []eventsapi.Event{e}})
	// No trigger: the read edge never reaches it (checkReadThrough checks
	// that it never passes now + 5 min).
	s.items = append(s.items, item{svc: svc, gen: s.gen[svc], kind: notifier.KindAbnormal, event: toEvent(e), from: k})
	s.future++
	return k
}

// stallPolls is how long a stall lasts: past the threshold, long enough
// that polls without faults see it (see maxFaultyInARow).
var stallPolls = int(stallThreshold/step) + 2*(maxFaultyInARow+1)

// deployEvent is one event of a scripted deployment.
type deployEvent struct {
	typ      string // eventsapi.EventTypeNormal, ...Abnormal or ...Warning
	text, cn string
	failure  bool // the failure event (no notification of its own)
	// gap is the polls to wait after it before the next event (0: the
	// layout's own pace); with repeats the record repeats at each of them.
	gap     int
	repeats bool
}

// deploy scripts one deployment starting at poll k: a success, or a
// failure in failPhase, or a stall in stallPhase then recovery and
// success; insufficient adds "Insufficient resources" during scheduling.
// With stop (a status: stopped, stopping, deleting, finished) the
// deployment is stopped instead of ending: mid-deploy at a random event,
// or, with a stall, once the stall has lasted as long as it would
// otherwise (so it was reported): no outcome and no recovery are due, only
// what came before the stop. It returns the last poll used, or -1 when it
// does not fit.
//
// A v2 deployment is a new deployment (instance group) under DEPLOYING or
// UPGRADING; its "Insufficient resources" is one record that repeats over
// the next polls (for some, past the stall threshold: no stall is due
// while it keeps updating); some get a WARNING record; its failure is
// worded in English, in English and Chinese, or in Chinese only, under
// FAILED or ERROR; a failure or a stall in scheduling, image_pull or
// model_startup has pod events saying why, which its notification is to
// carry.
func (s *script) deploy(rng *rand.Rand, svc, name, model string, k int, failPhase, stallPhase string, insufficient bool, stop string) int {
	v2 := s.gen[svc] == genV2
	texts := eventsapitest.SuccessTexts(model, name)
	deployment := svc + "-" + model
	var evs []deployEvent
	upto := len(texts)
	if failPhase != "" {
		upto = eventsapitest.PhaseBegin[failPhase] + 1
	}
	for i, t := range texts[:upto] {
		evs = append(evs, deployEvent{typ: eventsapi.EventTypeNormal, text: t})
		if insufficient && i == eventsapitest.PhaseBegin[notifier.PhaseScheduling] {
			e := deployEvent{typ: eventsapi.EventTypeAbnormal, text: eventsapitest.TextInsufficientResources}
			if v2 {
				e.repeats = true
				e.gap = 1 + rng.IntN(3)
				if rng.IntN(3) == 0 {
					e.gap = stallPolls // longer than the stall threshold
					s.v2.longRepeats++
				}
			}
			evs = append(evs, e)
		}
	}
	failReason := failPhase + " went wrong"
	if failPhase != "" {
		f := deployEvent{typ: eventsapi.EventTypeAbnormal, failure: true, text: fmt.Sprintf("Service %s failed. Error: %s went wrong.", name, failPhase)}
		if v2 {
			switch rng.IntN(3) {
			case 1:
				s.v2.chinese++
				if failPhase == notifier.PhaseScheduling {
					// "Insufficient resources" fails nothing by its text:
					// the status FAILED (or ERROR) does.
					f.text, f.cn, f.failure = fmt.Sprintf("Service %s failed. Error: Insufficient resources.", name), eventsapitest.TextDeployFailedInsufficientCN, false
					failReason = reasonInsufficientCN
				} else {
					f.text, f.cn = "", fmt.Sprintf(textCreateFailedCN, deployment)
					failReason = f.cn
					s.v2.chineseOnly++
				}
			case 2:
				s.v2.chinese++
				f.text, f.cn = textTimedOut, textTimedOutCN
				failReason = "服务部署超时"
			}
		}
		evs = append(evs, f)
	}
	if v2 && rng.IntN(3) == 0 {
		// A WARNING record while the deployment goes on, before it ends
		// (and before any stall).
		upto := len(evs) - 1
		for j, e := range evs {
			if e.failure || stallPhase != "" && e.text == texts[eventsapitest.PhaseBegin[stallPhase]] {
				upto = min(upto, j)
			}
		}
		if upto >= 1 {
			at := 1 + rng.IntN(upto)
			bad := 1 + rng.IntN(3)
			w := deployEvent{typ: eventsapi.EventTypeWarning, text: fmt.Sprintf(textAbnormalInstances, bad), cn: fmt.Sprintf(textAbnormalInstancesCN, bad)}
			evs = append(evs[:at], append([]deployEvent{w}, evs[at:]...)...)
			s.v2.warnings++
		}
	}
	stallAt := -1 // index of the stalled phase's begin event
	if stallPhase != "" {
		begin := texts[eventsapitest.PhaseBegin[stallPhase]]
		for j, e := range evs {
			if e.text == begin && e.typ == eventsapi.EventTypeNormal {
				stallAt = j
			}
		}
		evs[stallAt].gap, evs[stallAt].repeats = stallPolls, false
	}
	switch {
	case stop != "" && stallAt >= 0:
		evs = evs[:stallAt+1] // stopped while stalled
	case stop != "":
		evs = evs[:1+rng.IntN(len(evs)-1)] // stopped before it ended
	}
	if n := len(evs); evs[n-1].repeats {
		evs[n-1].repeats, evs[n-1].gap = false, 0 // stopped: no repeats after the last event
	}

	// Lay the events out over polls, 1 to 3 per poll.
	type placed struct {
		deployEvent
		k, i int
	}
	var out []placed
	kk, i := k, 0
	perPoll := 1 + rng.IntN(3)
	for j, e := range evs {
		out = append(out, placed{e, kk, i})
		i++
		if e.gap > 0 && (j+1 < len(evs) || j == stallAt) {
			kk += e.gap
			if e.repeats {
				kk++ // the repeats fill the gap; the next event comes after them
			}
			i = 0
			continue
		}
		if i >= perPoll {
			kk++
			i = 0
			perPoll = 1 + rng.IntN(3)
		}
	}
	lastK := out[len(out)-1].k
	endK := lastK
	if stop != "" {
		if stallAt >= 0 {
			endK = lastK + stallPolls // where the recovery would have come
		} else {
			endK = lastK + rng.IntN(2)
		}
	}
	if endK > s.last {
		return -1
	}

	// The phase each event happens in, from PRODUCT.md's rule (an
	// abnormal event belongs to the phase the deployment is in or waiting
	// for): after the text at index i of the success texts.
	phaseAfter := []string{notifier.PhaseImageBuild, notifier.PhaseImageBuild, notifier.PhaseEnvironment, notifier.PhaseEnvironment,
		notifier.PhaseScheduling, notifier.PhaseImagePull, notifier.PhaseImagePull, notifier.PhaseModelStartup}
	textAt := map[string]int{}
	for i, t := range texts {
		textAt[t] = i
	}
	phaseNow, toldIn := phaseAfter[0], map[string]bool{}

	start := s.eventTime(out[0].k, out[0].i).UnixMilli()
	s.deployStarts[svc] = append(s.deployStarts[svc], out[0].k)
	var lastAt int64
	gen := s.gen[svc]
	for j, p := range out {
		at := s.eventTime(p.k, p.i)
		e := s.event(svc, p.typ, at, p.text, p.cn)
		a := action{events: []eventsapi.Event{e}}
		if j == 0 {
			a = s.status(rng, svc, eventsapi.StatusDeploying, "")
			a.events = []eventsapi.Event{e}
			if v2 {
				a.deployment, a.deployAt = deployment, at
			}
		}
		s.add(p.k, svc, a)
		lastAt = e.OccurTime
		if p.repeats {
			for g := 1; g <= p.gap; g++ {
				s.add(p.k+g, svc, action{events: []eventsapi.Event{repeat(e, s.eventTime(p.k+g, 0))}})
				s.v2.repeats++
			}
		}
		if i, ok := textAt[p.text]; ok && p.typ == eventsapi.EventTypeNormal {
			phaseNow = phaseAfter[min(i, len(phaseAfter)-1)]
		}
		if p.typ != eventsapi.EventTypeNormal && !p.failure {
			it := item{svc: svc, gen: gen, kind: notifier.KindAbnormal, event: toEvent(e), start: start,
				mayFold: failPhase != "", trigger: e.OccurTime, from: p.k}
			if toldIn[phaseNow] {
				it.optional, it.trigger = true, 0
				s.grouped++
			}
			toldIn[phaseNow] = true
			s.items = append(s.items, it)
		}
		if j == stallAt {
			it := item{svc: svc, gen: gen, kind: notifier.KindStalled, start: start, phase: stallPhase, stallBegin: e.OccurTime, from: p.k}
			if v2 {
				pods := eventsapitest.PodEventsFor(stallPhase, model, at, true)
				s.add(p.k, svc, action{pods: pods})
				it.pods, it.podsKnown = warnings(pods), true
				if len(it.pods) > 0 {
					s.v2.podsExpected++
				}
			}
			s.items = append(s.items, it)
		}
		if j == stallAt+1 && stallAt >= 0 {
			s.items = append(s.items, item{svc: svc, gen: gen, kind: notifier.KindRecovered, start: start, phase: stallPhase, trigger: e.OccurTime, from: p.k})
		}
	}
	s.failed[svc] = failPhase != "" && stop == ""
	s.statusEnded[svc] = stop != "" || failPhase != "" && !evs[len(evs)-1].failure
	switch {
	case stop != "":
		// No outcome, no recovery: anything of the kind is unexpected.
		s.add(endK, svc, s.status(rng, svc, stop, ""))
		s.statusEnds[endK] = true
		if stallAt >= 0 {
			s.stallStops++
		} else {
			s.stops++
		}
	case failPhase != "":
		s.add(lastK, svc, s.status(rng, svc, eventsapi.StatusFailed, failReason))
		s.statusEnds[lastK] = s.statusEnds[lastK] || s.statusEnded[svc]
		it := item{svc: svc, gen: gen, kind: notifier.KindFailed, start: start, phase: failPhase, trigger: lastAt, from: lastK}
		if v2 {
			pods := eventsapitest.PodEventsFor(failPhase, model, time.UnixMilli(lastAt), false)
			s.add(lastK, svc, action{pods: pods})
			it.pods, it.podsKnown = warnings(pods), true
			if len(it.pods) > 0 {
				s.v2.podsExpected++
			}
		}
		s.items = append(s.items, it)
	default:
		s.add(lastK, svc, s.status(rng, svc, eventsapi.StatusRunning, ""))
		s.items = append(s.items, item{svc: svc, gen: gen, kind: notifier.KindSucceeded, start: start, trigger: lastAt, from: lastK})
	}
	return endK
}

// warnings are the Warning ones of pod events.
func warnings(pods []eventsapi.PodEvent) []eventsapi.PodEvent {
	var out []eventsapi.PodEvent
	for _, p := range pods {
		if strings.EqualFold(p.Type, "Warning") {
			out = append(out, p)
		}
	}
	return out
}

// normal is a v1 normal event (the benchmarks' histories).
func normal(t time.Time, info string) eventsapi.Event {
	return eventsapi.Event{EventType: eventsapi.EventTypeNormal, EventInfo: info, OccurTime: t.UnixMilli()}
}
