package notifier

import (
	"context"
	"errors"
	"fmt"
	"sync"
)

// Destination is a named place to deliver notifications. Name is what
// checkpoints record ("slack-webhook", "slack-bot:C0123ABCD",
// "webhook-<hash of the URL>"): it never changes when an entry is named.
// Label is the name ROUTES uses: an entry's NAME (WEBHOOK_URLS=
// "pager=https://..."), else Name. Kind is the registry kind
// ("slack-webhook", "slack-bot", "webhook", "teams", ...); empty for a
// destination outside the registry (the terminal), which routing leaves
// alone: it hears everything.
type Destination struct {
	Name     string
	Label    string
	Kind     string
	Notifier Notifier
}

// RouteName is the name ROUTES uses for d: Label, else Name.
func (d Destination) RouteName() string {
	if d.Label != "" {
		return d.Label
	}
	return d.Name
}

// Delivery is the outcome of one notification at one destination.
type Delivery struct {
	ID          string
	Destination string
	Err         error // nil when delivered
	// ThreadTS is the Slack parent message of the notification's deployment,
	// when the destination keeps one (bot-token Slack).
	ThreadTS string
}

// ErrNoResult is the error of a notification its destination did not report on.
var ErrNoResult = errors.New("destination returned no result")

// Deliver sends ns to every destination, concurrently. Each destination gets
// the notifications that skip does not exclude for it (skip may be nil), in
// order, and succeeds or fails on its own. The result has one Delivery per
// (notification, destination) pair that was attempted, grouped by
// destination in the order of dests, so the caller can record exactly which
// pairs were delivered. Skipped pairs are left out.
func Deliver(ctx context.Context, dests []Destination, ns []Notification, skip func(id, dest string) bool) []Delivery {
	return DeliverThreads(ctx, dests, ns, skip, nil)
}

// DeliverThreads is Deliver where each destination's deployment threads
// are its own: thread, when not nil, gives the Slack parent message of
// notification id at destination dest (its ThreadTS there), so that a
// deployment told in two channels keeps a thread in each.
func DeliverThreads(ctx context.Context, dests []Destination, ns []Notification, skip func(id, dest string) bool, thread func(id, dest string) string) []Delivery {
	out := make([][]Delivery, len(dests))
	var wg sync.WaitGroup
	for i, d := range dests {
		var todo []Notification
		for _, n := range ns {
			if skip == nil || !skip(n.ID, d.Name) {
				if thread != nil {
					n.ThreadTS = thread(n.ID, d.Name)
				}
				todo = append(todo, n)
			}
		}
		if len(todo) == 0 {
			continue
		}
		wg.Go(func() { out[i] = deliverOne(ctx, d, todo) })
	}
	wg.Wait()
	var all []Delivery
	for _, ds := range out {
		all = append(all, ds...)
	}
	return all
}

// deliverOne runs one destination and matches its results to ns; a result
// that is missing, or a panic, fails the notifications it concerns.
func deliverOne(ctx context.Context, d Destination, ns []Notification) (ds []Delivery) {
	ds = make([]Delivery, len(ns))
	for i, n := range ns {
		ds[i] = Delivery{ID: n.ID, Destination: d.Name, Err: ErrNoResult}
	}
	defer func() {
		if r := recover(); r != nil {
			for i := range ds {
				if ds[i].Err == ErrNoResult {
					ds[i].Err = fmt.Errorf("destination %s panicked: %v", d.Name, r)
				}
			}
		}
	}()
	results := d.Notifier.Notify(ctx, ns)
	for i, r := range results {
		if i >= len(ds) {
			break
		}
		if r.ID != ds[i].ID {
			ds[i].Err = fmt.Errorf("destination %s: result %d is for %q, not %q", d.Name, i, r.ID, ds[i].ID)
			continue
		}
		ds[i].Err = r.Err
		ds[i].ThreadTS = r.ThreadTS
	}
	return ds
}
