package watch

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/modelarts-notifier/modelarts-notifier/eventsapi"
	"github.com/modelarts-notifier/modelarts-notifier/eventsapi/eventsapitest"
	"github.com/modelarts-notifier/modelarts-notifier/functions/checkpoint"
	"github.com/modelarts-notifier/modelarts-notifier/notifier"
)

// Reads that each hold many events draw them from one pool: all of them
// finish (none waits on another in a circle), and the events drawn at
// once never pass the pool by more than what the oldest read needs
// beyond it, however many reads want more.
func TestInflightBoundsTheEventsHeld(t *testing.T) {
	const conc, pool, reads, events = 4, 2 * freeEvents, 16, 5 * freeEvents
	f := newInflight(conc, pool)
	ctx := t.Context()
	var mu sync.Mutex
	most := 0
	var wg sync.WaitGroup
	for i := range reads {
		if err := f.acquire(ctx); err != nil {
			t.Fatal(err)
		}
		s := f.begin()
		wg.Go(func() {
			defer s.end()
			for n := 1; n <= events; n += 250 {
				if err := s.hold(ctx, n); err != nil {
					t.Error(err)
					return
				}
				f.mu.Lock()
				drawn := pool - f.free
				f.mu.Unlock()
				mu.Lock()
				most = max(most, drawn)
				mu.Unlock()
				runtime.Gosched()
			}
			if i%2 == 0 {
				s.decide() // the next read starts while this one decides
				runtime.Gosched()
			}
		})
	}
	wg.Wait()
	if most < pool {
		t.Errorf("%d events drawn at most: the pool (%d) was never used up, nothing waited", most, pool)
	}
	if limit := pool + events - freeEvents; most > limit {
		t.Errorf("%d events drawn at once, want at most %d (the pool and the oldest read's need)", most, limit)
	}
	if f.free != pool || len(f.active) != 0 || len(f.requests) != 0 || len(f.decisions) != 0 {
		t.Errorf("after every read: pool %d of %d, %d reads active, %d request and %d decision slots held",
			f.free, pool, len(f.active), len(f.requests), len(f.decisions))
	}
}

// A read takes room for every event the server says it will give before
// it holds any beyond its own share: when the pool cannot give it all, it
// waits holding one page, not part of what it needs (reads that each took
// part and waited for the rest held pages that served none: a first poll
// of 100 services with 20,000 events each took 66 s at 50 ms a request,
// now 49 s, and 77 MB instead of 60).
func TestReadTakesItsRoomAtOnce(t *testing.T) {
	srv := eventsapitest.NewServer()
	defer srv.Close()
	const id, n = "svc-pages", 2*freeEvents + freeEvents/2 // three pages
	now := time.Now()
	srv.AddService(id, id, eventsapi.StatusRunning)
	for k := range n {
		srv.AppendEvents(id, ev(now.Add(-50*time.Minute+time.Duration(k)*time.Second), fmt.Sprintf("Instance %d is healthy.", k)))
	}
	api, err := eventsapi.New(eventsapi.Config{Endpoint: srv.URL, ProjectID: srv.ProjectID, Auth: eventsapi.StaticToken(srv.Token)})
	if err != nil {
		t.Fatal(err)
	}
	p := New(Config{ProjectID: srv.ProjectID, FirstRunLookback: time.Hour, Concurrency: 2, Now: func() time.Time { return now }},
		api, checkpoint.NewMemory(), nil, nil)
	f := newInflight(2, freeEvents) // a pool of one page: the read needs two
	ctx := t.Context()
	for range 2 {
		if err := f.acquire(ctx); err != nil {
			t.Fatal(err)
		}
	}
	oldest, s := f.begin(), f.begin()
	type result struct {
		pl  *plan
		err error
	}
	done := make(chan result, 1)
	go func() {
		defer s.end()
		pl, err := p.read(ctx, eventsapi.Service{ServiceID: id, ServiceName: id, Status: eventsapi.StatusRunning}, stored{cp: checkpoint.Checkpoint{ServiceID: id}}, s)
		done <- result{pl, err}
	}()
	for {
		f.mu.Lock()
		waiting, free, drawn := f.waiting, f.free, s.drawn
		f.mu.Unlock()
		if waiting == 1 {
			if free != freeEvents || drawn != 0 {
				t.Errorf("waiting for the pool: it drew %d events, the pool has %d of %d; want none drawn", drawn, free, freeEvents)
			}
			if got := srv.EventsRequests(id); got != 1 {
				t.Errorf("waiting for the pool: %d events requests, want 1 (the first page tells the total)", got)
			}
			break
		}
		select {
		case r := <-done:
			t.Fatalf("the read ended (%v) without waiting for the pool", r.err)
		default:
			runtime.Gosched()
		}
	}
	oldest.end() // now the oldest, it goes on
	r := <-done
	if r.err != nil {
		t.Fatal(r.err)
	}
	if r.pl.newSeen != n || srv.EventsRequests(id) != 3 {
		t.Errorf("read %d events in %d requests, want %d in 3", r.pl.newSeen, srv.EventsRequests(id), n)
	}
}

// A read waiting for the pool gives up when its context ends.
func TestInflightWaitEndsWithTheContext(t *testing.T) {
	f := newInflight(2, freeEvents)
	ctx := t.Context()
	for range 2 {
		if err := f.acquire(ctx); err != nil {
			t.Fatal(err)
		}
	}
	oldest, next := f.begin(), f.begin()
	defer oldest.end()
	if err := oldest.hold(ctx, 3*freeEvents); err != nil { // overdraws: the oldest never waits
		t.Fatal(err)
	}
	waitCtx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if err := next.hold(waitCtx, 2*freeEvents); err == nil {
		t.Fatal("a read that is not the oldest drew from an empty pool")
	}
	next.end()
	if f.free != freeEvents-2*freeEvents {
		t.Errorf("pool %d after the wait gave up, want %d", f.free, -freeEvents)
	}
}

// A poll whose reads wait for the pool decides exactly what an unbounded
// one does: the same notifications, in the same order, and the same
// checkpoints.
func TestPollWithATinyPoolDecidesTheSame(t *testing.T) {
	api := newFakeAPI()
	for i := range 6 {
		id := fmt.Sprintf("svc-%d", i)
		var evs []eventsapi.Event
		for k := range 2500 { // three pages of runtime events, then a deployment
			evs = append(evs, ev(t0.Add(-50*time.Minute+time.Duration(k)*time.Second), fmt.Sprintf("Instance %d is healthy.", k)))
		}
		evs = append(evs, seedEvents(t0.Add(-5*time.Minute), 9)...)
		evs = append(evs, abnormal(t0.Add(-time.Minute), fmt.Sprintf("Instance %d restarted unexpectedly.", i)))
		api.add(id, eventsapi.StatusRunning, evs...)
	}
	poll := func(pool int) (Result, map[string]checkpoint.Checkpoint) {
		store := checkpoint.NewMemory()
		cfg := Config{ProjectID: "proj", FirstRunLookback: time.Hour, Concurrency: 2, Now: func() time.Time { return t0 }}
		p := New(cfg, api, store, []notifier.Destination{{Name: "rec", Notifier: &recorder{}}}, nil)
		p.pool = pool
		res := p.Poll(t.Context())
		if res.Err != nil {
			t.Fatal(res.Err)
		}
		ids := make([]string, 6)
		for i := range ids {
			ids[i] = fmt.Sprintf("svc-%d", i)
		}
		cps, err := store.LoadMany(t.Context(), ids)
		if err != nil {
			t.Fatal(err)
		}
		return res, cps
	}
	wantRes, wantCPs := poll(1 << 30)
	gotRes, gotCPs := poll(freeEvents)
	if wantRes.Due == 0 {
		t.Fatal("nothing due: the test proves nothing")
	}
	ids := func(ns []notifier.Notification) []string {
		var out []string
		for _, n := range ns {
			out = append(out, n.ID)
		}
		slices.Sort(out) // services are read from a random first one: ties in time come in either order
		return out
	}
	if diff := cmp.Diff(ids(wantRes.Notifications), ids(gotRes.Notifications)); diff != "" {
		t.Errorf("notifications (-unbounded +tiny pool):\n%s", diff)
	}
	if gotRes.EventsRead != wantRes.EventsRead || gotRes.Services != wantRes.Services || gotRes.CheckpointWrites != wantRes.CheckpointWrites {
		t.Errorf("tiny pool: %+v\nunbounded: %+v", gotRes, wantRes)
	}
	if diff := cmp.Diff(wantCPs, gotCPs); diff != "" {
		t.Errorf("checkpoints (-unbounded +tiny pool):\n%s", diff)
	}
}
