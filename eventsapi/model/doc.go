// Package model holds the ModelArts API's data as the notifier reads it,
// for both generations: a service event, a service's details, a v2 pod
// event, and the documented statuses. It is pure (standard library only,
// no I/O), so the timeline can classify events without the HTTP client.
// Package eventsapi reads these from the API and re-exports them.
package model
