package checkpoint_test

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/modelarts-notifier/modelarts-notifier/functions/checkpoint"
	"github.com/modelarts-notifier/modelarts-notifier/functions/checkpoint/checkpointtest"
)

// legacyFile is a checkpoint file written by the previous release (see its
// README): its edges are arrays of fingerprints.
var legacyFile = filepath.Join("..", "watch", "testdata", "upgrade", "watching.json")

func TestEdgeKey(t *testing.T) {
	// Expected values from Python: base64.urlsafe_b64encode(
	// hashlib.sha256(fp.encode()).digest()[:6]).
	for fp, want := range map[string]string{
		"1562597251764:normal:9f86d081": "gALXA_tj",
		"b931aa23f72cd152":              "_LPBdIax",
		"":                              "47DEQpj8",
	} {
		if got := checkpoint.EdgeKey(fp); got != want {
			t.Errorf("EdgeKey(%q) = %q, want %q", fp, got, want)
		}
	}
	seen := map[string]string{}
	for i := range 10000 {
		fp := fmt.Sprintf("%016x", uint64(i)*0x9e3779b97f4a7c15)
		k := checkpoint.EdgeKey(fp)
		if len(k) != 8 || strings.Trim(k, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") != "" {
			t.Fatalf("EdgeKey(%q) = %q, want 8 base64url characters", fp, k)
		}
		if other, dup := seen[k]; dup {
			t.Fatalf("EdgeKey(%q) = EdgeKey(%q) = %q", fp, other, k)
		}
		seen[k] = fp
	}
}

func TestJSONRoundTrip(t *testing.T) {
	for name, cp := range map[string]checkpoint.Checkpoint{
		"sample":    checkpointtest.Sample("svc-a"),
		"realistic": checkpointtest.RealisticSample("svc-b", 50, 3),
		"minimal":   {ServiceID: "svc-c", Version: 3},
	} {
		t.Run(name, func(t *testing.T) {
			data, err := json.Marshal(cp)
			if err != nil {
				t.Fatal(err)
			}
			var got checkpoint.Checkpoint
			if err := json.Unmarshal(data, &got); err != nil {
				t.Fatalf("Unmarshal(%s): %v", data, err)
			}
			if diff := cmp.Diff(cp, got, cmpopts.EquateEmpty()); diff != "" || !got.Equal(cp) {
				t.Errorf("round trip through %s (-want +got):\n%s", data, diff)
			}
			// As an element of the file's map, indented.
			data, err = json.MarshalIndent(map[string]checkpoint.Checkpoint{cp.ServiceID: cp}, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			var all map[string]checkpoint.Checkpoint
			if err := json.Unmarshal(data, &all); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(cp, all[cp.ServiceID], cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("round trip in a map (-want +got):\n%s", diff)
			}
		})
	}
}

func TestJSONFieldNames(t *testing.T) {
	data, err := json.Marshal(checkpointtest.Sample("svc-a"))
	if err != nil {
		t.Fatal(err)
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(data, &fields); err != nil {
		t.Fatal(err)
	}
	want := []string{"deployment_start", "edge_keys", "first_run_at", "first_run_from", "first_run_read_from",
		"generation", "read_through", "sent", "service_id", "threads", "version"}
	if diff := cmp.Diff(want, slices.Sorted(maps.Keys(fields))); diff != "" {
		t.Errorf("JSON fields of a full checkpoint (-want +got):\n%s\n%s", diff, data)
	}
	// Packed: the edge's two keys, 6 bytes each, in base64url.
	if got, want := string(fields["edge_keys"]), `"gALXA_tjYVvu3CpD"`; got != want {
		t.Errorf("edge_keys = %s, want %s", got, want)
	}
	data, err = json.Marshal(checkpoint.Checkpoint{ServiceID: "svc-a", Edge: []string{}})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(data), `{"service_id":"svc-a","version":0,"read_through":0}`; got != want {
		t.Errorf("a checkpoint with an empty edge = %s, want %s", got, want)
	}
}

func TestJSONLegacyEdge(t *testing.T) {
	raw, err := os.ReadFile(legacyFile)
	if err != nil {
		t.Fatal(err)
	}
	// What the previous release wrote, read without this package's decoder.
	var legacy map[string]struct {
		ServiceID   string   `json:"service_id"`
		Version     int64    `json:"version"`
		ReadThrough int64    `json:"read_through"`
		Edge        []string `json:"edge"`
	}
	if err := json.Unmarshal(raw, &legacy); err != nil {
		t.Fatal(err)
	}
	var all map[string]checkpoint.Checkpoint
	if err := json.Unmarshal(raw, &all); err != nil {
		t.Fatalf("a checkpoint file of the previous release does not decode: %v", err)
	}
	if len(all) != len(legacy) || len(all) == 0 {
		t.Fatalf("decoded %d checkpoints, the file holds %d", len(all), len(legacy))
	}
	edges := 0
	for id, old := range legacy {
		cp := all[id]
		var want []string
		for _, fp := range old.Edge {
			want = append(want, checkpoint.EdgeKey(fp))
		}
		edges += len(want)
		if diff := cmp.Diff(want, cp.Edge, cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("%s: Edge (-EdgeKeys of the fingerprints +decoded):\n%s", id, diff)
		}
		if cp.ServiceID != old.ServiceID || cp.Version != old.Version || cp.ReadThrough != old.ReadThrough {
			t.Errorf("%s: decoded id %q, version %d, read through %d; the file says %q, %d, %d",
				id, cp.ServiceID, cp.Version, cp.ReadThrough, old.ServiceID, old.Version, old.ReadThrough)
		}
		// Written again, it is packed and reads back the same.
		data, err := json.Marshal(cp)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(data), `"edge"`) {
			t.Errorf("%s: re-encoded with the legacy edge field: %s", id, data)
		}
		var again checkpoint.Checkpoint
		if err := json.Unmarshal(data, &again); err != nil || !again.Equal(cp) {
			t.Errorf("%s: re-encoded checkpoint reads back as %+v (%v), want %+v", id, again, err, cp)
		}
	}
	if edges == 0 {
		t.Fatalf("%s has no edge fingerprints to convert", legacyFile)
	}
	stalled := all["svc-stalled"]
	if len(stalled.Edge) != 7 || stalled.Edge[0] != checkpoint.EdgeKey("5925baf7ca3662d4") || stalled.Sent["msg_48e07be4a3f1a5124a2a36976936dac1"].At != 1795166466000 {
		t.Errorf("svc-stalled decoded as %+v", stalled)
	}
}

func TestJSONEdgeEntriesThatAreNotKeys(t *testing.T) {
	key := checkpoint.EdgeKey("fp-1")
	cp := checkpoint.Checkpoint{ServiceID: "svc-a", Edge: []string{key, "fp-2", "b931aa23f72cd152"}}
	data, err := json.Marshal(cp)
	if err != nil {
		t.Fatal(err)
	}
	var got checkpoint.Checkpoint
	if err := json.Unmarshal(data, &got); err != nil {
		t.Fatal(err)
	}
	want := []string{key, checkpoint.EdgeKey("fp-2"), checkpoint.EdgeKey("b931aa23f72cd152")}
	if diff := cmp.Diff(want, got.Edge); diff != "" {
		t.Errorf("an entry that is not an EdgeKey is stored as its EdgeKey (-want +got):\n%s", diff)
	}
	// The memory store behaves the same.
	m := checkpoint.NewMemory()
	if err := m.Save(t.Context(), &cp); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, mustLoad(t, m, "svc-a").Edge); diff != "" {
		t.Errorf("memory store (-want +got):\n%s", diff)
	}
	if cp.Edge[1] != "fp-2" {
		t.Errorf("Save changed the caller's Edge to %v", cp.Edge)
	}
}

func TestJSONDecodeEdgeErrors(t *testing.T) {
	for name, doc := range map[string]string{
		"not base64":           `{"service_id":"a","edge_keys":"!!!!!!!!"}`,
		"not whole keys":       `{"service_id":"a","edge_keys":"gALXA_tjYV"}`,
		"padded":               `{"service_id":"a","edge_keys":"gALX="}`,
		"edge_keys not string": `{"service_id":"a","edge_keys":["gALXA_tj"]}`,
		"edge not an array":    `{"service_id":"a","edge":"x"}`,
	} {
		var cp checkpoint.Checkpoint
		if err := json.Unmarshal([]byte(doc), &cp); err == nil {
			t.Errorf("%s: Unmarshal(%s) = %+v, want an error", name, doc, cp)
		}
	}

	// Both fields (never written together): the edge is both.
	var cp checkpoint.Checkpoint
	if err := json.Unmarshal([]byte(`{"service_id":"a","edge":["fp"],"edge_keys":"gALXA_tj"}`), &cp); err != nil {
		t.Fatal(err)
	}
	if want := []string{checkpoint.EdgeKey("fp"), "gALXA_tj"}; !slices.Equal(cp.Edge, want) {
		t.Errorf("Edge = %v, want %v", cp.Edge, want)
	}
	// null leaves the value alone, as encoding/json does.
	cp = checkpoint.Checkpoint{ServiceID: "kept"}
	if err := cp.UnmarshalJSON([]byte("null")); err != nil || cp.ServiceID != "kept" {
		t.Errorf("UnmarshalJSON(null) = %v, left %+v", err, cp)
	}
	// Decoding replaces every field.
	cp = checkpointtest.Sample("svc-old")
	if err := json.Unmarshal([]byte(`{"service_id":"svc-new","version":1}`), &cp); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(checkpoint.Checkpoint{ServiceID: "svc-new", Version: 1}, cp); diff != "" {
		t.Errorf("decoding into a used value (-want +got):\n%s", diff)
	}
}
