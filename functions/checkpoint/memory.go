package checkpoint

import (
	"context"
	"errors"
	"fmt"
	"sync"
)

// Memory is a Store held in memory, for unit tests. It keeps deep copies, so
// a caller changing a checkpoint after Save or Load never changes the stored
// one, and it counts successful writes.
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
	stored := m.cps[cp.ServiceID].Version // 0 when none is stored
	if stored != cp.Version {
		return conflict(cp, stored)
	}
	next := cp.Clone()
	next.Version++
	m.cps[cp.ServiceID] = next
	m.writes++
	cp.Version = next.Version
	return nil
}

// Writes returns how many times Save stored a checkpoint.
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

// conflict is the error of a stale writer: it read version cp.Version, but
// the store holds stored.
func conflict(cp *Checkpoint, stored int64) error {
	return fmt.Errorf("save checkpoint of service %s: read at version %d, but version %d is stored: %w",
		cp.ServiceID, cp.Version, stored, ErrConflict)
}
