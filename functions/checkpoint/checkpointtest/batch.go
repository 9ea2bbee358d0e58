package checkpointtest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/modelarts-notifier/modelarts-notifier/functions/checkpoint"
)

// testBatches is the part of the contract about LoadMany and SaveMany.
func testBatches(t *testing.T, newStore func(t *testing.T) checkpoint.Store) {
	t.Run("load many: missing ids are absent, repeats read once", func(t *testing.T) {
		s := newStore(t)
		if got, err := s.LoadMany(t.Context(), nil); err != nil || got == nil || len(got) != 0 {
			t.Errorf("LoadMany(nil) = %v, %v; want an empty map, no error", got, err)
		}
		mustSaveMany(t, s, ptrs(Sample("svc-a"), Sample("svc-b")))
		got, err := s.LoadMany(t.Context(), []string{"svc-a", "svc-missing", "svc-b", "svc-a"})
		if err != nil {
			t.Fatalf("LoadMany: %v", err)
		}
		want := map[string]checkpoint.Checkpoint{"svc-a": Sample("svc-a"), "svc-b": Sample("svc-b")}
		for id, cp := range want {
			cp.Version = 1
			want[id] = cp
		}
		if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("LoadMany (-want +got):\n%s", diff)
		}
		wantLoadManyEqualsLoad(t, s, got, "svc-a", "svc-b", "svc-missing")
		if got, err := s.LoadMany(t.Context(), []string{"svc-x", "svc-y"}); err != nil || len(got) != 0 {
			t.Errorf("LoadMany(only missing ids) = %v, %v; want an empty map, no error", got, err)
		}
		wantWrites(t, s, 2)
	})

	t.Run("load many: empty id and canceled context fail", func(t *testing.T) {
		s := newStore(t)
		if got, err := s.LoadMany(t.Context(), []string{"svc-a", ""}); err == nil {
			t.Errorf("LoadMany with an empty id = %v, want an error", got)
		}
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		if got, err := s.LoadMany(ctx, []string{"svc-a"}); err == nil {
			t.Errorf("LoadMany with a canceled context = %v, want an error", got)
		}
	})

	t.Run("save many: versions advance per item", func(t *testing.T) {
		s := newStore(t)
		if errs := s.SaveMany(t.Context(), nil); len(errs) != 0 {
			t.Errorf("SaveMany(nil) = %v, want no errors", errs)
		}
		wantWrites(t, s, 0)
		cps := ptrs(Sample("svc-a"), checkpoint.Checkpoint{ServiceID: "svc-b"}, Sample("svc-c"))
		for round := int64(1); round <= 3; round++ {
			for _, cp := range cps {
				cp.ReadThrough = 1000 * round
			}
			mustSaveMany(t, s, cps)
			for _, cp := range cps {
				if cp.Version != round {
					t.Fatalf("round %d: %s has Version %d after SaveMany, want %d", round, cp.ServiceID, cp.Version, round)
				}
			}
		}
		got, err := s.LoadMany(t.Context(), []string{"svc-a", "svc-b", "svc-c"})
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]checkpoint.Checkpoint{}
		for _, cp := range cps {
			want[cp.ServiceID] = cp.Clone()
		}
		if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("LoadMany after three SaveMany (-want +got):\n%s", diff)
		}
		wantLoadManyEqualsLoad(t, s, got, "svc-a", "svc-b", "svc-c")
		wantWrites(t, s, 9)
	})

	t.Run("save many: a conflict fails only its item", func(t *testing.T) {
		s := newStore(t)
		x := checkpoint.Checkpoint{ServiceID: "svc-x", ReadThrough: 1}
		w := checkpoint.Checkpoint{ServiceID: "svc-w", ReadThrough: 1}
		mustSaveMany(t, s, []*checkpoint.Checkpoint{&x, &w})
		x.ReadThrough = 2
		mustSaveMany(t, s, []*checkpoint.Checkpoint{&x}) // svc-x is at version 2

		batch := []*checkpoint.Checkpoint{
			{ServiceID: "svc-y", ReadThrough: 10},             // new: saved
			{ServiceID: "svc-x", Version: 1, ReadThrough: 10}, // stale
			{ServiceID: "svc-z", ReadThrough: 10},             // new: saved
			{ServiceID: "svc-x", ReadThrough: 10},             // a second first write
			{ServiceID: "svc-w", Version: 1, ReadThrough: 10}, // current: saved
			{ServiceID: "svc-v", Version: 4, ReadThrough: 10}, // ahead of the store
		}
		errs := s.SaveMany(t.Context(), batch)
		if len(errs) != len(batch) {
			t.Fatalf("SaveMany returned %d errors for %d checkpoints", len(errs), len(batch))
		}
		wantVersions := []int64{1, 1, 1, 0, 2, 4}
		for i, err := range errs {
			if conflicting := i == 1 || i == 3 || i == 5; conflicting {
				wantConflict(t, err, batch[i].ServiceID)
			} else if err != nil {
				t.Errorf("item %d (%s): %v, want it saved", i, batch[i].ServiceID, err)
			}
			if batch[i].Version != wantVersions[i] {
				t.Errorf("item %d (%s): Version %d after SaveMany, want %d", i, batch[i].ServiceID, batch[i].Version, wantVersions[i])
			}
		}
		got, err := s.LoadMany(t.Context(), []string{"svc-v", "svc-w", "svc-x", "svc-y", "svc-z"})
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]checkpoint.Checkpoint{
			"svc-w": {ServiceID: "svc-w", Version: 2, ReadThrough: 10},
			"svc-x": {ServiceID: "svc-x", Version: 2, ReadThrough: 2},
			"svc-y": {ServiceID: "svc-y", Version: 1, ReadThrough: 10},
			"svc-z": {ServiceID: "svc-z", Version: 1, ReadThrough: 10},
		}
		if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("stored after a batch with conflicts (-want +got):\n%s", diff)
		}
		wantWrites(t, s, 3+3)
	})

	t.Run("save many: invalid items fail alone", func(t *testing.T) {
		s := newStore(t)
		batch := []*checkpoint.Checkpoint{
			nil,
			{ReadThrough: 1},
			{ServiceID: "svc-neg", Version: -1},
			{ServiceID: "svc-ok", ReadThrough: 1},
		}
		errs := s.SaveMany(t.Context(), batch)
		for i, err := range errs[:3] {
			if err == nil || errors.Is(err, checkpoint.ErrConflict) {
				t.Errorf("item %d: %v, want an error that is not ErrConflict", i, err)
			}
		}
		if errs[3] != nil || batch[3].Version != 1 {
			t.Errorf("valid item: %v, Version %d; want saved at version 1", errs[3], batch[3].Version)
		}
		got, err := s.LoadMany(t.Context(), []string{"svc-neg", "svc-ok"})
		if err != nil || len(got) != 1 || got["svc-ok"].ReadThrough != 1 {
			t.Errorf("LoadMany = %v, %v; want only svc-ok", got, err)
		}
		wantWrites(t, s, 1)
	})

	t.Run("save many: one service twice is saved in batch order", func(t *testing.T) {
		s := newStore(t)
		batch := []*checkpoint.Checkpoint{
			{ServiceID: "svc-a", ReadThrough: 1},
			{ServiceID: "svc-a", Version: 1, ReadThrough: 2},
			{ServiceID: "svc-a", ReadThrough: 3},
		}
		errs := s.SaveMany(t.Context(), batch)
		if errs[0] != nil || errs[1] != nil {
			t.Fatalf("first two saves: %v, %v; want both saved, in order", errs[0], errs[1])
		}
		wantConflict(t, errs[2], "svc-a")
		if v := []int64{batch[0].Version, batch[1].Version, batch[2].Version}; !slices.Equal(v, []int64{1, 2, 0}) {
			t.Errorf("versions after SaveMany = %v, want [1 2 0]", v)
		}
		if got := mustLoad(t, s, "svc-a"); got.Version != 2 || got.ReadThrough != 2 {
			t.Errorf("stored = version %d, read through %d; want 2, 2", got.Version, got.ReadThrough)
		}
		wantWrites(t, s, 2)
	})

	t.Run("save many: canceled context saves nothing", func(t *testing.T) {
		s := newStore(t)
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		batch := ptrs(Sample("svc-a"), Sample("svc-b"))
		for i, err := range s.SaveMany(ctx, batch) {
			if err == nil || errors.Is(err, checkpoint.ErrConflict) {
				t.Errorf("item %d with a canceled context: %v, want an error that is not ErrConflict", i, err)
			}
			if batch[i].Version != 0 {
				t.Errorf("item %d: a failed save changed Version to %d", i, batch[i].Version)
			}
		}
		if got, err := s.LoadMany(t.Context(), []string{"svc-a", "svc-b"}); err != nil || len(got) != 0 {
			t.Errorf("LoadMany = %v, %v; want nothing stored", got, err)
		}
		wantWrites(t, s, 0)
	})

	t.Run("save many: stored copies are isolated from the caller", func(t *testing.T) {
		s := newStore(t)
		batch := ptrs(Sample("svc-a"), Sample("svc-b"))
		mustSaveMany(t, s, batch)
		for _, cp := range batch {
			scribble(cp)
		}
		got, err := s.LoadMany(t.Context(), []string{"svc-a", "svc-b"})
		if err != nil {
			t.Fatal(err)
		}
		a := got["svc-a"]
		scribble(&a)
		got, err = s.LoadMany(t.Context(), []string{"svc-a"})
		if err != nil {
			t.Fatal(err)
		}
		want := Sample("svc-a")
		want.Version = 1
		if diff := cmp.Diff(want, got["svc-a"], cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("changing a saved or loaded value changed the store (-want +got):\n%s", diff)
		}
	})

	t.Run("concurrent batches from one version: one writer per item wins", func(t *testing.T) {
		s := newStore(t)
		const services = 20
		base := make([]*checkpoint.Checkpoint, services)
		for i := range base {
			base[i] = &checkpoint.Checkpoint{ServiceID: fmt.Sprintf("svc-%02d", i)}
		}
		mustSaveMany(t, s, base)
		batches := [2][]*checkpoint.Checkpoint{}
		for w := range batches {
			for _, cp := range base {
				c := cp.Clone()
				c.ReadThrough = int64(w + 1)
				batches[w] = append(batches[w], &c)
			}
		}
		var errs [2][]error
		var wg sync.WaitGroup
		start := make(chan struct{})
		for w := range batches {
			wg.Go(func() {
				<-start
				errs[w] = s.SaveMany(t.Context(), batches[w])
			})
		}
		close(start)
		wg.Wait()
		ids := make([]string, services)
		for i, cp := range base {
			ids[i] = cp.ServiceID
		}
		stored, err := s.LoadMany(t.Context(), ids)
		if err != nil {
			t.Fatal(err)
		}
		for i, id := range ids {
			e0, e1 := errs[0][i], errs[1][i]
			if (e0 == nil) == (e1 == nil) || !errors.Is(errors.Join(e0, e1), checkpoint.ErrConflict) {
				t.Fatalf("%s: errors %v and %v; want exactly one saved and one ErrConflict", id, e0, e1)
			}
			winner := int64(1)
			if e1 == nil {
				winner = 2
			}
			if got := stored[id]; got.Version != 2 || got.ReadThrough != winner {
				t.Errorf("%s: stored version %d, read through %d; want 2, the winner's %d", id, got.Version, got.ReadThrough, winner)
			}
		}
		wantWrites(t, s, 2*services)
	})

	t.Run("batch of 250 (more than one BatchGetItem)", func(t *testing.T) {
		testBigBatch(t, newStore(t), 250)
	})

	t.Run("batch of 1000", func(t *testing.T) {
		testBigBatch(t, newStore(t), 1000)
	})
}

// testBigBatch saves n services in one SaveMany, changes every tenth and
// makes every 25th conflict in a second one, and checks what LoadMany and
// Load return.
func testBigBatch(t *testing.T, s checkpoint.Store, n int) {
	t.Helper()
	cps := make([]*checkpoint.Checkpoint, n)
	ids := make([]string, 0, n+n/10)
	for i := range cps {
		cp := RealisticSample(fmt.Sprintf("svc-%04d", i), 50, 2)
		cps[i] = &cp
		ids = append(ids, cp.ServiceID)
		if i%10 == 0 {
			ids = append(ids, fmt.Sprintf("svc-missing-%04d", i))
		}
	}
	mustSaveMany(t, s, cps)

	var second []*checkpoint.Checkpoint
	for i := 0; i < n; i += 10 {
		cp := cps[i]
		cp.ReadThrough++
		second = append(second, cp)
		if i%50 == 0 {
			stale := cp.Clone()
			stale.Version = 0
			stale.ReadThrough = -1
			second = append(second, &stale)
		}
	}
	conflicts := 0
	for i, err := range s.SaveMany(t.Context(), second) {
		switch {
		case second[i].ReadThrough == -1:
			wantConflict(t, err, second[i].ServiceID)
			conflicts++
		case err != nil:
			t.Fatalf("second batch, %s: %v", second[i].ServiceID, err)
		}
	}

	got, err := s.LoadMany(t.Context(), ids)
	if err != nil {
		t.Fatalf("LoadMany(%d ids): %v", len(ids), err)
	}
	want := make(map[string]checkpoint.Checkpoint, n)
	for _, cp := range cps {
		want[cp.ServiceID] = cp.Clone()
	}
	if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
		t.Fatalf("LoadMany of %d services (-want +got):\n%s", n, diff)
	}
	var sample []string // Load reads the whole file each time: a few suffice
	for i := 0; i < n; i += max(1, n/4) {
		sample = append(sample, cps[i].ServiceID, fmt.Sprintf("svc-missing-%04d", i))
	}
	wantLoadManyEqualsLoad(t, s, got, sample...)
	wantWrites(t, s, n+len(second)-conflicts)
}

// RealisticSample returns a checkpoint (Version 0) shaped as the watch loop
// keeps one for a service: a read edge of edge EdgeKeys, and sent
// notifications with IDs like the watch loop's, each delivered to two
// webhooks.
func RealisticSample(serviceID string, edge, sent int) checkpoint.Checkpoint {
	const at = 1795167600000
	cp := checkpoint.Checkpoint{
		ServiceID:       serviceID,
		ReadThrough:     at,
		DeploymentStart: at - 120_000,
		FirstRunFrom:    at - 3_600_000,
		Generation:      "v1",
	}
	for i := range edge {
		cp.Edge = append(cp.Edge, checkpoint.EdgeKey(fmt.Sprintf("%s/%016x", serviceID, i)))
	}
	if sent > 0 {
		cp.Sent = make(map[string]checkpoint.Sent, sent)
	}
	for i := range sent {
		cp.Sent[fmt.Sprintf("msg_%032x", uint64(i)*0x9e3779b97f4a7c15)] = checkpoint.Sent{
			At: at - int64(i)*1000, Destinations: []string{"webhook-a", "webhook-b"},
		}
	}
	return cp
}

// wantLoadManyEqualsLoad checks that Load of each id returns what LoadMany
// returned (got).
func wantLoadManyEqualsLoad(t *testing.T, s checkpoint.Store, got map[string]checkpoint.Checkpoint, ids ...string) {
	t.Helper()
	for _, id := range ids {
		cp, ok, err := s.Load(t.Context(), id)
		if err != nil {
			t.Fatalf("Load(%s): %v", id, err)
		}
		many, inMany := got[id]
		if ok != inMany {
			t.Errorf("%s: Load ok = %v, but LoadMany has it = %v", id, ok, inMany)
			continue
		}
		if diff := cmp.Diff(cp, many, cmpopts.EquateEmpty()); diff != "" || !cp.Equal(many) {
			t.Errorf("%s: Load and LoadMany differ (-Load +LoadMany):\n%s", id, diff)
		}
	}
}

// mustSaveMany saves the batch and fails the test unless every item was
// saved.
func mustSaveMany(t *testing.T, s checkpoint.Store, cps []*checkpoint.Checkpoint) {
	t.Helper()
	errs := s.SaveMany(t.Context(), cps)
	if len(errs) != len(cps) {
		t.Fatalf("SaveMany returned %d errors for %d checkpoints", len(errs), len(cps))
	}
	if err := errors.Join(errs...); err != nil {
		t.Fatalf("SaveMany: %v", err)
	}
}

// ptrs returns pointers to copies of cps.
func ptrs(cps ...checkpoint.Checkpoint) []*checkpoint.Checkpoint {
	out := make([]*checkpoint.Checkpoint, len(cps))
	for i := range cps {
		out[i] = &cps[i]
	}
	return out
}
