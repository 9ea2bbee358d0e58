package checkpoint_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/modelarts-notifier/modelarts-notifier/functions/checkpoint"
	"github.com/modelarts-notifier/modelarts-notifier/functions/checkpoint/checkpointtest"
)

// realisticBatch returns n checkpoints shaped as the watch loop's.
func realisticBatch(prefix string, n int) ([]*checkpoint.Checkpoint, []string) {
	cps := make([]*checkpoint.Checkpoint, n)
	ids := make([]string, n)
	for i := range n {
		cp := checkpointtest.RealisticSample(fmt.Sprintf("%s-%04d", prefix, i), 50, 2)
		cps[i], ids[i] = &cp, cp.ServiceID
	}
	return cps, ids
}

func TestFileBatchReadsAndWritesOnce(t *testing.T) {
	f := newFile(t, filepath.Join(t.TempDir(), "checkpoints.json"))
	io := func() (int, int) { return checkpoint.FileIO(f) }
	r0, w0 := io()
	step := func(what string, reads, writes int) {
		t.Helper()
		r, w := io()
		if r-r0 != reads || w-w0 != writes {
			t.Errorf("%s: %d reads and %d writes of the file, want %d and %d", what, r-r0, w-w0, reads, writes)
		}
		r0, w0 = r, w
	}
	cps, ids := realisticBatch("svc", 1000)
	if err := errors.Join(f.SaveMany(t.Context(), cps)...); err != nil {
		t.Fatal(err)
	}
	step("SaveMany of 1,000 new services", 1, 1)
	got, err := f.LoadMany(t.Context(), append(ids, "svc-missing"))
	if err != nil || len(got) != 1000 {
		t.Fatalf("LoadMany = %d checkpoints, %v", len(got), err)
	}
	step("LoadMany of 1,001 services", 1, 0)
	for _, cp := range cps[:10] {
		cp.ReadThrough++
	}
	if err := errors.Join(f.SaveMany(t.Context(), cps[:10])...); err != nil {
		t.Fatal(err)
	}
	step("SaveMany of 10 changed services", 1, 1)
	stale := make([]*checkpoint.Checkpoint, 5)
	for i := range stale {
		cp := cps[i].Clone()
		cp.Version--
		stale[i] = &cp
	}
	for _, err := range f.SaveMany(t.Context(), stale) {
		if !errors.Is(err, checkpoint.ErrConflict) {
			t.Fatalf("stale save: %v, want ErrConflict", err)
		}
	}
	step("SaveMany of conflicts only", 1, 0)
	f.SaveMany(t.Context(), nil)
	f.LoadMany(t.Context(), nil)
	step("empty batches", 0, 0)
	if f.Writes() != 1010 {
		t.Errorf("Writes() = %d, want 1010 (checkpoints saved, not file writes)", f.Writes())
	}
}

// crashEnv makes the test binary act as a process that dies in the middle
// of a SaveMany, after the new file is written and before it is renamed
// into place.
const crashEnv = "CHECKPOINT_TEST_CRASH_FILE"

// TestFileBatchCrashIsAllOrNothing kills a process in the middle of a
// SaveMany of 100 checkpoints (half new services, half changed ones): none
// of the batch is visible afterwards, the file is intact, and the same
// batch then saves whole.
func TestFileBatchCrashIsAllOrNothing(t *testing.T) {
	path := filepath.Join(t.TempDir(), "checkpoints.json")
	f := newFile(t, path)
	before, _ := crashBatch()
	if err := errors.Join(f.SaveMany(t.Context(), before)...); err != nil {
		t.Fatal(err)
	}
	old := readFile(t, path)

	cmd := exec.Command(os.Args[0], "-test.run=^TestFileCrashHelperProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), crashEnv+"="+path)
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 3 || !strings.Contains(string(out), "about to rename") {
		t.Fatalf("helper process: %v, want it to die with status 3 before the rename:\n%s", err, out)
	}
	if got := readFile(t, path); got != old {
		t.Fatal("the file changed although the process died before renaming the new one into place")
	}
	g := newFile(t, path) // a fresh process
	_, ids := crashBatch()
	got, err := g.LoadMany(t.Context(), ids)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		cp, ok := got[id]
		if strings.HasPrefix(id, "svc-new") && ok {
			t.Errorf("%s is visible after the crash", id)
		}
		if strings.HasPrefix(id, "svc-old") && (cp.Version != 1 || cp.ReadThrough == 42) {
			t.Errorf("%s: version %d, read through %d after the crash; want the old checkpoint", id, cp.Version, cp.ReadThrough)
		}
	}

	// Without a crash the same batch (read at the versions still stored)
	// saves whole.
	batch, _ := crashBatch()
	fresh, _ := realisticBatch("svc-new", 50)
	batch = append(batch, fresh...)
	for _, cp := range batch {
		cp.Version = got[cp.ServiceID].Version
		cp.ReadThrough = 42
	}
	if err := errors.Join(g.SaveMany(t.Context(), batch)...); err != nil {
		t.Fatal(err)
	}
	got, err = g.LoadMany(t.Context(), ids)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		if got[id].ReadThrough != 42 {
			t.Errorf("%s: read through %d after the batch, want 42", id, got[id].ReadThrough)
		}
	}
}

// crashBatch is the batch the crash test saves: svc-old-* exist before it,
// svc-new-* do not.
func crashBatch() (old []*checkpoint.Checkpoint, ids []string) {
	old, ids = realisticBatch("svc-old", 50)
	_, newIDs := realisticBatch("svc-new", 50)
	return old, append(ids, newIDs...)
}

// TestFileCrashHelperProcess is the process of TestFileBatchCrashIsAllOrNothing
// that dies; run on its own, it does nothing.
func TestFileCrashHelperProcess(t *testing.T) {
	path := os.Getenv(crashEnv)
	if path == "" {
		return
	}
	f, err := checkpoint.NewFile(path)
	if err != nil {
		t.Fatal(err)
	}
	old, _ := crashBatch()
	fresh, _ := realisticBatch("svc-new", 50)
	batch := append([]*checkpoint.Checkpoint{}, fresh...)
	for _, cp := range old {
		cp.Version = 1
		cp.ReadThrough = 42
		batch = append(batch, cp)
	}
	checkpoint.SetBeforeRename(f, func() {
		fmt.Println("about to rename: dying")
		os.Exit(3)
	})
	f.SaveMany(t.Context(), batch)
	t.Fatal("SaveMany returned: the crash did not happen")
}

func TestFileBatchFailedWriteSavesNone(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "checkpoints.json")
	f := newFile(t, path)
	x := checkpoint.Checkpoint{ServiceID: "svc-x"}
	if err := f.Save(t.Context(), &x); err != nil {
		t.Fatal(err)
	}
	before := readFile(t, path)
	// The new file disappears before the rename, so the rename fails.
	checkpoint.SetBeforeRename(f, func() {
		tmps, _ := filepath.Glob(filepath.Join(dir, ".checkpoints.json.tmp-*"))
		for _, tmp := range tmps {
			os.Remove(tmp)
		}
	})
	batch := []*checkpoint.Checkpoint{
		{ServiceID: "svc-a"},
		{ServiceID: "svc-x", Version: 5}, // a conflict stays a conflict
		{ServiceID: "svc-x", Version: 1, ReadThrough: 9},
	}
	errs := f.SaveMany(t.Context(), batch)
	for _, i := range []int{0, 2} {
		if err := errs[i]; err == nil || errors.Is(err, checkpoint.ErrConflict) || !strings.Contains(err.Error(), path) ||
			!strings.Contains(err.Error(), batch[i].ServiceID) {
			t.Errorf("item %d: %v, want the write error naming %s and %s", i, err, path, batch[i].ServiceID)
		}
	}
	if !errors.Is(errs[1], checkpoint.ErrConflict) {
		t.Errorf("item 1: %v, want ErrConflict", errs[1])
	}
	if batch[0].Version != 0 || batch[2].Version != 1 {
		t.Errorf("versions after a failed write = %d, %d; want them unchanged (0, 1)", batch[0].Version, batch[2].Version)
	}
	if got := readFile(t, path); got != before {
		t.Error("a failed write changed the file")
	}
	if f.Writes() != 1 {
		t.Errorf("Writes() = %d, want 1", f.Writes())
	}
}

func TestFileBatchCorrupt(t *testing.T) {
	path := filepath.Join(t.TempDir(), "checkpoints.json")
	f := newFile(t, path)
	for _, content := range []string{"this is not JSON", `{"svc-a": {"service_id": "svc-a", "edge_keys": "%%%"}}`} {
		writeFile(t, path, content)
		if _, err := f.LoadMany(t.Context(), []string{"svc-a"}); err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "corrupt") {
			t.Errorf("LoadMany on a corrupt file = %v, want an error naming %s", err, path)
		}
		cps := []*checkpoint.Checkpoint{{ServiceID: "svc-a"}, {ServiceID: "svc-b"}}
		for i, err := range f.SaveMany(t.Context(), cps) {
			if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), cps[i].ServiceID) {
				t.Errorf("SaveMany on a corrupt file, item %d = %v, want an error naming %s", i, err, path)
			}
		}
		if got := readFile(t, path); got != content {
			t.Errorf("the corrupt file was rewritten to %q", got)
		}
	}
}

// TestFileLegacy loads a checkpoint file of the previous release, saves
// every checkpoint back, and checks that the file is then in the new
// encoding and means the same.
func TestFileLegacy(t *testing.T) {
	raw, err := os.ReadFile(legacyFile)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "checkpoints.json")
	writeFile(t, path, string(raw))
	var want map[string]checkpoint.Checkpoint
	if err := json.Unmarshal(raw, &want); err != nil {
		t.Fatal(err)
	}
	f := newFile(t, path)
	ids := slices.Sorted(maps.Keys(want))
	got, err := f.LoadMany(t.Context(), ids)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
		t.Fatalf("LoadMany of the previous release's file (-want +got):\n%s", diff)
	}
	var batch []*checkpoint.Checkpoint
	for _, id := range ids {
		cp := got[id]
		batch = append(batch, &cp)
		if len(cp.Edge) > 0 && len(cp.Edge[0]) != 8 {
			t.Errorf("%s: edge entry %q is not an EdgeKey", id, cp.Edge[0])
		}
	}
	if err := errors.Join(f.SaveMany(t.Context(), batch)...); err != nil {
		t.Fatal(err)
	}
	data := readFile(t, path)
	if strings.Contains(data, `"edge"`) || !strings.Contains(data, `"edge_keys"`) {
		t.Errorf("the rewritten file still has the legacy edge field, or no edge_keys:\n%s", data)
	}
	again, err := newFile(t, path).LoadMany(t.Context(), ids)
	if err != nil {
		t.Fatal(err)
	}
	for _, cp := range batch {
		if !again[cp.ServiceID].Equal(*cp) {
			t.Errorf("%s: reloaded %+v, want %+v", cp.ServiceID, again[cp.ServiceID], *cp)
		}
	}
	if len(data) >= len(raw) {
		t.Errorf("the rewritten file is %d bytes, the legacy one %d: packing saved nothing", len(data), len(raw))
	}
}
