package watch

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"iter"
	"maps"
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
	svc     eventsapi.Service
	loaded  stored                // the checkpoint as the poll found it (ok: the store has one)
	settled bool                  // its checkpoint was saved (or left) during the reads
	base    checkpoint.Checkpoint // to keep when not everything due is delivered
	next    checkpoint.Checkpoint // to keep when everything due is delivered
	// due is what the read found due, until delivery takes the
	// notifications (deliver sets it to nil); refs is what settling needs
	// of each of them.
	due  []due
	refs []dueRef
	// newSeen counts the events not handled by an earlier poll.
	newSeen int
	stalled int
}

// reads is the read stage's outcome.
type reads struct {
	plans    []*plan // services read, in no particular order
	deferred int     // services left for the next run (deadline near)
	failed   int
	loads    int // checkpoints read from the store
	writes   int // checkpoints saved early (see earlySaver)
	errs     []error
}

// loadFirst is how many checkpoints readAll loads before the first read
// when the store reads item by item: one BatchGetItem.
const loadFirst = 100

// stored is a service's checkpoint as the poll found it.
type stored struct {
	cp checkpoint.Checkpoint
	ok bool // the store has one
	// cached: taken from the Poller's cache of an earlier poll, not read
	// from the store in this one.
	cached bool
}

// checkpoints returns the services' checkpoints: from the cache a warm
// Poller keeps between polls, the others read with one LoadMany.
func (p *Poller) checkpoints(ctx context.Context, ids []string) (map[string]stored, int, error) {
	out := make(map[string]stored, len(ids))
	var missing []string
	p.cacheMu.Lock()
	for _, id := range ids {
		if c, ok := p.cache[id]; ok {
			out[id] = stored{cp: c.cp.Clone(), ok: c.ok, cached: true}
		} else {
			missing = append(missing, id)
		}
	}
	p.cacheMu.Unlock()
	if len(missing) == 0 {
		return out, 0, nil
	}
	got, err := p.store.LoadMany(ctx, missing)
	if err != nil {
		return nil, 0, fmt.Errorf("load checkpoints: %w", err)
	}
	p.cacheMu.Lock()
	defer p.cacheMu.Unlock()
	for _, id := range missing {
		cp, ok := got[id]
		if !ok {
			cp = checkpoint.Checkpoint{ServiceID: id}
		}
		out[id] = stored{cp: cp, ok: ok}
		p.cache[id] = cachedCheckpoint{cp: cp.Clone(), ok: ok}
	}
	return out, len(missing), nil
}

// readAll reads every service, at most Concurrency at once, until ctx ends;
// services not started by then are deferred.
//
// With a store that reads item by item (DynamoDB), the checkpoints of the
// first loadFirst services are loaded first and the others while those are
// read, so the reads need not wait for every checkpoint; a file is read
// once, before.
func (p *Poller) readAll(ctx, saveCtx context.Context, services []eventsapi.Service) reads {
	var out reads
	if ctx.Err() != nil { // the deadline is too near to start anything
		out.deferred = len(services)
		p.log.Warn("deadline near: leaving services for the next run", "deferred", out.deferred)
		return out
	}
	// Start at a different service each run, so that when the deadline
	// defers services it is never always the same ones.
	offset := 0
	if len(services) > 0 {
		offset = rand.IntN(len(services))
	}
	ids := make([]string, len(services)) // in the order they are read
	for k := range services {
		ids[k] = services[(offset+k)%len(services)].ServiceID
	}
	first := len(ids)
	if pi, ok := p.store.(checkpoint.PerItem); ok && pi.PerItem() {
		first = min(first, loadFirst)
	}
	cps, loaded, err := p.checkpoints(ctx, ids[:first])
	if err != nil {
		out.failed = len(services)
		out.errs = append(out.errs, err)
		return out
	}
	out.loads = loaded
	var rest map[string]stored
	var restLoaded int
	var restErr error
	restDone := make(chan struct{})
	if first < len(ids) {
		go func() {
			defer close(restDone)
			rest, restLoaded, restErr = p.checkpoints(ctx, ids[first:])
		}()
	} else {
		close(restDone)
	}
	early := p.earlySaver(saveCtx)
	plans := make([]*plan, len(services))
	errs := make([]error, len(services))
	slots := newInflight(p.cfg.Concurrency, p.pool)
	var wg sync.WaitGroup
	for k := range services {
		i := (offset + k) % len(services)
		if k == first {
			<-restDone
			if restErr != nil && ctx.Err() == nil {
				out.failed += len(services) - k
				out.errs = append(out.errs, restErr)
				break
			}
			maps.Copy(cps, rest)
			out.loads += restLoaded
		}
		if slots.acquire(ctx) != nil {
			out.deferred = len(services) - k
			p.log.Warn("deadline near: leaving services for the next run", "deferred", out.deferred)
			break
		}
		s := slots.begin()
		st := cps[services[i].ServiceID]
		delete(cps, services[i].ServiceID)
		wg.Go(func() {
			defer s.end()
			plans[i], errs[i] = p.read(ctx, services[i], st, s)
			if errs[i] == nil && early != nil {
				early.offer(plans[i])
			}
		})
	}
	wg.Wait()
	<-restDone // a poll leaves nothing running behind it
	if early != nil {
		var errs []error
		out.writes, errs = early.wait()
		out.errs = append(out.errs, errs...)
	}
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

// verify re-reads, before delivery, the stored checkpoint of every service
// that has something to deliver and whose checkpoint came from the cache:
// when another writer (another container) saved it since, the service is
// read again from the stored checkpoint, so nothing it delivered is sent
// again. Quiet services cost no read at all.
func (p *Poller) verify(ctx context.Context, r *reads) {
	var ids []string
	for _, pl := range r.plans {
		if pl.loaded.cached && p.pending(pl) {
			ids = append(ids, pl.svc.ServiceID)
		}
	}
	if len(ids) == 0 {
		return
	}
	p.cacheMu.Lock()
	for _, id := range ids {
		delete(p.cache, id)
	}
	p.cacheMu.Unlock()
	fresh, loaded, err := p.checkpoints(ctx, ids)
	r.loads += loaded
	if err != nil {
		// Deliver nothing for them this poll rather than risk a repeat.
		keep := r.plans[:0]
		for _, pl := range r.plans {
			if slices.Contains(ids, pl.svc.ServiceID) {
				r.failed++
				continue
			}
			keep = append(keep, pl)
		}
		r.plans = keep
		r.errs = append(r.errs, err)
		return
	}
	for i, pl := range r.plans {
		f, ok := fresh[pl.svc.ServiceID]
		if !ok || f.ok == pl.loaded.ok && f.cp.Version == pl.loaded.cp.Version {
			continue
		}
		p.log.Info("checkpoint changed by another writer since the last poll: reading the service again", "service_id", pl.svc.ServiceID,
			"cached_version", pl.loaded.cp.Version, "stored_version", f.cp.Version)
		again, err := p.read(ctx, pl.svc, f, nil)
		if err != nil {
			r.errs = append(r.errs, err)
			r.failed++
			r.plans[i] = nil
			continue
		}
		r.plans[i] = again
	}
	r.plans = slices.DeleteFunc(r.plans, func(pl *plan) bool { return pl == nil })
}

// services returns the services to poll: the configured ones (their
// details are read per service, through the generation their checkpoint
// remembers), or every service of the generations watched, with their
// status. With "auto", a generation the credentials may not list (403) is
// left out with one warning, never a failed poll.
func (p *Poller) services(ctx context.Context) ([]eventsapi.Service, error) {
	var out []eventsapi.Service
	seen := map[string]bool{}
	if len(p.cfg.ServiceIDs) > 0 {
		for _, id := range p.cfg.ServiceIDs {
			if !seen[id] {
				seen[id] = true
				out = append(out, eventsapi.Service{ServiceID: id})
			}
		}
		return out, nil
	}
	lists := listGenerations(ctx, p.api, p.cfg.API)
	listed := 0
	var forbidden error
	for _, l := range lists {
		n, err := add(l.got, l.err, seen, &out)
		if err != nil && p.cfg.API == "auto" && eventsapi.IsForbidden(err) {
			p.log.Warn("the credentials may not list this generation's services: watching the other one alone",
				"generation", l.gen, "err", err)
			forbidden = err
			continue
		}
		if err != nil {
			return nil, err
		}
		listed += n
	}
	if listed == 0 && forbidden != nil && len(out) == 0 {
		// Neither generation could be listed: that is no empty project.
		if _, err := p.list(ctx, p.api.Services, seen, &out); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// generationList is one generation's service list, read whole.
type generationList struct {
	gen string
	got []eventsapi.Service
	err error
}

// listGenerations lists the services of the generations gen watches
// ("auto": both, "v1", "v2") at once (one round trip, not two), and
// returns them in order: v1 first.
func listGenerations(ctx context.Context, api API, gen string) []generationList {
	lists := []struct {
		generationList
		list func(context.Context) iter.Seq2[eventsapi.Service, error]
	}{{generationList{gen: eventsapi.GenerationV1}, api.Services}, {generationList{gen: eventsapi.GenerationV2}, api.ServicesV2}}
	var wg sync.WaitGroup
	for i := range lists {
		if gen != "auto" && gen != lists[i].gen {
			continue
		}
		wg.Go(func() {
			for s, err := range lists[i].list(ctx) {
				if err != nil {
					lists[i].err = err
					return
				}
				lists[i].got = append(lists[i].got, s)
			}
		})
	}
	wg.Wait()
	var out []generationList
	for _, l := range lists {
		if gen == "auto" || gen == l.gen {
			out = append(out, l.generationList)
		}
	}
	return out
}

// list appends the services of one list call to out, each service once.
func (p *Poller) list(ctx context.Context, list func(context.Context) iter.Seq2[eventsapi.Service, error], seen map[string]bool, out *[]eventsapi.Service) (int, error) {
	var got []eventsapi.Service
	var err error
	for s, e := range list(ctx) {
		if e != nil {
			err = e
			break
		}
		got = append(got, s)
	}
	return add(got, err, seen, out)
}

// add appends the services one list call listed (got, before it failed
// with err, if it did) to out, each service once.
func add(got []eventsapi.Service, err error, seen map[string]bool, out *[]eventsapi.Service) (int, error) {
	for _, s := range got {
		if !seen[s.ServiceID] { // a service listed twice across pages is polled once
			seen[s.ServiceID] = true
			*out = append(*out, s)
		}
	}
	return len(got), err
}

// needsDetails reports whether a listed service must be read in detail: v1
// list entries carry what the poll needs; v2 ones lack the failure reason,
// the deploy timeout and the deployment's name, which matter only while a
// deployment may be under way or has failed.
func needsDetails(svc eventsapi.Service) bool {
	if svc.Status == "" {
		return true
	}
	if svc.Generation != eventsapi.GenerationV2 {
		return false
	}
	switch svc.Status {
	case eventsapi.StatusRunning, eventsapi.StatusStopped, eventsapi.StatusStopping, eventsapi.StatusDeleting, eventsapi.StatusFinished:
		return svc.RawStatus == eventsapi.RawStatusError
	}
	return true
}

// read loads a service's checkpoint, reads its events from there, and
// decides what is due. s is the read's share of the poll's reads in
// flight (nil: unbounded): once a v1 service's events are all read, the
// decision is made in a decision slot, so the next service's requests go
// out meanwhile. What the plan keeps is what delivery and settling need:
// the events and the timeline are left behind.
func (p *Poller) read(ctx context.Context, svc eventsapi.Service, st stored, s *slot) (*plan, error) {
	loaded, ok := st.cp, st.ok
	if needsDetails(svc) {
		gen := cmp.Or(svc.Generation, loaded.Generation)
		if p.cfg.API != "auto" {
			gen = p.cfg.API
		}
		got, err := p.api.LookupService(ctx, svc.ServiceID, gen)
		if err != nil {
			return nil, err // the client's error names the service
		}
		svc = *got
	}
	now := p.cfg.Now()
	base, win := open(loaded, ok, svc, now, p.cfg.FirstRunLookback, p.cfg.Overlap)
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
	if p.cfg.Learn && win.first && base.HistoryThrough == 0 && len(base.History) == 0 {
		// A first poll learns from the month before its window, once:
		// read for learning only, never notified. v1: in the same read as
		// the window (readEvents); v2 (no end_time): a read of its own.
		if svc.Generation != eventsapi.GenerationV2 {
			v.learner = newLearner(svc, base, now, p.cfg.Thresholds, p.cfg.MaxEventsPerPoll)
		} else if learned, _, err := p.learnFirst(ctx, svc, base, win.from, now); err != nil {
			p.log.Warn("history could not be read; the configured thresholds hold until it is", "service_id", svc.ServiceID, "err", err)
		} else {
			base = learned
			v.cp = base
		}
	}

	events, kind, err := p.readEvents(ctx, v, win, s)
	if l := v.learner; l != nil && !l.reached && (err != nil || kind != readWhole) {
		// The month before the window could not be read whole (an error,
		// a read cut short, more than a learner takes): what it taught
		// stays, and the window is read on its own, as it would be
		// without learning; the rest is learned as deployments complete.
		if !errors.Is(err, errMonthLong) {
			p.log.Warn("history could not be read; reading the first window alone", "service_id", svc.ServiceID, "err", err)
		}
		l.cut()
		base = l.done(nil)
		v.cp, v.learner = base, nil
		events, kind, err = p.readEvents(ctx, v, win, s)
	}
	if err != nil {
		return nil, err
	}
	defer putEvents(events) // nothing the plan keeps refers to them
	if v.learner != nil {
		base = v.learner.done(events)
		v.cp, v.learner = base, nil
	}
	v.th, v.usual = p.thresholdsOf(base)
	if svc.Generation != eventsapi.GenerationV2 {
		s.decide() // v1: no request after this one
	}
	tl := p.build(v, events, kind)
	if kind == readWhole {
		base = markStatusEnd(base, tl) // kept whether or not delivery succeeds
		// Deployments this read found ended teach before the poll judges
		// what is under way (a poll after a gap in polling): when they
		// change a threshold, the timeline is built again with it. The
		// history, like the mark, is no delivery's: kept either way.
		if learned := learnFrom(base, tl); learned.HistoryThrough != base.HistoryThrough {
			base = learned
			th, usual := p.thresholdsOf(base)
			v.usual = usual
			if !maps.Equal(th, v.th) {
				v.th = th
				tl = p.build(v, events, kind)
			}
		}
	}
	pl := &plan{svc: svc, loaded: st, base: base}
	if kind != readHeldBack {
		// A v2 read cut short holds only the newest records: what they
		// seem to say (a deployment's tail taken for a whole one) is not
		// told; the next complete read decides.
		decs := decide(v, tl)
		for i := range decs {
			p.routeDue(&decs[i], base, v.query(decs[i]))
		}
		pl.due = v.notifications(decs, p.enrich(ctx, v, base, decs))
	}
	warned := false
	for _, e := range events {
		if !v.isNew(e) {
			continue
		}
		pl.newSeen++
		if future(activity(e), now) && !warned {
			warned = true
			p.log.Warn("event dated in the future: kept and shown, but it does not move the read edge",
				"service_id", svc.ServiceID, "occur_time", notifier.FromMillis(activity(e)), "now", notifier.At(now))
		}
	}
	for _, d := range tl.Deployments {
		if d.Outcome == notifier.OutcomeStalled {
			pl.stalled++
		}
	}
	pl.next = advance(base, events, tl, now, p.cfg.Overlap, kind)
	p.log.Debug("service read", "service_id", svc.ServiceID, "generation", svc.Generation, "status", svc.Status,
		"from", notifier.FromMillis(win.from), "events", len(events), "new", pl.newSeen, "due", len(pl.due))
	pl.refs = refsOf(pl.due)
	s.shareTexts(pl.due)
	return pl, nil
}

// podEvents are a deployment's Warning pod events as the enrich stage
// read them, or why they could not be read.
type podEvents struct {
	evs []notifier.PodEvent
	err string
}

// enrich reads what the decisions' summaries need beyond the events: for
// each failure or stall of a v2 deployment that some destination still
// has to get, the deployment's Warning pod events (the Kubernetes reason
// says why), one request per deployment per poll, over the deployment's
// window. A failed request never holds a notification back: its summary
// says the pod events could not be read. The result is keyed by decision
// id.
func (p *Poller) enrich(ctx context.Context, v *view, base checkpoint.Checkpoint, decs []decision) map[string]*podEvents {
	if v.svc.Generation != eventsapi.GenerationV2 || v.svc.DeploymentName == "" {
		return nil
	}
	out := map[string]*podEvents{}
	read := map[string]*podEvents{} // deployment key -> its pod events
	for _, dec := range decs {
		if dec.dep == nil || dec.thread != notifier.NotThreadOnly || dec.kind != notifier.KindFailed && dec.kind != notifier.KindStalled ||
			p.pendingDests(base, dec.id, dec.targets, dec.done) == 0 {
			continue
		}
		a, ok := read[dec.key]
		if !ok {
			a = &podEvents{}
			read[dec.key] = a
			from, to := dec.dep.Start, dec.dep.End
			if to == 0 {
				to = p.cfg.Now().UnixMilli()
			}
			// The deployment notified ran as the newest instance group
			// created before it ended: never a later deployment's (a
			// failure re-derived after the next deployment began).
			if name := v.svc.DeploymentAt(to); name == "" {
				a.err = "its deployment is no longer listed in the service's details"
			} else if evs, err := p.api.PodEvents(ctx, v.svc.ServiceID, name, from, max(to, from)); err != nil {
				p.log.Warn("pod events could not be read; notifying without them", "service_id", v.svc.ServiceID, "err", err)
				a.err = err.Error()
			} else {
				a.evs = warnings(evs)
			}
		}
		out[dec.id] = a
	}
	return out
}

// source is a service's events from the window's start, ascending by
// activity (the last occurrence): v1 events stream from the client as they
// are paged; v2 records, read newest first, are collected (at most
// maxReadFactor times the cap) and sorted.
//
// buffered is set to the records a v2 source holds (0 for v1); s is told
// as it grows. expected is set, for a v1 read, to the events the server
// says the read will give, before it gives the first (0: not said).
func (p *Poller) source(ctx context.Context, v *view, win window, s *slot, buffered, expected *int) iter.Seq2[eventsapi.Event, error] {
	if v.svc.Generation != eventsapi.GenerationV2 {
		q := eventsapi.EventsQuery{StartTime: win.from, Expect: func(total int) { *expected = total }}
		if v.learner != nil {
			q.StartTime = min(win.from, v.now.Add(-LearnWindow).UnixMilli()) // the month before, for the learner
		}
		return p.api.Events(ctx, v.svc.ServiceID, q)
	}
	return func(yield func(eventsapi.Event, error) bool) {
		var all []eventsapi.Event
		var incomplete error
		for e, err := range p.api.EventsV2(ctx, v.svc.ServiceID, win.from) {
			if errors.Is(err, eventsapi.ErrIncomplete) {
				incomplete = err
				break
			}
			if err == nil {
				*buffered = len(all) + 1
				err = s.hold(ctx, *buffered)
			}
			if err != nil {
				yield(eventsapi.Event{}, err)
				return
			}
			if len(all) >= maxReadFactor*p.cfg.MaxEventsPerPoll {
				yield(eventsapi.Event{}, fmt.Errorf("read events of %s: more than %d records updated since %s; the checkpoint stays",
					v.svc.ServiceID, len(all), notifier.FromMillis(win.from)))
				return
			}
			all = append(all, e)
		}
		slices.SortStableFunc(all, func(a, b eventsapi.Event) int {
			return cmp.Or(cmp.Compare(activity(a), activity(b)), cmp.Compare(a.OccurTime, b.OccurTime))
		})
		for _, e := range all {
			if !yield(e, nil) {
				return
			}
		}
		if incomplete != nil {
			yield(eventsapi.Event{}, incomplete)
		}
	}
}

// readEvents reads a service's events from the window's start. At most
// MaxEventsPerPoll new events (not handled by an earlier poll) are read
// (capped is then true: the rest is read next poll); a first poll keeps
// the newest MaxEventsPerPoll of its window (older ones are history).
// Re-read events of the open deployment do not count toward the cap, but
// more than maxReadFactor times it in all is an error: a server that
// invents events without end gets a bounded read and a failed poll, never
// silence.
//
// The events held (and, for v2, the records buffered) are told to s, which
// may hold the read back while others hold many.
func (p *Poller) readEvents(ctx context.Context, v *view, win window, s *slot) (events []eventsapi.Event, kind readKind, err error) {
	capped := false
	limit := p.cfg.MaxEventsPerPoll
	fresh := 0
	buffered, expected := 0, 0
	learned := 0 // events of the month before the window, not held
	events = takeEvents()
	for e, err := range p.source(ctx, v, win, s, &buffered, &expected) {
		if err == nil && expected > 0 && (v.learner == nil || v.learner.reached || e.OccurTime >= win.from) {
			// Room for every event the read will hold, taken at once:
			// reads that each took part of what they need and waited for
			// the rest would wait on one another (only the oldest goes
			// on), holding pages that serve none.
			most := maxReadFactor * limit
			if win.first {
				most = 2 * limit
			}
			err = s.hold(ctx, min(expected-learned, most))
			expected = 0
		}
		if err == nil {
			err = s.hold(ctx, buffered+len(events)+1)
		}
		if errors.Is(err, eventsapi.ErrIncomplete) {
			// The server stopped giving events before the end: what was
			// read is kept, and handled as a capped read (the status is
			// not applied, the open deployment stays open, the old edge
			// is kept); the rest is read next poll.
			p.log.Warn("events read cut short by the server: the rest is read next poll", "service_id", v.svc.ServiceID, "events", len(events))
			if v.svc.Generation == eventsapi.GenerationV2 {
				return events, readHeldBack, nil
			}
			return events, readCapped, nil
		}
		if err != nil {
			return nil, readWhole, err // the client's error names the service
		}
		if l := v.learner; l != nil && !l.reached {
			if e.OccurTime < win.from {
				// The month before the window: learned from, never held.
				if !l.add(e) {
					return nil, readWhole, errMonthLong
				}
				learned++
				continue
			}
			l.reached = true
		}
		if n := len(events); n > 0 && events[n-1] == e {
			continue // a record repeated (the timeline keeps one of identical events anyway)
		}
		if win.first {
			if len(events) == 2*limit { // keep the newest limit events
				v.learnFrom(events[:limit]) // the older ones still teach
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
				return events, readCapped, nil
			}
		}
		if len(events) >= maxReadFactor*limit {
			return nil, readWhole, fmt.Errorf("read events of %s: more than %d events since the open deployment's start at %s; the checkpoint stays",
				v.svc.ServiceID, len(events), notifier.FromMillis(win.from))
		}
		events = append(events, e)
	}
	if win.first && len(events) > limit {
		v.learnFrom(events[:len(events)-limit])
		events = events[len(events)-limit:]
		capped = true
	}
	if win.first && capped {
		p.log.Warn("first poll: more events in the lookback than one poll keeps; the older ones are history",
			"service_id", v.svc.ServiceID, "kept", len(events))
		// The newest events were read: the status applies.
	}
	return events, readWhole, nil
}

// eventSlices keeps the slices reads collect events in, for the next
// reads: a page of 1,000 events collected one by one would otherwise grow
// a slice a dozen times.
var eventSlices sync.Pool

// maxPooledEvents is the largest slice kept in eventSlices.
const maxPooledEvents = 4 * eventsapi.DefaultLimit

// takeEvents returns an empty slice to collect events in.
func takeEvents() []eventsapi.Event {
	if b, ok := eventSlices.Get().(*[]eventsapi.Event); ok {
		return (*b)[:0]
	}
	return nil
}

// putEvents gives back a slice takeEvents returned (or a slice it grew
// to), once nothing refers to its events.
func putEvents(events []eventsapi.Event) {
	if c := cap(events); c == 0 || c > maxPooledEvents {
		return
	}
	events = events[:cap(events)]
	clear(events) // keeps no text alive
	events = events[:0]
	eventSlices.Put(&events)
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
func (p *Poller) build(v *view, events []eventsapi.Event, kind readKind) timeline.Timeline {
	svc := v.svc
	if kind != readWhole {
		svc.Status = ""
	}
	// Events dated past now + clockSkew belong to no deployment: in one they
	// would sort after every real event, join whatever deployment is open,
	// and hold off its stall detection until that date. They are runtime
	// events, notified once by their own identity.
	var ahead []eventsapi.Event
	if slices.ContainsFunc(events, func(e eventsapi.Event) bool { return future(activity(e), v.now) }) {
		now := make([]eventsapi.Event, 0, len(events))
		for _, e := range events {
			if future(activity(e), v.now) {
				ahead = append(ahead, e)
			} else {
				now = append(now, e)
			}
		}
		events = now
	}
	tl := p.buildTimeline(v, svc, events)
	tl.AddRuntime(ahead...)
	return tl
}

// buildTimeline is build's timeline of the events dated up to now.
func (p *Poller) buildTimeline(v *view, svc eventsapi.Service, events []eventsapi.Event) timeline.Timeline {
	if v.first {
		return timeline.BuildAfter(events, svc, v.now, v.th, statusEndOf(v.cp))
	}
	open := v.cp.DeploymentStart
	keep := make([]eventsapi.Event, 0, len(events))
	for _, e := range events {
		if open != 0 && e.OccurTime >= open || v.isNew(e) {
			keep = append(keep, e)
		}
	}
	tl := timeline.BuildAfter(keep, svc, v.now, v.th, statusEndOf(v.cp))
	// Only a first poll can start mid-deployment. Later, events before the
	// first start marker (other than the open deployment's) are runtime
	// events, not an implicit deployment.
	if len(tl.Deployments) > 0 {
		d := tl.Deployments[0]
		if d.Start != open && !d.Implied && len(d.Events) > 0 && !timeline.IsStart(d.Events[0]) {
			tl.Deployments = tl.Deployments[1:]
			tl.AddRuntime(d.Events...)
		}
	}
	return tl
}
