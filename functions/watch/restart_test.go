package watch

import (
	"github.com/google/go-cmp/cmp"
	"path/filepath"
	"testing"
	"time"

	"github.com/modelarts-notifier/modelarts-notifier/eventsapi"
	"github.com/modelarts-notifier/modelarts-notifier/functions/checkpoint"
	"github.com/modelarts-notifier/modelarts-notifier/functions/checkpoint/checkpointtest"
)

// Every poll runs in a "new process": the store is opened afresh, so the
// whole state between polls goes through the store (file, DynamoDB).
func TestRestartFromEachStore(t *testing.T) {
	stores := map[string]func(t *testing.T) func() checkpoint.Store{
		"memory": func(t *testing.T) func() checkpoint.Store {
			m := checkpoint.NewMemory()
			return func() checkpoint.Store { return m }
		},
		"file": func(t *testing.T) func() checkpoint.Store {
			path := filepath.Join(t.TempDir(), "cp", "checkpoints.json")
			return func() checkpoint.Store {
				f, err := checkpoint.NewFile(path)
				if err != nil {
					t.Fatal(err)
				}
				return f
			}
		},
		"dynamodb": func(t *testing.T) func() checkpoint.Store {
			client := checkpointtest.NewDynamoClient(t, checkpointtest.StartDynalite(t))
			table := checkpointtest.NewTable(t, client)
			return func() checkpoint.Store { return checkpoint.NewDynamoDB(client, table) }
		},
	}
	for name, open := range stores {
		t.Run(name, func(t *testing.T) {
			reopen := open(t)
			h := newHarness(t)
			h.dest.thread = "1700000000.000100"
			poll := func(want ...string) Result {
				t.Helper()
				h.store = reopen()
				return h.pollExpect(want...)
			}
			h.api.add("s1", eventsapi.StatusDeploying, seedEvents(t0, 7)...)
			h.api.add("s2", eventsapi.StatusRunning, seedEvents(t0, 9)...)
			h.now = t0.Add(30 * time.Minute)
			poll("s1 deployment.stalled image_pull", "s2 deployment.succeeded model_startup")
			poll()
			if ts := parentOf(h.checkpoint("s1"), deploymentKey("s1", ms(t0)), "rec"); ts != h.dest.thread {
				t.Errorf("Slack thread %q not kept in the checkpoint", ts)
			}
			h.api.add("s1", eventsapi.StatusRunning, ev(t0.Add(31*time.Minute), "[TF 3.0.0] pull image success"),
				ev(t0.Add(32*time.Minute), "[TF 3.0.0] starting model"), ev(t0.Add(33*time.Minute), "Service svc-s1 is running."))
			h.now = t0.Add(34 * time.Minute)
			h.store = reopen()
			if res := h.poll(); res.Err != nil {
				t.Fatal(res.Err)
			}
			got := h.dest.take()
			if diff := cmp.Diff([]string{"s1 deployment.recovered image_pull", "s1 deployment.succeeded model_startup"}, kinds(got)); diff != "" {
				t.Fatalf("delivered (-want +got):\n%s", diff)
			}
			for _, n := range got {
				if n.ThreadTS != h.dest.thread {
					t.Errorf("%s after a restart has ThreadTS %q, want the kept %q", n.Kind, n.ThreadTS, h.dest.thread)
				}
			}
			h.now = t0.Add(40 * time.Minute)
			poll()
		})
	}
}
