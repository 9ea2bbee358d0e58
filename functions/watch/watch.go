// Package watch is the poll cycle: for each service it reads the events
// newer than the checkpoint, rebuilds the deployments' timelines, decides
// which notifications are due, hands them to the notifier, and advances the
// checkpoint only for what was delivered.
//
// Guarantees (see README "Delivery guarantees"):
//   - Nothing lost: a service's read edge (Checkpoint.ReadThrough) advances
//     only when every notification due from its events was delivered to
//     every destination. A failed fetch or delivery leaves it where it was,
//     and the next poll derives the same notifications again.
//   - No repeats: each notification has a stable ID derived from what it is
//     about; the checkpoint records which destinations got which IDs, and a
//     destination is never sent an ID it already acknowledged.
//   - A crash between delivery and the checkpoint write re-sends on the next
//     poll with the same ID (the webhook-id), so receivers can deduplicate.
package watch

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"iter"
	"log/slog"
	"maps"
	"math/rand/v2"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/modelarts-notifier/modelarts-notifier/eventsapi"
	"github.com/modelarts-notifier/modelarts-notifier/functions/checkpoint"
	"github.com/modelarts-notifier/modelarts-notifier/functions/timeline"
	"github.com/modelarts-notifier/modelarts-notifier/notifier"
)

// API is the part of the ModelArts client the poll uses.
type API interface {
	Events(ctx context.Context, serviceID string, q eventsapi.EventsQuery) iter.Seq2[eventsapi.Event, error]
	GetService(ctx context.Context, serviceID string) (*eventsapi.Service, error)
	Services(ctx context.Context) iter.Seq2[eventsapi.Service, error]
}

// Config tunes a Poller. Zero values take the documented defaults.
type Config struct {
	ProjectID string
	// ServiceIDs are the services to watch; empty means every service in
	// the project (one list call also gives every status).
	ServiceIDs []string
	Thresholds timeline.Thresholds
	// FirstRunLookback is how far back a service with no checkpoint is read.
	FirstRunLookback time.Duration
	// Overlap is how far behind the read edge each poll reads again, to
	// catch events that arrive late with an older occur_time. Default 2m.
	Overlap time.Duration
	// Concurrency bounds the services polled at once. Default 16.
	Concurrency int
	// Reserve is the time kept back before the context's deadline: no new
	// service is started later than that, and delivery and checkpoint
	// writes use it. Default 15s, at most a third of the time available.
	Reserve time.Duration
	// Now is the clock; default time.Now.
	Now func() time.Time
}

// Poller runs poll cycles.
type Poller struct {
	cfg   Config
	api   API
	store checkpoint.Store
	dests []notifier.Destination
	log   *slog.Logger
}

// New returns a Poller. dests may be empty (nothing is sent, and nothing
// is then due: checkpoints still advance).
func New(cfg Config, api API, store checkpoint.Store, dests []notifier.Destination, log *slog.Logger) *Poller {
	if cfg.Thresholds == nil {
		cfg.Thresholds = timeline.DefaultThresholds()
	}
	if cfg.FirstRunLookback <= 0 {
		cfg.FirstRunLookback = time.Hour
	}
	if cfg.Overlap <= 0 {
		cfg.Overlap = 2 * time.Minute
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = 16
	}
	if cfg.Reserve <= 0 {
		cfg.Reserve = 15 * time.Second
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Poller{cfg: cfg, api: api, store: store, dests: dests, log: log}
}

// Result tells what one poll did. Err is non-nil when anything due was not
// delivered, a service could not be read, or a checkpoint not saved.
type Result struct {
	Services         int // services polled
	ServicesDeferred int // left for the next run (deadline near)
	ServicesFailed   int
	EventsRead       int // events not seen by an earlier poll
	Due              int // notifications due (per destination pairs counted once)
	Delivered        int // (notification, destination) pairs delivered
	DeliveryFailed   int // (notification, destination) pairs that failed
	Stalls           int // stalled deployments seen
	CheckpointWrites int
	// Notifications lists what was due this run, in order.
	Notifications []notifier.Notification
	Err           error
}

// plan is one service's read and decision, before delivery.
type plan struct {
	svc     eventsapi.Service
	cp      checkpoint.Checkpoint
	next    checkpoint.Checkpoint // the checkpoint if everything due is delivered
	due     []due
	newSeen int
	stalled int
}

// Poll runs one poll cycle.
func (p *Poller) Poll(ctx context.Context) Result {
	var res Result
	var errs []error

	// Reads stop at the cutoff, so the reserve before the deadline is left
	// for delivery and checkpoint writes even when a read is slow.
	readCtx, cancelReads := p.readContext(ctx)
	defer cancelReads()
	services, err := p.services(readCtx)
	if err != nil {
		res.Err = fmt.Errorf("list services: %w", err)
		return res
	}
	plans := make([]*plan, len(services))
	planErrs := make([]error, len(services))
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
		acquired := false
		select {
		case sem <- struct{}{}:
			acquired = true
		case <-readCtx.Done():
		}
		if readCtx.Err() != nil {
			if acquired {
				<-sem
			}
			res.ServicesDeferred = len(services) - k
			p.log.Warn("deadline near: leaving services for the next run", "deferred", res.ServicesDeferred)
			break
		}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			plans[i], planErrs[i] = p.read(readCtx, services[i])
		}()
	}
	wg.Wait()

	var ready []*plan
	for i, pl := range plans {
		switch {
		case planErrs[i] != nil:
			res.ServicesFailed++
			errs = append(errs, planErrs[i])
			p.log.Error("poll service", "service_id", services[i].ServiceID, "err", planErrs[i])
		case pl != nil:
			res.Services++
			res.EventsRead += pl.newSeen
			res.Stalls += pl.stalled
			ready = append(ready, pl)
		}
	}

	// Deliver everything due in this run at once, so destinations can pace
	// and digest; then settle each service's checkpoint on its own.
	var pending []due
	sentTo := map[string]checkpoint.Sent{}
	for _, pl := range ready {
		for _, d := range pl.due {
			if p.pendingDests(pl.cp, d.n.ID) == 0 {
				continue
			}
			pending = append(pending, d)
			sentTo[d.n.ID] = pl.cp.Sent[d.n.ID]
		}
	}
	sort.SliceStable(pending, func(i, j int) bool { return pending[i].at < pending[j].at })
	batch := make([]notifier.Notification, len(pending))
	for i, d := range pending {
		batch[i] = d.n
	}
	res.Due = len(batch)
	res.Notifications = batch

	var deliveries []notifier.Delivery
	if len(batch) > 0 && len(p.dests) > 0 {
		// Delivery ends before the deadline, leaving time to record it.
		deliverCtx, cancelDeliver := p.shortened(ctx, saveReserve)
		defer cancelDeliver()
		deliveries = notifier.Deliver(deliverCtx, p.dests, batch, func(id, dest string) bool {
			return slices.Contains(sentTo[id].Destinations, dest)
		})
	}
	delivered := map[string][]string{} // id -> destinations delivered this run
	threads := map[string]string{}     // notification id -> Slack parent ts
	for _, d := range deliveries {
		if d.Err != nil {
			res.DeliveryFailed++
			errs = append(errs, fmt.Errorf("deliver %s to %s: %w", d.ID, d.Destination, d.Err))
			continue
		}
		res.Delivered++
		delivered[d.ID] = append(delivered[d.ID], d.Destination)
		if d.ThreadTS != "" {
			threads[d.ID] = d.ThreadTS
		}
	}

	// Checkpoint writes use a context that survives the run's own
	// cancellation for a moment: what was delivered must be recorded.
	saveCtx, cancel := saveContext(ctx)
	defer cancel()
	for _, pl := range ready {
		cp, complete := p.settle(pl, delivered, threads)
		if !complete {
			errs = append(errs, fmt.Errorf("service %s: not every notification was delivered; its checkpoint stays", pl.svc.ServiceID))
		}
		if cp.Equal(pl.cp) {
			continue // a quiet poll writes nothing
		}
		if err := p.store.Save(saveCtx, &cp); err != nil {
			errs = append(errs, fmt.Errorf("save checkpoint of %s: %w", pl.svc.ServiceID, err))
			continue
		}
		res.CheckpointWrites++
	}
	res.Err = errors.Join(errs...)
	return res
}

// readContext is ctx ending at the cutoff: the deadline less the reserve
// (at most a third of the time left). Deadlines are wall-clock time.
func (p *Poller) readContext(ctx context.Context) (context.Context, context.CancelFunc) {
	return p.shortened(ctx, p.cfg.Reserve)
}

// saveReserve is the time before the deadline kept for checkpoint writes.
const saveReserve = 5 * time.Second

// shortened is ctx ending reserve before its deadline (at most a third of
// the time left), or ctx itself when it has none.
func (p *Poller) shortened(ctx context.Context, reserve time.Duration) (context.Context, context.CancelFunc) {
	dl, ok := ctx.Deadline()
	if !ok {
		return context.WithCancel(ctx)
	}
	reserve = min(reserve, time.Until(dl)/3)
	return context.WithDeadline(ctx, dl.Add(-reserve))
}

// saveContext is for checkpoint writes: what was delivered must be
// recorded even when the run was cancelled (a signal), until the deadline
// (or for 10 s when there is none).
func saveContext(ctx context.Context) (context.Context, context.CancelFunc) {
	if dl, ok := ctx.Deadline(); ok {
		return context.WithDeadline(context.WithoutCancel(ctx), dl)
	}
	return context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
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
	cp, ok, err := p.store.Load(ctx, svc.ServiceID)
	if err != nil {
		return nil, fmt.Errorf("load checkpoint of %s: %w", svc.ServiceID, err)
	}
	now := p.cfg.Now()
	if !ok {
		cp = checkpoint.Checkpoint{ServiceID: svc.ServiceID}
	}
	// A checkpoint that has read nothing yet (ReadThrough 0) was saved by a
	// first poll whose delivery was incomplete, to remember what was
	// acknowledged: the first-run rules still apply, or the next poll would
	// read all history from 0 and report every old outcome.
	first := !ok || cp.ReadThrough == 0
	v := &view{
		projectID: p.cfg.ProjectID,
		svc:       svc,
		cp:        cp,
		first:     first,
		overlap:   p.cfg.Overlap,
		now:       now,
		edge:      make(map[string]bool, len(cp.Edge)),
	}
	for _, f := range cp.Edge {
		v.edge[f] = true
	}

	from := windowStart(cp, first, now, p.cfg.FirstRunLookback, p.cfg.Overlap)
	v.firstFrom = from
	if first && stillDeploying(svc.Status) {
		// A deployment can have hung for longer than the lookback before
		// the first poll: read far enough back to find its start, so it is
		// reported. Only its state is: older events stay history.
		from = min(from, now.Add(-OpenDeploymentLookback).UnixMilli())
	}
	var events []eventsapi.Event
	for e, err := range p.api.Events(ctx, svc.ServiceID, eventsapi.EventsQuery{StartTime: from}) {
		if err != nil {
			return nil, fmt.Errorf("read events of %s: %w", svc.ServiceID, err)
		}
		events = append(events, e)
	}

	tl := p.build(v, events)
	pl := &plan{svc: svc, cp: cp, due: decide(v, tl)}
	for _, e := range events {
		if v.isNew(e) {
			pl.newSeen++
		}
	}
	for _, d := range tl.Deployments {
		if d.Outcome == notifier.StatusStalled {
			pl.stalled++
		}
	}
	pl.next = advance(cp, events, tl, p.cfg.Overlap)
	p.log.Debug("service read", "service_id", svc.ServiceID, "status", svc.Status, "from", from,
		"events", len(events), "new", pl.newSeen, "due", len(pl.due))
	return pl, nil
}

// build rebuilds the timeline from what is not history: on a first poll
// every event read; later, the open deployment's events and the new ones.
// Events re-read in the overlap only serve to recognise what was seen: fed
// to the timeline they could rebuild the tail of a finished deployment as
// a new one (with a new key, so its outcome would be notified again).
func (p *Poller) build(v *view, events []eventsapi.Event) timeline.Timeline {
	if v.first {
		return timeline.Build(events, v.svc, v.now, p.cfg.Thresholds)
	}
	open := v.cp.DeploymentStart
	keep := make([]eventsapi.Event, 0, len(events))
	for _, e := range events {
		if open != 0 && e.OccurTime >= open || v.isNew(e) {
			keep = append(keep, e)
		}
	}
	tl := timeline.Build(keep, v.svc, v.now, p.cfg.Thresholds)
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

// OpenDeploymentLookback is how far back a first poll reads a service that
// is still deploying, to find the start of a deployment that hung before
// the notifier was installed.
const OpenDeploymentLookback = 24 * time.Hour

// stillDeploying reports whether a service status means a deployment is
// under way.
func stillDeploying(status string) bool {
	switch status {
	case eventsapi.StatusDeploying, eventsapi.StatusPending, eventsapi.StatusWaiting:
		return true
	}
	return false
}

// windowStart is where a service's read begins: the open deployment's start
// (so its timeline is rebuilt whole), or the read edge minus the overlap, or
// on a first poll the lookback.
func windowStart(cp checkpoint.Checkpoint, first bool, now time.Time, lookback, overlap time.Duration) int64 {
	if first {
		return now.Add(-lookback).UnixMilli()
	}
	from := max(cp.ReadThrough-overlap.Milliseconds(), 0)
	if cp.DeploymentStart != 0 && cp.DeploymentStart < from {
		from = cp.DeploymentStart
	}
	return from
}

// advance is the checkpoint after everything read was handled.
func advance(cp checkpoint.Checkpoint, events []eventsapi.Event, tl timeline.Timeline, overlap time.Duration) checkpoint.Checkpoint {
	next := cp
	for _, e := range events {
		next.ReadThrough = max(next.ReadThrough, e.OccurTime)
	}
	edgeFrom := next.ReadThrough - overlap.Milliseconds()
	// The read window always covers the edge, so the new edge is built
	// from what was read, oldest first; duplicates (identical events at one
	// millisecond) are indistinguishable and kept once.
	next.Edge = nil
	seen := map[string]bool{}
	for _, e := range events {
		if f := timeline.Fingerprint(e); e.OccurTime >= edgeFrom && !seen[f] {
			seen[f] = true
			next.Edge = append(next.Edge, f)
		}
	}
	if len(next.Edge) > maxEdge {
		next.Edge = next.Edge[len(next.Edge)-maxEdge:]
	}
	next.DeploymentStart = 0
	if n := len(tl.Deployments); n > 0 {
		last := tl.Deployments[n-1]
		if last.Outcome == notifier.StatusInProgress || last.Outcome == notifier.StatusStalled {
			next.DeploymentStart = last.Start
		}
	}
	return next
}

// maxEdge bounds the fingerprints kept at the read edge.
const maxEdge = 2000

// pendingDests counts the destinations that have not acknowledged id.
func (p *Poller) pendingDests(cp checkpoint.Checkpoint, id string) int {
	n := 0
	for _, d := range p.dests {
		if !slices.Contains(cp.Sent[id].Destinations, d.Name) {
			n++
		}
	}
	return n
}

// settle is the checkpoint to save after delivery, and whether everything
// due for the service was delivered everywhere (only then does the read
// edge advance).
func (p *Poller) settle(pl *plan, delivered map[string][]string, threads map[string]string) (checkpoint.Checkpoint, bool) {
	sent := maps.Clone(pl.cp.Sent)
	thr := maps.Clone(pl.cp.Threads)
	complete := true
	for _, d := range pl.due {
		s := sent[d.n.ID]
		dests := slices.Clone(s.Destinations)
		for _, name := range delivered[d.n.ID] {
			if !slices.Contains(dests, name) {
				dests = append(dests, name)
			}
		}
		slices.Sort(dests)
		if len(dests) > 0 {
			if sent == nil {
				sent = map[string]checkpoint.Sent{}
			}
			sent[d.n.ID] = checkpoint.Sent{At: d.at, Destinations: dests}
		}
		for _, dest := range p.dests {
			if !slices.Contains(dests, dest.Name) {
				complete = false
			}
		}
		if ts := threads[d.n.ID]; ts != "" && d.n.DeploymentKey != "" {
			if thr == nil {
				thr = map[string]checkpoint.Thread{}
			}
			thr[d.n.DeploymentKey] = checkpoint.Thread{TS: ts, At: d.at}
		}
	}

	cp := pl.cp
	if complete {
		cp = pl.next
	}
	cp.Sent, cp.Threads = sent, thr
	// Entries older than the next read window can never be derived again.
	cp.Prune(windowStart(cp, false, time.Time{}, 0, p.cfg.Overlap))
	return cp, complete
}
