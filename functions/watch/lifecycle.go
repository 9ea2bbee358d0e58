package watch

import (
	"cmp"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/modelarts-notifier/modelarts-notifier/eventsapi"
	"github.com/modelarts-notifier/modelarts-notifier/functions/checkpoint"
	"github.com/modelarts-notifier/modelarts-notifier/functions/timeline"
	"github.com/modelarts-notifier/modelarts-notifier/notifier"
)

// This file holds every rule that moves a service's checkpoint. Nothing
// else in the package changes a checkpoint's read edge, anchor or open
// deployment.
//
// A service's checkpoint is in one of three states:
//
//	new:      no checkpoint stored.
//	first:    ReadThrough 0: a first poll happened, but not everything due
//	          from it was delivered. FirstRunFrom / FirstRunReadFrom hold
//	          its window (the anchor).
//	watching: ReadThrough > 0: the read edge.
//
// Transitions (the read window is [from, no end); "delivered" means every
// notification due from the read reached every destination):
//
//	state     | what happened                   | next state
//	----------+---------------------------------+------------------------------------------
//	new       | first poll reads                | first: anchor = now − FIRST_RUN_LOOKBACK
//	          |                                 | (read from 24h back when still deploying),
//	          |                                 | stored even when nothing was delivered
//	first     | any later poll reads            | from the stored anchor, never now − lookback:
//	          |                                 | nothing due is dropped because time passed;
//	          |                                 | the deployment latest at FirstRunAt and every
//	          |                                 | one with events since then count
//	first     | delivered                       | watching: ReadThrough = newest event read
//	          |                                 | (or max(anchor, now − overlap) when none)
//	first*    | legacy checkpoint, no anchor    | first, anchor = now − lookback (what the
//	          | (ReadThrough 0, earlier release)| earlier release did) stored from now on
//	watching  | poll reads                      | from min(ReadThrough − overlap, open start)
//	watching  | delivered                       | ReadThrough = newest event read that is not
//	          |                                 | more than 5 min ahead of now; Edge = the
//	          |                                 | fingerprints at the edge (future ones too)
//	any       | not delivered                   | read edge, edge, open deployment unchanged;
//	          |                                 | Sent/Threads record partial deliveries
//	any       | deployment open after the read  | DeploymentStart = its start (read from there)
//	any       | success, failure, stop/delete/  | DeploymentStart = 0: the window moves on
//	          | finish status, superseded       |
//	watching  | more new events than the cap,   | ReadThrough = newest event read; the rest is
//	          | or a read the server cut short  | read next poll (ascending order keeps it safe);
//	          |                                 | the status is not applied, the old edge kept
//	first     | more events than the cap        | the newest cap events are kept: older ones
//	          |                                 | are history, as on any first poll
//	any       | the status ended the latest     | StatusEnd = its start and newest event, in
//	          | deployment (stop, failed or     | the checkpoint kept whether delivered or not:
//	          | running without a terminal      | later events never join it
//	          | event)                          |
//	any       | settled                         | Sent/Threads older than the next window start
//	          |                                 | pruned; FirstRunFrom kept (the history floor)
//
// Events before FirstRunFrom are never news, whatever the state. Events
// dated more than clockSkew ahead of now are kept, shown and classified,
// and remembered in Edge (so never notified twice), but never move the read
// edge.

// clockSkew is how far ahead of now an event may be dated and still move
// the read edge.
const clockSkew = 5 * time.Minute

// OpenDeploymentLookback is how far back a first poll reads a service that
// is still deploying, to find the start of a deployment that hung before
// the notifier was installed.
const OpenDeploymentLookback = 24 * time.Hour

// maxEdge bounds the fingerprints kept at the read edge.
const maxEdge = 2000

// window is where one poll of one service reads, and how it tells news
// from history.
type window struct {
	// from is the read's start_time (ms).
	from int64
	// first: the first-run rules apply (only the latest deployment counts).
	first bool
	// floor: events before it are history (FirstRunFrom).
	floor int64
}

// open returns the checkpoint to keep when nothing due is delivered (for a
// new service or a legacy first-run checkpoint, with the anchor set, so
// that it is stored) and the window to read. ok is false when the store has
// no checkpoint for the service. It remembers the service's generation.
func open(cp checkpoint.Checkpoint, ok bool, svc eventsapi.Service, now time.Time, lookback, overlap time.Duration) (checkpoint.Checkpoint, window) {
	if !ok {
		cp = checkpoint.Checkpoint{ServiceID: cp.ServiceID}
	}
	// The generation the service is read through, once known.
	cp.Generation = cmp.Or(svc.Generation, cp.Generation)
	status := svc.Status
	if cp.ReadThrough == 0 { // new, first, or legacy first
		if cp.FirstRunFrom == 0 {
			cp.FirstRunAt = now.UnixMilli()
			cp.FirstRunFrom = now.Add(-lookback).UnixMilli()
			cp.FirstRunReadFrom = cp.FirstRunFrom
			if stillDeploying(status) {
				// A deployment can have hung for longer than the lookback
				// before the first poll: read far enough back to find its
				// start, so it is reported. Only its state is: older events
				// stay history.
				cp.FirstRunReadFrom = min(cp.FirstRunFrom, now.Add(-OpenDeploymentLookback).UnixMilli())
			}
		}
		from := cp.FirstRunReadFrom
		if from == 0 || from > cp.FirstRunFrom {
			from = cp.FirstRunFrom
		}
		if cp.FirstRunAt == 0 { // an anchor written without it
			cp.FirstRunAt = now.UnixMilli()
		}
		return cp, window{from: from, first: true, floor: cp.FirstRunFrom}
	}
	return cp, window{from: windowStart(cp, overlap), floor: cp.FirstRunFrom}
}

// windowStart is where a watching service's read begins: the open
// deployment's start (so its timeline is rebuilt whole), or the read edge
// minus the overlap.
func windowStart(cp checkpoint.Checkpoint, overlap time.Duration) int64 {
	from := max(cp.ReadThrough-overlap.Milliseconds(), 0)
	if cp.DeploymentStart != 0 && cp.DeploymentStart < from {
		from = cp.DeploymentStart
	}
	return from
}

// stillDeploying reports whether a service status means a deployment is
// under way.
func stillDeploying(status string) bool {
	switch status {
	case eventsapi.StatusDeploying, eventsapi.StatusPending, eventsapi.StatusWaiting:
		return true
	}
	return false
}

// activity is when an event last happened (ms): a v2 record's last
// occurrence, a v1 event's occur_time. The read edge, the edge
// fingerprints and news are about activity: a v2 record that repeats is
// read again.
func activity(e eventsapi.Event) int64 { return max(e.OccurTime, e.LastOccurTime) }

// future reports whether an event at t (ms) is dated too far ahead of now
// to move the read edge.
func future(t int64, now time.Time) bool {
	return t > now.Add(clockSkew).UnixMilli()
}

// markStatusEnd records in cp the latest deployment of tl when the service
// status ended it, so that events after its newest one never join it on a
// later read (timeline.BuildAfter). A mark already there for that
// deployment stays: the first read that saw the status knew its events.
func markStatusEnd(cp checkpoint.Checkpoint, tl timeline.Timeline) checkpoint.Checkpoint {
	if d, ok := tl.Latest(); ok && d.ByStatus && cp.StatusEnd.Start != d.Start {
		cp.StatusEnd = checkpoint.StatusEnd{Start: d.Start, Through: d.LastEventAt}
	}
	return cp
}

// statusEndOf is cp's mark for the timeline.
func statusEndOf(cp checkpoint.Checkpoint) timeline.StatusEnd {
	return timeline.StatusEnd{Start: cp.StatusEnd.Start, Through: cp.StatusEnd.Through}
}

// readKind is how far one read of a service's events got.
type readKind uint8

const (
	// readWhole: every event from the window's start on.
	readWhole readKind = iota
	// readCapped: cut short by the per-poll cap or by the server, oldest
	// first (v1): what was read is handled, the rest is read next poll.
	readCapped
	// readHeldBack: a v2 read cut short: records come newest first, so
	// the older ones were not reached and nothing read moves the window.
	readHeldBack
)

// advance is the checkpoint after everything read was handled: the read
// edge moves over what was read (never onto an event dated more than
// clockSkew ahead of now), the edge fingerprints are rebuilt, the open
// deployment is remembered, and a first poll's state ends. A read held back
// (kind) moves nothing.
func advance(cp checkpoint.Checkpoint, events []eventsapi.Event, tl timeline.Timeline, now time.Time, overlap time.Duration, kind readKind) checkpoint.Checkpoint {
	if kind == readHeldBack {
		// v2 records are read newest first: a read cut short has not
		// reached the older ones, so the read edge, the open deployment
		// and the edge stay where they were (and a first poll's window):
		// everything read is read again next time, and Sent keeps what
		// was told from being told twice.
		return cp
	}
	capped := kind == readCapped
	next := cp
	for _, e := range events {
		if t := activity(e); !future(t, now) {
			next.ReadThrough = max(next.ReadThrough, t)
		}
	}
	if next.ReadThrough == 0 {
		// A first poll that read nothing usable: everything before now
		// less the overlap was read (events arriving later with an older
		// occur_time are still in the next window), and nothing before
		// the anchor is news.
		next.ReadThrough = max(cp.FirstRunFrom, now.Add(-overlap).UnixMilli())
	}
	next.FirstRunReadFrom, next.FirstRunAt = 0, 0
	edgeFrom := next.ReadThrough - overlap.Milliseconds()
	// The read window always covers the edge, so the new edge is built
	// from what was read, oldest first; duplicates (identical events at one
	// millisecond) are indistinguishable and kept once. Events dated in the
	// future are past the edge, so they stay in it and are recognised on
	// every later read.
	next.Edge = nil
	seen := map[string]bool{}
	if capped {
		// A read cut short may not have reached every event the old edge
		// remembers: keep those (they age out as the edge moves on).
		for _, k := range cp.Edge {
			if !seen[k] {
				seen[k] = true
				next.Edge = append(next.Edge, k)
			}
		}
	}
	for _, e := range events {
		if activity(e) < edgeFrom {
			continue // only the edge is fingerprinted (a hash each)
		}
		if f := checkpoint.EdgeKey(timeline.Fingerprint(e)); !seen[f] {
			seen[f] = true
			next.Edge = append(next.Edge, f)
		}
	}
	if len(next.Edge) > maxEdge {
		next.Edge = next.Edge[len(next.Edge)-maxEdge:]
	}
	next.DeploymentStart = 0
	if last, ok := tl.Latest(); ok && !last.Stopped && !last.Unconfirmed &&
		(last.Outcome == notifier.OutcomeInProgress || last.Outcome == notifier.OutcomeStalled) {
		next.DeploymentStart = last.Start
	}
	return next
}

// threadKey names a deployment's Slack parent message at one destination
// (a deployment told in two channels has one in each): the checkpoint's
// Threads key, and the deliveries' key of a notification's parent.
func threadKey(key, dest string) string { return key + "@" + dest }

// parentOf is the Slack parent message of the deployment key at the
// destination dest: its own, else one an earlier release kept for the
// deployment (one a deployment, whichever channel it was in).
func parentOf(cp checkpoint.Checkpoint, key, dest string) string {
	if t, ok := cp.Threads[threadKey(key, dest)]; ok {
		return t.TS
	}
	return cp.Threads[key].TS
}

// hasParent reports whether the deployment key has a Slack parent message
// at any destination.
func hasParent(cp checkpoint.Checkpoint, key string) bool {
	if cp.Threads[key].TS != "" {
		return true
	}
	for k, t := range cp.Threads {
		if t.TS != "" && strings.HasPrefix(k, key+"@") {
			return true
		}
	}
	return false
}

// dueRef is what settling needs of a due notification: its ID, its
// deployment (the Slack thread's key) and the time that keeps its Sent
// entry (due.at). A plan keeps these once delivery has taken the
// notifications themselves.
type dueRef struct {
	id, deploymentKey string
	at                int64
	targets           []string // nil: every destination
	done              string   // sentMuted or sentDropped: goes nowhere
	recorded          bool     // done, as an earlier poll recorded
	covers            []cover  // the abnormal events it tells
}

// refsOf is the dueRef of each of ds.
func refsOf(ds []due) []dueRef {
	if len(ds) == 0 {
		return nil
	}
	out := make([]dueRef, len(ds))
	for i, d := range ds {
		out[i] = dueRef{id: d.id, deploymentKey: d.key, at: d.at, targets: d.targets, done: d.done, recorded: d.recorded, covers: d.covers}
	}
	return out
}

// settle is the checkpoint to save after delivery, and whether everything
// due for the service was delivered everywhere (only then does the read
// edge advance). base is the checkpoint to keep when it was not, next the
// one when it was; delivered maps notification IDs to the destinations
// that acknowledged them in this run, threads to Slack parent messages.
func settle(base, next checkpoint.Checkpoint, dues []dueRef, dests []string, delivered map[string][]string, threads map[string]string, overlap time.Duration) (checkpoint.Checkpoint, bool) {
	sent := maps.Clone(base.Sent)
	thr := maps.Clone(base.Threads)
	complete := true
	for _, d := range dues {
		if d.done != "" {
			// Muted or dropped: done, recorded so that it is never sent
			// later (not even when the mute has ended).
			if !d.recorded {
				if sent == nil {
					sent = map[string]checkpoint.Sent{}
				}
				// Those that took it before a mute began stay listed.
				got := union(slices.Clone(sent[d.id].Destinations), []string{d.done})
				slices.Sort(got)
				sent[d.id] = checkpoint.Sent{At: d.at, Destinations: got}
				// Its events are not recorded: a mute stops this
				// notification, not the messages (a mute on one phase
				// does not hide them in another).
			}
			continue
		}
		// The abnormal events it tells are told to those that took it
		// now (not to those that took it earlier: it may list more).
		// An event read again (a v2 record that repeats) keeps its entry
		// as long as it is read, whether or not anything went out: pruned,
		// it would be news again.
		for _, c := range d.covers {
			now := delivered[d.id]
			old, ok := sent[c.id]
			if len(now) == 0 && (!ok || old.At >= c.at) {
				continue
			}
			if sent == nil {
				sent = map[string]checkpoint.Sent{}
			}
			got := union(old.Destinations, now)
			slices.Sort(got)
			sent[c.id] = checkpoint.Sent{At: max(old.At, c.at), Destinations: got}
		}
		got := slices.Clone(sent[d.id].Destinations)
		for _, name := range delivered[d.id] {
			if !slices.Contains(got, name) {
				got = append(got, name)
			}
		}
		slices.Sort(got)
		if len(got) > 0 {
			if sent == nil {
				sent = map[string]checkpoint.Sent{}
			}
			sent[d.id] = checkpoint.Sent{At: d.at, Destinations: got}
		}
		for _, name := range dests {
			if hears(d.targets, name) && !slices.Contains(got, name) {
				complete = false
			}
		}
		for _, name := range dests {
			if ts := threads[threadKey(d.id, name)]; ts != "" && d.deploymentKey != "" {
				if thr == nil {
					thr = map[string]checkpoint.Thread{}
				}
				thr[threadKey(d.deploymentKey, name)] = checkpoint.Thread{TS: ts, At: d.at}
			}
		}
	}
	cp := base
	if complete {
		cp = next
	}
	cp.Sent, cp.Threads = sent, thr
	if cp.ReadThrough != 0 {
		// Entries older than the next read window can never be derived
		// again. A first poll's are all kept until it is done.
		cp.Prune(windowStart(cp, overlap))
	}
	return cp, complete
}
