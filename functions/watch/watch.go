package watch

import (
	"context"
	"errors"
	"iter"
	"log/slog"
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/modelarts-notifier/modelarts-notifier/eventsapi"
	"github.com/modelarts-notifier/modelarts-notifier/functions/checkpoint"
	"github.com/modelarts-notifier/modelarts-notifier/functions/timeline"
	"github.com/modelarts-notifier/modelarts-notifier/notifier"
)

// API is the part of the ModelArts client the poll uses: both generations
// (eventsapi translates their wire formats into its Event and Service).
type API interface {
	// Events reads a v1 service's events ascending from q.StartTime.
	Events(ctx context.Context, serviceID string, q eventsapi.EventsQuery) iter.Seq2[eventsapi.Event, error]
	// EventsV2 reads a v2 service's records newest first, down to since
	// (by last occurrence).
	EventsV2(ctx context.Context, serviceID string, since int64) iter.Seq2[eventsapi.Event, error]
	// LookupService reads a service's details through generation ("v1",
	// "v2", or "" to find out: v2 first, then v1).
	LookupService(ctx context.Context, serviceID, generation string) (*eventsapi.Service, error)
	// Services and ServicesV2 list each generation's services.
	Services(ctx context.Context) iter.Seq2[eventsapi.Service, error]
	ServicesV2(ctx context.Context) iter.Seq2[eventsapi.Service, error]
	// PodEvents reads a v2 deployment's pod events in [from, to] (ms).
	PodEvents(ctx context.Context, serviceID, deploymentName string, from, to int64) ([]eventsapi.PodEvent, error)
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
	// API is which generations are watched: "auto" (default: both), "v1"
	// or "v2" (MODELARTS_API).
	API string
	// Concurrency bounds the services polled at once: those whose
	// ModelArts requests are under way (a v1 service's timeline is then
	// decided in one of GOMAXPROCS decision slots, while the next service
	// is read). Default 16.
	Concurrency int
	// MaxEventsPerPoll caps the new events read per service per poll
	// (default 20,000); the rest is read on the next poll. A first poll
	// keeps the newest MaxEventsPerPoll events of its window.
	MaxEventsPerPoll int
	// Reserve is the time kept back before the context's deadline: no new
	// service is started later than that, and delivery and checkpoint
	// writes use it. Default 15s, at most a third of the time available.
	Reserve time.Duration
	// Now is the clock; default time.Now.
	Now func() time.Time
	// Router decides who hears what (ROUTES); nil: everyone hears
	// everything.
	Router Router
	// Learn turns on stall thresholds learned per service and phase
	// (STALL_LEARNING=on): with timeline.MinSamples or more successful
	// durations in the service's history, max(2 × p90, 3m); else
	// Thresholds. A first poll then also reads LearnWindow of history.
	Learn bool
}

// DefaultMaxEventsPerPoll is Config.MaxEventsPerPoll's default.
const DefaultMaxEventsPerPoll = 20_000

// Poller runs poll cycles, one at a time. It keeps the checkpoints it read
// and wrote between polls (a warm Lambda container's memory): a later poll
// reads from the store only the services it has never seen, and, before
// delivering, those with something to deliver (a version check: another
// writer may have saved in between). Writes stay conditional on the
// version, so a stale cache can never overwrite another writer's work.
type Poller struct {
	pollMu  sync.Mutex // one Poll at a time
	cacheMu sync.Mutex
	cache   map[string]cachedCheckpoint
	cfg     Config
	api     API
	store   checkpoint.Store
	dests   []notifier.Destination
	log     *slog.Logger
	// pool is the events the reads in flight may hold beyond one page
	// each (see inflight).
	pool int
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
	if cfg.API == "" {
		cfg.API = "auto"
	}
	if cfg.MaxEventsPerPoll <= 0 {
		cfg.MaxEventsPerPoll = DefaultMaxEventsPerPoll
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
	return &Poller{cfg: cfg, api: api, store: store, dests: dests, log: log, cache: map[string]cachedCheckpoint{},
		pool: cfg.Concurrency * poolPagesPerSlot * freeEvents}
}

// Result tells what one poll did. Err is non-nil when anything due was not
// delivered, a service could not be read, or a checkpoint not saved.
type Result struct {
	Services         int // services polled
	ServicesDeferred int // left for the next run (deadline near)
	ServicesFailed   int
	EventsRead       int // events not seen by an earlier poll
	Due              int // notifications due (per destination pairs counted once)
	Muted            int // notifications a mute in force stopped (recorded: never sent later)
	Dropped          int // notifications ROUTES sent nowhere (to: [])
	Delivered        int // (notification, destination) pairs delivered
	DeliveryFailed   int // (notification, destination) pairs that failed
	Stalls           int // stalled deployments seen
	CheckpointWrites int
	CheckpointLoads  int // checkpoints read from the store (the rest came from the cache)
	// Notifications lists what was due this run, in order.
	Notifications []notifier.Notification
	Err           error
}

// cachedCheckpoint is a checkpoint as last read or written by this Poller.
type cachedCheckpoint struct {
	cp checkpoint.Checkpoint
	ok bool // stored (false: the store had none)
}

// Poll runs one poll cycle: read every service (read, build, decide,
// route, enrich, notifications: a plan per service; see the package
// doc), deliver everything due at once, then settle each service's
// checkpoint on its own (lifecycle.go has the rules).
func (p *Poller) Poll(ctx context.Context) Result {
	p.pollMu.Lock()
	defer p.pollMu.Unlock()
	// Reads stop at the cutoff, so the reserve before the deadline is left
	// for delivery and checkpoint writes even when a read is slow.
	readCtx, cancelReads := p.readContext(ctx)
	defer cancelReads()
	services, err := p.services(readCtx)
	if err != nil {
		return Result{Err: err} // the client's error names the list
	}
	saveCtx, cancelSaves := saveContext(ctx)
	defer cancelSaves()
	r := p.readAll(readCtx, saveCtx, services)
	p.verify(readCtx, &r)
	// The reads' garbage (pages, events, timelines) is collected now,
	// before delivery renders everything due at once: the heap delivery
	// may grow to is then set by what the plans hold, not by what the
	// reads left (10,000 services: a peak RSS of about 125 MB instead of
	// 140 to 175). It takes a few milliseconds of a heap that size.
	runtime.GC()
	d := p.deliver(ctx, r.plans)
	s := p.settleAll(ctx, r.plans, d)

	res := Result{
		Services:         len(r.plans),
		ServicesDeferred: r.deferred,
		ServicesFailed:   r.failed,
		Due:              len(d.batch),
		Delivered:        d.ok,
		Muted:            d.muted,
		Dropped:          d.dropped,
		DeliveryFailed:   d.failed,
		CheckpointWrites: r.writes + s.writes,
		CheckpointLoads:  r.loads,
		Notifications:    d.batch,
		Err:              errors.Join(slices.Concat(r.errs, d.errs, s.errs)...),
	}
	for _, pl := range r.plans {
		res.EventsRead += pl.newSeen
		res.Stalls += pl.stalled
	}
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
