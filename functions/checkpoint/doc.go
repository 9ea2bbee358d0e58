// Package checkpoint keeps, per service, what the watch loop needs to never
// miss and never repeat a notification: how far the events were read, the
// open deployment, which notifications were delivered where, and the Slack
// thread of each open deployment.
//
// Three stores implement Store: a local file, DynamoDB, and memory (tests;
// the reference the shared contract test, checkpointtest.TestStore, holds
// the others to).
//
// # Batches
//
// A poll loads every service's checkpoint with one LoadMany and saves the
// changed ones with one SaveMany, so that checkpoint I/O grows with the
// change, not with a round trip per service. LoadMany returns the stored
// checkpoints of the ids it is given (ids with none are absent) or one
// error. SaveMany keeps Save's meaning for every item: each save is
// conditional on the item's own Version (ErrConflict, wrapped, on a
// mismatch; Version set to the new one on success) and reports its own
// error, in order; a conflict or an invalid item does not stop the others.
//
//   - File reads and parses its file once per LoadMany. SaveMany takes the
//     process mutex and the file lock, reads the file once, applies every
//     conditional save in order, and writes the file once, atomically
//     (temporary file, fsync, rename): a poll of 1,000 services costs one
//     read and one write, and a crash in a batch leaves all of it or none of
//     it on disk.
//   - DynamoDB loads with BatchGetItem: 100 keys a call, strongly
//     consistent, up to 4 calls at once, the keys DynamoDB leaves
//     unprocessed asked again after a bounded jittered backoff (8 calls at
//     most, then the call fails naming those ids). It saves with Save's
//     conditional PutItem, up to 32 at once: DynamoDB has no conditional
//     batch write (BatchWriteItem takes no condition, TransactWriteItems is
//     all or nothing at twice the price), so the items of a batch are
//     independent: a failure leaves some saved and some not, each reported.
//     Every request asks for its consumed capacity and the store adds it
//     up (DynamoDB.Consumed, DynamoDB.Requests).
//   - Memory applies the batch in order under one lock.
//
// # Size
//
// A DynamoDB item is service_id (S), version (N), checkpoint (S, the JSON
// File stores for the service) and updated_at (S). DynamoDB bills a write
// unit per KB of item (names and values), and the edge dominates it: the
// previous release stored each edge event's fingerprint as a JSON string.
// Edge now holds EdgeKeys (6 bytes of the fingerprint's SHA-256), encoded
// packed into one base64url string ("edge_keys"): 8 bytes per event. The
// item of a service with a UUID for an id, an edge of 50 events and three
// sent notifications to two destinations is about 1,000 bytes: one write
// unit (a test holds it to 1,024), where it took two.
package checkpoint
