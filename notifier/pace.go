package notifier

import (
	"context"
	"sync"
	"time"
)

// messageInterval is Slack's pace: at most one message per second per
// destination.
const messageInterval = time.Second

// defaultDigestThreshold: more notifications than this for one Slack
// destination in one Notify call make one digest.
const defaultDigestThreshold = 5

// pacer spaces calls to one destination at least every apart.
type pacer struct {
	mu    sync.Mutex
	clock clock
	every time.Duration
	last  time.Time
}

// wait blocks until a message may be sent and books that slot.
func (p *pacer) wait(ctx context.Context) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.clock.now()
	if !p.last.IsZero() {
		if d := p.last.Add(p.every).Sub(now); d > 0 {
			if err := p.clock.sleep(ctx, d); err != nil {
				return permanent(err) // no time left to wait
			}
			now = p.clock.now()
		}
	}
	p.last = now
	return nil
}
