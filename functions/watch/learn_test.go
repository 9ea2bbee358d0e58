package watch

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/modelarts-notifier/modelarts-notifier/eventsapi"
	"github.com/modelarts-notifier/modelarts-notifier/notifier"
)

// pullDeploy appends a deployment whose image pull takes pull (done: it
// then starts the model; else it hangs in the pull), starting at start.
func pullDeploy(h *httpHarness, start time.Time, pull time.Duration, done bool) {
	ev := func(at time.Time, text string) eventsapi.Event {
		return eventsapi.Event{EventType: eventsapi.EventTypeNormal, EventInfo: text, OccurTime: at.UnixMilli()}
	}
	evs := []eventsapi.Event{
		ev(start, "start to deploy service"),
		ev(start.Add(1*time.Second), "preparing environment"),
		ev(start.Add(2*time.Second), "[m] prepare environment success"),
		ev(start.Add(3*time.Second), "[m] schedule resource success"),
		ev(start.Add(4*time.Second), "[m] pulling model image"),
	}
	if done {
		evs = append(evs, ev(start.Add(4*time.Second+pull), "[m] pull image success"),
			ev(start.Add(5*time.Second+pull), "[m] starting model"),
			ev(start.Add(6*time.Second+pull), "Service svc started."))
	}
	h.srv.AppendEvents(hostileSvc, evs...)
}

// A service's history decides its stall threshold: five ~40-minute pulls
// are no stall at 30 minutes (they are with STALL_LEARNING=off); five
// ~2-minute pulls make a hanging pull a stall at 12 minutes; two samples
// keep the configured threshold. The history is learned on the first
// poll from the month before its window, and what was read for learning
// is never notified.
func TestLearnedThresholds(t *testing.T) {
	tests := []struct {
		name    string
		pulls   []time.Duration
		learn   bool
		hangFor time.Duration
		stalled bool
	}{
		{"long pulls, learned", []time.Duration{38 * time.Minute, 40 * time.Minute, 41 * time.Minute, 39 * time.Minute, 42 * time.Minute}, true, 30 * time.Minute, false},
		{"long pulls, learning off", []time.Duration{38 * time.Minute, 40 * time.Minute, 41 * time.Minute, 39 * time.Minute, 42 * time.Minute}, false, 30 * time.Minute, true},
		{"short pulls, learned", []time.Duration{2 * time.Minute, 2 * time.Minute, 110 * time.Second, 130 * time.Second, 2 * time.Minute}, true, 12 * time.Minute, true},
		{"short pulls, learning off", []time.Duration{2 * time.Minute, 2 * time.Minute, 110 * time.Second, 130 * time.Second, 2 * time.Minute}, false, 12 * time.Minute, false},
		{"two samples keep the configured threshold", []time.Duration{2 * time.Minute, 2 * time.Minute}, true, 12 * time.Minute, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHTTPHarness(t)
			h.cfg.Learn = tc.learn
			h.srv.AddService(hostileSvc, "svc", eventsapi.StatusDeploying)
			// The history: one deployment a day, in the month before.
			for i, pull := range tc.pulls {
				pullDeploy(h, t0.Add(-time.Duration(len(tc.pulls)-i)*24*time.Hour), pull, true)
			}
			hangStart := t0.Add(-tc.hangFor)
			pullDeploy(h, hangStart, 0, false)
			h.now = t0
			h.srv.ResetRequests()
			res := h.poll()
			if res.Err != nil {
				t.Fatal(res.Err)
			}
			got, _ := h.hook.take(t)
			stalled := false
			for _, b := range got {
				switch b.Type {
				case string(notifier.KindStalled):
					stalled = b.Data.Phase == notifier.PhaseImagePull
				case string(notifier.KindSucceeded), string(notifier.KindFailed):
					t.Errorf("a deployment read for learning only was notified: %s", b.Type)
				}
			}
			if stalled != tc.stalled {
				t.Fatalf("stalled %v, want %v (notifications %v)", stalled, tc.stalled, types(got))
			}
			cp := h.checkpoint()
			if tc.learn && len(cp.History["image_pull"]) != len(tc.pulls) {
				t.Errorf("history %v, want %d image_pull samples", cp.History, len(tc.pulls))
			}
			if !tc.learn && cp.History != nil && h.srv.EventsRequests(hostileSvc) > 1 {
				t.Errorf("learning off read the history (%d events requests)", h.srv.EventsRequests(hostileSvc))
			}
			t.Logf("events requests on this first poll: %d", h.srv.EventsRequests(hostileSvc))
		})
	}
}

// The history grows as deployments complete, each counted once however
// often it is read again, and holds at most 20 samples per phase.
func TestHistoryGrowsOnce(t *testing.T) {
	h := newHTTPHarness(t)
	h.cfg.Learn = true
	h.srv.AddService(hostileSvc, "svc", eventsapi.StatusRunning)
	h.now = t0
	if res := h.poll(); res.Err != nil {
		t.Fatal(res.Err)
	}
	for i := range 23 {
		start := h.now.Add(time.Minute)
		pullDeploy(h, start, time.Duration(60+i)*time.Second, true)
		h.now = start.Add(3 * time.Minute)
		for range 2 { // read twice: counted once
			if res := h.poll(); res.Err != nil {
				t.Fatal(res.Err)
			}
		}
	}
	got := h.checkpoint().History["image_pull"]
	if len(got) != 20 || got[0] != 63 || got[19] != 82 {
		t.Fatalf("image_pull history %v: want the last 20 pulls, 63s to 82s", got)
	}
}

// A first poll's read of the month before its window (learning) that
// fails, or holds more than a learner takes, costs the first window
// nothing: the window is read on its own and its failure told (the
// review's findings: a month's read error failed every first poll; the
// learner's limit did not bound the read).
func TestFirstPollMonthReadFailureReadsWindow(t *testing.T) {
	month := func(h *harness, n int) {
		start := t0.Add(-20 * 24 * time.Hour)
		h.api.add("s1", "", seedEvents(start, 9)...)
		for i := range n {
			h.api.add("s1", "", abnormal(start.Add(time.Hour+time.Duration(i)*time.Second), fmt.Sprintf("instance %s restarted", letters(i))))
		}
	}
	window := func(h *harness) {
		h.api.add("s1", eventsapi.StatusFailed, longDeploy(t0)...)
		h.api.add("s1", "", abnormal(t0.Add(10*time.Minute), "Failed to start service svc-s1."))
		h.now = t0.Add(15 * time.Minute)
	}
	t.Run("read error", func(t *testing.T) {
		h := newHarness(t)
		h.cfg.Learn = true
		month(h, 3)
		window(h)
		h.api.mu.Lock()
		h.api.fail["s1"] = errors.New("injected: page 3 weeks ago cannot be decoded")
		h.api.mu.Unlock()
		h.pollExpect("s1 deployment.failed model_startup")
	})
	t.Run("month longer than a learner takes", func(t *testing.T) {
		h := newHarness(t)
		h.cfg.Learn = true
		h.cfg.MaxEventsPerPoll = 4 // a learner takes 25 x 4
		month(h, 500)
		window(h)
		h.pollExpect("s1 deployment.failed model_startup")
		h.api.mu.Lock()
		reads := h.api.reads["s1"]
		h.api.mu.Unlock()
		if reads != 2 {
			t.Errorf("%d events reads, want 2 (the month, stopped at the learner's limit; the window)", reads)
		}
	})
}
