package watch

import (
	"context"
	"runtime"
	"sync"

	"github.com/modelarts-notifier/modelarts-notifier/eventsapi"
	"github.com/modelarts-notifier/modelarts-notifier/notifier"
)

// inflight bounds what the reads of one poll hold at once, so that the
// poll's memory does not grow with the events per service:
//
//   - at most Concurrency services wait on ModelArts at once (request
//     slots, taken by readAll before a read starts);
//   - a v1 read hands its request slot over to a decision slot once its
//     events are all in hand, so the next service's requests go out while
//     this one's timeline is rebuilt and decided (v2 reads may read pod
//     events after deciding: they keep their request slot to the end).
//     Deciding is computation: there are as many decision slots as
//     processors (GOMAXPROCS), at most Concurrency;
//   - every read holds up to freeEvents events on its own; the events it
//     holds beyond that come from one pool of poolPagesPerSlot pages per
//     request slot. A read that needs more than the pool has left waits,
//     unless it is the oldest read in flight: that one always goes on,
//     overdrawing the pool, so reads never wait on each other in a circle.
//     A v1 read takes all it needs at once, as soon as the first page
//     says how many events the read will give (readEvents): reads that
//     each took part and waited for the rest would hold pages serving
//     none, while only the oldest went on.
//
// Every read's first page fits in its own share: with the default pages
// of up to 1,000 events the pool is drawn only by services with more
// events in their window than one page holds, and then at most
// poolPagesPerSlot × Concurrency pages (plus the oldest read) are held.
//
// It also keeps one copy of each event text the poll's due notifications
// quote (see shareTexts).
type inflight struct {
	requests, decisions chan struct{}

	mu   sync.Mutex
	cond *sync.Cond
	free int // events the pool can still give; negative when the oldest read overdrew it
	// waiting counts the reads waiting for the pool now.
	waiting int
	active  map[uint64]struct{} // tickets of the reads in flight
	seq     uint64

	textsMu sync.Mutex
	texts   map[string]string
}

// freeEvents is what one read holds without drawing from the pool: a
// full v1 page.
const freeEvents = eventsapi.DefaultLimit

// poolPagesPerSlot sizes the pool: pages of freeEvents events per request
// slot. Three pages (48 at the default concurrency) let two services of
// MaxEventsPerPoll events (20 pages, requested one after another) be read
// at once beside the oldest, while bounding the memory they take (100
// services of 20,000 events, first poll, 50 ms a request: 49 s and a peak
// RSS of 60 MB; with four pages, 36 s and 64 MB).
const poolPagesPerSlot = 3

func newInflight(concurrency, pool int) *inflight {
	f := &inflight{
		requests:  make(chan struct{}, concurrency),
		decisions: make(chan struct{}, min(concurrency, runtime.GOMAXPROCS(0))),
		free:      pool,
		active:    map[uint64]struct{}{},
		texts:     map[string]string{},
	}
	f.cond = sync.NewCond(&f.mu)
	return f
}

// slot is one read's share of an inflight. A nil *slot bounds nothing (a
// read outside readAll).
type slot struct {
	f       *inflight
	ticket  uint64
	request bool // holds a request slot
	// decision: holds a decision slot.
	decision bool
	drawn    int // events drawn from the pool
}

// acquire waits for a request slot, until ctx ends.
func (f *inflight) acquire(ctx context.Context) error {
	select {
	case f.requests <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// begin registers a read that holds a request slot (acquire).
func (f *inflight) begin() *slot {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.seq++
	f.active[f.seq] = struct{}{}
	return &slot{f: f, ticket: f.seq, request: true}
}

// oldest reports whether ticket is the oldest read in flight. f.mu is held.
func (f *inflight) oldest(ticket uint64) bool {
	for t := range f.active {
		if t < ticket {
			return false
		}
	}
	return true
}

// hold records that the read now holds n events: when that is more than
// its own share and what it drew, it draws the rest (in whole pages) from
// the pool, waiting while the pool cannot give it, unless the read is the
// oldest in flight. It fails only when ctx ends while it waits.
func (s *slot) hold(ctx context.Context, n int) error {
	if s == nil || n <= freeEvents+s.drawn {
		return nil
	}
	want := (n - freeEvents - s.drawn + freeEvents - 1) / freeEvents * freeEvents
	f := s.f
	stop := context.AfterFunc(ctx, func() {
		f.mu.Lock()
		f.cond.Broadcast()
		f.mu.Unlock()
	})
	defer stop()
	f.mu.Lock()
	defer f.mu.Unlock()
	for f.free < want && !f.oldest(s.ticket) {
		if err := ctx.Err(); err != nil {
			return err
		}
		f.waiting++
		f.cond.Wait()
		f.waiting--
	}
	f.free -= want
	s.drawn += want
	return nil
}

// decide hands the read's request slot over to a decision slot: its
// events are all read. It waits for a decision slot, keeping its request
// slot meanwhile (decision slots are held for computation only, so one
// comes free).
func (s *slot) decide() {
	if s == nil || !s.request {
		return
	}
	s.f.decisions <- struct{}{}
	s.decision = true
	<-s.f.requests
	s.request = false
}

// end gives back everything the read holds.
func (s *slot) end() {
	if s == nil {
		return
	}
	if s.request {
		<-s.f.requests
		s.request = false
	}
	if s.decision {
		<-s.f.decisions
		s.decision = false
	}
	f := s.f
	f.mu.Lock()
	f.free += s.drawn
	s.drawn = 0
	delete(f.active, s.ticket)
	f.cond.Broadcast()
	f.mu.Unlock()
}

// shareTexts makes the event texts that the due notifications quote share
// one copy of each distinct text, across the poll's services: the decoded
// pages gave each event its own, and a plan keeps its notifications (up
// to timeline.MaxSummaryEvents events and as many abnormal ones per
// summary) until delivery. A deployment that retried one step for an hour
// quotes the same text a hundred times; every service quotes "start to
// deploy service". The notifications are unchanged.
func (s *slot) shareTexts(ds []due) {
	if s == nil || len(ds) == 0 {
		return
	}
	f := s.f
	share := func(t string) string {
		if t == "" {
			return ""
		}
		if c, ok := f.texts[t]; ok {
			return c
		}
		f.texts[t] = t
		return t
	}
	f.textsMu.Lock()
	defer f.textsMu.Unlock()
	for i := range ds {
		sum := &ds[i].n.Summary
		for _, evs := range [][]notifier.Event{sum.Events, sum.AbnormalEvents} {
			for j := range evs {
				e := &evs[j]
				e.ID, e.EventType, e.EventInfo, e.EventInfoCN = share(e.ID), share(e.EventType), share(e.EventInfo), share(e.EventInfoCN)
			}
		}
	}
}
