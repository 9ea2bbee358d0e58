package notifier

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/sethvargo/go-retry"
)

// Verdict is what a destination does with the outcome of one attempt.
type Verdict int

// The three verdicts. Every destination decides with [Classify] (HTTP status)
// and [ClassifySlackError] (Slack's ok:false error strings), so they all
// retry the same way.
const (
	// Delivered: the destination accepted the message.
	Delivered Verdict = iota
	// Retry: a transient failure (429, 5xx, network); try again later.
	Retry
	// Permanent: trying again cannot help (other 4xx, invalid payload, ...).
	Permanent
)

func (v Verdict) String() string {
	switch v {
	case Delivered:
		return "delivered"
	case Retry:
		return "retry"
	case Permanent:
		return "permanent"
	}
	return "Verdict(" + strconv.Itoa(int(v)) + ")"
}

// Classify is the retry decision for an HTTP status code, shared by every
// destination: 2xx delivered; 429 and 5xx retry; anything else (1xx, 3xx,
// other 4xx) is permanent.
func Classify(status int) Verdict {
	switch {
	case status >= 200 && status < 300:
		return Delivered
	case status == http.StatusTooManyRequests, status >= 500 && status < 600:
		return Retry
	}
	return Permanent
}

// ClassifySlackError is the retry decision for an error string that Slack
// returns with "ok": false (Web API) or as the body of a failed incoming
// webhook call. Only rate limiting is transient; every other error
// (invalid_payload, channel_not_found, no_service, not_authed, ...) is
// permanent.
func ClassifySlackError(code string) Verdict {
	switch code {
	case "":
		return Delivered
	case "ratelimited", "rate_limited":
		return Retry
	}
	return Permanent
}

// maxErrorBody bounds how much of a response body an error carries.
const maxErrorBody = 512

// DeliveryError is a delivery that a destination refused or failed.
// It never holds a URL, a token or a secret.
type DeliveryError struct {
	// StatusCode is the HTTP status; 200 for a Slack "ok": false answer.
	StatusCode int
	// SlackError is Slack's error string (invalid_payload,
	// channel_not_found, no_service, ratelimited, ...), when Slack gave one.
	SlackError string
	// Body is the start of the response body (at most 512 bytes, valid UTF-8).
	Body string
	// RetryAfter is the server's Retry-After, when it sent one.
	RetryAfter time.Duration
}

func (e *DeliveryError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "status %d", e.StatusCode)
	if e.SlackError != "" {
		fmt.Fprintf(&b, ": slack error %q", e.SlackError)
	} else if e.Body != "" {
		fmt.Fprintf(&b, ": %q", e.Body)
	}
	if e.RetryAfter > 0 {
		fmt.Fprintf(&b, " (retry after %s)", e.RetryAfter)
	}
	return b.String()
}

// Verdict is the shared retry decision for this error: Retry when the
// status or Slack's error string is transient, Permanent otherwise (a
// DeliveryError is never a delivery, even with a 2xx status).
func (e *DeliveryError) Verdict() Verdict {
	if Classify(e.StatusCode) == Retry || ClassifySlackError(e.SlackError) == Retry {
		return Retry
	}
	return Permanent
}

// verdictOf decides whether err (from one attempt) is worth retrying:
// *DeliveryError by its status, local failures never, anything else (a
// network error, an http.Client timeout) always. Whether the context is
// over is not read from err: an http.Client timeout also matches
// context.DeadlineExceeded. The retry loop asks ctx.Err() instead.
func verdictOf(err error) Verdict {
	if err == nil {
		return Delivered
	}
	var de *DeliveryError
	if errors.As(err, &de) {
		return de.Verdict()
	}
	var pe *permanentError
	if errors.As(err, &pe) {
		return Permanent
	}
	return Retry
}

// permanentError marks a local failure (bad payload, bad response) as not
// worth retrying.
type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

func permanent(err error) error { return &permanentError{err} }

// parseRetryAfter reads a Retry-After header: delay-seconds (capped at a
// day) or an HTTP date relative to now, and reports whether the header said
// anything usable. A date in the past means "now" (0, true); a negative or
// unreadable value is no hint (0, false). It is eventsapi's rule too: both
// read the table eventsapi/testdata/retry-after.json.
func parseRetryAfter(h string, now time.Time) (time.Duration, bool) {
	h = strings.TrimSpace(h)
	if h == "" {
		return 0, false
	}
	if s, err := strconv.ParseInt(h, 10, 64); err == nil {
		if s < 0 {
			return 0, false
		}
		return time.Duration(min(s, int64(24*time.Hour/time.Second))) * time.Second, true
	}
	t, err := http.ParseTime(h)
	if err != nil {
		return 0, false
	}
	return max(t.Sub(now), 0), true
}

// retryAfter is parseRetryAfter's wait alone (0: no wait asked for).
func retryAfter(h string, now time.Time) time.Duration {
	d, _ := parseRetryAfter(h, now)
	return d
}

// RetryPolicy bounds the retries of one delivery. The zero value means the
// defaults. Retries never wait past the context's deadline: when the next
// wait would end after it, the last error is returned at once.
type RetryPolicy struct {
	// MaxAttempts is the number of tries, including the first (default 4).
	MaxAttempts int
	// BaseDelay is the first backoff (default 1s); it doubles, with jitter.
	BaseDelay time.Duration
	// MaxDelay caps one wait, a server's Retry-After included (default 30s).
	MaxDelay time.Duration
}

func (p RetryPolicy) withDefaults() RetryPolicy {
	if p.MaxAttempts <= 0 {
		p.MaxAttempts = 4
	}
	if p.BaseDelay <= 0 {
		p.BaseDelay = time.Second
	}
	if p.MaxDelay <= 0 {
		p.MaxDelay = 30 * time.Second
	}
	return p
}

// clock tells the time and waits; tests inject a fake one so that nothing
// depends on the wall clock.
type clock struct {
	now   func() time.Time
	sleep func(ctx context.Context, d time.Duration) error
}

func newClock(now func() time.Time, sleep func(context.Context, time.Duration) error) clock {
	if now == nil {
		now = time.Now
	}
	if sleep == nil {
		sleep = Sleep
	}
	return clock{now: now, sleep: sleep}
}

// Sleep waits for d or until ctx is done, whichever comes first. It is the
// default for the Sleep fields of the configs.
func Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return context.Cause(ctx)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return context.Cause(ctx)
	case <-t.C:
		return nil
	}
}

// do runs attempt until it succeeds, fails permanently, runs out of
// attempts or would outlive ctx. Backoff comes from go-retry (a fresh one
// per call: its counters live in closures); the waits themselves go through
// clk so that tests control time. A server's Retry-After replaces a shorter
// backoff, capped by MaxDelay and the deadline.
func (p RetryPolicy) do(ctx context.Context, clk clock, attempt func(ctx context.Context) error) error {
	p = p.withDefaults()
	var (
		wait    time.Duration // set by the backoff, spent before the next try
		lastErr error
	)
	base := retry.NewExponential(p.BaseDelay)
	base = retry.WithJitterPercent(10, base)
	base = retry.WithCappedDuration(p.MaxDelay, base)
	base = retry.WithMaxRetries(uint64(p.MaxAttempts-1), base)
	if dl, ok := ctx.Deadline(); ok {
		base = retry.WithMaxDuration(time.Until(dl), base)
	}
	backoff := retry.BackoffFunc(func() (time.Duration, bool) {
		d, stop := base.Next()
		if stop {
			return 0, true
		}
		var de *DeliveryError
		if errors.As(lastErr, &de) && de.RetryAfter > d {
			d = min(de.RetryAfter, p.MaxDelay)
		}
		if dl, ok := ctx.Deadline(); ok && !clk.now().Add(d).Before(dl) {
			return 0, true // the wait would end past the deadline
		}
		wait = d
		return 0, false // clk waits, in the next attempt
	})
	err := retry.Do(ctx, backoff, func(ctx context.Context) error {
		if wait > 0 {
			if err := clk.sleep(ctx, wait); err != nil {
				return err
			}
			wait = 0
		}
		lastErr = attempt(ctx)
		if ctx.Err() != nil {
			return lastErr // the context is over: no more tries
		}
		if verdictOf(lastErr) == Retry {
			return retry.RetryableError(lastErr)
		}
		return lastErr
	})
	if err != nil && lastErr != nil && !errors.Is(err, lastErr) {
		// Cancelled while waiting: say what the last attempt got.
		return fmt.Errorf("%w (last attempt: %w)", err, lastErr)
	}
	return err
}

// ErrDestinationDown fails the rest of a Notify batch at one destination
// once a notification there has used up its retries on a network error, a
// timeout or a 5xx: the destination looks down, and retrying every
// notification in turn would spend the run's time on a dead receiver. The
// notifications it leaves were not attempted; the next run retries them.
var ErrDestinationDown = errors.New("destination looks down; not attempted")

// looksDown: err is what one delivery got after its retries, and it says
// the destination is unreachable or failing (network error, timeout, 5xx),
// not just busy (429, ratelimited) or refusing this message (other 4xx).
func looksDown(err error) bool {
	if verdictOf(err) != Retry {
		return false
	}
	var de *DeliveryError
	if errors.As(err, &de) {
		return de.StatusCode >= 500
	}
	return true
}

// skipRest says why, after a delivery that got err, the rest of the batch
// at this destination is not attempted; nil when it should go on. id is the
// notification that got err.
func skipRest(ctx context.Context, id string, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, ErrDeadlineNear):
		return fmt.Errorf("not attempted: %w", ErrDeadlineNear)
	case ctx.Err() == nil && looksDown(err):
		return fmt.Errorf("%w (%s failed after retries: %v)", ErrDestinationDown, id, err)
	}
	return nil
}
