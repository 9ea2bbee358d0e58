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

// learnFirst is a service's first poll's learning read: its events from
// LearnWindow back up to the first poll's own window (v1 ascending, v2
// newest first down to it), rebuilt without the service status and never
// notified, within the per-poll event cap. It returns the events read
// (for the request figures) and cp with what they teach.
func (p *Poller) learnFirst(ctx context.Context, svc eventsapi.Service, cp checkpoint.Checkpoint, until int64, now time.Time) (checkpoint.Checkpoint, int, error) {
	from := now.Add(-LearnWindow).UnixMilli()
	if from >= until {
		return cp, 0, nil
	}
	var evs []eventsapi.Event
	read := p.api.Events(ctx, svc.ServiceID, eventsapi.EventsQuery{StartTime: from})
	if svc.Generation == eventsapi.GenerationV2 {
		read = p.api.EventsV2(ctx, svc.ServiceID, from)
	}
	for e, err := range read {
		if err != nil {
			return cp, len(evs), err
		}
		if e.OccurTime >= until {
			if svc.Generation != eventsapi.GenerationV2 {
				break // ascending: the rest is the first poll's own window
			}
			continue
		}
		evs = append(evs, e)
		if len(evs) >= p.cfg.MaxEventsPerPoll {
			break
		}
	}
	learnSvc := svc
	learnSvc.Status, learnSvc.RawStatus = "", "" // the status is about now, not these
	tl := timeline.Build(evs, learnSvc, now, p.cfg.Thresholds)
	return learnFrom(cp, tl), len(evs), nil
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
