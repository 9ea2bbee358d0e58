package notifiertest

import (
	"context"
	"sync"

	"github.com/modelarts-notifier/modelarts-notifier/notifier"
)

// Recorder wraps a real destination and records what it reported
// delivered, parent updates excepted. Slack messages carry no notification
// id, so the ids Slack got are the ones its destination reported delivered.
type Recorder struct {
	next notifier.Notifier
	opts options

	mu  sync.Mutex
	got []Delivery
}

var _ notifier.Notifier = (*Recorder)(nil)

// NewRecorder wraps next.
func NewRecorder(next notifier.Notifier, opts ...Option) *Recorder {
	return &Recorder{next: next, opts: makeOptions(opts)}
}

// Notify sends ns through the wrapped destination and records each
// notification whose Result has no error. Thread-only notifications go
// through too but are not recorded: they only refresh a parent message
// and are not notifications of their own.
func (a *Recorder) Notify(ctx context.Context, ns []notifier.Notification) []notifier.Result {
	res := a.next.Notify(ctx, ns)
	round := a.opts.roundNow()
	a.mu.Lock()
	defer a.mu.Unlock()
	for i, r := range res {
		if r.Err == nil && i < len(ns) && !ns[i].ThreadOnly() {
			a.got = append(a.got, Delivery{ID: r.ID, Kind: ns[i].Kind, Data: ns[i].Summary, Round: round})
		}
	}
	return res
}

// KeepsThreads is the wrapped destination's answer
// (notifier.KeepsThreads).
func (a *Recorder) KeepsThreads() bool { return notifier.KeepsThreads(a.next) }

// Received returns every notification delivered so far.
func (a *Recorder) Received() []Delivery {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]Delivery(nil), a.got...)
}
