package faultmatrix

import (
	"fmt"
	"math/rand/v2"
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
	kind  notifier.Kind
	start int64  // the deployment's start (ms); 0 for runtime events
	phase string // failed, stalled and recovered phases
	event notifier.Event
	// mayFold: an abnormal event of a deployment that then failed; it may
	// arrive inside the failure's abnormal_events instead.
	mayFold bool
	// trigger is the occur_time (ms) of the event that makes the item due:
	// once a checkpoint's ReadThrough reaches it, the item must have been
	// delivered everywhere. 0: not checked that way (stalls, and events
	// that arrive late behind the read edge by design).
	trigger int64
	// stallBegin is, for a stall, the stalled phase's begin event (ms):
	// once read, the checkpoint must keep the deployment open until the
	// stall was delivered everywhere.
	stallBegin int64
}

func (it item) String() string {
	switch it.kind {
	case notifier.KindAbnormal:
		return fmt.Sprintf("%s %s %q@%d", it.svc, it.kind, it.event.EventInfo, it.event.OccurTime)
	}
	return fmt.Sprintf("%s %s %s start=%d", it.svc, it.kind, it.phase, it.start)
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
			if e == it.event {
				return true
			}
		}
		return false
	case notifier.KindSucceeded:
		return r.Kind == it.kind && r.Data.StartedAt.UnixMilli() == it.start
	}
	return r.Kind == it.kind && r.Data.StartedAt.UnixMilli() == it.start && r.Data.Phase == it.phase
}

// action is what the script does to one service before one poll.
type action struct {
	events []eventsapi.Event
	status string // "" leaves it
	errMsg string
}

// script is a whole scenario: per service, per poll, what happens.
type script struct {
	*schedule
	services []string
	born     map[string]int               // the poll a service appears at (its first poll)
	initial  map[string][]eventsapi.Event // its history, added when it appears
	steps    map[int]map[string]action    // poll -> service -> action
	items    []item
	start    int // the first poll with scripted changes
	last     int // the last poll with scripted changes
	// down names the destinations down in the initial outage: "webhook",
	// "slack" or "both" ("": no outage).
	down string
	// Counts of what the script made happen, for the table.
	future     int // runtime abnormal events dated 1 h to a year ahead
	stops      int // deployments stopped mid-deploy
	stallStops int // deployments stopped after their stall was reported
	firstDown  int // services whose first poll is in the outage
	// bugs are the known product bugs whose triggers the script may
	// contain (see knownBugs).
	bugs map[string]bool
}

// warmup is the number of polls before the first scripted change after
// the outage (if any): by then every service has had a poll without
// faults (see maxFaultyInARow).
const warmup = maxFaultyInARow + 2

// firstRunLookback is the poller's FIRST_RUN_LOOKBACK.
const firstRunLookback = time.Hour

// newScript draws a scenario: nServices services and, for one run in
// four, an initial outage of the webhook, Slack or both that lasts longer
// than FIRST_RUN_LOOKBACK past the first poll of every service; some
// services appear during it (their first poll is then later, and still
// in the outage).
func newScript(rng *rand.Rand, nServices int, bugs map[string]bool) *script {
	s := &script{schedule: &schedule{resume: base}, born: map[string]int{}, initial: map[string][]eventsapi.Event{},
		steps: map[int]map[string]action{}, bugs: bugs}
	for i := range nServices {
		s.services = append(s.services, fmt.Sprintf("svc-%02d", i))
	}
	if rng.IntN(4) == 0 {
		s.down = []string{"webhook", "slack", "both"}[rng.IntN(3)]
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
	return s
}

func normal(t time.Time, info string) eventsapi.Event {
	return eventsapi.Event{EventType: eventsapi.EventTypeNormal, EventInfo: info, OccurTime: t.UnixMilli()}
}

func abnormal(t time.Time, info string) eventsapi.Event {
	return eventsapi.Event{EventType: eventsapi.EventTypeAbnormal, EventInfo: info, OccurTime: t.UnixMilli()}
}

func toEvent(e eventsapi.Event) notifier.Event {
	return notifier.Event{EventType: e.EventType, EventInfo: e.EventInfo, OccurTime: e.OccurTime}
}

func (s *script) add(k int, svc string, a action) {
	if s.steps[k] == nil {
		s.steps[k] = map[string]action{}
	}
	cur := s.steps[k][svc]
	cur.events = append(cur.events, a.events...)
	if a.status != "" {
		cur.status, cur.errMsg = a.status, a.errMsg
	}
	s.steps[k][svc] = cur
}

// stopStatuses end a deployment without an outcome.
var stopStatuses = []string{eventsapi.StatusStopped, eventsapi.StatusStopping, eventsapi.StatusDeleting, eventsapi.StatusFinished}

// genService writes one service's history and script.
func (s *script) genService(rng *rand.Rand, svc string) {
	name := svc // the fake names services after their ids
	// History, relative to the service's first poll: an old failure, long
	// before FIRST_RUN_LOOKBACK: never to be reported. Then a recent
	// success inside the window, reported on the first poll, and for some
	// services a runtime abnormal event.
	first := s.stepTime(s.born[svc])
	old := first.Add(-5 * time.Hour)
	for i, text := range eventsapitest.SuccessTexts("old", name)[:4] {
		s.initial[svc] = append(s.initial[svc], normal(old.Add(time.Duration(i)*time.Second), text))
	}
	s.initial[svc] = append(s.initial[svc], abnormal(old.Add(10*time.Second), "Service "+name+" failed. Error: old history"))
	recent := first.Add(-30 * time.Minute)
	texts := eventsapitest.SuccessTexts("v0", name)
	for i, text := range texts {
		s.initial[svc] = append(s.initial[svc], normal(recent.Add(time.Duration(i)*10*time.Second), text))
	}
	last := recent.Add(time.Duration(len(texts)-1) * 10 * time.Second).UnixMilli()
	s.items = append(s.items, item{svc: svc, kind: notifier.KindSucceeded, start: recent.UnixMilli(), trigger: last})
	if rng.IntN(2) == 0 {
		e := abnormal(first.Add(-10*time.Minute), "Instance restarted: out of memory (history)")
		s.initial[svc] = append(s.initial[svc], e)
		s.items = append(s.items, item{svc: svc, kind: notifier.KindAbnormal, event: toEvent(e), trigger: e.OccurTime})
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
// the overlap), or two at one millisecond split across two polls. It
// returns the last poll used, or -1 when it does not fit.
func (s *script) runtimeAbnormal(rng *rand.Rand, svc string, k, n int) int {
	if k+1 > s.last {
		return -1
	}
	text := func(what string) string { return fmt.Sprintf("Instance %s: out of memory (#%d)", what, n) }
	switch rng.IntN(3) {
	case 0:
		e := abnormal(s.eventTime(k, 0), text("restarted"))
		s.add(k, svc, action{events: []eventsapi.Event{e}})
		s.items = append(s.items, item{svc: svc, kind: notifier.KindAbnormal, event: toEvent(e), trigger: e.OccurTime})
		return k
	case 1:
		e := abnormal(s.stepTime(k).Add(-100*time.Second), text("restarted late"))
		s.add(k, svc, action{events: []eventsapi.Event{e}})
		s.items = append(s.items, item{svc: svc, kind: notifier.KindAbnormal, event: toEvent(e)})
		return k
	}
	at := s.eventTime(k, 1)
	a, b := abnormal(at, text("restarted")), abnormal(at, text("unhealthy"))
	s.add(k, svc, action{events: []eventsapi.Event{a}})
	s.add(k+1, svc, action{events: []eventsapi.Event{b}})
	s.items = append(s.items,
		item{svc: svc, kind: notifier.KindAbnormal, event: toEvent(a), trigger: a.OccurTime},
		item{svc: svc, kind: notifier.KindAbnormal, event: toEvent(b)})
	return k + 1
}

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
	e := abnormal(s.stepTime(k).Add(ahead), fmt.Sprintf("Instance restarted: out of memory (#%d, dated ahead)", n))
	s.add(k, svc, action{events: []eventsapi.Event{e}})
	// No trigger: the read edge never reaches it (checkReadThrough checks
	// that it never passes now + 5 min).
	s.items = append(s.items, item{svc: svc, kind: notifier.KindAbnormal, event: toEvent(e)})
	s.future++
	return k
}

// stallPolls is how long a stall lasts: past the threshold, long enough
// that polls without faults see it (see maxFaultyInARow).
var stallPolls = int(stallThreshold/step) + 2*(maxFaultyInARow+1)

// deploy scripts one deployment starting at poll k: a success, or a
// failure in failPhase, or a stall in stallPhase then recovery and
// success; insufficient adds "Insufficient resources" during scheduling.
// With stop (a status: stopped, stopping, deleting, finished) the
// deployment is stopped instead of ending: mid-deploy at a random event,
// or, with a stall, once the stall has lasted as long as it would
// otherwise (so it was reported): no outcome and no recovery are due, only
// what came before the stop. It returns the last poll used, or -1 when it
// does not fit.
func (s *script) deploy(rng *rand.Rand, svc, name, model string, k int, failPhase, stallPhase string, insufficient bool, stop string) int {
	texts := eventsapitest.SuccessTexts(model, name)
	type ev struct {
		abnormal bool
		text     string
	}
	var evs []ev
	upto := len(texts)
	if failPhase != "" {
		upto = eventsapitest.PhaseBegin[failPhase] + 1
	}
	for i, t := range texts[:upto] {
		evs = append(evs, ev{text: t})
		if insufficient && i == eventsapitest.PhaseBegin[notifier.PhaseScheduling] {
			evs = append(evs, ev{abnormal: true, text: eventsapitest.TextInsufficientResources})
		}
	}
	if failPhase != "" {
		evs = append(evs, ev{abnormal: true, text: fmt.Sprintf("Service %s failed. Error: %s went wrong.", name, failPhase)})
	}
	stallAt := -1 // index of the stalled phase's begin event
	if stallPhase != "" {
		stallAt = eventsapitest.PhaseBegin[stallPhase]
		if insufficient && stallAt > eventsapitest.PhaseBegin[notifier.PhaseScheduling] {
			stallAt++
		}
	}
	switch {
	case stop != "" && stallAt >= 0:
		evs = evs[:stallAt+1] // stopped while stalled
	case stop != "":
		evs = evs[:1+rng.IntN(len(evs)-1)] // stopped before it ended
	}

	// Lay the events out over polls, 1 to 3 per poll.
	type placed struct {
		ev
		k, i int
	}
	var out []placed
	kk, i := k, 0
	perPoll := 1 + rng.IntN(3)
	for j, e := range evs {
		out = append(out, placed{e, kk, i})
		i++
		if j == stallAt {
			kk += stallPolls
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

	start := s.eventTime(out[0].k, out[0].i).UnixMilli()
	var lastAt int64
	for j, p := range out {
		at := s.eventTime(p.k, p.i)
		e := normal(at, p.text)
		if p.abnormal {
			e = abnormal(at, p.text)
		}
		a := action{events: []eventsapi.Event{e}}
		if j == 0 {
			a.status = eventsapi.StatusDeploying
		}
		s.add(p.k, svc, a)
		lastAt = e.OccurTime
		if p.abnormal && p.text == eventsapitest.TextInsufficientResources {
			s.items = append(s.items, item{svc: svc, kind: notifier.KindAbnormal, event: toEvent(e),
				mayFold: failPhase != "", trigger: e.OccurTime})
		}
		if j == stallAt {
			s.items = append(s.items, item{svc: svc, kind: notifier.KindStalled, start: start, phase: stallPhase, stallBegin: e.OccurTime})
		}
		if j == stallAt+1 && stallAt >= 0 {
			s.items = append(s.items, item{svc: svc, kind: notifier.KindRecovered, start: start, phase: stallPhase, trigger: e.OccurTime})
		}
	}
	switch {
	case stop != "":
		// No outcome, no recovery: anything of the kind is unexpected.
		s.add(endK, svc, action{status: stop})
		if stallAt >= 0 {
			s.stallStops++
		} else {
			s.stops++
		}
	case failPhase != "":
		s.add(lastK, svc, action{status: eventsapi.StatusFailed, errMsg: failPhase + " went wrong"})
		s.items = append(s.items, item{svc: svc, kind: notifier.KindFailed, start: start, phase: failPhase, trigger: lastAt})
	default:
		s.add(lastK, svc, action{status: eventsapi.StatusRunning})
		s.items = append(s.items, item{svc: svc, kind: notifier.KindSucceeded, start: start, trigger: lastAt})
	}
	return endK
}
