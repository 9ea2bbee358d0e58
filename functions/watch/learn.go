package watch

import (
	"context"
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

// learnFirst is a service's first poll's learning read: its events from
// LearnWindow back up to now, rebuilt without the service status and
// never notified. It reads through the first poll's own window too, so
// that a deployment under way at the window's start, and those that ended
// in the window, are learned before the poll judges what is under way.
// v1 events (ascending) are learned from as they come, in chunks of at
// most MaxEventsPerPoll held at once (the deployment open at a chunk's end
// is carried into the next), up to learnReadFactor times that in all; v2
// records (newest first) teach from the newest MaxEventsPerPoll. It
// returns the events read (for the request figures) and cp with what
// they teach.
func (p *Poller) learnFirst(ctx context.Context, svc eventsapi.Service, cp checkpoint.Checkpoint, now time.Time) (checkpoint.Checkpoint, int, error) {
	from := now.Add(-LearnWindow).UnixMilli()
	limit := p.cfg.MaxEventsPerPoll
	learnSvc := svc
	learnSvc.Status, learnSvc.RawStatus = "", "" // the status is about now, not these
	var buf []eventsapi.Event
	// learn learns from buf and keeps of it the deployment still open.
	learn := func() {
		tl := timeline.Build(buf, learnSvc, now, p.cfg.Thresholds)
		cp = learnFrom(cp, tl)
		keep := 0
		if d, ok := tl.Latest(); ok && d.End == 0 && !d.Implied {
			keep = len(buf)
			for i, e := range buf {
				if e.OccurTime >= d.Start {
					keep = len(buf) - i
					break
				}
			}
		}
		if keep >= limit {
			keep = 0 // a deployment longer than a chunk cannot be learned
		}
		buf = append(buf[:0], buf[len(buf)-keep:]...)
	}
	n := 0
	if svc.Generation == eventsapi.GenerationV2 {
		for e, err := range p.api.EventsV2(ctx, svc.ServiceID, from) {
			if err != nil {
				return cp, n, err
			}
			n++
			if buf = append(buf, e); len(buf) >= limit {
				break // newest first: the newest limit records
			}
		}
		learn()
		return cp, n, nil
	}
	for e, err := range p.api.Events(ctx, svc.ServiceID, eventsapi.EventsQuery{StartTime: from}) {
		if err != nil {
			return cp, n, err
		}
		n++
		if buf = append(buf, e); len(buf) >= limit {
			learn()
		}
		if n >= learnReadFactor*limit {
			break
		}
	}
	learn()
	return cp, n, nil
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
