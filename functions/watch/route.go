package watch

import (
	"time"

	"slices"

	"github.com/modelarts-notifier/modelarts-notifier/functions/checkpoint"
	"github.com/modelarts-notifier/modelarts-notifier/notifier"
	"github.com/modelarts-notifier/modelarts-notifier/notifier/route"
)

// Router decides who hears a notification (ROUTES): *route.Table. Nil, or
// a decision that names no destinations (no document), sends everything
// everywhere.
type Router interface {
	Route(q route.Query, now time.Time) route.Decision
}

// A notification that is done without being delivered is recorded in its
// Sent entry under one of these marks, which no destination is named: it
// is never sent later, whatever the routes or mutes then say.
const (
	sentMuted   = "~muted"
	sentDropped = "~dropped"
)

// query is dec as routing sees it: the service, the kind and the phase
// its summary names.
func (v *view) query(dec decision) route.Query {
	phase := dec.phase
	if phase == "" && dec.dep != nil {
		phase = dec.dep.Phase
	}
	return route.Query{
		ServiceName: v.svc.ServiceName,
		ServiceID:   v.svc.ServiceID,
		Type:        string(dec.kind),
		Phase:       phase,
		Generation:  v.svc.Generation,
	}
}

// routeDue sets where d goes: its targets (nil: every destination) or, when
// a mute or a route says it goes nowhere, done. A notification recorded
// muted or dropped by an earlier poll stays so. Destinations outside the
// routing table (the terminal) hear everything that is not muted or
// dropped.
func (p *Poller) routeDue(d *decision, cp checkpoint.Checkpoint, q route.Query) {
	got := cp.Sent[d.id].Destinations
	for _, mark := range []string{sentMuted, sentDropped} {
		if slices.Contains(got, mark) {
			d.done, d.recorded = mark, true
			return
		}
	}
	p.route(d, q, union(got, d.heard))
	if (d.within != nil || d.keepers != anyDests) && d.done == "" {
		if d.targets == nil {
			d.targets = p.destNames()
		}
		d.targets = slices.DeleteFunc(d.targets, func(dest string) bool {
			return d.within != nil && !slices.Contains(d.within, dest) || d.keepers != anyDests && p.keepsThreads(dest) != (d.keepers == onlyKeepers)
		})
	}
	if len(d.heard) > 0 && d.done == "" {
		// Those told its events already are not its destinations.
		if d.targets == nil {
			d.targets = p.destNames()
		}
		d.targets = slices.DeleteFunc(d.targets, func(dest string) bool { return slices.Contains(d.heard, dest) })
	}
}

// route applies the routing table to d, which the destinations got have.
func (p *Poller) route(d *decision, q route.Query, got []string) {
	if p.cfg.Router == nil {
		return
	}
	dec := p.cfg.Router.Route(q, p.cfg.Now())
	switch {
	case dec.Muted && len(got) > 0 && !slices.ContainsFunc(p.routedTo(dec.To), func(dest string) bool { return !slices.Contains(got, dest) }):
		// Told, before the mute began, to every destination its route
		// names: a mute stops what is not told yet, it does not rewrite
		// where a notification went. Nothing more is sent, nothing
		// counted.
		d.targets = slices.Clone(got)
	case dec.Muted:
		// Not told yet, or told to some of its destinations (the others
		// failed) before the mute began: the others never get it, and it
		// is counted muted (its Sent entry keeps those that took it).
		d.done = sentMuted
	case dec.To == nil:
		// No document: everyone.
	case len(dec.To) == 0:
		d.done = sentDropped
	default:
		d.targets = p.routedTo(dec.To)
	}
}

// routedTo is the names of the destinations a route decision's To names,
// and those outside the routing table (the terminal): never nil.
func (p *Poller) routedTo(to []string) []string {
	out := []string{}
	for _, dest := range p.dests {
		if dest.Kind == "" || slices.Contains(to, dest.Name) {
			out = append(out, dest.Name)
		}
	}
	return out
}

// keepsThreads reports whether the destination named dest keeps Slack
// threads (the bot).
func (p *Poller) keepsThreads(dest string) bool {
	i := slices.IndexFunc(p.dests, func(d notifier.Destination) bool { return d.Name == dest })
	return i >= 0 && notifier.KeepsThreads(p.dests[i].Notifier)
}

// destNames are the names of every destination.
func (p *Poller) destNames() []string {
	out := make([]string, len(p.dests))
	for i, d := range p.dests {
		out[i] = d.Name
	}
	return out
}

// union is a and the names of b not in a (a new slice when b adds any).
func union(a, b []string) []string {
	for _, x := range b {
		if !slices.Contains(a, x) {
			a = append(slices.Clip(a), x)
		}
	}
	return a
}

// hears reports whether the destination named dest is one of targets (nil:
// every destination).
func hears(targets []string, dest string) bool {
	return targets == nil || slices.Contains(targets, dest)
}
