package watch

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/modelarts-notifier/modelarts-notifier/eventsapi"
	"github.com/modelarts-notifier/modelarts-notifier/functions/checkpoint"
	"github.com/modelarts-notifier/modelarts-notifier/notifier"
)

// countingStore counts the checkpoints read and written through it.
type countingStore struct {
	checkpoint.Store
	mu            sync.Mutex
	loads, writes int
}

func (s *countingStore) LoadMany(ctx context.Context, ids []string) (map[string]checkpoint.Checkpoint, error) {
	s.mu.Lock()
	s.loads += len(ids)
	s.mu.Unlock()
	return s.Store.LoadMany(ctx, ids)
}

func (s *countingStore) SaveMany(ctx context.Context, cps []*checkpoint.Checkpoint) []error {
	s.mu.Lock()
	s.writes += len(cps)
	s.mu.Unlock()
	return s.Store.SaveMany(ctx, cps)
}

func (s *countingStore) take() (loads, writes int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	l, w := s.loads, s.writes
	s.loads, s.writes = 0, 0
	return l, w
}

// A warm Poller reads the store only for services it has not seen, and
// for those with something to deliver; quiet polls read and write nothing.
func TestWarmPollerReadsOnlyWhatItActsOn(t *testing.T) {
	h := newHarness(t)
	store := &countingStore{Store: checkpoint.NewMemory()}
	for _, id := range []string{"a", "b", "c", "d"} {
		h.api.add(id, eventsapi.StatusRunning, seedEvents(t0, 9)...)
	}
	h.now = t0.Add(5 * time.Minute)
	cfg := h.cfg
	cfg.Now = func() time.Time { return h.now }
	p := New(cfg, h.api, store, []notifier.Destination{{Name: "rec", Notifier: h.dest}}, nil)
	poll := func() Result {
		res := p.Poll(context.Background())
		if res.Err != nil {
			t.Fatal(res.Err)
		}
		return res
	}
	poll()
	if l, w := store.take(); l != 4 || w != 4 {
		t.Fatalf("cold poll: %d loads %d writes, want 4 and 4", l, w)
	}
	for range 3 {
		h.now = h.now.Add(time.Minute)
		poll()
		if l, w := store.take(); l != 0 || w != 0 {
			t.Fatalf("quiet warm poll: %d loads %d writes, want none", l, w)
		}
	}
	// One service gets news worth telling: it alone is read (the version
	// check) and written.
	h.api.add("b", "", abnormal(h.now.Add(10*time.Second), "Instance 1 restarted unexpectedly."))
	h.now = h.now.Add(time.Minute)
	if res := poll(); res.Delivered != 1 || res.CheckpointLoads != 1 {
		t.Fatalf("poll with news: %+v", res)
	}
	if l, w := store.take(); l != 1 || w != 1 {
		t.Fatalf("poll with news: %d loads %d writes, want 1 and 1", l, w)
	}
}

// When another writer (another Lambda container) delivered and saved in
// between, the version check before delivery sees it: nothing is sent
// twice.
func TestWarmPollerSeesAnotherWriter(t *testing.T) {
	h := newHarness(t)
	store := checkpoint.NewMemory()
	h.api.add("a", eventsapi.StatusRunning, seedEvents(t0, 9)...)
	h.now = t0.Add(5 * time.Minute)
	cfg := h.cfg
	cfg.Now = func() time.Time { return h.now }
	dest := []notifier.Destination{{Name: "rec", Notifier: h.dest}}
	warm := New(cfg, h.api, store, dest, nil)
	if res := warm.Poll(context.Background()); res.Err != nil || res.Delivered != 1 {
		t.Fatalf("first poll: %+v", res)
	}
	h.dest.take()
	// Container B (a fresh Poller) sees the new event first and delivers it.
	h.api.add("a", "", abnormal(h.now.Add(10*time.Second), "Instance 1 restarted unexpectedly."))
	h.now = h.now.Add(time.Minute)
	other := New(cfg, h.api, store, dest, nil)
	if res := other.Poll(context.Background()); res.Err != nil || res.Delivered != 1 {
		t.Fatalf("other writer: %+v", res)
	}
	h.dest.take()
	// The warm Poller's cache is stale, yet it sends nothing again.
	if res := warm.Poll(context.Background()); res.Err != nil || res.Delivered != 0 {
		t.Fatalf("warm poll after another writer: %+v", res)
	}
	if got := h.dest.take(); len(got) != 0 {
		t.Fatalf("sent again: %v", kinds(got))
	}
}

// perItemStore is a memory store that writes item by item, as DynamoDB
// does: the poll saves settled checkpoints while it still reads.
type perItemStore struct{ countingStore }

func (*perItemStore) PerItem() bool { return true }

// With a per-item store, services with nothing to deliver are saved during
// the reads; a service whose notification could not be delivered keeps
// its checkpoint.
func TestEarlySaveKeepsUndelivered(t *testing.T) {
	h := newHarness(t)
	store := &perItemStore{countingStore{Store: checkpoint.NewMemory()}}
	h.store = store
	h.api.add("quiet", eventsapi.StatusRunning)
	h.api.add("news", eventsapi.StatusRunning, seedEvents(t0, 9)...)
	h.now = t0.Add(5 * time.Minute)
	h.dest.failNext = 1
	if res := h.poll(); res.Err == nil || res.CheckpointWrites != 2 {
		t.Fatalf("poll with the destination down: %+v, want an error and both first-run anchors written", res)
	}
	if cp := h.checkpoint("news"); cp.ReadThrough != 0 {
		t.Fatalf("the undelivered service's read edge moved to %d", cp.ReadThrough)
	}
	if cp := h.checkpoint("quiet"); cp.ReadThrough == 0 {
		t.Fatal("the quiet service's checkpoint was not settled")
	}
	h.now = h.now.Add(time.Minute)
	h.pollExpect("news deployment.succeeded model_startup")
}
