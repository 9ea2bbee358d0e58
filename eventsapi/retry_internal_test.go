package eventsapi

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestRetryable maps every status code to retry or not.
func TestRetryable(t *testing.T) {
	retry := map[int]bool{429: true, 500: true, 502: true, 503: true, 504: true}
	for code := 100; code <= 599; code++ {
		if got := Retryable(code); got != retry[code] {
			t.Errorf("Retryable(%d %s) = %v, want %v", code, http.StatusText(code), got, retry[code])
		}
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		in     string
		want   time.Duration
		wantOK bool
	}{
		{"", 0, false},
		{"0", 0, true},
		{"3", 3 * time.Second, true},
		{" 120 ", 2 * time.Minute, true},
		{"-1", 0, false},
		{"99999999999", 24 * time.Hour, true},
		{"1.5", 0, false},
		{"soon", 0, false},
		{"Sat, 28 Nov 2026 12:00:30 GMT", 30 * time.Second, true},
		{"Saturday, 28-Nov-26 12:01:00 GMT", time.Minute, true},
		{"Sat Nov 28 12:00:05 2026", 5 * time.Second, true},
		{"Sat, 28 Nov 2026 11:00:00 GMT", 0, true}, // in the past: now
	}
	for _, tt := range tests {
		got, ok := parseRetryAfter(tt.in, now)
		if got != tt.want || ok != tt.wantOK {
			t.Errorf("parseRetryAfter(%q) = %v, %v; want %v, %v", tt.in, got, ok, tt.want, tt.wantOK)
		}
	}
}

// fakeClock is a manual clock.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time { return c.t }

// TestOpBackoff checks the wait decisions without sleeping: exponential
// growth, Retry-After honoured and capped, and no wait that outlives the
// deadline or the retry budget.
func TestOpBackoff(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	policy := retryPolicy{
		baseDelay:     100 * time.Millisecond,
		maxDelay:      time.Second,
		maxRetries:    10,
		maxDuration:   time.Minute,
		maxRetryAfter: 30 * time.Second,
	}
	type step struct {
		advance  time.Duration // clock moves before Next
		hint     time.Duration // Retry-After of the failure
		wantMin  time.Duration
		wantMax  time.Duration
		wantStop bool
	}
	tests := []struct {
		name     string
		policy   func(*retryPolicy)
		deadline time.Duration // 0: none
		steps    []step
	}{
		{
			name: "exponential with jitter, capped",
			steps: []step{
				{wantMin: 80 * time.Millisecond, wantMax: 120 * time.Millisecond},
				{wantMin: 160 * time.Millisecond, wantMax: 240 * time.Millisecond},
				{wantMin: 320 * time.Millisecond, wantMax: 480 * time.Millisecond},
				{wantMin: 640 * time.Millisecond, wantMax: 960 * time.Millisecond},
				{wantMin: time.Second, wantMax: time.Second},
				{wantMin: time.Second, wantMax: time.Second},
			},
		},
		{
			name: "Retry-After honoured",
			steps: []step{
				{hint: 3 * time.Second, wantMin: 3 * time.Second, wantMax: 3 * time.Second},
				{wantMin: 160 * time.Millisecond, wantMax: 240 * time.Millisecond}, // hint consumed
			},
		},
		{
			name:  "Retry-After capped",
			steps: []step{{hint: time.Hour, wantMin: 30 * time.Second, wantMax: 30 * time.Second}},
		},
		{
			name:     "no wait past the deadline",
			deadline: 10 * time.Second,
			steps: []step{
				{hint: 5 * time.Second, wantMin: 5 * time.Second, wantMax: 5 * time.Second},
				{advance: 5 * time.Second, hint: 5 * time.Second, wantStop: true},
			},
		},
		{
			name:     "Retry-After longer than the time left",
			deadline: 20 * time.Second,
			steps:    []step{{hint: 25 * time.Second, wantStop: true}},
		},
		{
			name:   "retry budget",
			policy: func(p *retryPolicy) { p.maxDuration = 2 * time.Second },
			steps: []step{
				{advance: 1500 * time.Millisecond, hint: time.Second, wantStop: true},
			},
		},
		{
			name:   "max retries",
			policy: func(p *retryPolicy) { p.maxRetries = 2 },
			steps: []step{
				{wantMin: 80 * time.Millisecond, wantMax: 120 * time.Millisecond},
				{wantMin: 160 * time.Millisecond, wantMax: 240 * time.Millisecond},
				{wantStop: true},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := policy
			if tt.policy != nil {
				tt.policy(&p)
			}
			clock := &fakeClock{t: t0}
			ctx := context.Background()
			if tt.deadline > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithDeadline(ctx, t0.Add(tt.deadline))
				defer cancel()
			}
			b := newOpBackoff(ctx, p, clock.now)
			for i, s := range tt.steps {
				clock.t = clock.t.Add(s.advance)
				b.hint = s.hint
				got, stop := b.Next()
				if stop != s.wantStop {
					t.Fatalf("step %d: stop = %v, want %v", i, stop, s.wantStop)
				}
				if !stop && (got < s.wantMin || got > s.wantMax) {
					t.Errorf("step %d: wait %v, want in [%v, %v]", i, got, s.wantMin, s.wantMax)
				}
				clock.t = clock.t.Add(got)
			}
		})
	}
}

func TestNewAPIError(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	resp := func(code int, h map[string]string) *http.Response {
		r := &http.Response{StatusCode: code, Header: http.Header{}}
		for k, v := range h {
			r.Header.Set(k, v)
		}
		return r
	}
	tests := []struct {
		name string
		resp *http.Response
		body string
		want APIError
		text string
	}{
		{
			name: "modelarts",
			resp: resp(429, map[string]string{"X-Request-Id": "r1", "Retry-After": "7"}),
			body: `{"error_code":"ModelArts.2799","error_msg":"Too many requests."}`,
			want: APIError{StatusCode: 429, Code: "ModelArts.2799", Message: "Too many requests.", RequestID: "r1", RetryAfter: 7 * time.Second},
			text: "HTTP 429 ModelArts.2799: Too many requests. (request id r1)",
		},
		{
			name: "iam",
			resp: resp(401, nil),
			body: `{"error":{"code":401,"message":"The username or password is wrong.","title":"Unauthorized"}}`,
			want: APIError{StatusCode: 401, Message: "The username or password is wrong."},
			text: "HTTP 401: The username or password is wrong.",
		},
		{
			name: "html gateway page",
			resp: resp(502, nil),
			body: "<html>Bad gateway</html>",
			want: APIError{StatusCode: 502, Message: "<html>Bad gateway</html>"},
			text: "HTTP 502: <html>Bad gateway</html>",
		},
		{
			name: "empty",
			resp: resp(503, nil),
			want: APIError{StatusCode: 503},
			text: "HTTP 503 Service Unavailable",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := newAPIError(tt.resp, []byte(tt.body), now)
			if d := cmp.Diff(&tt.want, got); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
			if got.Error() != tt.text {
				t.Errorf("Error() = %q, want %q", got.Error(), tt.text)
			}
		})
	}
	long := make([]byte, 10_000)
	for i := range long {
		long[i] = 'x'
	}
	if e := newAPIError(resp(500, nil), long, now); len(e.Message) > maxErrorExcerpt+len("…") {
		t.Errorf("message of %d bytes not bounded", len(e.Message))
	}
}

// TestOpBackoffThrottleWindow: after a throttled answer, no retry is
// granted before the client's throttle window ends, nor one that would end
// past the deadline; without a throttled answer the window is ignored.
func TestOpBackoffThrottleWindow(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	policy := retryPolicy{baseDelay: 100 * time.Millisecond, maxDelay: time.Second, maxRetries: 5,
		maxDuration: time.Minute, maxRetryAfter: 30 * time.Second}
	clock := &fakeClock{t: t0}
	ctx, cancel := context.WithDeadline(context.Background(), t0.Add(10*time.Second))
	defer cancel()
	b := newOpBackoff(ctx, policy, clock.now)
	left := 3 * time.Second
	b.window = func(time.Time) (time.Duration, error) { return left, nil }

	if d := b.currentDelay(); d != 100*time.Millisecond {
		t.Errorf("currentDelay = %v, want the base delay", d)
	}
	if got, stop := b.Next(); stop || got > 120*time.Millisecond {
		t.Errorf("not throttled: wait %v, stop %v; want the backoff", got, stop)
	}
	if d := b.currentDelay(); d != 200*time.Millisecond {
		t.Errorf("currentDelay = %v after a retry, want twice the base", d)
	}
	b.throttled = true
	if got, stop := b.Next(); stop || got != left {
		t.Errorf("throttled: wait %v, stop %v; want the window's %v", got, stop, left)
	}
	left = 20 * time.Second
	if _, stop := b.Next(); !stop {
		t.Error("a window past the deadline: want stop")
	}
}
