// Package domain holds the pure types of a ModelArts deployment summary:
// phases and their statuses, a deployment's outcome, notification kinds,
// events as the API writes them, and the summary that every destination
// renders (its JSON is the webhook body's "data"). It has no I/O and
// imports only the standard library, so the timeline (functions/timeline)
// and every destination share one vocabulary without pulling in any
// delivery code.
package domain
