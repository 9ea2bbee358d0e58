package notifier

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// messageInterval is Slack's pace: at most one message per second per
// destination.
const messageInterval = time.Second

// defaultDigestThreshold: more notifications than this for one Slack
// destination in one Notify call make one digest.
const defaultDigestThreshold = 5

// ErrDeadlineNear is why a Slack destination stops posting: the context's
// deadline is closer than the pacing interval, so another message could not
// go out at Slack's pace before the run ends. The notifications it leaves
// fail with it (they are retried by the next run).
var ErrDeadlineNear = errors.New("deadline too near to send another message")

// pacer spaces calls to one destination at least every apart.
type pacer struct {
	mu    sync.Mutex
	clock clock
	every time.Duration
	last  time.Time
}

// wait blocks until a message may be sent and books that slot. It refuses
// (with ErrDeadlineNear, permanent) when the slot is closer to ctx's
// deadline than every.
func (p *pacer) wait(ctx context.Context) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.clock.now()
	slot := now
	if !p.last.IsZero() && p.last.Add(p.every).After(now) {
		slot = p.last.Add(p.every)
	}
	if dl, ok := ctx.Deadline(); ok {
		if left := dl.Sub(slot); left < p.every {
			return permanent(fmt.Errorf("%w (%s left, messages are %s apart)", ErrDeadlineNear, max(left, 0).Round(time.Millisecond), p.every))
		}
	}
	if d := slot.Sub(now); d > 0 {
		if err := p.clock.sleep(ctx, d); err != nil {
			return permanent(err) // no time left to wait
		}
		now = p.clock.now()
	}
	p.last = now
	return nil
}
