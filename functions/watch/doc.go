// Package watch is the poll cycle: for each service it reads the events
// newer than the checkpoint, rebuilds the deployments' timelines, decides
// which notifications are due, hands them to the notifier, and advances the
// checkpoint only for what was delivered.
//
// Guarantees (see README "Delivery guarantees"):
//   - Nothing lost: a service's read edge (Checkpoint.ReadThrough) advances
//     only when every notification due from its events was delivered to
//     every destination. A failed fetch or delivery leaves it where it was,
//     and the next poll derives the same notifications again.
//   - No repeats: each notification has a stable ID derived from what it is
//     about; the checkpoint records which destinations got which IDs, and a
//     destination is never sent an ID it already acknowledged.
//   - A crash between delivery and the checkpoint write re-sends on the next
//     poll with the same ID (the webhook-id), so receivers can deduplicate.
//
// A poll is a pipeline of values. Per service (read.go, one plan each):
// read (the events from the window: []Event and how far the read got) →
// build (timeline.Timeline) → decide (decide.go: []decision, each with
// its ID, without a summary) → route (route.go: where each goes, or muted
// or dropped) → enrich (read.go: the pod events a failure or stall still
// owed to someone needs) → notifications (each summary built once). Then,
// for all services at once: deliver (deliver.go) → settle (settle.go:
// each service's checkpoint). Every rule that moves a checkpoint is in
// lifecycle.go; read.go assigns no checkpoint field.
package watch
