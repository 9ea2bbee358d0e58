package watch

import (
	"context"
	"iter"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/modelarts-notifier/modelarts-notifier/eventsapi"
	"github.com/modelarts-notifier/modelarts-notifier/functions/checkpoint"
	"github.com/modelarts-notifier/modelarts-notifier/notifier"
)

// longDeploy is a deployment whose image pull takes ten minutes, longer
// than the read overlap: the next window starts inside it.
func longDeploy(start time.Time) []eventsapi.Event {
	return []eventsapi.Event{
		ev(start, "start to deploy service"),
		ev(start.Add(1*time.Second), "building image for model [TF 3.0.0]"),
		ev(start.Add(2*time.Second), "model (TF 3.0.0) build image success"),
		ev(start.Add(3*time.Second), "preparing environment"),
		ev(start.Add(4*time.Second), "[TF 3.0.0] prepare environment success"),
		ev(start.Add(5*time.Second), "[TF 3.0.0] schedule resource success"),
		ev(start.Add(6*time.Second), "[TF 3.0.0] pulling model image"),
		ev(start.Add(10*time.Minute), "[TF 3.0.0] pull image success"),
		ev(start.Add(10*time.Minute+time.Second), "[TF 3.0.0] starting model"),
	}
}

// succeededByStatus runs longDeploy to a success decided by the status
// running (no "started" event, as in the seed).
func succeededByStatus(h *harness) {
	h.t.Helper()
	h.api.add("s1", eventsapi.StatusDeploying, longDeploy(t0)...)
	h.now = t0.Add(10*time.Minute + 30*time.Second)
	h.pollExpect()
	h.api.add("s1", eventsapi.StatusRunning)
	h.now = t0.Add(11 * time.Minute)
	h.pollExpect("s1 deployment.succeeded model_startup")
}

// Events after a finished deployment never rebuild its tail as a "new"
// deployment whose outcome would be notified again.
func TestFinishedDeploymentIsNotReportedAgain(t *testing.T) {
	t.Run("started event after status success", func(t *testing.T) {
		h := newHarness(t)
		succeededByStatus(h)
		h.api.add("s1", "", ev(t0.Add(11*time.Minute+30*time.Second), "Service svc-s1 started."))
		h.now = t0.Add(12 * time.Minute)
		h.pollExpect()
	})
	t.Run("runtime failure hours after status success", func(t *testing.T) {
		h := newHarness(t)
		succeededByStatus(h)
		h.now = t0.Add(3 * time.Hour)
		h.pollExpect()
		h.api.add("s1", "", abnormal(t0.Add(3*time.Hour+time.Minute), "Instance s1-7f9c restarted: the model process exited (out of memory)."))
		h.now = t0.Add(3*time.Hour + 2*time.Minute)
		h.pollExpect("s1 service.abnormal ")
		h.api.add("s1", "", abnormal(t0.Add(5*time.Hour), "Service svc-s1 failed. Error: out of memory"))
		h.now = t0.Add(5*time.Hour + time.Minute)
		h.pollExpect("s1 service.abnormal ")
	})
	t.Run("failure event after status failed", func(t *testing.T) {
		h := newHarness(t)
		h.api.add("s1", eventsapi.StatusDeploying, longDeploy(t0)...)
		h.now = t0.Add(10*time.Minute + 30*time.Second)
		h.pollExpect()
		h.api.add("s1", eventsapi.StatusFailed)
		h.now = t0.Add(11 * time.Minute)
		h.pollExpect("s1 deployment.failed model_startup")
		h.api.add("s1", "", abnormal(t0.Add(11*time.Minute+30*time.Second), "Failed to start service svc-s1."))
		h.now = t0.Add(12 * time.Minute)
		h.pollExpect("s1 service.abnormal ") // the new event is told, never a second failure
	})
	t.Run("late event inside a failed deployment", func(t *testing.T) {
		h := newHarness(t)
		evs := longDeploy(t0)
		h.api.add("s1", eventsapi.StatusDeploying, evs[:8]...)
		h.api.add("s1", eventsapi.StatusFailed, abnormal(t0.Add(10*time.Minute+5*time.Second), "Failed to start service svc-s1."))
		h.now = t0.Add(10*time.Minute + 30*time.Second)
		h.pollExpect("s1 deployment.failed model_startup")
		h.api.add("s1", "", ev(t0.Add(10*time.Minute+2*time.Second), "[TF 3.0.0] pulling model image retry"))
		h.now = t0.Add(11 * time.Minute)
		h.pollExpect()
	})
}

// ModelArts repeats "Insufficient resources" while it retries scheduling:
// one notification for the phase; a new message later in the phase is a
// Slack thread reply (this destination keeps no threads: nothing), and
// repeats are nothing.
func TestRepeatedAbnormalMessageToldOnce(t *testing.T) {
	h := newHarness(t)
	h.api.add("s1", eventsapi.StatusDeploying, seedEvents(t0, 5)...)
	for i := range 4 {
		h.api.add("s1", "", abnormal(t0.Add(time.Minute+time.Duration(i)*15*time.Second), "Insufficient resources. Wait until idle resources are sufficient."))
	}
	h.now = t0.Add(3 * time.Minute)
	h.pollExpect("s1 service.abnormal scheduling")
	h.api.add("s1", "", abnormal(t0.Add(4*time.Minute), "Insufficient resources. Wait until idle resources are sufficient."),
		abnormal(t0.Add(4*time.Minute+time.Second), "Insufficient CPU. The scheduling failed. Supplementary information: 0/3 nodes are available: 3 Insufficient cpu."))
	h.now = t0.Add(5 * time.Minute)
	h.pollExpect() // a new message: a thread reply, where there are threads
	h.api.add("s1", "", abnormal(t0.Add(6*time.Minute), "Insufficient CPU. The scheduling failed. Supplementary information: 0/4 nodes are available: 4 Insufficient cpu."))
	h.now = t0.Add(7 * time.Minute)
	h.pollExpect() // the same message with other numbers
}

func TestDuplicateServiceIDPolledOnce(t *testing.T) {
	h := newHarness(t)
	h.cfg.ServiceIDs = []string{"s1", "s1"}
	h.api.add("s1", eventsapi.StatusRunning, abnormal(t0.Add(-time.Minute), "Instance restarted (out of memory)"))
	h.now = t0
	h.pollExpect("s1 service.abnormal ")
}

// slowAPI never answers for the service "slow" until its context ends,
// like a throttled service whose retries honour Retry-After.
type slowAPI struct{ *fakeAPI }

func (s slowAPI) Events(ctx context.Context, id string, q eventsapi.EventsQuery) iter.Seq2[eventsapi.Event, error] {
	if id != "slow" {
		return s.fakeAPI.Events(ctx, id, q)
	}
	return func(yield func(eventsapi.Event, error) bool) {
		<-ctx.Done()
		yield(eventsapi.Event{}, ctx.Err())
	}
}

// ctxRecorder fails deliveries attempted with an ended context.
type ctxRecorder struct{ recorder }

func (r *ctxRecorder) Notify(ctx context.Context, ns []notifier.Notification) []notifier.Result {
	if ctx.Err() != nil {
		out := make([]notifier.Result, len(ns))
		for i, n := range ns {
			out[i] = notifier.Result{ID: n.ID, Err: ctx.Err()}
		}
		return out
	}
	return r.recorder.Notify(ctx, ns)
}

// A slow service cannot eat the time kept back for delivery.
func TestSlowServiceLeavesReserveForDelivery(t *testing.T) {
	api := newFakeAPI()
	now := time.Now()
	api.add("s1", eventsapi.StatusRunning, abnormal(now.Add(-time.Minute), "Instance restarted (out of memory)"))
	api.add("slow", eventsapi.StatusRunning)
	dest := &ctxRecorder{}
	p := New(Config{ProjectID: "p", Reserve: time.Second}, slowAPI{api}, checkpoint.NewMemory(),
		[]notifier.Destination{{Name: "rec", Notifier: dest}}, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	res := p.Poll(ctx)
	if res.Delivered != 1 || res.DeliveryFailed != 0 || res.ServicesFailed != 1 {
		t.Fatalf("delivered=%d failed=%d services failed=%d err=%v; want the other service's notification delivered",
			res.Delivered, res.DeliveryFailed, res.ServicesFailed, res.Err)
	}
}

// hangingDest never answers until its context ends.
type hangingDest struct{}

func (hangingDest) Notify(ctx context.Context, ns []notifier.Notification) []notifier.Result {
	<-ctx.Done()
	out := make([]notifier.Result, len(ns))
	for i, n := range ns {
		out[i] = notifier.Result{ID: n.ID, Err: ctx.Err()}
	}
	return out
}

// A destination that hangs until the deadline cannot stop the checkpoint
// from recording what the other destination acknowledged: the next run
// sends only to the one that missed it.
func TestHungDestinationStillRecordsOthers(t *testing.T) {
	api := newFakeAPI()
	now := time.Now()
	api.add("s1", eventsapi.StatusRunning, abnormal(now.Add(-time.Minute), "Instance restarted (out of memory)"))
	store := checkpoint.NewMemory()
	ok := &recorder{}
	p := New(Config{ProjectID: "p"}, api, store,
		[]notifier.Destination{{Name: "ok", Notifier: ok}, {Name: "hung", Notifier: hangingDest{}}}, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	res := p.Poll(ctx)
	if res.Delivered != 1 || res.DeliveryFailed != 1 || res.CheckpointWrites != 1 {
		t.Fatalf("delivered=%d failed=%d writes=%d err=%v; want one delivery recorded", res.Delivered, res.DeliveryFailed, res.CheckpointWrites, res.Err)
	}
	cp, _, _ := store.Load(context.Background(), "s1")
	for id, sent := range cp.Sent {
		if len(sent.Destinations) != 1 || sent.Destinations[0] != "ok" {
			t.Errorf("Sent[%s] = %v, want [ok]", id, sent.Destinations)
		}
	}
	if len(ok.take()) != 1 {
		t.Fatal("the working destination got nothing")
	}
}

// A stall alert that reached one destination but not the other before the
// phase moved on still reaches the other, before its recovery.
func TestStallReachesEveryDestinationAfterRecovery(t *testing.T) {
	h := newHarness(t)
	b := &recorder{}
	dests := []notifier.Destination{{Name: "a", Notifier: h.dest}, {Name: "b", Notifier: b}}
	poll := func() Result {
		cfg := h.cfg
		cfg.Now = func() time.Time { return h.now }
		return New(cfg, h.api, h.store, dests, nil).Poll(context.Background())
	}
	h.api.add("s1", eventsapi.StatusDeploying, seedEvents(t0, 7)...)
	h.now = t0.Add(30 * time.Minute)
	b.failNext = 1
	if res := poll(); res.Err == nil {
		t.Fatal("want an error: b failed")
	}
	h.api.add("s1", "", ev(t0.Add(31*time.Minute), "[TF 3.0.0] pull image success"))
	h.now = t0.Add(32 * time.Minute)
	if res := poll(); res.Err != nil {
		t.Fatal(res.Err)
	}
	if diff := cmp.Diff([]string{"s1 deployment.stalled image_pull", "s1 deployment.recovered image_pull"}, kinds(h.dest.take())); diff != "" {
		t.Errorf("a (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"s1 deployment.stalled image_pull", "s1 deployment.recovered image_pull"}, kinds(b.take())); diff != "" {
		t.Errorf("b (-want +got):\n%s", diff)
	}
}
