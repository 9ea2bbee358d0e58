package watch

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/modelarts-notifier/modelarts-notifier/eventsapi"
	"github.com/modelarts-notifier/modelarts-notifier/functions/checkpoint"
	"github.com/modelarts-notifier/modelarts-notifier/notifier"
)

// The seed's deployment (API page example), shifted to start at t0.
var seedOffsets = []struct {
	ms   int64
	info string
}{
	{0, "start to deploy service"},
	{24, "building image for model [TF 3.0.0]"},
	{41, "model (TF 3.0.0) build image success"},
	{3980, "preparing environment"},
	{24151, "[TF 3.0.0] prepare environment success"},
	{24157, "[TF 3.0.0] schedule resource success"},
	{24164, "[TF 3.0.0] pulling model image"},
	{80806, "[TF 3.0.0] pull image success"},
	{80818, "[TF 3.0.0] starting model"},
}

var t0 = time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)

func ms(t time.Time) int64 { return t.UnixMilli() }

func ev(t time.Time, info string) eventsapi.Event {
	return eventsapi.Event{EventType: "normal", EventInfo: info, OccurTime: ms(t)}
}

func abnormal(t time.Time, info string) eventsapi.Event {
	return eventsapi.Event{EventType: "abnormal", EventInfo: info, OccurTime: ms(t)}
}

// seedEvents returns the first n seed events starting at start.
func seedEvents(start time.Time, n int) []eventsapi.Event {
	var out []eventsapi.Event
	for _, s := range seedOffsets[:n] {
		out = append(out, ev(start.Add(time.Duration(s.ms)*time.Millisecond), s.info))
	}
	return out
}

// harness is one watched project: a fake API, a store, one recording
// destination, and a clock the test moves.
type harness struct {
	t     *testing.T
	api   *fakeAPI
	store checkpoint.Store
	dest  *recorder
	now   time.Time
	cfg   Config
}

func newHarness(t *testing.T) *harness {
	h := &harness{t: t, api: newFakeAPI(), store: checkpoint.NewMemory(), dest: &recorder{}, now: t0}
	h.cfg = Config{ProjectID: "proj", FirstRunLookback: time.Hour}
	return h
}

func (h *harness) poll() Result {
	h.t.Helper()
	cfg := h.cfg
	cfg.Now = func() time.Time { return h.now }
	p := New(cfg, h.api, h.store, []notifier.Destination{{Name: "rec", Notifier: h.dest}}, nil)
	return p.Poll(context.Background())
}

// pollExpect polls and checks the notifications delivered.
func (h *harness) pollExpect(want ...string) Result {
	h.t.Helper()
	res := h.poll()
	if res.Err != nil {
		h.t.Fatalf("poll: %v", res.Err)
	}
	if diff := cmp.Diff(want, kinds(h.dest.take())); diff != "" {
		h.t.Fatalf("delivered (-want +got):\n%s", diff)
	}
	return res
}

func (h *harness) checkpoint(id string) checkpoint.Checkpoint {
	h.t.Helper()
	cp, ok, err := h.store.Load(context.Background(), id)
	if err != nil || !ok {
		h.t.Fatalf("load checkpoint %s: ok=%v err=%v", id, ok, err)
	}
	return cp
}

func TestSeedDeployingThenRunning(t *testing.T) {
	h := newHarness(t)
	h.api.add("s1", eventsapi.StatusDeploying, seedEvents(t0, 9)...)
	h.now = t0.Add(2 * time.Minute)
	res := h.pollExpect() // in progress, model startup: nothing to report
	if res.CheckpointWrites != 1 {
		t.Errorf("first poll wrote %d checkpoints, want 1", res.CheckpointWrites)
	}
	cp := h.checkpoint("s1")
	if cp.DeploymentStart != ms(t0) {
		t.Errorf("DeploymentStart = %d, want the open deployment's start %d", cp.DeploymentStart, ms(t0))
	}

	h.now = h.now.Add(time.Minute)
	if res := h.pollExpect(); res.CheckpointWrites != 0 {
		t.Errorf("quiet poll wrote %d checkpoints, want 0", res.CheckpointWrites)
	}

	h.api.add("s1", eventsapi.StatusRunning)
	h.now = h.now.Add(time.Minute)
	h.pollExpect("s1 deployment.succeeded model_startup")
	h.now = h.now.Add(time.Minute)
	h.pollExpect()
	if got := h.checkpoint("s1").DeploymentStart; got != 0 {
		t.Errorf("DeploymentStart after success = %d, want 0", got)
	}
}

func TestFirstRunNoFlood(t *testing.T) {
	h := newHarness(t)
	// An old deployment that failed, then a newer one that succeeded, and
	// one from before the lookback window.
	h.api.add("s1", "", seedEvents(t0.Add(-3*time.Hour), 9)...)
	h.api.add("s1", "", seedEvents(t0.Add(-50*time.Minute), 4)...)
	h.api.add("s1", "", abnormal(t0.Add(-49*time.Minute), "Failed to create the image."))
	h.api.add("s1", eventsapi.StatusRunning, seedEvents(t0.Add(-30*time.Minute), 9)...)
	h.api.add("s1", "", ev(t0.Add(-28*time.Minute), "Service svc-s1 is running."))
	h.now = t0
	h.pollExpect("s1 deployment.succeeded model_startup")
	h.pollExpect()
}

func TestStallThenRecovery(t *testing.T) {
	h := newHarness(t)
	h.api.add("s1", eventsapi.StatusDeploying, seedEvents(t0, 7)...) // pulling model image
	h.now = t0.Add(5 * time.Minute)
	h.pollExpect()
	h.now = t0.Add(30 * time.Minute) // image_pull threshold 20m
	res := h.pollExpect("s1 deployment.stalled image_pull")
	if res.Stalls != 1 {
		t.Errorf("Stalls = %d, want 1", res.Stalls)
	}
	h.now = t0.Add(40 * time.Minute)
	h.pollExpect() // still stalled: one alert per stalled phase

	h.api.add("s1", "", ev(t0.Add(41*time.Minute), "[TF 3.0.0] pull image success"),
		ev(t0.Add(41*time.Minute+time.Second), "[TF 3.0.0] starting model"))
	h.now = t0.Add(42 * time.Minute)
	h.pollExpect("s1 deployment.recovered image_pull")
	h.now = t0.Add(43 * time.Minute)
	h.pollExpect()

	h.api.add("s1", eventsapi.StatusRunning, ev(t0.Add(44*time.Minute), "Service svc-s1 started."))
	h.now = t0.Add(45 * time.Minute)
	h.pollExpect("s1 deployment.succeeded model_startup")
	h.pollExpect()
}

func TestAbnormalThenFailure(t *testing.T) {
	h := newHarness(t)
	h.api.add("s1", eventsapi.StatusDeploying, seedEvents(t0, 5)...)
	h.api.add("s1", "", abnormal(t0.Add(time.Minute), "Insufficient resources. Wait until idle resources are sufficient."))
	h.now = t0.Add(2 * time.Minute)
	h.pollExpect("s1 service.abnormal scheduling")
	h.now = t0.Add(3 * time.Minute)
	h.pollExpect()

	h.api.add("s1", eventsapi.StatusFailed,
		abnormal(t0.Add(4*time.Minute), "Insufficient resources. Wait until idle resources are sufficient."),
		abnormal(t0.Add(5*time.Minute), "Service svc-s1 failed. Error: scheduling timed out"))
	h.now = t0.Add(6 * time.Minute)
	h.pollExpect("s1 deployment.failed scheduling")
	h.pollExpect()
}

func TestRuntimeAbnormalAndTiesAcrossPolls(t *testing.T) {
	h := newHarness(t)
	h.api.add("s1", eventsapi.StatusRunning, seedEvents(t0, 9)...)
	h.api.add("s1", "", ev(t0.Add(2*time.Minute), "Service svc-s1 is running."))
	h.now = t0.Add(3 * time.Minute)
	h.pollExpect("s1 deployment.succeeded model_startup")

	tie := t0.Add(10 * time.Minute)
	h.api.add("s1", "", abnormal(tie, "Instance restarted: out of memory"))
	h.now = t0.Add(11 * time.Minute)
	h.pollExpect("s1 service.abnormal ")

	// A second event at the very same millisecond, seen only now.
	h.api.add("s1", "", abnormal(tie, "Instance unhealthy: health check failed"))
	h.now = t0.Add(12 * time.Minute)
	h.pollExpect("s1 service.abnormal ")

	// An event that arrives late, with an occur_time behind the read edge
	// (within the overlap), is still reported once.
	h.api.add("s1", "", abnormal(tie.Add(-30*time.Second), "Throttled: too many requests"))
	h.now = t0.Add(13 * time.Minute)
	h.pollExpect("s1 service.abnormal ")
	h.pollExpect()
}

func TestDeliveryFailureKeepsCheckpointAndResendsSameID(t *testing.T) {
	h := newHarness(t)
	h.api.add("s1", eventsapi.StatusDeploying, seedEvents(t0, 7)...)
	h.now = t0.Add(time.Minute)
	h.pollExpect()
	before := h.checkpoint("s1")

	h.api.add("s1", eventsapi.StatusFailed, abnormal(t0.Add(2*time.Minute), "Service svc-s1 failed. Error: unknown"))
	h.now = t0.Add(3 * time.Minute)
	h.dest.failNext = 1
	res := h.poll()
	if res.Err == nil || res.DeliveryFailed != 1 {
		t.Fatalf("poll with a failing destination: err=%v failed=%d, want an error and 1 failure", res.Err, res.DeliveryFailed)
	}
	if got := h.checkpoint("s1"); got.ReadThrough != before.ReadThrough {
		t.Fatalf("ReadThrough moved from %d to %d past an undelivered event", before.ReadThrough, got.ReadThrough)
	}
	first := res.Notifications[0].ID

	res = h.pollExpect("s1 deployment.failed image_pull")
	if res.Notifications[0].ID != first {
		t.Errorf("re-send has ID %s, want the same ID %s", res.Notifications[0].ID, first)
	}
	if got := h.checkpoint("s1"); got.ReadThrough <= before.ReadThrough {
		t.Errorf("ReadThrough did not advance after delivery")
	}
	h.pollExpect()
}

func TestPartialDeliveryResendsOnlyWhereMissing(t *testing.T) {
	h := newHarness(t)
	other := &recorder{failNext: 1}
	h.api.add("s1", eventsapi.StatusRunning, seedEvents(t0, 9)...)
	h.now = t0.Add(5 * time.Minute)
	poll := func() Result {
		cfg := h.cfg
		cfg.Now = func() time.Time { return h.now }
		return New(cfg, h.api, h.store, []notifier.Destination{{Name: "a", Notifier: h.dest}, {Name: "b", Notifier: other}}, nil).Poll(context.Background())
	}
	if res := poll(); res.Err == nil {
		t.Fatal("want an error when one destination fails")
	}
	if res := poll(); res.Err != nil {
		t.Fatal(res.Err)
	}
	if got := len(h.dest.take()); got != 1 {
		t.Errorf("destination a got %d notifications, want exactly 1 (no duplicate)", got)
	}
	if got := len(other.take()); got != 1 {
		t.Errorf("destination b got %d notifications, want 1 after its retry", got)
	}
}

func TestFetchErrorIsolatesService(t *testing.T) {
	h := newHarness(t)
	h.api.add("s1", eventsapi.StatusRunning, seedEvents(t0, 9)...)
	h.api.add("s2", eventsapi.StatusRunning, seedEvents(t0, 9)...)
	h.api.fail["s1"] = errors.New("503 from ModelArts")
	h.now = t0.Add(5 * time.Minute)
	res := h.poll()
	if res.Err == nil || res.ServicesFailed != 1 || res.Services != 1 {
		t.Fatalf("res = %+v, want one failed and one polled service", res)
	}
	if diff := cmp.Diff([]string{"s2 deployment.succeeded model_startup"}, kinds(h.dest.take())); diff != "" {
		t.Fatal(diff)
	}
	if _, ok, _ := h.store.Load(context.Background(), "s1"); ok {
		t.Fatal("a service whose read failed got a checkpoint")
	}
	h.pollExpect("s1 deployment.succeeded model_startup")
}

func TestDeadlineDefersServices(t *testing.T) {
	h := newHarness(t)
	h.api.add("s1", eventsapi.StatusRunning, seedEvents(t0, 9)...)
	h.now = t0.Add(5 * time.Minute)
	cfg := h.cfg
	cfg.Now = func() time.Time { return h.now }
	// The deadline is within the reserve already: no service starts.
	ctx, cancel := context.WithDeadline(context.Background(), h.now.Add(time.Second))
	defer cancel()
	res := New(cfg, h.api, h.store, []notifier.Destination{{Name: "rec", Notifier: h.dest}}, nil).Poll(ctx)
	if res.ServicesDeferred != 1 || res.Services != 0 {
		t.Fatalf("res = %+v, want the service deferred", res)
	}
	if _, ok, _ := h.store.Load(context.Background(), "s1"); ok {
		t.Fatal("a deferred service got a checkpoint")
	}
	h.pollExpect("s1 deployment.succeeded model_startup")
}

// crashingStore fails every Save: the process "dies" after delivering.
type crashingStore struct{ checkpoint.Store }

func (crashingStore) Save(context.Context, *checkpoint.Checkpoint) error {
	return errors.New("crash before the checkpoint was written")
}

func (crashingStore) SaveMany(_ context.Context, cps []*checkpoint.Checkpoint) []error {
	errs := make([]error, len(cps))
	for i := range errs {
		errs[i] = errors.New("crash before the checkpoint was written")
	}
	return errs
}

func TestCrashBetweenDeliveryAndSaveResendsSameID(t *testing.T) {
	h := newHarness(t)
	h.api.add("s1", eventsapi.StatusRunning, seedEvents(t0, 9)...)
	h.now = t0.Add(5 * time.Minute)
	real := h.store
	h.store = crashingStore{real}
	res := h.poll()
	if res.Err == nil {
		t.Fatal("want an error when the checkpoint cannot be saved")
	}
	first := h.dest.take()
	h.store = real
	h.pollExpect("s1 deployment.succeeded model_startup")
	if len(first) != 1 || first[0].ID != res.Notifications[0].ID {
		t.Fatalf("first delivery %v", kinds(first))
	}
}

func TestSteadyStateOneEventsReadPerServicePerPoll(t *testing.T) {
	h := newHarness(t)
	for _, id := range []string{"a", "b", "c"} {
		h.api.add(id, eventsapi.StatusRunning, seedEvents(t0, 9)...)
	}
	h.now = t0.Add(5 * time.Minute)
	h.pollExpect("a deployment.succeeded model_startup", "b deployment.succeeded model_startup", "c deployment.succeeded model_startup")
	for i := range 5 {
		h.now = h.now.Add(time.Minute)
		if res := h.pollExpect(); res.CheckpointWrites != 0 {
			t.Fatalf("quiet poll %d wrote %d checkpoints", i, res.CheckpointWrites)
		}
	}
	for id, n := range h.api.reads {
		if n != 6 {
			t.Errorf("service %s: %d events reads over 6 polls, want 6", id, n)
		}
	}
}

// A deployment that hung long before the first poll (beyond the lookback)
// is still reported stalled; its old abnormal events are history.
func TestFirstRunFindsLongHungDeployment(t *testing.T) {
	h := newHarness(t)
	start := t0.Add(-5 * time.Hour)
	h.api.add("s1", eventsapi.StatusDeploying, seedEvents(start, 5)...)
	h.api.add("s1", "", abnormal(start.Add(time.Minute), "Insufficient resources. Wait until idle resources are sufficient."))
	h.now = t0
	h.pollExpect("s1 deployment.stalled scheduling")
	if got := h.checkpoint("s1").DeploymentStart; got != ms(start) {
		t.Errorf("DeploymentStart = %d, want %d", got, ms(start))
	}
	h.now = t0.Add(time.Minute)
	h.pollExpect()
}
