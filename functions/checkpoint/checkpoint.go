package checkpoint

import (
	"context"
	"errors"
	"maps"
	"slices"
)

// ErrConflict is returned by Store.Save when the stored checkpoint's version
// is not the one the caller read: another writer saved in between. The
// caller's write is discarded; nothing is overwritten.
var ErrConflict = errors.New("checkpoint: version conflict: another writer saved this service's checkpoint")

// Checkpoint is one service's state between polls. Its size stays bounded:
// the watch loop prunes Edge, Sent and Threads as it advances.
type Checkpoint struct {
	ServiceID string `json:"service_id"`
	// Version is the store's optimistic-concurrency version: 0 for a
	// checkpoint never saved. Save succeeds only when the stored version
	// equals Version, and then stores Version+1 (and sets it on the value).
	Version int64 `json:"version"`
	// ReadThrough is the newest occur_time (ms) read and fully handled: every
	// notification due from events at or before it was delivered.
	ReadThrough int64 `json:"read_through"`
	// Edge holds the EdgeKeys of the fingerprints of the events near
	// ReadThrough (within the read overlap), so events tied at one
	// millisecond, or arriving late with an older occur_time, are
	// recognised on the next read: look an event up by
	// EdgeKey(fingerprint). It is encoded packed, as "edge_keys" (see
	// MarshalJSON); the previous release's "edge" array of fingerprints is
	// read as their EdgeKeys.
	Edge []string `json:"-"`
	// DeploymentStart is the occur_time (ms) of the start event of the
	// deployment still open at ReadThrough; 0 when none is open. The next
	// read starts there so the open deployment's timeline is rebuilt whole.
	DeploymentStart int64 `json:"deployment_start,omitempty"`
	// StatusEnd records the last deployment the service status (not an
	// event) ended: the deployment that began at Start, whose newest event
	// was at Through when the status was seen. Events after Through never
	// join that deployment, however the read window falls (a runtime event
	// after a stop is a runtime event). Zero when none was recorded
	// (checkpoints of earlier releases).
	StatusEnd StatusEnd `json:"status_end,omitzero"`
	// History is, per phase name, the durations (whole seconds) of that
	// phase in the service's latest deployments where it succeeded,
	// oldest first, at most 20 (functions/timeline.History): what the
	// learned stall thresholds come from. HistoryThrough is the start (ms)
	// of the newest deployment whose durations it holds, so none is
	// counted twice. Both absent in checkpoints of earlier releases (they
	// learn on their next first-window read, or as deployments complete).
	History        map[string][]int64 `json:"history,omitempty"`
	HistoryThrough int64              `json:"history_through,omitempty"`
	// FirstRunFrom is where the service's first poll began to count events
	// as news (now − FIRST_RUN_LOOKBACK at that poll); events before it are
	// history for good. 0 in checkpoints of releases that did not store it.
	FirstRunFrom int64 `json:"first_run_from,omitempty"`
	// FirstRunReadFrom is where that first poll's read began (earlier than
	// FirstRunFrom for a service that was deploying). While ReadThrough is 0
	// (the first poll's notifications are not all delivered yet) every poll
	// reads from here again, however much time has passed.
	FirstRunReadFrom int64 `json:"first_run_read_from,omitempty"`
	// FirstRunAt is when that first poll ran (ms), kept with
	// FirstRunReadFrom: the deployment that was the most recent then is
	// still reported when a newer one starts before delivery succeeds.
	FirstRunAt int64 `json:"first_run_at,omitempty"`
	// Generation is the API generation the service is read through, "v1"
	// or "v2" (new-version inference), once known; empty in checkpoints of
	// releases that read v1 only.
	Generation string `json:"generation,omitempty"`
	// Sent maps a notification ID to the destinations it was delivered to.
	Sent map[string]Sent `json:"sent,omitempty"`
	// Threads maps a deployment key to its Slack parent message ts.
	Threads map[string]Thread `json:"threads,omitempty"`
}

// StatusEnd is a deployment the service status ended: see
// Checkpoint.StatusEnd.
type StatusEnd struct {
	Start   int64 `json:"start"`
	Through int64 `json:"through"`
}

// Sent records where one notification was delivered.
type Sent struct {
	// At is the occur_time (ms) of the event that made the notification due;
	// it tells when the entry can be pruned.
	At           int64    `json:"at"`
	Destinations []string `json:"destinations"`
}

// Thread is the Slack parent message of one deployment.
type Thread struct {
	TS string `json:"ts"`
	// At is the deployment's start occur_time (ms), for pruning.
	At int64 `json:"at"`
}

// Store loads and saves checkpoints. Implementations are safe for
// concurrent use by multiple goroutines.
type Store interface {
	// Load returns the service's checkpoint, or ok=false when it has none.
	Load(ctx context.Context, serviceID string) (cp Checkpoint, ok bool, err error)
	// Save stores cp if the stored version equals cp.Version (0: none stored),
	// and sets cp.Version to the new version. It returns ErrConflict (wrapped)
	// when another writer got there first.
	Save(ctx context.Context, cp *Checkpoint) error
	// LoadMany returns the checkpoints of the given services, keyed by
	// service id; a service with none is absent from the map. Repeated ids
	// are read once. It fails as a whole (the error names the ids it could
	// not read), never with a partial map; an empty id is an error.
	LoadMany(ctx context.Context, serviceIDs []string) (map[string]Checkpoint, error)
	// SaveMany saves each checkpoint exactly as Save would: conditional on
	// its own Version (ErrConflict, wrapped, on a mismatch), which is set to
	// the new version on success. It returns one error per checkpoint, in
	// order; nil means saved. One failure does not stop the others. A
	// service that appears twice is saved in batch order, so the second
	// entry must carry the version the first one stores.
	SaveMany(ctx context.Context, cps []*Checkpoint) []error
}

// PerItem is implemented by stores whose SaveMany costs one request per
// checkpoint whatever the batch (DynamoDB): the watch loop saves a
// service's checkpoint as soon as it is settled, so the writes overlap the
// reads of other services. A store that writes a batch at once (a file)
// does not implement it: it gets one SaveMany per poll.
type PerItem interface {
	// PerItem reports whether the store writes item by item.
	PerItem() bool
}

// Clone returns a deep copy of c: changing the copy's slices or maps never
// changes c. Nil slices and maps stay nil.
func (c Checkpoint) Clone() Checkpoint {
	out := c
	out.Edge = slices.Clone(c.Edge)
	if c.History != nil {
		out.History = make(map[string][]int64, len(c.History))
		for k, v := range c.History {
			out.History[k] = slices.Clone(v)
		}
	}
	if c.Sent != nil {
		out.Sent = make(map[string]Sent, len(c.Sent))
		for id, s := range c.Sent {
			s.Destinations = slices.Clone(s.Destinations)
			out.Sent[id] = s
		}
	}
	out.Threads = maps.Clone(c.Threads)
	return out
}

// Equal reports whether c and o hold the same state, Version included. The
// watch loop uses it to skip the write when a poll changed nothing. A nil
// slice or map equals an empty one: both are stored the same way.
func (c Checkpoint) Equal(o Checkpoint) bool {
	if c.ServiceID != o.ServiceID || c.Version != o.Version || c.Generation != o.Generation ||
		c.ReadThrough != o.ReadThrough || c.DeploymentStart != o.DeploymentStart || c.StatusEnd != o.StatusEnd ||
		c.HistoryThrough != o.HistoryThrough || !maps.EqualFunc(c.History, o.History, slices.Equal[[]int64]) ||
		c.FirstRunFrom != o.FirstRunFrom || c.FirstRunReadFrom != o.FirstRunReadFrom || c.FirstRunAt != o.FirstRunAt ||
		!slices.Equal(c.Edge, o.Edge) ||
		len(c.Sent) != len(o.Sent) || !maps.Equal(c.Threads, o.Threads) {
		return false
	}
	for id, s := range c.Sent {
		t, ok := o.Sent[id]
		if !ok || s.At != t.At || !slices.Equal(s.Destinations, t.Destinations) {
			return false
		}
	}
	return true
}

// Prune drops the Sent and Threads entries whose At is before the given
// occur_time (ms), so the checkpoint stays bounded as the watch loop moves
// on. Entries at or after before are kept.
func (c *Checkpoint) Prune(before int64) {
	maps.DeleteFunc(c.Sent, func(_ string, s Sent) bool { return s.At < before })
	maps.DeleteFunc(c.Threads, func(_ string, t Thread) bool { return t.At < before })
}
