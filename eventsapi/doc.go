// Package eventsapi is a client for the Huawei Cloud ModelArts (v1) service
// APIs the notifier needs: the events of a real-time service, its details,
// and the service list.
//
// A Client is safe for concurrent use. Every call takes a context, retries
// transient failures (network errors, 429, 500, 502, 503, 504) with
// exponential backoff and jitter, honours Retry-After, and never waits past
// the context's deadline. Three interchangeable Authenticators are provided:
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
