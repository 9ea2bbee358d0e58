// Package eventsapitest provides an in-memory fake of the ModelArts service
// APIs that package eventsapi calls, served over HTTP on loopback like
// net/http/httptest: the events of a service, service details, the service
// list, and an IAM token endpoint, for v1 services and for v2
// (new-version inference) ones with their pod events. Its state is
// scriptable (services, events, statuses, whole deployments in ModelArts'
// own wording), faults can be injected, and every request is logged for
// assertions.
//
// It does not depend on package testing: demos use it too. A Server is safe
// for concurrent use.
package eventsapitest
