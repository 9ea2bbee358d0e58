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

// stepTime is the time of poll k.
func stepTime(k int) time.Time { return base.Add(time.Duration(k) * step) }

// eventTime is the time of the i-th event appended before poll k: within
// the minute before it.
func eventTime(k, i int) time.Time {
	return stepTime(k).Add(-50*time.Second + time.Duration(i)*3*time.Second)
}

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
	services []string
	initial  map[string][]eventsapi.Event // before the first poll
	steps    map[int]map[string]action    // poll -> service -> action
	items    []item
	last     int // the last poll with scripted changes
}

// warmup is the first poll at which the script changes anything: by then
// every service has had a poll without faults (see maxFaultyInARow).
const warmup = maxFaultyInARow + 2

// newScript draws a scenario: nServices services, scripted changes up to
// poll last.
func newScript(rng *rand.Rand, nServices, last int) *script {
	s := &script{initial: map[string][]eventsapi.Event{}, steps: map[int]map[string]action{}, last: last}
	for i := range nServices {
		id := fmt.Sprintf("svc-%02d", i)
		s.services = append(s.services, id)
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

// genService writes one service's history and script.
func (s *script) genService(rng *rand.Rand, svc string) {
	name := svc // the fake names services after their ids
	// History: an old failure, long before FIRST_RUN_LOOKBACK: never to be
	// reported. Then a recent success inside the window, reported on the
	// first poll, and for some services a runtime abnormal event.
	old := base.Add(-5 * time.Hour)
	for i, text := range eventsapitest.SuccessTexts("old", name)[:4] {
		s.initial[svc] = append(s.initial[svc], normal(old.Add(time.Duration(i)*time.Second), text))
	}
	s.initial[svc] = append(s.initial[svc], abnormal(old.Add(10*time.Second), "Service "+name+" failed. Error: old history"))
	recent := base.Add(-30 * time.Minute)
	texts := eventsapitest.SuccessTexts("v0", name)
	for i, text := range texts {
		s.initial[svc] = append(s.initial[svc], normal(recent.Add(time.Duration(i)*10*time.Second), text))
	}
	last := recent.Add(time.Duration(len(texts)-1) * 10 * time.Second).UnixMilli()
	s.items = append(s.items, item{svc: svc, kind: notifier.KindSucceeded, start: recent.UnixMilli(), trigger: last})
	if rng.IntN(2) == 0 {
		e := abnormal(base.Add(-10*time.Minute), "Instance restarted: out of memory (history)")
		s.initial[svc] = append(s.initial[svc], e)
		s.items = append(s.items, item{svc: svc, kind: notifier.KindAbnormal, event: toEvent(e), trigger: e.OccurTime})
	}

	k := warmup
	n := 0
	for {
		k += rng.IntN(3) // idle
		n++
		model := fmt.Sprintf("m%d", n)
		var end int
		switch r := rng.IntN(10); {
		case r < 2:
			end = s.runtimeAbnormal(rng, svc, k, n)
		case r < 4:
			end = s.deploy(rng, svc, name, model, k, "", "", false)
		case r < 5:
			end = s.deploy(rng, svc, name, model, k, "", "", true)
		case r < 7:
			end = s.deploy(rng, svc, name, model, k, notifier.PhaseNames[rng.IntN(5)], "", rng.IntN(2) == 0)
		default:
			end = s.deploy(rng, svc, name, model, k, "", notifier.PhaseNames[rng.IntN(5)], false)
		}
		if end < 0 {
			return
		}
		k = end + 1
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
		e := abnormal(eventTime(k, 0), text("restarted"))
		s.add(k, svc, action{events: []eventsapi.Event{e}})
		s.items = append(s.items, item{svc: svc, kind: notifier.KindAbnormal, event: toEvent(e), trigger: e.OccurTime})
		return k
	case 1:
		e := abnormal(stepTime(k).Add(-100*time.Second), text("restarted late"))
		s.add(k, svc, action{events: []eventsapi.Event{e}})
		s.items = append(s.items, item{svc: svc, kind: notifier.KindAbnormal, event: toEvent(e)})
		return k
	}
	at := eventTime(k, 1)
	a, b := abnormal(at, text("restarted")), abnormal(at, text("unhealthy"))
	s.add(k, svc, action{events: []eventsapi.Event{a}})
	s.add(k+1, svc, action{events: []eventsapi.Event{b}})
	s.items = append(s.items,
		item{svc: svc, kind: notifier.KindAbnormal, event: toEvent(a), trigger: a.OccurTime},
		item{svc: svc, kind: notifier.KindAbnormal, event: toEvent(b)})
	return k + 1
}

// stallPolls is how long a stall lasts: past the threshold, long enough
// that polls without faults see it (see maxFaultyInARow).
var stallPolls = int(stallThreshold/step) + 2*(maxFaultyInARow+1)

// deploy scripts one deployment starting at poll k: a success, or a
// failure in failPhase, or a stall in stallPhase then recovery and
// success; insufficient adds "Insufficient resources" during scheduling.
// It returns the last poll used, or -1 when it does not fit.
func (s *script) deploy(rng *rand.Rand, svc, name, model string, k int, failPhase, stallPhase string, insufficient bool) int {
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
	if lastK > s.last {
		return -1
	}

	start := eventTime(out[0].k, out[0].i).UnixMilli()
	var lastAt int64
	for j, p := range out {
		at := eventTime(p.k, p.i)
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
	if failPhase != "" {
		s.add(lastK, svc, action{status: eventsapi.StatusFailed, errMsg: failPhase + " went wrong"})
		s.items = append(s.items, item{svc: svc, kind: notifier.KindFailed, start: start, phase: failPhase, trigger: lastAt})
	} else {
		s.add(lastK, svc, action{status: eventsapi.StatusRunning})
		s.items = append(s.items, item{svc: svc, kind: notifier.KindSucceeded, start: start, trigger: lastAt})
	}
	return lastK
}
