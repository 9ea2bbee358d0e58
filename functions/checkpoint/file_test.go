package checkpoint_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/modelarts-notifier/modelarts-notifier/functions/checkpoint"
	"github.com/modelarts-notifier/modelarts-notifier/functions/checkpoint/checkpointtest"
)

func TestFile(t *testing.T) {
	checkpointtest.TestStore(t, func(t *testing.T) checkpoint.Store {
		return newFile(t, filepath.Join(t.TempDir(), "checkpoints.json"))
	})
}

func newFile(t *testing.T, path string) *checkpoint.File {
	t.Helper()
	f, err := checkpoint.NewFile(path)
	if err != nil {
		t.Fatalf("NewFile: %v", err)
	}
	return f
}

func TestFileCreatesParentDirectories(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a", "b", "checkpoints.json")
	f := newFile(t, path)
	if _, err := os.Stat(filepath.Dir(path)); err != nil {
		t.Fatalf("NewFile did not create the parent directory: %v", err)
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("NewFile created the file before any Save (stat: %v)", err)
	}
	if f.Path() != path {
		t.Errorf("Path() = %q, want %q", f.Path(), path)
	}
	cp := checkpoint.Checkpoint{ServiceID: "svc-a"}
	if err := f.Save(t.Context(), &cp); err != nil {
		t.Fatalf("Save: %v", err)
	}
}

func TestFileLayout(t *testing.T) {
	path := filepath.Join(t.TempDir(), "checkpoints.json")
	f := newFile(t, path)
	for _, id := range []string{"svc-a", "svc-b"} {
		cp := checkpointtest.Sample(id)
		if err := f.Save(t.Context(), &cp); err != nil {
			t.Fatalf("Save(%s): %v", id, err)
		}
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// The file is one JSON object: service id -> checkpoint.
	var got map[string]checkpoint.Checkpoint
	if err := json.Unmarshal(data, &got); err != nil {
		t.Fatalf("the file is not a JSON object of checkpoints: %v\n%s", err, data)
	}
	want := map[string]checkpoint.Checkpoint{}
	for _, id := range []string{"svc-a", "svc-b"} {
		cp := checkpointtest.Sample(id)
		cp.Version = 1
		want[id] = cp
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("file content (-want +got):\n%s", diff)
	}
}

func TestFileCorrupt(t *testing.T) {
	tests := []struct {
		name    string
		content string
	}{
		{"garbage", "this is not JSON"},
		{"truncated", `{"svc-a": {"service_id": "svc-a", "vers`},
		{"empty", ""},
		{"null", "null"},
		{"array", `[{"service_id": "svc-a"}]`},
		{"data after the object", `{} {}`},
		{"key and service id differ", `{"svc-a": {"service_id": "svc-b", "version": 1}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "checkpoints.json")

			// Corrupt before start-up: NewFile fails.
			writeFile(t, path, tt.content)
			if _, err := checkpoint.NewFile(path); err == nil || !strings.Contains(err.Error(), path) {
				t.Errorf("NewFile on a corrupt file = %v, want an error naming %s", err, path)
			}

			// Corrupted while running: Load and Save fail, the file stays as it is.
			os.Remove(path)
			f := newFile(t, path)
			writeFile(t, path, tt.content)
			if _, _, err := f.Load(t.Context(), "svc-a"); err == nil || !strings.Contains(err.Error(), path) {
				t.Errorf("Load on a corrupt file = %v, want an error naming %s", err, path)
			}
			cp := checkpoint.Checkpoint{ServiceID: "svc-a"}
			if err := f.Save(t.Context(), &cp); err == nil || !strings.Contains(err.Error(), path) {
				t.Errorf("Save on a corrupt file = %v, want an error naming %s", err, path)
			}
			if got := readFile(t, path); got != tt.content {
				t.Errorf("the corrupt file was rewritten to %q; it must be left for a person to inspect", got)
			}
			if f.Writes() != 0 {
				t.Errorf("Writes() = %d after failed saves, want 0", f.Writes())
			}
		})
	}
}

func TestFileAtomicWriteLeavesNoTempFiles(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "checkpoints.json")
	f := newFile(t, path)
	cp := checkpointtest.Sample("svc-a")
	for range 20 {
		if err := f.Save(t.Context(), &cp); err != nil {
			t.Fatalf("Save: %v", err)
		}
	}
	stale := checkpoint.Checkpoint{ServiceID: "svc-a", Version: 1}
	if err := f.Save(t.Context(), &stale); !errors.Is(err, checkpoint.ErrConflict) {
		t.Fatalf("stale Save = %v, want ErrConflict", err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	// The lock file stays: removing it while another process waits on it
	// would let two writers hold "the" lock at once.
	want := []string{"checkpoints.json", "checkpoints.json.lock"}
	if diff := cmp.Diff(want, names); diff != "" {
		t.Errorf("directory after saves (-want +got):\n%s", diff)
	}
	if f.Writes() != 20 {
		t.Errorf("Writes() = %d, want 20", f.Writes())
	}
}

func TestFileFailedWriteKeepsOldFile(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "ro")
	path := filepath.Join(dir, "checkpoints.json")
	f := newFile(t, path)
	cp := checkpointtest.Sample("svc-a")
	if err := f.Save(t.Context(), &cp); err != nil {
		t.Fatalf("Save: %v", err)
	}
	before := readFile(t, path)
	// The new file vanishes before it is renamed into place (as if the
	// disk failed it): the write fails, whoever runs the test (root
	// ignores directory permissions, so they cannot make it fail).
	checkpoint.SetBeforeRename(f, func() {
		tmps, _ := filepath.Glob(filepath.Join(dir, ".checkpoints.json.tmp-*"))
		for _, tmp := range tmps {
			os.Remove(tmp)
		}
	})
	if err := f.Save(t.Context(), &cp); err == nil || !strings.Contains(err.Error(), path) {
		t.Fatalf("Save whose write fails = %v, want an error naming %s", err, path)
	}
	if cp.Version != 1 {
		t.Errorf("a failed Save changed Version to %d", cp.Version)
	}
	if got := readFile(t, path); got != before {
		t.Errorf("a failed Save changed the file")
	}
}

// Two File values on one path stand for two processes sharing the file.
func TestFileTwoStoresOnOnePath(t *testing.T) {
	path := filepath.Join(t.TempDir(), "checkpoints.json")
	a, b := newFile(t, path), newFile(t, path)

	t.Run("stale writer conflicts", func(t *testing.T) {
		first := checkpoint.Checkpoint{ServiceID: "svc-x", ReadThrough: 1}
		if err := a.Save(t.Context(), &first); err != nil {
			t.Fatalf("a.Save: %v", err)
		}
		fromB := mustLoad(t, b, "svc-x")
		first.ReadThrough = 2
		if err := a.Save(t.Context(), &first); err != nil {
			t.Fatalf("a.Save: %v", err)
		}
		fromB.ReadThrough = 3
		err := b.Save(t.Context(), &fromB)
		if !errors.Is(err, checkpoint.ErrConflict) || !strings.Contains(err.Error(), "svc-x") {
			t.Fatalf("b's stale Save = %v, want ErrConflict naming svc-x", err)
		}
		if got := mustLoad(t, b, "svc-x"); got.ReadThrough != 2 || got.Version != 2 {
			t.Errorf("stored = read through %d, version %d; want a's 2, 2", got.ReadThrough, got.Version)
		}
	})

	t.Run("concurrent writers: one wins", func(t *testing.T) {
		base := checkpoint.Checkpoint{ServiceID: "svc-race"}
		if err := a.Save(t.Context(), &base); err != nil {
			t.Fatal(err)
		}
		for round := range 10 {
			ca, cb := mustLoad(t, a, "svc-race"), mustLoad(t, b, "svc-race")
			ca.ReadThrough, cb.ReadThrough = 1, 2
			errs := make(chan error, 2)
			start := make(chan struct{})
			go func() { <-start; errs <- a.Save(t.Context(), &ca) }()
			go func() { <-start; errs <- b.Save(t.Context(), &cb) }()
			close(start)
			e1, e2 := <-errs, <-errs
			if (e1 == nil) == (e2 == nil) {
				t.Fatalf("round %d: errors %v and %v; want exactly one writer to win", round, e1, e2)
			}
			if loser := errors.Join(e1, e2); !errors.Is(loser, checkpoint.ErrConflict) {
				t.Fatalf("round %d: loser got %v, want ErrConflict", round, loser)
			}
		}
	})

	t.Run("different services: no update is lost", func(t *testing.T) {
		errs := make(chan error, 2)
		for i, s := range []*checkpoint.File{a, b} {
			go func() {
				for j := range 20 {
					cp := checkpoint.Checkpoint{ServiceID: fmt.Sprintf("svc-%d-%d", i, j)}
					if err := s.Save(t.Context(), &cp); err != nil {
						errs <- err
						return
					}
				}
				errs <- nil
			}()
		}
		for range 2 {
			if err := <-errs; err != nil {
				t.Fatal(err)
			}
		}
		for i := range 2 {
			for j := range 20 {
				mustLoad(t, a, fmt.Sprintf("svc-%d-%d", i, j))
			}
		}
	})
}

// helperEnv makes the test binary act as a second process writing the file.
const helperEnv = "CHECKPOINT_TEST_HELPER_FILE"

// TestFileTwoProcesses runs this test binary again as a second process; both
// processes add to one service's checkpoint in a load-save-retry loop and
// write their own services. Every successful save must count: the final
// version equals the sum of both processes' successes, and no service is lost.
func TestFileTwoProcesses(t *testing.T) {
	path := filepath.Join(t.TempDir(), "checkpoints.json")
	cmd := exec.Command(os.Args[0], "-test.run=^TestFileHelperProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), helperEnv+"="+path)
	type result struct {
		out []byte
		err error
	}
	done := make(chan result, 1)
	go func() {
		out, err := cmd.CombinedOutput()
		done <- result{out, err}
	}()
	mine, err := hammer(t, path, "parent")
	if err != nil {
		t.Fatalf("parent: %v", err)
	}
	res := <-done
	if res.err != nil {
		t.Fatalf("helper process: %v\n%s", res.err, res.out)
	}
	m := regexp.MustCompile(`successes=(\d+)`).FindSubmatch(res.out)
	if m == nil {
		t.Fatalf("helper process printed no result:\n%s", res.out)
	}
	theirs, _ := strconv.Atoi(string(m[1]))

	f := newFile(t, path)
	got := mustLoad(t, f, "svc-shared")
	if int(got.Version) != mine+theirs || int(got.ReadThrough) != mine+theirs {
		t.Errorf("svc-shared: version %d, read through %d after %d+%d successful saves; an update was lost",
			got.Version, got.ReadThrough, mine, theirs)
	}
	for _, who := range []string{"parent", "helper"} {
		for j := range hammerServices {
			mustLoad(t, f, fmt.Sprintf("svc-%s-%d", who, j))
		}
	}
}

// TestFileHelperProcess is the second process of TestFileTwoProcesses; run
// on its own, it does nothing.
func TestFileHelperProcess(t *testing.T) {
	path := os.Getenv(helperEnv)
	if path == "" {
		return
	}
	n, err := hammer(t, path, "helper")
	if err != nil {
		t.Fatal(err)
	}
	fmt.Printf("successes=%d\n", n)
}

const (
	hammerServices = 10 // services of its own each process saves
	hammerShared   = 3  // attempts on svc-shared after each of them
)

// hammer saves hammerServices services of its own and, after each, tries
// hammerShared times to increment svc-shared's ReadThrough from a fresh
// Load. It returns how many of those increments were saved.
func hammer(t *testing.T, path, who string) (successes int, err error) {
	f, err := checkpoint.NewFile(path)
	if err != nil {
		return 0, err
	}
	ctx := t.Context()
	for j := range hammerServices {
		cp := checkpoint.Checkpoint{ServiceID: fmt.Sprintf("svc-%s-%d", who, j)}
		if err := f.Save(ctx, &cp); err != nil {
			return successes, err
		}
		for range hammerShared {
			cp, ok, err := f.Load(ctx, "svc-shared")
			if err != nil {
				return successes, err
			}
			if !ok {
				cp = checkpoint.Checkpoint{ServiceID: "svc-shared"}
			}
			cp.ReadThrough++
			switch err := f.Save(ctx, &cp); {
			case err == nil:
				successes++
			case errors.Is(err, checkpoint.ErrConflict):
			default:
				return successes, err
			}
		}
	}
	return successes, nil
}

func mustLoad(t *testing.T, s checkpoint.Store, serviceID string) checkpoint.Checkpoint {
	t.Helper()
	cp, ok, err := s.Load(t.Context(), serviceID)
	if err != nil || !ok {
		t.Fatalf("Load(%s) = ok %v, err %v; want a checkpoint", serviceID, ok, err)
	}
	return cp
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}
