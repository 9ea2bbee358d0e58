package watch

import (
	"context"
	"fmt"
	"slices"
	"sort"

	"github.com/modelarts-notifier/modelarts-notifier/functions/checkpoint"
	"github.com/modelarts-notifier/modelarts-notifier/notifier"
)

// deliveries is the delivery stage's outcome, the hand-off to settling.
type deliveries struct {
	batch     []notifier.Notification // what was due, in order
	delivered map[string][]string     // notification id -> destinations that took it this run
	threads   map[string]string       // threadKey(notification id, destination) -> Slack parent ts
	ok        int                     // (notification, destination) pairs delivered
	failed    int                     // pairs that failed
	muted     int                     // notifications muted this run (first recorded)
	dropped   int                     // notifications routed nowhere this run
	errs      []error
}

// deliver hands everything due in this run to the destinations at once, so
// that they can pace and digest. A destination that already acknowledged a
// notification (in the checkpoint) is not sent it again. The batch takes
// the notifications from the plans (each is held once, not twice): the
// plans keep their refs for settling.
func (p *Poller) deliver(ctx context.Context, plans []*plan) deliveries {
	out := deliveries{delivered: map[string][]string{}, threads: map[string]string{}}
	var pending []*due
	sentTo := map[string]checkpoint.Sent{}
	targets := map[string][]string{}
	threadOf := map[string]func(dest string) string{} // notification id -> its parent message at a destination
	for _, pl := range plans {
		for i := range pl.due {
			d := &pl.due[i]
			if d.done != "" && !d.recorded {
				if d.done == sentMuted {
					out.muted++
				} else {
					out.dropped++
				}
			}
			if p.pendingDests(pl.base, d.id, d.targets, d.done) == 0 {
				continue
			}
			pending = append(pending, d)
			sentTo[d.id] = pl.base.Sent[d.id]
			targets[d.id] = d.targets
			if d.key != "" {
				cp, key := pl.base, d.key
				threadOf[d.id] = func(dest string) string { return parentOf(cp, key, dest) }
			}
		}
	}
	sort.SliceStable(pending, func(i, j int) bool { return pending[i].at < pending[j].at })
	out.batch = make([]notifier.Notification, len(pending))
	for i, d := range pending {
		out.batch[i] = d.n
	}
	pending = nil
	for _, pl := range plans {
		pl.due = nil
	}
	if len(out.batch) == 0 || len(p.dests) == 0 {
		return out
	}
	// Delivery ends before the deadline, leaving time to record it.
	deliverCtx, cancel := p.shortened(ctx, saveReserve)
	defer cancel()
	results := notifier.DeliverThreads(deliverCtx, p.dests, out.batch, func(id, dest string) bool {
		return !hears(targets[id], dest) || slices.Contains(sentTo[id].Destinations, dest)
	}, func(id, dest string) string {
		if f := threadOf[id]; f != nil {
			return f(dest)
		}
		return ""
	})
	for _, d := range results {
		if d.Err != nil {
			out.failed++
			out.errs = append(out.errs, fmt.Errorf("deliver %s to %s: %w", d.ID, d.Destination, d.Err))
			continue
		}
		out.ok++
		out.delivered[d.ID] = append(out.delivered[d.ID], d.Destination)
		if d.ThreadTS != "" {
			out.threads[threadKey(d.ID, d.Destination)] = d.ThreadTS
		}
	}
	return out
}

// pending reports whether some destination still lacks something due
// from pl.
func (p *Poller) pending(pl *plan) bool {
	return slices.ContainsFunc(pl.refs, func(r dueRef) bool {
		return r.done != "" && !r.recorded || p.pendingDests(pl.base, r.id, r.targets, r.done) > 0
	})
}

// pendingDests counts the destinations among targets (nil: all) that have
// not acknowledged id; none for a notification that goes nowhere (done).
func (p *Poller) pendingDests(cp checkpoint.Checkpoint, id string, targets []string, done string) int {
	if done != "" {
		return 0
	}
	n := 0
	for _, d := range p.dests {
		if hears(targets, d.Name) && !slices.Contains(cp.Sent[id].Destinations, d.Name) {
			n++
		}
	}
	return n
}
