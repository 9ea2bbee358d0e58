package watch

import (
	"cmp"
	"context"
	"errors"
	"slices"
	"time"

	"github.com/modelarts-notifier/modelarts-notifier/eventsapi"
	"github.com/modelarts-notifier/modelarts-notifier/functions/checkpoint"
	"github.com/modelarts-notifier/modelarts-notifier/functions/timeline"
	"github.com/modelarts-notifier/modelarts-notifier/notifier"
)

// LearnWindow is how far back a service's first poll reads its events to
// learn how long its phases usually take (ModelArts keeps events for a
// month).
const LearnWindow = 30 * 24 * time.Hour

// learnFrom adds to cp's history the durations of the succeeded phases of
// tl's deployments that a start marker began (a deployment the window cut
// has no true phase times), that are over (none open), and that started
// after the newest one already learned from (HistoryThrough).
func learnFrom(cp checkpoint.Checkpoint, tl timeline.Timeline) checkpoint.Checkpoint {
	h := timeline.History(cp.History)
	through := cp.HistoryThrough
	for _, d := range tl.Deployments {
		open := d.Latest && d.End == 0
		if open || d.Implied || d.Start <= through || len(d.Events) == 0 || !timeline.IsStart(d.Events[0]) {
			continue
		}
		h = h.Add(d)
		through = d.Start
	}
	if through != cp.HistoryThrough {
		cp.History, cp.HistoryThrough = map[string][]int64(h), through
	}
	return cp
}

// learnReadFactor bounds a learning read: at most this many times the
// per-poll event cap are read (a month of a busy service fits; a server
// that invents events without end does not keep the poll).
const learnReadFactor = 25

// learnChunk is the most events a learner holds at once: a deployment
// with more events than that (a retry storm) is not learned from.
const learnChunk = 1000

// A learner learns a service's history from its events as they come
// (ascending), holding at most learnChunk of them: each chunk's
// deployments that are over are learned, and the one still open is
// carried into the next. A v1 first poll reads the month before its
// window in the same read as the window, so learning costs no request of
// its own (read.go).
type learner struct {
	svc   eventsapi.Service // without its status: it is about now, not these
	cp    checkpoint.Checkpoint
	now   time.Time
	th    timeline.Thresholds
	buf   []eventsapi.Event
	read  int // events added
	limit int // learnReadFactor times the cap: the read stops there
	// reached: the read got to the window (see read.go).
	reached bool
}

// errMonthLong stops a first poll's read whose month before the window
// has more events than a learner takes: the window is read on its own.
var errMonthLong = errors.New("more events in the month before the window than a first poll learns from")

func newLearner(svc eventsapi.Service, cp checkpoint.Checkpoint, now time.Time, th timeline.Thresholds, maxEvents int) *learner {
	svc.Status, svc.RawStatus = "", ""
	return &learner{svc: svc, cp: cp, now: now, th: th, limit: learnReadFactor * maxEvents}
}

// add learns from e, in its turn; false once it has taken its limit.
func (l *learner) add(e eventsapi.Event) bool {
	if l.read++; l.read > l.limit {
		return false
	}
	if l.buf = append(l.buf, e); len(l.buf) >= learnChunk {
		l.learn()
	}
	return true
}

// cut ends the learning before the window: what it learned stays, the
// deployment it holds open is let go (the window's events do not
// continue it).
func (l *learner) cut() {
	l.learn()
	l.buf = nil
}

// learn learns from what it holds and keeps the deployment still open.
func (l *learner) learn() {
	tl := timeline.Build(l.buf, l.svc, l.now, l.th)
	l.cp = learnFrom(l.cp, tl)
	keep := 0
	if d, ok := tl.Latest(); ok && d.End == 0 && !d.Implied {
		keep = len(l.buf) - slices.IndexFunc(l.buf, func(e eventsapi.Event) bool { return e.OccurTime >= d.Start })
	}
	if keep >= learnChunk {
		keep = 0 // a deployment longer than a chunk is not learned from
	}
	l.buf = append(l.buf[:0], l.buf[len(l.buf)-keep:]...)
}

// learnFrom gives the view's learner, if any, events a first poll read and
// does not keep (the window's oldest, beyond the cap).
func (v *view) learnFrom(evs []eventsapi.Event) {
	if v.learner == nil {
		return
	}
	for _, e := range evs {
		if !v.learner.add(e) {
			return
		}
	}
}

// done is the checkpoint with what was learned. window are the events that
// came after the learning ones: a deployment open at the window's start
// is learned from with them (the window's own timeline has not its start).
func (l *learner) done(window []eventsapi.Event) checkpoint.Checkpoint {
	l.learn()
	if len(l.buf) > 0 && len(window) > 0 {
		l.buf = append(l.buf, window...)
		l.learn()
	}
	l.buf = nil
	return l.cp
}

// learnFirst is a v2 service's first poll's learning read: its records
// from LearnWindow back up to the first poll's own window (until), newest
// first (the v2 API has no end_time: the window's records are read and
// passed over), never notified; the newest MaxEventsPerPoll before the
// window teach (see learner). It returns the records read (for the
// request figures) and cp with what they teach.
func (p *Poller) learnFirst(ctx context.Context, svc eventsapi.Service, cp checkpoint.Checkpoint, until int64, now time.Time) (checkpoint.Checkpoint, int, error) {
	from := now.Add(-LearnWindow).UnixMilli()
	if from >= until {
		return cp, 0, nil
	}
	var evs []eventsapi.Event
	n := 0
	for e, err := range p.api.EventsV2(ctx, svc.ServiceID, from) {
		if err != nil {
			return cp, n, err
		}
		n++
		if e.OccurTime >= until {
			continue // the first poll's own window
		}
		if evs = append(evs, e); len(evs) >= p.cfg.MaxEventsPerPoll {
			break // newest first: the newest
		}
	}
	slices.SortStableFunc(evs, func(a, b eventsapi.Event) int { return cmp.Compare(a.OccurTime, b.OccurTime) })
	l := newLearner(svc, cp, now, p.cfg.Thresholds, p.cfg.MaxEventsPerPoll)
	for _, e := range evs {
		l.add(e)
	}
	return l.done(nil), n, nil
}

// thresholdsOf is the stall thresholds of a service with checkpoint cp,
// and how each phase's was set.
func (p *Poller) thresholdsOf(cp checkpoint.Checkpoint) (timeline.Thresholds, map[string]timeline.Usual) {
	return p.cfg.Thresholds.Learn(timeline.History(cp.History), p.cfg.Learn)
}

// withUsual adds to s what the service's history says: on each phase
// with enough samples, how long it usually takes; for a stall or recovery
// of a phase (kind), that phase's threshold and whether it was learned.
func withUsual(s notifier.Summary, usual map[string]timeline.Usual, kind notifier.Kind) notifier.Summary {
	if len(usual) == 0 {
		return s
	}
	phases := make([]notifier.Phase, len(s.Phases))
	copy(phases, s.Phases)
	for i, ph := range phases {
		u, ok := usual[ph.Name]
		if !ok {
			continue
		}
		phases[i].Samples = u.Samples
		if u.Samples >= timeline.MinSamples {
			ms := u.Median.Milliseconds()
			phases[i].UsualMS = &ms
		}
	}
	s.Phases = phases
	if u, ok := usual[s.Phase]; ok && (kind == notifier.KindStalled || kind == notifier.KindRecovered) {
		s.StallThresholdMS, s.StallThresholdLearned = u.Threshold.Milliseconds(), u.Learned
	}
	return s
}
