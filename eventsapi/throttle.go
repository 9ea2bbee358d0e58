package eventsapi

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"
)

// throttle is a Client's shared throttle window: no request is sent before
// until. It is opened and extended by throttled answers, never shortened.
type throttle struct {
	mu    sync.Mutex
	until time.Time
	// cause is the throttled answer that set until, for the error of a
	// request that cannot wait that long.
	cause error
}

// extend makes the window last until until at least. It reports whether
// the window was pushed later, and the end it had before.
func (t *throttle) extend(until time.Time, cause error) (extended bool, prev time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	prev = t.until
	if !until.After(prev) {
		return false, prev
	}
	t.until, t.cause = until, cause
	return true, prev
}

// remaining returns how long the window lasts after now (0: it is over),
// and the answer that opened it.
func (t *throttle) remaining(now time.Time) (time.Duration, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !now.Before(t.until) {
		return 0, nil
	}
	return t.until.Sub(now), t.cause
}

// throttled records a throttled answer: the window is extended to the
// answer's Retry-After (capped by MaxRetryAfter) or, without one, to
// delay, the backoff delay of the request that got it.
func (c *Client) throttled(ctx context.Context, log *slog.Logger, ae *APIError, delay time.Duration) {
	c.stats.throttled.Add(1)
	d := delay
	if ae.RetryAfter > 0 {
		d = min(ae.RetryAfter, c.retry.maxRetryAfter)
	}
	now := c.now()
	extended, prev := c.throttle.extend(now.Add(d), ae)
	if !extended {
		return
	}
	args := []any{"window_ms", d.Milliseconds(), "status", ae.StatusCode, "code", ae.Code, "request_id", ae.RequestID}
	if prev.After(now) {
		log.DebugContext(ctx, "throttled again: every request of the client waits longer", args...)
		return
	}
	log.InfoContext(ctx, "throttled: every request of the client waits for the window to end", args...)
}

// awaitThrottle waits for the throttle window to end before a request is
// sent. A request whose context would end first is not kept waiting: it
// fails at once with a *throttleWaitError (permanent: not retried).
func (c *Client) awaitThrottle(ctx context.Context, log *slog.Logger) error {
	counted := false
	for {
		now := c.now()
		d, cause := c.throttle.remaining(now)
		if d <= 0 {
			return nil
		}
		if deadline, ok := ctx.Deadline(); ok && !now.Add(d).Before(deadline) {
			return permanentError{&throttleWaitError{wait: d, cause: cause}}
		}
		if !counted {
			counted = true
			c.stats.throttledWaits.Add(1)
			log.DebugContext(ctx, "waiting for the throttle window to end", "wait_ms", d.Milliseconds())
		}
		if err := c.sleep(ctx, d); err != nil {
			return err
		}
	}
}

// throttleWaitError is a request not sent because the throttle window
// outlasts its context. It matches context.DeadlineExceeded and the
// throttled answer that opened the window (IsThrottled is true).
type throttleWaitError struct {
	wait  time.Duration
	cause error
}

func (e *throttleWaitError) Error() string {
	msg := fmt.Sprintf("not sent: throttled for another %d ms, past the context deadline", e.wait.Milliseconds())
	if e.cause != nil {
		msg += " (after " + e.cause.Error() + ")"
	}
	return msg
}

func (e *throttleWaitError) Unwrap() []error {
	if e.cause == nil {
		return []error{context.DeadlineExceeded}
	}
	return []error{context.DeadlineExceeded, e.cause}
}
