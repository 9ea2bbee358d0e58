package eventsapi

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"sync/atomic"
	"time"
)

// DefaultMaxBodyBytes caps a response body (a 1,000-event page is a few
// hundred KiB).
const DefaultMaxBodyBytes = 16 << 20

// DefaultEndpoint returns the ModelArts endpoint of a region, e.g.
// https://modelarts.cn-north-4.myhuaweicloud.com.
func DefaultEndpoint(region string) string {
	return "https://modelarts." + region + ".myhuaweicloud.com"
}

// DefaultIAMEndpoint returns the IAM endpoint of a region, e.g.
// https://iam.cn-north-4.myhuaweicloud.com.
func DefaultIAMEndpoint(region string) string {
	return "https://iam." + region + ".myhuaweicloud.com"
}

// Config configures a Client. Endpoint, ProjectID and Auth are required;
// every other field has a default.
type Config struct {
	// Endpoint is the ModelArts base URL, e.g. DefaultEndpoint(region).
	// http:// is refused unless the host is loopback.
	Endpoint  string
	ProjectID string
	Auth      Authenticator
	// HTTPClient is optional (default: a client with a 30 s timeout).
	HTTPClient *http.Client
	// Logger is optional (default: discard). Debug level logs every
	// attempt; secrets are never logged. The client adds component
	// ("eventsapi") and project_id to every line itself: pass a logger
	// that carries neither, or the line holds the key twice. Durations are
	// logged as integer milliseconds, in keys ending in _ms.
	Logger *slog.Logger

	// RetryBaseDelay is the first backoff delay; it doubles per retry,
	// with ±20 % jitter, up to RetryMaxDelay.
	RetryBaseDelay time.Duration
	RetryMaxDelay  time.Duration
	// MaxRetries bounds the retries of one operation (negative: none).
	MaxRetries int
	// MaxRetryDuration bounds the time one operation spends retrying. No
	// wait is ever started that would end after ctx's deadline either.
	MaxRetryDuration time.Duration
	// MaxRetryAfter caps a server's Retry-After. A throttled answer (HTTP
	// 429, ModelArts.2799, APIG.0308) holds every request of the Client,
	// from every goroutine, until the Retry-After (capped) has passed, or,
	// without one, the backoff delay of the throttled request (see
	// Client).
	MaxRetryAfter time.Duration
	// MaxBodyBytes caps a response body (default DefaultMaxBodyBytes).
	MaxBodyBytes int64
	// UserAgent is sent as User-Agent (default "modelarts-notifier").
	UserAgent string
}

// Client calls the ModelArts service APIs of one project. It is safe for
// concurrent use.
//
// Throttling is shared: when any request is answered "too many requests"
// (HTTP 429, ModelArts.2799 or APIG.0308), the Client opens a throttle
// window, as long as the answer's Retry-After (capped by MaxRetryAfter)
// or, without one, the backoff delay of the request that got it. Until the
// window ends, no request of the Client is sent: every one, from every
// goroutine, the throttled request's own retry included, waits for its
// end; further throttled answers extend it. Requests already sent are not
// recalled. A request whose context would end before the window does is
// not sent and fails at once with an error that matches
// context.DeadlineExceeded (and IsThrottled). After the window, requests
// go at full speed again. Stats counts the throttled answers and the
// requests that waited.
type Client struct {
	base      *url.URL
	projectID string
	auth      Authenticator
	hc        *http.Client
	log       *slog.Logger
	retry     retryPolicy
	maxBody   int64
	userAgent string
	now       func() time.Time
	// sleep waits d or until ctx ends (context.Cause then); tests replace
	// it, with now, to run the throttle window on a fake clock.
	sleep    func(ctx context.Context, d time.Duration) error
	throttle throttle

	stats struct {
		requests, retries, authRefreshes, failures atomic.Int64
		throttled, throttledWaits                  atomic.Int64
	}
}

// Stats are cumulative counters of a Client.
type Stats struct {
	// Requests is the number of HTTP requests sent (every attempt).
	Requests int64
	// Retries is the number of attempts that followed a transient failure.
	Retries int64
	// AuthRefreshes is the number of requests re-sent after a rejected
	// token was invalidated.
	AuthRefreshes int64
	// Failures is the number of operations that returned an error.
	Failures int64
	// Throttled is the number of throttled answers (HTTP 429,
	// ModelArts.2799, APIG.0308) received; each opened or extended the
	// client's throttle window.
	Throttled int64
	// ThrottledWaits is the number of requests that waited for the
	// throttle window to end before being sent (a throttled request's own
	// retry included).
	ThrottledWaits int64
}

// New returns a Client, validating cfg.
func New(cfg Config) (*Client, error) {
	base, err := parseEndpoint(cfg.Endpoint)
	if err != nil {
		return nil, fmt.Errorf("eventsapi: endpoint: %w", err)
	}
	if err := validateID("project", cfg.ProjectID); err != nil {
		return nil, fmt.Errorf("eventsapi: %w", err)
	}
	if cfg.Auth == nil {
		return nil, errors.New("eventsapi: Auth is required")
	}
	c := &Client{
		base:      base,
		projectID: cfg.ProjectID,
		auth:      cfg.Auth,
		hc:        cfg.HTTPClient,
		log:       cfg.Logger,
		maxBody:   cfg.MaxBodyBytes,
		userAgent: cfg.UserAgent,
		now:       time.Now,
		sleep:     sleepCtx,
		retry: retryPolicy{
			baseDelay:     orDefault(cfg.RetryBaseDelay, DefaultRetryBaseDelay),
			maxDelay:      orDefault(cfg.RetryMaxDelay, DefaultRetryMaxDelay),
			maxRetries:    cfg.MaxRetries,
			maxDuration:   orDefault(cfg.MaxRetryDuration, DefaultMaxRetryDuration),
			maxRetryAfter: orDefault(cfg.MaxRetryAfter, DefaultMaxRetryAfter),
		},
	}
	switch {
	case c.retry.maxRetries == 0:
		c.retry.maxRetries = DefaultMaxRetries
	case c.retry.maxRetries < 0:
		c.retry.maxRetries = 0
	}
	if c.hc == nil {
		c.hc = &http.Client{Timeout: 30 * time.Second}
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	if c.maxBody <= 0 {
		c.maxBody = DefaultMaxBodyBytes
	}
	if c.userAgent == "" {
		c.userAgent = "modelarts-notifier"
	}
	c.log = c.log.With("component", "eventsapi", "project_id", c.projectID)
	return c, nil
}

func orDefault(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

// ProjectID returns the project the client reads.
func (c *Client) ProjectID() string { return c.projectID }

// Stats returns a snapshot of the client's counters.
func (c *Client) Stats() Stats {
	return Stats{
		Requests:      c.stats.requests.Load(),
		Retries:       c.stats.retries.Load(),
		AuthRefreshes: c.stats.authRefreshes.Load(),
		Failures:      c.stats.failures.Load(),

		Throttled:      c.stats.throttled.Load(),
		ThrottledWaits: c.stats.throttledWaits.Load(),
	}
}

// sleepCtx waits d, or until ctx ends: then it returns context.Cause(ctx).
func sleepCtx(ctx context.Context, d time.Duration) error {
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

// get performs GET {base}{path}?{query} with retries and returns the 2xx
// body. path is unescaped (ids are validated, so they hold no "/").
func (c *Client) get(ctx context.Context, path string, query url.Values) ([]byte, error) {
	return c.getInto(ctx, path, query, nil)
}

// getInto is get reading the body into buf (nil: a new slice): the
// returned body is then buf's, valid until buf is used again.
func (c *Client) getInto(ctx context.Context, path string, query url.Values, buf *bytes.Buffer) ([]byte, error) {
	u := *c.base
	u.Path = c.base.Path + path
	u.RawPath = ""
	u.RawQuery = query.Encode()
	target := u.String()
	log := c.log.With("path", u.Path)

	b := newOpBackoff(ctx, c.retry, c.now)
	b.window = c.throttle.remaining
	b.onWait = func(wait time.Duration, n int, cause error) {
		c.stats.retries.Add(1)
		args := []any{"retry", n, "wait_ms", wait.Milliseconds()}
		if cause != nil {
			args = append(args, "cause", cause.Error())
		}
		log.InfoContext(ctx, "retrying", args...)
	}
	// One plain loop drives the attempts: it asks the operation's backoff
	// for each wait and makes it itself (c.sleep, or the shared throttle
	// window), so tests replace the clock and nothing else waits.
	body, err := func() ([]byte, error) {
		for {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			if err := c.awaitThrottle(ctx, log); err != nil {
				return nil, err
			}
			body, err := c.attempt(ctx, target, log, buf)
			retryable := false
			var ae *APIError
			switch {
			case err == nil:
				return body, nil
			case ctx.Err() != nil:
			case errors.As(err, &ae):
				if IsThrottled(ae) {
					c.throttled(ctx, log, ae, b.currentDelay())
					b.throttled = true
				}
				if Retryable(ae.StatusCode) {
					b.hint, b.lastErr, retryable = ae.RetryAfter, err, true
				}
			case errors.Is(err, errPermanent):
			default: // network error, truncated body
				b.lastErr, retryable = err, true
			}
			if !retryable {
				return nil, err
			}
			wait, stop := b.Next()
			throttled := b.throttled
			b.throttled = false
			switch {
			case stop:
				return nil, err
			case throttled:
				// A throttled request waits at the window, like every
				// other request: the window lasts at least its wait.
				c.throttle.extend(c.now().Add(wait), b.lastErr)
			default:
				if err := c.sleep(ctx, wait); err != nil {
					return nil, err
				}
			}
		}
	}()
	if err != nil {
		c.stats.failures.Add(1)
		log.DebugContext(ctx, "request failed", "error", err.Error())
	}
	return body, err
}

// errPermanent marks failures that another attempt cannot fix.
var errPermanent = errors.New("permanent")

type permanentError struct{ err error }

func (e permanentError) Error() string        { return e.err.Error() }
func (e permanentError) Unwrap() []error      { return []error{e.err, errPermanent} }
func permanent(format string, a ...any) error { return permanentError{fmt.Errorf(format, a...)} }

// attempt sends the request once (twice when a rejected token is
// invalidated) and returns the 2xx body or an error.
func (c *Client) attempt(ctx context.Context, target string, log *slog.Logger, buf *bytes.Buffer) ([]byte, error) {
	refreshed := false
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
		if err != nil {
			return nil, permanent("build request: %w", err)
		}
		req.Header.Set("Accept", "application/json")
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("User-Agent", c.userAgent)
		req.Header.Set(HeaderProjectID, c.projectID)
		if err := c.auth.Authenticate(ctx, req); err != nil {
			err = fmt.Errorf("authenticate: %w", err)
			// An API answer is judged by its status, a network failure is
			// transient; anything else (no credentials, a malformed IAM
			// answer) will not improve with another attempt.
			var ae *APIError
			var ne net.Error
			if errors.As(err, &ae) || errors.As(err, &ne) || errors.Is(err, io.ErrUnexpectedEOF) {
				return nil, err
			}
			return nil, permanentError{err}
		}
		start := c.now()
		c.stats.requests.Add(1)
		resp, err := c.hc.Do(req)
		if err != nil {
			if ctx.Err() != nil {
				return nil, redactURLError(err)
			}
			return nil, &unreachableError{endpoint: c.endpoint(), err: redactURLError(err)}
		}
		body, readErr := readCapped(resp.Body, c.maxBody, buf)
		drainClose(resp.Body)
		log.DebugContext(ctx, "response", "status", resp.StatusCode, "bytes", len(body),
			"duration_ms", c.now().Sub(start).Milliseconds(), "request_id", resp.Header.Get("X-Request-Id"))
		if readErr != nil {
			if errors.Is(readErr, errBodyTooLarge) {
				return nil, permanentError{readErr}
			}
			return nil, fmt.Errorf("read response (HTTP %d): %w", resp.StatusCode, readErr)
		}
		if resp.StatusCode/100 == 2 {
			return body, nil
		}
		// Should a server echo the credentials back, keep them out of the
		// error.
		var secrets []string
		for _, h := range [...]string{HeaderAuthToken, HeaderSecurityToken} {
			if v := req.Header.Get(h); len(v) >= 8 {
				secrets = append(secrets, v)
			}
		}
		ae := newAPIError(resp, body, c.now(), secrets...)
		if resp.StatusCode == http.StatusUnauthorized && IsTokenErrorCode(ae.Code) && !refreshed {
			if inv, ok := c.auth.(TokenInvalidator); ok {
				refreshed = true
				inv.InvalidateToken(req.Header.Get(HeaderAuthToken))
				c.stats.authRefreshes.Add(1)
				log.DebugContext(ctx, "token rejected; fetching a new one", "code", ae.Code)
				continue
			}
		}
		return nil, ae
	}
}

var errBodyTooLarge = errors.New("response body too large")

// readCapped reads at most limit bytes of r, into buf when it is not nil
// (the result is then buf's); a longer body is an error.
func readCapped(r io.Reader, limit int64, buf *bytes.Buffer) ([]byte, error) {
	var data []byte
	var err error
	if buf != nil {
		buf.Reset()
		_, err = buf.ReadFrom(io.LimitReader(r, limit+1))
		data = buf.Bytes()
	} else {
		data, err = io.ReadAll(io.LimitReader(r, limit+1))
	}
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("%w: more than %d bytes", errBodyTooLarge, limit)
	}
	return data, nil
}

// drainClose reads a little of what is left, so the connection can be
// reused, and closes the body.
func drainClose(rc io.ReadCloser) {
	_, _ = io.CopyN(io.Discard, rc, 64<<10)
	_ = rc.Close()
}

// redactURLError strips user info from the URL in a *url.Error. No secret
// is ever in a URL this package builds; this keeps it that way for
// endpoints callers configure.
func redactURLError(err error) error {
	var ue *url.Error
	if !errors.As(err, &ue) {
		return err
	}
	if u, perr := url.Parse(ue.URL); perr == nil {
		u.User = nil
		ue.URL = u.String()
	}
	return err
}

// endpoint is the configured base URL, for errors.
func (c *Client) endpoint() string {
	u := *c.base
	u.User = nil
	return u.String()
}

// unreachableError is a request that got no HTTP answer (connection
// refused, DNS failure, timeout, reset). It reads "cannot reach
// {endpoint}: {cause}" instead of net/http's `Get "{full URL}": {cause}`
// (the call's own context already names the service), and unwraps to the
// *url.Error, so that errors.As for *url.Error or net.Error still works.
type unreachableError struct {
	endpoint string
	err      error // *url.Error
}

func (e *unreachableError) Error() string {
	cause := e.err
	var ue *url.Error
	if errors.As(e.err, &ue) && ue.Err != nil {
		cause = ue.Err
	}
	return "cannot reach " + e.endpoint + ": " + cause.Error()
}

func (e *unreachableError) Unwrap() error { return e.err }
