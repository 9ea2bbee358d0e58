package notifier

// Pacing: every destination but the generic webhooks keeps its platform's
// rate limit (Slack: one message a second; DingTalk: 20 a minute; ...)
// over sliding windows, and stops before a message would outlast the run.

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

// slackWindows: Slack takes one message a second.
var slackWindows = []rateWindow{{n: 1, per: messageInterval}}

// ErrDeadlineNear is why a paced destination stops sending: the next
// message could not go out, at the destination's pace, a second or more
// before the context's deadline. The notifications it leaves fail with it
// (they are retried by the next run).
var ErrDeadlineNear = errors.New("deadline too near to send another message")

// rateWindow allows at most n messages in any span of per.
type rateWindow struct {
	n   int
	per time.Duration
}

// deadlineMargin: a message is not started when less than this is left
// before the context's deadline (the Lambda would end while it is sent).
const deadlineMargin = time.Second

// rateLimiter keeps one destination within its platform's documented rate
// limits (Slack's one a second, DingTalk's 20 a minute), over sliding
// windows, and pauses it after the platform said "too fast". Times come from clock, so tests use a fake
// one. It is safe for concurrent use.
type rateLimiter struct {
	mu      sync.Mutex
	clock   clock
	windows []rateWindow
	sent    []time.Time // send times, oldest first, within the longest window
	until   time.Time   // no message before this
}

func newRateLimiter(clk clock, windows ...rateWindow) *rateLimiter {
	return &rateLimiter{clock: clk, windows: windows}
}

// next is the earliest time from now at which a message fits every window.
// The caller holds mu.
func (l *rateLimiter) next(now time.Time) time.Time {
	slot := now
	if l.until.After(slot) {
		slot = l.until
	}
	for _, w := range l.windows {
		in := 0
		for _, t := range l.sent {
			if t.After(slot.Add(-w.per)) {
				in++
			}
		}
		if in >= w.n && len(l.sent) >= w.n {
			// Wait until the n-th most recent send leaves the window.
			if t := l.sent[len(l.sent)-w.n].Add(w.per); t.After(slot) {
				slot = t
			}
		}
	}
	return slot
}

// free is how many messages the windows of a minute or more let go now:
// beyond it, a batch would wait for minutes, and goes as one digest
// instead. Shorter windows (Teams' 4 a second) only pace a batch.
func (l *rateLimiter) free() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.clock.now()
	if l.until.After(now) {
		return 0
	}
	free := -1
	for _, w := range l.windows {
		if w.per < time.Minute {
			continue
		}
		in := 0
		for _, t := range l.sent {
			if t.After(now.Add(-w.per)) {
				in++
			}
		}
		if f := max(w.n-in, 0); free < 0 || f < free {
			free = f
		}
	}
	if free < 0 {
		return 1 << 30 // no long window
	}
	return free
}

// wait blocks until a message may be sent and books it. It refuses (with
// ErrDeadlineNear, permanent) when the slot leaves less than
// deadlineMargin before ctx's deadline.
func (l *rateLimiter) wait(ctx context.Context) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.clock.now()
	slot := l.next(now)
	if dl, ok := ctx.Deadline(); ok {
		if left := dl.Sub(slot); left < deadlineMargin {
			return permanent(fmt.Errorf("%w (%s left; the next message may go in %s)", ErrDeadlineNear,
				max(dl.Sub(now), 0).Round(time.Millisecond), slot.Sub(now).Round(time.Millisecond)))
		}
	}
	if d := slot.Sub(now); d > 0 {
		if err := l.clock.sleep(ctx, d); err != nil {
			return permanent(err)
		}
		now = l.clock.now()
	}
	l.sent = append(l.sent, now)
	var longest time.Duration
	for _, w := range l.windows {
		longest = max(longest, w.per)
	}
	drop := 0
	for drop < len(l.sent) && !l.sent[drop].After(now.Add(-longest)) {
		drop++
	}
	l.sent = l.sent[drop:]
	return nil
}

// pause stops messages for d from now (after a "too fast" answer).
func (l *rateLimiter) pause(d time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if t := l.clock.now().Add(d); t.After(l.until) {
		l.until = t
	}
}
