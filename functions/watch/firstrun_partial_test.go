package watch

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/modelarts-notifier/modelarts-notifier/eventsapi"
	"github.com/modelarts-notifier/modelarts-notifier/notifier"
)

// A first poll whose delivery fails at one destination saves what the
// other acknowledged, but it has read nothing to its end yet: the next poll
// must still follow the first-run rules (the lookback window, the latest
// deployment only), not read all history and report every old outcome.
// Found by the fault matrix (functions/faultmatrix).
func TestFirstPollPartialDeliveryNoHistoryFlood(t *testing.T) {
	h := newHarness(t)
	other := &recorder{failNext: 1}
	// Old history, long before the lookback window: never to be reported.
	h.api.add("s1", "", seedEvents(t0.Add(-30*time.Hour), 4)...)
	h.api.add("s1", "", abnormal(t0.Add(-30*time.Hour+time.Minute), "Service svc-s1 failed. Error: old"))
	h.api.add("s1", "", seedEvents(t0.Add(-20*time.Hour), 9)...)
	h.api.add("s1", "", abnormal(t0.Add(-19*time.Hour), "Instance restarted: out of memory"))
	// The latest deployment, inside the window.
	h.api.add("s1", eventsapi.StatusRunning, seedEvents(t0.Add(-30*time.Minute), 9)...)
	h.now = t0
	poll := func() Result {
		cfg := h.cfg
		cfg.Now = func() time.Time { return h.now }
		dests := []notifier.Destination{{Name: "a", Notifier: h.dest}, {Name: "b", Notifier: other}}
		return New(cfg, h.api, h.store, dests, nil).Poll(context.Background())
	}
	if res := poll(); res.Err == nil {
		t.Fatal("want an error when one destination fails")
	}
	h.now = t0.Add(time.Minute)
	if res := poll(); res.Err != nil {
		t.Fatal(res.Err)
	}
	want := []string{"s1 deployment.succeeded model_startup"}
	if diff := cmp.Diff(want, kinds(h.dest.take())); diff != "" {
		t.Errorf("destination a (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(want, kinds(other.take())); diff != "" {
		t.Errorf("destination b (-want +got):\n%s", diff)
	}
}
