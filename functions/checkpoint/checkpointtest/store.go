package checkpointtest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/modelarts-notifier/modelarts-notifier/functions/checkpoint"
)

// writeCounter is implemented by every store of package checkpoint.
type writeCounter interface{ Writes() int }

// TestStore is the contract every checkpoint.Store passes, Load and Save
// and the batch calls LoadMany and SaveMany (missing ids, conflicts and
// invalid items failing alone within a batch, versions, one service twice in
// a batch, concurrent batches, batches of 250 and 1,000, and LoadMany
// agreeing with Load). newStore returns a new, empty store for each
// subtest. Stores that count writes (Writes() int) are checked to count
// exactly the successful saves, one per checkpoint.
func TestStore(t *testing.T, newStore func(t *testing.T) checkpoint.Store) {
	t.Helper()
	t.Run("load missing", func(t *testing.T) {
		s := newStore(t)
		cp, ok, err := s.Load(t.Context(), "svc-missing")
		if err != nil || ok {
			t.Fatalf("Load(missing) = ok %v, err %v; want ok false, no error", ok, err)
		}
		if diff := cmp.Diff(checkpoint.Checkpoint{}, cp, cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("Load(missing) returned a non-zero checkpoint (-want +got):\n%s", diff)
		}
		wantWrites(t, s, 0)
	})

	t.Run("round trip", func(t *testing.T) {
		s := newStore(t)
		cp := Sample("svc-a")
		if err := s.Save(t.Context(), &cp); err != nil {
			t.Fatalf("Save: %v", err)
		}
		if cp.Version != 1 {
			t.Errorf("after the first Save, Version = %d, want 1", cp.Version)
		}
		want := Sample("svc-a")
		want.Version = 1
		got := mustLoad(t, s, "svc-a")
		if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("Load after Save (-want +got):\n%s", diff)
		}
		if !got.Equal(want) {
			t.Errorf("Load after Save: Equal reports a difference cmp.Diff does not")
		}
		if _, ok, err := s.Load(t.Context(), "svc-b"); err != nil || ok {
			t.Errorf("Load(other service) = ok %v, err %v; want ok false, no error", ok, err)
		}
		wantWrites(t, s, 1)
	})

	t.Run("minimal checkpoint round trip", func(t *testing.T) {
		s := newStore(t)
		cp := checkpoint.Checkpoint{ServiceID: "svc-min"}
		if err := s.Save(t.Context(), &cp); err != nil {
			t.Fatalf("Save: %v", err)
		}
		want := checkpoint.Checkpoint{ServiceID: "svc-min", Version: 1}
		if diff := cmp.Diff(want, mustLoad(t, s, "svc-min"), cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("Load after Save (-want +got):\n%s", diff)
		}
	})

	t.Run("version increments", func(t *testing.T) {
		s := newStore(t)
		cp := checkpoint.Checkpoint{ServiceID: "svc-a"}
		for i := int64(1); i <= 5; i++ {
			cp.ReadThrough = 1000 * i
			if err := s.Save(t.Context(), &cp); err != nil {
				t.Fatalf("Save #%d: %v", i, err)
			}
			if cp.Version != i {
				t.Fatalf("after Save #%d, Version = %d, want %d", i, cp.Version, i)
			}
		}
		got := mustLoad(t, s, "svc-a")
		if got.Version != 5 || got.ReadThrough != 5000 {
			t.Errorf("Load = version %d, read through %d; want 5, 5000", got.Version, got.ReadThrough)
		}
		wantWrites(t, s, 5)
	})

	t.Run("stale writer gets ErrConflict", func(t *testing.T) {
		s := newStore(t)
		first := checkpoint.Checkpoint{ServiceID: "svc-a", ReadThrough: 1}
		if err := s.Save(t.Context(), &first); err != nil {
			t.Fatalf("Save: %v", err)
		}
		a, b := mustLoad(t, s, "svc-a"), mustLoad(t, s, "svc-a")
		b.ReadThrough = 2
		if err := s.Save(t.Context(), &b); err != nil {
			t.Fatalf("Save(b): %v", err)
		}
		a.ReadThrough = 3
		err := s.Save(t.Context(), &a)
		wantConflict(t, err, "svc-a")
		if a.Version != 1 {
			t.Errorf("a failed Save changed Version to %d, want it left at 1", a.Version)
		}
		if got := mustLoad(t, s, "svc-a"); got.Version != 2 || got.ReadThrough != 2 {
			t.Errorf("after the stale write, Load = version %d, read through %d; want the winner's 2, 2", got.Version, got.ReadThrough)
		}
		wantWrites(t, s, 2)
	})

	t.Run("second first write gets ErrConflict", func(t *testing.T) {
		s := newStore(t)
		a := checkpoint.Checkpoint{ServiceID: "svc-a", ReadThrough: 1}
		b := checkpoint.Checkpoint{ServiceID: "svc-a", ReadThrough: 2}
		if err := s.Save(t.Context(), &a); err != nil {
			t.Fatalf("Save(a): %v", err)
		}
		wantConflict(t, s.Save(t.Context(), &b), "svc-a")
		if b.Version != 0 {
			t.Errorf("a failed Save changed Version to %d, want it left at 0", b.Version)
		}
		if got := mustLoad(t, s, "svc-a"); got.ReadThrough != 1 {
			t.Errorf("Load = read through %d, want the first writer's 1", got.ReadThrough)
		}
	})

	t.Run("version ahead of the store gets ErrConflict", func(t *testing.T) {
		s := newStore(t)
		cp := checkpoint.Checkpoint{ServiceID: "svc-a", Version: 7}
		wantConflict(t, s.Save(t.Context(), &cp), "svc-a")
		if _, ok, err := s.Load(t.Context(), "svc-a"); err != nil || ok {
			t.Errorf("Load after a failed Save = ok %v, err %v; want ok false, no error", ok, err)
		}
		wantWrites(t, s, 0)
	})

	t.Run("stored copy is isolated from the caller", func(t *testing.T) {
		s := newStore(t)
		cp := Sample("svc-a")
		if err := s.Save(t.Context(), &cp); err != nil {
			t.Fatalf("Save: %v", err)
		}
		scribble(&cp)
		loaded := mustLoad(t, s, "svc-a")
		scribble(&loaded)
		want := Sample("svc-a")
		want.Version = 1
		if diff := cmp.Diff(want, mustLoad(t, s, "svc-a"), cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("changing a saved or loaded value changed the store (-want +got):\n%s", diff)
		}
	})

	t.Run("concurrent writers from one version: one wins", func(t *testing.T) {
		s := newStore(t)
		const rounds = 10
		base := checkpoint.Checkpoint{ServiceID: "svc-race"}
		if err := s.Save(t.Context(), &base); err != nil {
			t.Fatalf("Save: %v", err)
		}
		for round := range rounds {
			a, b := mustLoad(t, s, "svc-race"), mustLoad(t, s, "svc-race")
			a.Edge = []string{checkpoint.EdgeKey(fmt.Sprint("a", round))}
			b.Edge = []string{checkpoint.EdgeKey(fmt.Sprint("b", round))}
			errs := saveTogether(t.Context(), s, &a, &b)
			var wins, conflicts int
			for _, err := range errs {
				switch {
				case err == nil:
					wins++
				case errors.Is(err, checkpoint.ErrConflict):
					conflicts++
					if !strings.Contains(err.Error(), "svc-race") {
						t.Errorf("round %d: the loser's error %q does not name the service", round, err)
					}
				default:
					t.Fatalf("round %d: Save: %v, want success or ErrConflict", round, err)
				}
			}
			if wins != 1 || conflicts != 1 {
				t.Fatalf("round %d: %d writers won and %d got ErrConflict; want exactly 1 and 1", round, wins, conflicts)
			}
			winner := a
			if errs[1] == nil {
				winner = b
			}
			got := mustLoad(t, s, "svc-race")
			if diff := cmp.Diff(winner, got, cmpopts.EquateEmpty()); diff != "" {
				t.Fatalf("round %d: stored checkpoint is not the winner's (-winner +stored):\n%s", round, diff)
			}
		}
		if got := mustLoad(t, s, "svc-race"); got.Version != rounds+1 {
			t.Errorf("after %d rounds, Version = %d, want %d", rounds, got.Version, rounds+1)
		}
		wantWrites(t, s, rounds+1)
	})

	t.Run("many services concurrently", func(t *testing.T) {
		s := newStore(t)
		const services, saves = 12, 8
		var wg sync.WaitGroup
		errs := make(chan error, services)
		for i := range services {
			wg.Go(func() {
				id := fmt.Sprintf("svc-%02d", i)
				cp := checkpoint.Checkpoint{ServiceID: id}
				for j := range saves {
					cp.ReadThrough = int64(i*1000 + j)
					if err := s.Save(t.Context(), &cp); err != nil {
						errs <- fmt.Errorf("%s save #%d: %w", id, j, err)
						return
					}
					if _, _, err := s.Load(t.Context(), id); err != nil {
						errs <- fmt.Errorf("%s load: %w", id, err)
						return
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		for i := range services {
			id := fmt.Sprintf("svc-%02d", i)
			got := mustLoad(t, s, id)
			want := checkpoint.Checkpoint{ServiceID: id, Version: saves, ReadThrough: int64(i*1000 + saves - 1)}
			if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("%s (-want +got):\n%s", id, diff)
			}
		}
		wantWrites(t, s, services*saves)
	})

	t.Run("canceled context saves nothing", func(t *testing.T) {
		s := newStore(t)
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		cp := checkpoint.Checkpoint{ServiceID: "svc-a"}
		if err := s.Save(ctx, &cp); err == nil {
			t.Fatal("Save with a canceled context succeeded, want an error")
		}
		if cp.Version != 0 {
			t.Errorf("a failed Save changed Version to %d", cp.Version)
		}
		if _, _, err := s.Load(ctx, "svc-a"); err == nil {
			t.Error("Load with a canceled context succeeded, want an error")
		}
		if _, ok, err := s.Load(t.Context(), "svc-a"); err != nil || ok {
			t.Errorf("Load = ok %v, err %v; want ok false, no error", ok, err)
		}
	})

	t.Run("invalid checkpoints are refused", func(t *testing.T) {
		s := newStore(t)
		for name, cp := range map[string]*checkpoint.Checkpoint{
			"nil":              nil,
			"empty service id": {ReadThrough: 1},
			"negative version": {ServiceID: "svc-a", Version: -1},
		} {
			err := s.Save(t.Context(), cp)
			if err == nil || errors.Is(err, checkpoint.ErrConflict) {
				t.Errorf("Save(%s) = %v, want an error that is not ErrConflict", name, err)
			}
		}
		wantWrites(t, s, 0)
	})

	testBatches(t, newStore)
}

// Sample returns a checkpoint with every field set (Version 0), for round
// trips. Its Edge holds EdgeKeys, as stored.
func Sample(serviceID string) checkpoint.Checkpoint {
	return checkpoint.Checkpoint{
		ServiceID:        serviceID,
		ReadThrough:      1562597251764,
		Edge:             []string{checkpoint.EdgeKey("1562597251764:normal:9f86d081"), checkpoint.EdgeKey("1562597251764:abnormal:60303ae2")},
		DeploymentStart:  1562597170000,
		FirstRunFrom:     1562593651764,
		FirstRunReadFrom: 1562593000000,
		FirstRunAt:       1562593651999,
		Generation:       "v1",
		Sent: map[string]checkpoint.Sent{
			"deployment.failed/1562597170000":  {At: 1562597251764, Destinations: []string{"slack", "webhook:0"}},
			"service.abnormal/1562597200000/1": {At: 1562597200000, Destinations: []string{"webhook:0"}},
		},
		Threads: map[string]checkpoint.Thread{
			"1562597170000": {TS: "1562597171.000100", At: 1562597170000},
		},
	}
}

// scribble changes every slice and map reachable from cp in place.
func scribble(cp *checkpoint.Checkpoint) {
	for i := range cp.Edge {
		cp.Edge[i] = "scribbled"
	}
	for id, s := range cp.Sent {
		for i := range s.Destinations {
			s.Destinations[i] = "scribbled"
		}
		cp.Sent[id] = checkpoint.Sent{At: -1, Destinations: s.Destinations}
	}
	cp.Sent["scribbled"] = checkpoint.Sent{}
	for k := range cp.Threads {
		cp.Threads[k] = checkpoint.Thread{TS: "scribbled"}
	}
}

// saveTogether saves a and b from two goroutines released at one moment.
func saveTogether(ctx context.Context, s checkpoint.Store, a, b *checkpoint.Checkpoint) [2]error {
	var errs [2]error
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i, cp := range []*checkpoint.Checkpoint{a, b} {
		wg.Go(func() {
			<-start
			errs[i] = s.Save(ctx, cp)
		})
	}
	close(start)
	wg.Wait()
	return errs
}

func mustLoad(t *testing.T, s checkpoint.Store, serviceID string) checkpoint.Checkpoint {
	t.Helper()
	cp, ok, err := s.Load(t.Context(), serviceID)
	if err != nil {
		t.Fatalf("Load(%s): %v", serviceID, err)
	}
	if !ok {
		t.Fatalf("Load(%s): no checkpoint", serviceID)
	}
	return cp
}

func wantConflict(t *testing.T, err error, serviceID string) {
	t.Helper()
	if !errors.Is(err, checkpoint.ErrConflict) {
		t.Fatalf("Save = %v, want ErrConflict", err)
	}
	if !strings.Contains(err.Error(), serviceID) {
		t.Errorf("conflict error %q does not name service %s", err, serviceID)
	}
}

func wantWrites(t *testing.T, s checkpoint.Store, want int) {
	t.Helper()
	if c, ok := s.(writeCounter); ok {
		if got := c.Writes(); got != want {
			t.Errorf("Writes() = %d, want %d", got, want)
		}
	}
}
