// Package eventsapi is a client for the Huawei Cloud ModelArts service APIs
// the notifier needs: the events of a real-time service, its details, and
// the service list, for both generations. v1 (/v1/{project_id}/services:
// GetService, ListServices, Services, ListEvents, Events) serves the legacy
// real-time services; v2, the new-version inference (/v2/...: GetServiceV2,
// ServicesV2, EventsV2, PodEvents), serves their successors. Both are
// translated into the same Event and Service types (Service.Generation says
// which API a service belongs to; LookupService finds out for an id), with
// v2 statuses normalised onto the v1 set (NormalizeV2Status).
//
// A Client is safe for concurrent use. Every call takes a context, retries
// transient failures (network errors, 429, 500, 502, 503, 504) with
// exponential backoff and jitter, honours Retry-After, and never waits past
// the context's deadline. Throttling is shared: a "too many requests"
// answer holds every request of the Client, from every goroutine, until
// its Retry-After has passed (see Client). Three interchangeable Authenticators are provided:
// a static X-Auth-Token (StaticToken), an IAM password token that is cached
// and refreshed (NewIAMPasswordAuth), and AK/SK request signing (NewAKSK).
//
// API failures are returned as *APIError, which can be inspected with
// errors.As or the IsNotFound, IsThrottled and IsAuth helpers. Secrets
// (tokens, passwords, secret keys) never appear in errors or logs.
//
// The sub-package eventsapitest provides an in-memory fake of the same API
// for tests and demos.
package eventsapi
