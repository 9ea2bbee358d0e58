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
// A poll is three stages with typed hand-offs: read (read.go: services,
// events, the timeline and the decision, per service: a plan), deliver
// (deliver.go: everything due at once), settle (settle.go: each service's
// checkpoint). Every rule that moves a checkpoint is in lifecycle.go.
package watch
