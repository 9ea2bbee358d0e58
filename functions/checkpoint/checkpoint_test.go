package checkpoint_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/modelarts-notifier/modelarts-notifier/functions/checkpoint"
	"github.com/modelarts-notifier/modelarts-notifier/functions/checkpoint/checkpointtest"
)

func TestClone(t *testing.T) {
	orig := checkpointtest.Sample("svc-a")
	clone := orig.Clone()
	if diff := cmp.Diff(orig, clone); diff != "" {
		t.Fatalf("Clone differs from the original (-orig +clone):\n%s", diff)
	}
	clone.Edge[0] = "changed"
	for id, s := range clone.Sent {
		s.Destinations[0] = "changed"
		clone.Sent[id] = s
	}
	clone.Sent["new"] = checkpoint.Sent{}
	clone.Threads["new"] = checkpoint.Thread{}
	if diff := cmp.Diff(checkpointtest.Sample("svc-a"), orig); diff != "" {
		t.Errorf("changing the clone changed the original (-want +got):\n%s", diff)
	}

	empty := checkpoint.Checkpoint{ServiceID: "svc-b"}.Clone()
	if empty.Edge != nil || empty.Sent != nil || empty.Threads != nil {
		t.Errorf("Clone of nil slices and maps = %#v, want them nil", empty)
	}
}

func TestEqual(t *testing.T) {
	tests := []struct {
		name   string
		change func(*checkpoint.Checkpoint)
		want   bool
	}{
		{"unchanged", func(*checkpoint.Checkpoint) {}, true},
		{"service id", func(c *checkpoint.Checkpoint) { c.ServiceID = "svc-b" }, false},
		{"version", func(c *checkpoint.Checkpoint) { c.Version++ }, false},
		{"read through", func(c *checkpoint.Checkpoint) { c.ReadThrough++ }, false},
		{"deployment start", func(c *checkpoint.Checkpoint) { c.DeploymentStart = 0 }, false},
		{"status end", func(c *checkpoint.Checkpoint) { c.StatusEnd = checkpoint.StatusEnd{Start: 1, Through: 2} }, false},
		{"first run from", func(c *checkpoint.Checkpoint) { c.FirstRunFrom++ }, false},
		{"first run read from", func(c *checkpoint.Checkpoint) { c.FirstRunReadFrom++ }, false},
		{"first run at", func(c *checkpoint.Checkpoint) { c.FirstRunAt++ }, false},
		{"generation", func(c *checkpoint.Checkpoint) { c.Generation = "v2" }, false},
		{"edge element", func(c *checkpoint.Checkpoint) { c.Edge[1] = "other" }, false},
		{"edge order", func(c *checkpoint.Checkpoint) { c.Edge[0], c.Edge[1] = c.Edge[1], c.Edge[0] }, false},
		{"edge added", func(c *checkpoint.Checkpoint) { c.Edge = append(c.Edge, "more") }, false},
		{"sent added", func(c *checkpoint.Checkpoint) { c.Sent["new"] = checkpoint.Sent{At: 1} }, false},
		{"sent removed", func(c *checkpoint.Checkpoint) { delete(c.Sent, "deployment.failed/1562597170000") }, false},
		{"sent renamed", func(c *checkpoint.Checkpoint) {
			s := c.Sent["deployment.failed/1562597170000"]
			delete(c.Sent, "deployment.failed/1562597170000")
			c.Sent["deployment.failed/other"] = s
		}, false},
		{"sent at", func(c *checkpoint.Checkpoint) {
			s := c.Sent["deployment.failed/1562597170000"]
			s.At++
			c.Sent["deployment.failed/1562597170000"] = s
		}, false},
		{"sent destination added", func(c *checkpoint.Checkpoint) {
			s := c.Sent["deployment.failed/1562597170000"]
			s.Destinations = append(s.Destinations, "webhook:1")
			c.Sent["deployment.failed/1562597170000"] = s
		}, false},
		{"thread ts", func(c *checkpoint.Checkpoint) {
			c.Threads["1562597170000"] = checkpoint.Thread{TS: "2", At: 1562597170000}
		}, false},
		{"thread at", func(c *checkpoint.Checkpoint) {
			c.Threads["1562597170000"] = checkpoint.Thread{TS: "1562597171.000100", At: 1}
		}, false},
		{"thread added", func(c *checkpoint.Checkpoint) { c.Threads["x"] = checkpoint.Thread{} }, false},
		{"everything emptied", func(c *checkpoint.Checkpoint) { *c = checkpoint.Checkpoint{ServiceID: c.ServiceID} }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := checkpointtest.Sample("svc-a")
			b := checkpointtest.Sample("svc-a")
			tt.change(&b)
			if got := a.Equal(b); got != tt.want {
				t.Errorf("a.Equal(b) = %v, want %v", got, tt.want)
			}
			if got := b.Equal(a); got != tt.want {
				t.Errorf("b.Equal(a) = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestEqualNilEqualsEmpty(t *testing.T) {
	nilled := checkpoint.Checkpoint{ServiceID: "svc-a"}
	empty := checkpoint.Checkpoint{
		ServiceID: "svc-a",
		Edge:      []string{},
		Sent:      map[string]checkpoint.Sent{},
		Threads:   map[string]checkpoint.Thread{},
	}
	if !nilled.Equal(empty) || !empty.Equal(nilled) {
		t.Error("a checkpoint with nil slices and maps does not equal one with empty ones")
	}
	a := checkpoint.Checkpoint{Sent: map[string]checkpoint.Sent{"n": {At: 1}}}
	b := checkpoint.Checkpoint{Sent: map[string]checkpoint.Sent{"n": {At: 1, Destinations: []string{}}}}
	if !a.Equal(b) {
		t.Error("nil Destinations do not equal empty ones")
	}
}

func TestPrune(t *testing.T) {
	cp := checkpoint.Checkpoint{
		ServiceID:   "svc-a",
		ReadThrough: 5000,
		Edge:        []string{"e1"},
		Sent: map[string]checkpoint.Sent{
			"old":   {At: 999, Destinations: []string{"slack"}},
			"edge":  {At: 1000, Destinations: []string{"slack"}},
			"young": {At: 4000, Destinations: []string{"webhook:0"}},
		},
		Threads: map[string]checkpoint.Thread{
			"old":   {TS: "1.1", At: 10},
			"edge":  {TS: "1.2", At: 1000},
			"young": {TS: "1.3", At: 2000},
		},
	}
	cp.Prune(1000)
	want := checkpoint.Checkpoint{
		ServiceID:   "svc-a",
		ReadThrough: 5000,
		Edge:        []string{"e1"},
		Sent: map[string]checkpoint.Sent{
			"edge":  {At: 1000, Destinations: []string{"slack"}},
			"young": {At: 4000, Destinations: []string{"webhook:0"}},
		},
		Threads: map[string]checkpoint.Thread{
			"edge":  {TS: "1.2", At: 1000},
			"young": {TS: "1.3", At: 2000},
		},
	}
	if diff := cmp.Diff(want, cp); diff != "" {
		t.Errorf("Prune(1000) (-want +got):\n%s", diff)
	}

	cp.Prune(1 << 62)
	if len(cp.Sent) != 0 || len(cp.Threads) != 0 {
		t.Errorf("Prune(far future) left Sent %v, Threads %v", cp.Sent, cp.Threads)
	}

	var zero checkpoint.Checkpoint
	zero.Prune(1000) // nil maps: nothing to do, no panic
}

// A checkpoint of the last release (no status_end) reads as zero, and a
// zero StatusEnd is not written: upgrades are silent both ways.
func TestStatusEndJSON(t *testing.T) {
	var old checkpoint.Checkpoint
	if err := json.Unmarshal([]byte(`{"service_id":"s","version":3,"read_through":5,"deployment_start":4}`), &old); err != nil {
		t.Fatal(err)
	}
	if old.StatusEnd != (checkpoint.StatusEnd{}) {
		t.Fatalf("StatusEnd = %+v, want zero", old.StatusEnd)
	}
	b, err := json.Marshal(old)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), "status_end") {
		t.Fatalf("zero StatusEnd written: %s", b)
	}
	old.StatusEnd = checkpoint.StatusEnd{Start: 10, Through: 20}
	b, _ = json.Marshal(old)
	var back checkpoint.Checkpoint
	if err := json.Unmarshal(b, &back); err != nil || back.StatusEnd != old.StatusEnd {
		t.Fatalf("round trip: %+v, %v (%s)", back.StatusEnd, err, b)
	}
}
