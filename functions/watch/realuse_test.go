package watch

import (
	"slices"
	"testing"
	"time"

	"github.com/modelarts-notifier/modelarts-notifier/eventsapi"
	"github.com/modelarts-notifier/modelarts-notifier/notifier"
)

// Issue 17, item 1: a service whose status is concerning and whose only
// events in the window are abnormal pod-start failures was told its
// deployment succeeded. Abnormal events alone never make a deployment,
// let alone a success: they are runtime abnormal events.
func TestHTTPAbnormalEventsAloneAreNoSuccess(t *testing.T) {
	for _, status := range []string{eventsapi.StatusConcerning, eventsapi.StatusRunning} {
		t.Run(status, func(t *testing.T) {
			h := newHTTPHarness(t)
			h.srv.AddService(hostileSvc, "svc-x", status)
			h.srv.RuntimeAbnormal(hostileSvc, "Failed to start the pod container in deployment [svc-x-6f4b8].", t0.Add(-20*time.Minute))
			h.srv.RuntimeAbnormal(hostileSvc, "Failed to start the pod container in deployment [svc-x-6f4b8].", t0.Add(-10*time.Minute))
			if res := h.poll(); res.Err != nil {
				t.Fatal(res.Err)
			}
			got, _ := h.hook.take(t)
			for _, b := range got {
				if b.Type == string(notifier.KindSucceeded) || b.Data.Status == string(notifier.StatusSucceeded) {
					t.Fatalf("got %v: a success made of abnormal events", types(got))
				}
			}
			if !slices.ContainsFunc(got, func(b webhookBody) bool { return b.Type == string(notifier.KindAbnormal) }) {
				t.Fatalf("got %v, want the abnormal events told", types(got))
			}
			// And nothing more on the next poll.
			h.now = h.now.Add(time.Minute)
			if res := h.poll(); res.Err != nil {
				t.Fatal(res.Err)
			}
			if got, _ := h.hook.take(t); len(got) != 0 {
				t.Fatalf("second poll: got %v, want nothing", types(got))
			}
		})
	}
}

// A deployment that started but never reached model startup is no
// success when the status says running: its outcome is unknown, so
// nothing claims it succeeded, and it does not hold the read window.
func TestHTTPRunningBeforeModelStartupIsNoSuccess(t *testing.T) {
	h := newHTTPHarness(t)
	h.srv.AddService(hostileSvc, "svc-y", eventsapi.StatusConcerning)
	h.srv.AppendEvents(hostileSvc,
		eventsapi.Event{EventType: eventsapi.EventTypeNormal, EventInfo: "start to deploy service", OccurTime: t0.Add(-30 * time.Minute).UnixMilli()},
		eventsapi.Event{EventType: eventsapi.EventTypeNormal, EventInfo: "preparing environment", OccurTime: t0.Add(-29 * time.Minute).UnixMilli()},
		eventsapi.Event{EventType: eventsapi.EventTypeAbnormal, EventInfo: "Failed to start the pod container in deployment [svc-y-1a2b3].", OccurTime: t0.Add(-20 * time.Minute).UnixMilli()},
	)
	if res := h.poll(); res.Err != nil {
		t.Fatal(res.Err)
	}
	got, _ := h.hook.take(t)
	for _, b := range got {
		if b.Type == string(notifier.KindSucceeded) {
			t.Fatalf("got %v: a success before model startup began", types(got))
		}
	}
	if cp := h.checkpoint(); cp.DeploymentStart != 0 {
		t.Fatalf("DeploymentStart = %d: a deployment the status ended still holds the read window", cp.DeploymentStart)
	}
}
