package eventsapi

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/sethvargo/go-retry"
)

// Retry defaults, used when the matching Config field is zero.
const (
	DefaultRetryBaseDelay   = 200 * time.Millisecond
	DefaultRetryMaxDelay    = 10 * time.Second
	DefaultMaxRetries       = 5
	DefaultMaxRetryDuration = time.Minute
	DefaultMaxRetryAfter    = 30 * time.Second
)

// Retryable reports whether a response with this HTTP status is worth
// sending again: 429 and 500, 502, 503, 504. Every other status, including
// every other 4xx, is final.
func Retryable(status int) bool {
	switch status {
	case http.StatusTooManyRequests,
		http.StatusInternalServerError,
		http.StatusBadGateway,
		http.StatusServiceUnavailable,
		http.StatusGatewayTimeout:
		return true
	}
	return false
}

// parseRetryAfter reads a Retry-After header: delay-seconds or an HTTP date
// (relative to now). A date in the past means "now" (0, true).
func parseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs < 0 {
			return 0, false
		}
		if secs > int64(24*time.Hour/time.Second) {
			secs = int64(24 * time.Hour / time.Second)
		}
		return time.Duration(secs) * time.Second, true
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	return max(t.Sub(now), 0), true
}

// retryPolicy holds the resolved retry knobs of a Client.
type retryPolicy struct {
	baseDelay     time.Duration
	maxDelay      time.Duration
	maxRetries    int
	maxDuration   time.Duration
	maxRetryAfter time.Duration
}

// opBackoff is the backoff of one operation: built fresh per call, so its
// attempt counter and start time are never shared. It combines go-retry's
// exponential backoff with jitter, the server's Retry-After hint (capped),
// and two limits: the operation's total retry budget and the context's
// deadline. A wait that would end past either is not started; the
// operation's last error is returned at once instead.
type opBackoff struct {
	ctx    context.Context
	policy retryPolicy
	exp    retry.Backoff
	now    func() time.Time
	start  time.Time

	retries int
	// hint is the Retry-After of the last failed attempt, set by the
	// attempt and consumed by Next.
	hint time.Duration
	// lastErr is the failure that led to the next wait, for logs.
	lastErr error
	// onWait, when set, observes every wait that Next grants.
	onWait func(wait time.Duration, retry int, cause error)

	// throttled is set by an attempt that was answered "too many
	// requests"; window, when set, returns what is left of the client's
	// throttle window at a time. Next then grants no wait shorter than the
	// window, and refuses one that outlives the deadline or the budget.
	throttled bool
	window    func(now time.Time) (time.Duration, error)
}

// currentDelay is the backoff delay before jitter of the next retry: the
// base delay doubled per retry so far, capped.
func (b *opBackoff) currentDelay() time.Duration {
	d := b.policy.baseDelay
	for range b.retries {
		if d >= b.policy.maxDelay {
			break
		}
		d *= 2
	}
	return min(d, b.policy.maxDelay)
}

func newOpBackoff(ctx context.Context, p retryPolicy, now func() time.Time) *opBackoff {
	exp := retry.WithCappedDuration(p.maxDelay,
		retry.WithJitterPercent(20, retry.NewExponential(p.baseDelay)))
	return &opBackoff{ctx: ctx, policy: p, exp: exp, now: now, start: now()}
}

// Next returns the wait before the next attempt, or stop: the retries,
// the budget or the deadline are used up. It has retry.Backoff's shape.
func (b *opBackoff) Next() (time.Duration, bool) {
	if b.retries >= b.policy.maxRetries {
		return 0, true
	}
	wait, stop := b.exp.Next()
	if stop {
		return 0, true
	}
	if b.hint > 0 {
		wait = max(wait, min(b.hint, b.policy.maxRetryAfter))
		b.hint = 0
	}
	now := b.now()
	if b.throttled && b.window != nil {
		left, _ := b.window(now)
		wait = max(wait, left)
	}
	if b.policy.maxDuration > 0 && now.Sub(b.start)+wait > b.policy.maxDuration {
		return 0, true
	}
	if deadline, ok := b.ctx.Deadline(); ok && !now.Add(wait).Before(deadline) {
		return 0, true
	}
	b.retries++
	if b.onWait != nil {
		b.onWait(wait, b.retries, b.lastErr)
	}
	return wait, false
}
