// Package route decides who hears what: it parses the ROUTES document
// (routes with matchers, a default, mutes) once at start-up, validates
// every name, glob, zone and time in it, and then answers, for one
// notification, the destinations it goes to or that it is muted. It is pure:
// no I/O, the caller passes the time.
//
// A notification is described by a Query: the service's name and id, the
// notification kind, the phase and the API generation. Routes are tried in
// order; the first whose match fits decides, unless it says continue: true,
// in which case later routes are tried too and their destinations added. A
// notification that matched any route does not also go to default; one
// that matched none goes to default (absent: all). A mute in force whose
// match fits mutes the notification: it is not sent, wherever it was routed.
//
// A field absent from a match matches anything; a field present matches
// only a notification that has a value for it and one of the listed values
// (a project report has no service, phase or generation, so a route or mute
// that filters on those never matches it).
package route
