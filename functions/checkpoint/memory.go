package checkpoint

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
)

// Memory is a Store held in memory, for unit tests. It keeps deep copies, so
// a caller changing a checkpoint after Save or Load never changes the stored
// one, and it counts successful writes. It stores Edge as the encoding does
// (an entry that is not an EdgeKey becomes its EdgeKey), so that it returns
// what the other stores return.
type Memory struct {
	mu     sync.Mutex
	cps    map[string]Checkpoint
	writes int
}

var _ Store = (*Memory)(nil)

// NewMemory returns an empty in-memory store.
func NewMemory() *Memory {
	return &Memory{cps: make(map[string]Checkpoint)}
}

// Load returns a copy of the service's checkpoint, or ok=false when none was
// saved.
func (m *Memory) Load(ctx context.Context, serviceID string) (Checkpoint, bool, error) {
	if err := ctx.Err(); err != nil {
		return Checkpoint{}, false, fmt.Errorf("load checkpoint of service %s: %w", serviceID, err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	cp, ok := m.cps[serviceID]
	if !ok {
		return Checkpoint{}, false, nil
	}
	return cp.Clone(), true, nil
}

// Save stores a copy of cp if the stored version equals cp.Version, and sets
// cp.Version to the new version.
func (m *Memory) Save(ctx context.Context, cp *Checkpoint) error {
	if err := validate(cp); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("save checkpoint of service %s: %w", cp.ServiceID, err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.saveLocked(cp)
}

// saveLocked is Save once cp is valid and m.mu is held.
func (m *Memory) saveLocked(cp *Checkpoint) error {
	stored := m.cps[cp.ServiceID].Version // 0 when none is stored
	if stored != cp.Version {
		return conflict(cp, stored)
	}
	next := cp.Clone()
	next.Edge = normalizeEdge(cp.Edge) // as the encoding stores it
	next.Version++
	m.cps[cp.ServiceID] = next
	m.writes++
	cp.Version = next.Version
	return nil
}

// LoadMany returns copies of the services' checkpoints.
func (m *Memory) LoadMany(ctx context.Context, serviceIDs []string) (map[string]Checkpoint, error) {
	if err := checkLoadMany(ctx, serviceIDs); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make(map[string]Checkpoint, len(serviceIDs))
	for _, id := range serviceIDs {
		if cp, ok := m.cps[id]; ok {
			out[id] = cp.Clone()
		}
	}
	return out, nil
}

// SaveMany saves each checkpoint as Save does, in order, under one lock.
func (m *Memory) SaveMany(ctx context.Context, cps []*Checkpoint) []error {
	errs, todo := checkSaveMany(ctx, cps)
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, i := range todo {
		errs[i] = m.saveLocked(cps[i])
	}
	return errs
}

// Writes returns how many checkpoints Save and SaveMany stored.
func (m *Memory) Writes() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.writes
}

// validate rejects what no store can save.
func validate(cp *Checkpoint) error {
	switch {
	case cp == nil:
		return errors.New("save checkpoint: nil checkpoint")
	case cp.ServiceID == "":
		return errors.New("save checkpoint: empty service id")
	case cp.Version < 0:
		return fmt.Errorf("save checkpoint of service %s: negative version %d", cp.ServiceID, cp.Version)
	}
	return nil
}

// checkLoadMany rejects a LoadMany call no store can serve.
func checkLoadMany(ctx context.Context, serviceIDs []string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("load checkpoints of %d services: %w", len(serviceIDs), err)
	}
	if slices.Contains(serviceIDs, "") {
		return errors.New("load checkpoints: empty service id")
	}
	return nil
}

// checkSaveMany validates a SaveMany batch: errs holds one slot per
// checkpoint, filled for those that cannot be saved (invalid, or the
// context is done), and todo the indexes of the others, in order.
func checkSaveMany(ctx context.Context, cps []*Checkpoint) (errs []error, todo []int) {
	errs = make([]error, len(cps))
	todo = make([]int, 0, len(cps))
	ctxErr := ctx.Err()
	for i, cp := range cps {
		switch err := validate(cp); {
		case err != nil:
			errs[i] = err
		case ctxErr != nil:
			errs[i] = fmt.Errorf("save checkpoint of service %s: %w", cp.ServiceID, ctxErr)
		default:
			todo = append(todo, i)
		}
	}
	return errs, todo
}

// conflict is the error of a stale writer: it read version cp.Version, but
// the store holds stored.
func conflict(cp *Checkpoint, stored int64) error {
	return fmt.Errorf("save checkpoint of service %s: read at version %d, but version %d is stored: %w",
		cp.ServiceID, cp.Version, stored, ErrConflict)
}
