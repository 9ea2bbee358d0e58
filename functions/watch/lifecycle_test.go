package watch

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/modelarts-notifier/modelarts-notifier/eventsapi"
	"github.com/modelarts-notifier/modelarts-notifier/functions/checkpoint"
	"github.com/modelarts-notifier/modelarts-notifier/notifier"
)

// A first poll whose destination stays down for longer than the lookback
// still delivers what was due when it comes back: later polls read from
// the stored anchor, not from now − lookback.
func TestFirstRunAnchorSurvivesLongOutage(t *testing.T) {
	h := newHarness(t)
	h.api.add("s1", eventsapi.StatusFailed, seedEvents(t0, 6)...)
	h.api.add("s1", "", abnormal(t0.Add(30*time.Second), "Failed to pull image, the image does not exist."))
	h.now = t0.Add(5 * time.Minute)
	h.dest.failNext = 1000
	for i := range 11 { // ten hours down
		if i > 0 {
			h.now = h.now.Add(time.Hour)
		}
		if res := h.poll(); res.Err == nil {
			t.Fatalf("poll %d: no error while the destination is down", i)
		}
		cp := h.checkpoint("s1")
		if cp.ReadThrough != 0 || cp.FirstRunFrom != ms(t0.Add(5*time.Minute-time.Hour)) {
			t.Fatalf("poll %d: checkpoint read_through %d first_run_from %d; want 0 and the first poll's anchor", i, cp.ReadThrough, cp.FirstRunFrom)
		}
	}
	h.dest.failNext = 0
	h.now = h.now.Add(time.Hour)
	h.pollExpect("s1 deployment.failed image_pull")
	cp := h.checkpoint("s1")
	if cp.ReadThrough == 0 || cp.FirstRunReadFrom != 0 {
		t.Errorf("after delivery: read_through %d first_run_read_from %d; want the edge set and the first run over", cp.ReadThrough, cp.FirstRunReadFrom)
	}
	h.now = h.now.Add(time.Minute)
	h.pollExpect()
}

// A checkpoint written by the earlier release for a first poll whose
// delivery was incomplete (read_through 0, no anchor) keeps the first-run
// rules, gets an anchor, and nothing acknowledged is sent again.
func TestLegacyFirstRunCheckpoint(t *testing.T) {
	h := newHarness(t)
	h.api.add("s1", eventsapi.StatusRunning, seedEvents(t0, 9)...)
	h.api.add("s1", "", abnormal(t0.Add(3*time.Minute), "Instance 1 restarted unexpectedly."))
	h.now = t0.Add(10 * time.Minute)
	// What the earlier release saved: the success went to "rec", then the
	// run failed before everything was delivered somewhere else.
	id := notificationID(deploymentKey("s1", ms(t0)), string(notifier.KindSucceeded))
	legacy := checkpoint.Checkpoint{ServiceID: "s1", Sent: map[string]checkpoint.Sent{id: {At: ms(t0.Add(80818 * time.Millisecond)), Destinations: []string{"rec"}}}}
	if err := h.store.Save(context.Background(), &legacy); err != nil {
		t.Fatal(err)
	}
	h.pollExpect("s1 service.abnormal model_startup")
	cp := h.checkpoint("s1")
	if cp.FirstRunFrom != ms(h.now.Add(-time.Hour)) || cp.ReadThrough == 0 {
		t.Errorf("checkpoint first_run_from %d read_through %d; want the anchor now − lookback and the edge set", cp.FirstRunFrom, cp.ReadThrough)
	}
}

// A stop (or delete, finish) closes the open deployment: the read window
// moves on, Sent stays bounded, and no notification kind is sent; a Slack
// parent message is updated once to say it was stopped.
func TestStopClosesOpenDeployment(t *testing.T) {
	for _, status := range []string{eventsapi.StatusStopped, eventsapi.StatusStopping, eventsapi.StatusDeleting, eventsapi.StatusFinished} {
		t.Run(status, func(t *testing.T) {
			h := newHarness(t)
			h.dest.thread = "1700000000.000100"
			h.api.add("s1", eventsapi.StatusDeploying, seedEvents(t0, 7)...) // pulling the image
			h.now = t0.Add(25 * time.Minute)
			h.pollExpect("s1 deployment.stalled image_pull") // Slack parent created
			if cp := h.checkpoint("s1"); cp.DeploymentStart != ms(t0) {
				t.Fatalf("deployment_start %d, want %d", cp.DeploymentStart, ms(t0))
			}
			h.api.add("s1", status)
			h.now = h.now.Add(time.Minute)
			got := h.dest.take()
			res := h.poll()
			if res.Err != nil {
				t.Fatal(res.Err)
			}
			got = h.dest.take()
			if len(got) != 1 || got[0].Thread != notifier.ParentUpdate || got[0].ThreadTS != h.dest.thread || got[0].Summary.ServiceStatus != status {
				t.Fatalf("after the stop got %+v; want one parent update of thread %s with service status %s", kinds(got), h.dest.thread, status)
			}
			cp := h.checkpoint("s1")
			if cp.DeploymentStart != 0 {
				t.Errorf("deployment_start %d after the stop, want 0", cp.DeploymentStart)
			}
			// Hours later the window has moved on: no re-reads from the old
			// start, nothing sent again.
			for range 5 {
				h.now = h.now.Add(time.Hour)
				h.pollExpect()
			}
			cp = h.checkpoint("s1")
			if from := windowStart(cp, h.cfg.Overlap); from < ms(t0.Add(time.Minute)) && cp.DeploymentStart != 0 {
				t.Errorf("window still starts at %d", from)
			}
			if len(cp.Sent) > 3 {
				t.Errorf("sent holds %d entries, want it pruned", len(cp.Sent))
			}
		})
	}
	t.Run("no slack thread: nothing sent", func(t *testing.T) {
		h := newHarness(t)
		h.api.add("s1", eventsapi.StatusDeploying, seedEvents(t0, 7)...)
		h.now = t0.Add(2 * time.Minute)
		h.pollExpect()
		h.api.add("s1", eventsapi.StatusStopped)
		h.now = h.now.Add(time.Minute)
		h.pollExpect()
		if cp := h.checkpoint("s1"); cp.DeploymentStart != 0 {
			t.Errorf("deployment_start %d after the stop, want 0", cp.DeploymentStart)
		}
	})
}

// An event dated a year ahead is notified once, never moves the read edge
// past now, and does not hide the events that follow it.
func TestFutureEventDoesNotSilenceService(t *testing.T) {
	h := newHarness(t)
	h.api.add("s1", eventsapi.StatusRunning, seedEvents(t0, 9)...)
	h.now = t0.Add(5 * time.Minute)
	h.pollExpect("s1 deployment.succeeded model_startup")
	h.api.add("s1", "", abnormal(t0.Add(365*24*time.Hour), "Instance 3 restarted unexpectedly."))
	h.now = h.now.Add(time.Minute)
	h.pollExpect("s1 service.abnormal ")
	for i := range 3 {
		cp := h.checkpoint("s1")
		if limit := ms(h.now.Add(clockSkew)); cp.ReadThrough > limit {
			t.Fatalf("poll %d: read_through %d past now + 5 min (%d)", i, cp.ReadThrough, limit)
		}
		h.now = h.now.Add(time.Minute)
		h.api.add("s1", "", abnormal(h.now.Add(-10*time.Second), fmt.Sprintf("Instance %d restarted unexpectedly.", 10+i)))
		h.pollExpect("s1 service.abnormal ") // the new one only, never the future one again
	}
	// Events just ahead of now (within the skew) are ordinary.
	h.api.add("s1", "", abnormal(h.now.Add(2*time.Minute), "Instance 20 restarted unexpectedly."))
	h.now = h.now.Add(time.Minute)
	h.pollExpect("s1 service.abnormal ")
	h.now = h.now.Add(time.Minute)
	h.pollExpect()
}

// More new events than one poll reads: each poll reads at most the cap and
// the next poll goes on from there; every event is handled exactly once.
func TestEventCapReadsOnNextPoll(t *testing.T) {
	h := newHarness(t)
	h.cfg.MaxEventsPerPoll = 100
	h.api.add("s1", eventsapi.StatusRunning, seedEvents(t0, 9)...)
	h.now = t0.Add(5 * time.Minute)
	h.pollExpect("s1 deployment.succeeded model_startup")
	const n = 350
	for i := range n {
		h.api.add("s1", "", abnormal(t0.Add(6*time.Minute+time.Duration(i)*time.Second), fmt.Sprintf("instance %d restarted unexpectedly #%d", i, i)))
	}
	h.now = t0.Add(20 * time.Minute)
	seen := map[string]int{}
	for poll := 0; poll < 10; poll++ {
		res := h.poll()
		if res.Err != nil {
			t.Fatal(res.Err)
		}
		if res.EventsRead > h.cfg.MaxEventsPerPoll {
			t.Errorf("poll %d read %d new events, cap %d", poll, res.EventsRead, h.cfg.MaxEventsPerPoll)
		}
		for _, n := range h.dest.take() {
			for _, e := range n.Summary.AbnormalEvents {
				seen[e.EventInfo]++
			}
		}
	}
	if len(seen) != n {
		t.Errorf("%d distinct events told, want %d", len(seen), n)
	}
	for info, c := range seen {
		if c != 1 {
			t.Errorf("%s told %d times", info, c)
		}
	}
}

// A first poll with more events in its window than the cap keeps the
// newest ones: the latest deployment is still reported.
func TestFirstPollCapKeepsNewest(t *testing.T) {
	h := newHarness(t)
	h.cfg.MaxEventsPerPoll = 50
	for i := range 200 {
		h.api.add("s1", "", ev(t0.Add(time.Duration(i)*time.Second), fmt.Sprintf("instance %d health check passed", i)))
	}
	h.api.add("s1", eventsapi.StatusFailed, seedEvents(t0.Add(10*time.Minute), 6)...)
	h.now = t0.Add(15 * time.Minute)
	h.pollExpect("s1 deployment.failed image_pull")
}

// An event dated far ahead belongs to no deployment: a deployment that
// starts after it still stalls, and the event is notified once under one
// identity whatever deployments come.
func TestFutureEventJoinsNoDeployment(t *testing.T) {
	h := newHarness(t)
	h.api.add("s1", eventsapi.StatusRunning, seedEvents(t0, 9)...)
	h.now = t0.Add(5 * time.Minute)
	h.pollExpect("s1 deployment.succeeded model_startup")
	h.api.add("s1", "", abnormal(t0.Add(30*24*time.Hour), "Instance 7 restarted unexpectedly."))
	h.now = h.now.Add(time.Minute)
	h.pollExpect("s1 service.abnormal ")
	start := h.now.Add(10 * time.Second)
	h.api.add("s1", eventsapi.StatusDeploying, seedEvents(start, 4)...) // stuck preparing the environment
	h.now = h.now.Add(time.Minute)
	h.pollExpect()
	h.now = start.Add(20 * time.Minute) // past environment's 10-minute threshold
	h.pollExpect("s1 deployment.stalled environment")
}
