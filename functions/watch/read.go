package watch

import (
	"cmp"
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"

	"github.com/modelarts-notifier/modelarts-notifier/eventsapi"
	"github.com/modelarts-notifier/modelarts-notifier/functions/checkpoint"
	"github.com/modelarts-notifier/modelarts-notifier/functions/timeline"
	"github.com/modelarts-notifier/modelarts-notifier/notifier"
)

// plan is one service's read and decision, the hand-off from the read stage
// to delivery and settling.
type plan struct {
	svc    eventsapi.Service
	loaded checkpoint.Checkpoint // as stored (zero Version: none stored)
	base   checkpoint.Checkpoint // to keep when not everything due is delivered
	next   checkpoint.Checkpoint // to keep when everything due is delivered
	due    []due
	// newSeen counts the events not handled by an earlier poll.
	newSeen int
	stalled int
}

// reads is the read stage's outcome.
type reads struct {
	plans    []*plan // services read, in no particular order
	deferred int     // services left for the next run (deadline near)
	failed   int
	errs     []error
}

// readAll reads every service, at most Concurrency at once, until ctx ends;
// services not started by then are deferred.
func (p *Poller) readAll(ctx context.Context, services []eventsapi.Service) reads {
	var out reads
	plans := make([]*plan, len(services))
	errs := make([]error, len(services))
	sem := make(chan struct{}, p.cfg.Concurrency)
	var wg sync.WaitGroup
	// Start at a different service each run, so that when the deadline
	// defers services it is never always the same ones.
	offset := 0
	if len(services) > 0 {
		offset = rand.IntN(len(services))
	}
	for k := range services {
		i := (offset + k) % len(services)
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			out.deferred = len(services) - k
			p.log.Warn("deadline near: leaving services for the next run", "deferred", out.deferred)
			break
		}
		wg.Go(func() {
			defer func() { <-sem }()
			plans[i], errs[i] = p.read(ctx, services[i])
		})
	}
	wg.Wait()
	for i, pl := range plans {
		switch {
		case errs[i] != nil:
			out.failed++
			out.errs = append(out.errs, errs[i])
			p.log.Error("poll service", "service_id", services[i].ServiceID, "err", errs[i])
		case pl != nil:
			out.plans = append(out.plans, pl)
		}
	}
	return out
}

// services returns the services to poll with their current status.
func (p *Poller) services(ctx context.Context) ([]eventsapi.Service, error) {
	var out []eventsapi.Service
	seen := map[string]bool{}
	if len(p.cfg.ServiceIDs) > 0 {
		for _, id := range p.cfg.ServiceIDs {
			if !seen[id] {
				seen[id] = true
				out = append(out, eventsapi.Service{ServiceID: id}) // details are read per service
			}
		}
		return out, nil
	}
	for s, err := range p.api.Services(ctx) {
		if err != nil {
			return nil, err
		}
		if !seen[s.ServiceID] { // a service listed twice across pages is polled once
			seen[s.ServiceID] = true
			out = append(out, s)
		}
	}
	return out, nil
}

// read loads a service's checkpoint, reads its events from there, and
// decides what is due.
func (p *Poller) read(ctx context.Context, svc eventsapi.Service) (*plan, error) {
	if svc.Status == "" {
		got, err := p.api.GetService(ctx, svc.ServiceID)
		if err != nil {
			return nil, fmt.Errorf("get service %s: %w", svc.ServiceID, err)
		}
		svc = *got
	}
	loaded, ok, err := p.store.Load(ctx, svc.ServiceID)
	if err != nil {
		return nil, fmt.Errorf("load checkpoint of %s: %w", svc.ServiceID, err)
	}
	now := p.cfg.Now()
	if !ok {
		loaded = checkpoint.Checkpoint{ServiceID: svc.ServiceID}
	}
	base, win := open(loaded, ok, svc.Status, now, p.cfg.FirstRunLookback, p.cfg.Overlap)
	if future(svc.UpdateTime, now) || future(svc.TransitionAt, now) {
		p.log.Warn("service times dated in the future: not used as the status time", "service_id", svc.ServiceID,
			"update_time", notifier.FromMillis(svc.UpdateTime), "transition_at", notifier.FromMillis(svc.TransitionAt))
	}
	v := &view{
		projectID: p.cfg.ProjectID,
		svc:       svc,
		cp:        base,
		first:     win.first,
		floor:     win.floor,
		firstAt:   base.FirstRunAt,
		overlap:   p.cfg.Overlap,
		now:       now,
		edge:      make(map[string]bool, len(base.Edge)),
	}
	for _, f := range base.Edge {
		v.edge[f] = true
	}

	events, capped, err := p.readEvents(ctx, v, win)
	if err != nil {
		return nil, err
	}
	tl := p.build(v, events, capped)
	pl := &plan{svc: svc, loaded: loaded, base: base, due: decide(v, tl)}
	warned := false
	for _, e := range events {
		if !v.isNew(e) {
			continue
		}
		pl.newSeen++
		if future(e.OccurTime, now) && !warned {
			warned = true
			p.log.Warn("event dated in the future: kept and shown, but it does not move the read edge",
				"service_id", svc.ServiceID, "occur_time", notifier.FromMillis(e.OccurTime), "now", notifier.At(now))
		}
	}
	for _, d := range tl.Deployments {
		if d.Outcome == notifier.StatusStalled {
			pl.stalled++
		}
	}
	pl.next = advance(base, events, tl, now, p.cfg.Overlap)
	p.log.Debug("service read", "service_id", svc.ServiceID, "status", svc.Status, "from", win.from,
		"events", len(events), "new", pl.newSeen, "due", len(pl.due))
	return pl, nil
}

// readEvents reads a service's events from the window's start. At most
// MaxEventsPerPoll new events (not handled by an earlier poll) are read (capped is
// then true: the rest is read next poll); a first poll keeps the newest
// MaxEventsPerPoll of its window (older ones are history). Re-read events
// of the open deployment do not count toward the cap, but more than
// maxReadFactor times it in all is an error: a server that invents events
// without end gets a bounded read and a failed poll, never silence.
func (p *Poller) readEvents(ctx context.Context, v *view, win window) (events []eventsapi.Event, capped bool, err error) {
	limit := p.cfg.MaxEventsPerPoll
	fresh := 0
	for e, err := range p.api.Events(ctx, v.svc.ServiceID, eventsapi.EventsQuery{StartTime: win.from}) {
		if err != nil {
			return nil, false, fmt.Errorf("read events of %s: %w", v.svc.ServiceID, err)
		}
		if n := len(events); n > 0 && events[n-1] == e {
			continue // a record repeated (the timeline keeps one of identical events anyway)
		}
		if win.first {
			if len(events) == 2*limit { // keep the newest limit events
				events = append(events[:0], events[limit:]...)
				capped = true
			}
			events = append(events, e)
			continue
		}
		if v.isNew(e) {
			if fresh++; fresh > limit {
				p.log.Warn("more new events than one poll reads: the rest is read next poll",
					"service_id", v.svc.ServiceID, "events", len(events), "max_events", limit)
				return events, true, nil
			}
		}
		if len(events) >= maxReadFactor*limit {
			return nil, false, fmt.Errorf("read events of %s: more than %d events since the open deployment's start at %s; the checkpoint stays",
				v.svc.ServiceID, len(events), notifier.FromMillis(win.from))
		}
		events = append(events, e)
	}
	if win.first && len(events) > limit {
		events = events[len(events)-limit:]
		capped = true
	}
	if win.first && capped {
		p.log.Warn("first poll: more events in the lookback than one poll keeps; the older ones are history",
			"service_id", v.svc.ServiceID, "kept", len(events))
		capped = false // the newest events were read: the status applies
	}
	return events, capped, nil
}

// maxReadFactor bounds the events one read holds, as a multiple of
// MaxEventsPerPoll.
const maxReadFactor = 5

// build rebuilds the timeline from what is not history: on a first poll
// every event read; later, the open deployment's events and the new ones.
// Events re-read in the overlap only serve to recognise what was seen: fed
// to the timeline they could rebuild the tail of a finished deployment as
// a new one (with a new key, so its outcome would be notified again). When
// the read was capped, the service status is not applied: it is about
// events not read yet.
func (p *Poller) build(v *view, events []eventsapi.Event, capped bool) timeline.Timeline {
	svc := v.svc
	if capped {
		svc.Status = ""
	}
	if v.first {
		return timeline.Build(events, svc, v.now, p.cfg.Thresholds)
	}
	open := v.cp.DeploymentStart
	keep := make([]eventsapi.Event, 0, len(events))
	for _, e := range events {
		if open != 0 && e.OccurTime >= open || v.isNew(e) {
			keep = append(keep, e)
		}
	}
	tl := timeline.Build(keep, svc, v.now, p.cfg.Thresholds)
	// Only a first poll can start mid-deployment. Later, events before the
	// first start marker (other than the open deployment's) are runtime
	// events, not an implicit deployment.
	if len(tl.Deployments) > 0 {
		d := tl.Deployments[0]
		if d.Start != open && len(d.Events) > 0 && !timeline.IsStart(d.Events[0]) {
			tl.Runtime = append(slices.Clone(d.Events), tl.Runtime...)
			slices.SortStableFunc(tl.Runtime, func(a, b eventsapi.Event) int { return cmp.Compare(a.OccurTime, b.OccurTime) })
			tl.Deployments = tl.Deployments[1:]
		}
	}
	return tl
}
