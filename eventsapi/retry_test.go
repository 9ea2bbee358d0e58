package eventsapi_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/modelarts-notifier/modelarts-notifier/eventsapi"
	"github.com/modelarts-notifier/modelarts-notifier/eventsapi/eventsapitest"
)

// TestRetryByStatus sends one request per status code against a fake that
// answers it once, then succeeds: retryable codes cost two requests and
// succeed, every other code fails at once with an *APIError.
func TestRetryByStatus(t *testing.T) {
	srv := newFake(t)
	srv.AddService("svc", "svc", eventsapi.StatusRunning)
	c := newClient(t, srv)
	retryable := map[int]bool{429: true, 500: true, 502: true, 503: true, 504: true}
	for code := 300; code <= 599; code++ {
		if http.StatusText(code) == "" && code != 499 && code != 599 {
			continue
		}
		t.Run(http.StatusText(code), func(t *testing.T) {
			srv.ResetRequests()
			srv.Fail(1, eventsapitest.Fault{Status: code})
			defer srv.ClearFaults()
			before := c.Stats()
			_, err := c.GetService(ctxT(t), "svc")
			got := len(srv.Requests())
			after := c.Stats()
			if retryable[code] {
				if err != nil || got != 2 || after.Retries-before.Retries != 1 {
					t.Errorf("%d: err %v, %d requests, %d retries; want success after 1 retry", code, err, got, after.Retries-before.Retries)
				}
				return
			}
			var ae *eventsapi.APIError
			if !errors.As(err, &ae) || ae.StatusCode != code || got != 1 || after.Retries != before.Retries {
				t.Errorf("%d: err %v, %d requests; want the APIError after 1 request", code, err, got)
			}
		})
	}
}

// retryWaits returns the waits the client logged before retrying.
func retryWaits(t *testing.T, log string) []time.Duration {
	t.Helper()
	var waits []time.Duration
	sc := bufio.NewScanner(strings.NewReader(log))
	for sc.Scan() {
		var rec struct {
			Msg    string `json:"msg"`
			WaitMS int64  `json:"wait_ms"`
		}
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			t.Fatalf("log line %q: %v", sc.Text(), err)
		}
		if rec.Msg == "retrying" {
			waits = append(waits, time.Duration(rec.WaitMS)*time.Millisecond)
		}
	}
	return waits
}

func TestRetryAfter(t *testing.T) {
	tests := []struct {
		name       string
		retryAfter string
		maxAfter   time.Duration
		wantWait   time.Duration
	}{
		// Retry-After is capped by MaxRetryAfter (5 ms here, so that the
		// test does not sleep).
		{name: "seconds, capped", retryAfter: "3", maxAfter: 5 * time.Millisecond, wantWait: 5 * time.Millisecond},
		{name: "HTTP date, capped", retryAfter: time.Now().Add(time.Hour).UTC().Format(http.TimeFormat), maxAfter: 4 * time.Millisecond, wantWait: 4 * time.Millisecond},
		{name: "date in the past: backoff only", retryAfter: "Sat, 01 Jan 2000 00:00:00 GMT", maxAfter: time.Hour, wantWait: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newFake(t)
			srv.AddService("svc", "svc", eventsapi.StatusRunning)
			srv.Fail(1, eventsapitest.Fault{Status: 429, RetryAfter: tt.retryAfter})
			var log logBuffer
			c := newClient(t, srv, withLog(&log), func(cfg *eventsapi.Config) { cfg.MaxRetryAfter = tt.maxAfter })
			if _, err := c.GetService(ctxT(t), "svc"); err != nil {
				t.Fatal(err)
			}
			waits := retryWaits(t, log.String())
			if len(waits) != 1 {
				t.Fatalf("waits %v, want one", waits)
			}
			if tt.wantWait > 0 && waits[0] != tt.wantWait {
				t.Errorf("waited %v, want %v", waits[0], tt.wantWait)
			}
			if tt.wantWait == 0 && waits[0] > 2*time.Millisecond {
				t.Errorf("waited %v, want the backoff (<= 2ms)", waits[0])
			}
		})
	}
}

// TestRetryNeverOutlivesDeadline: a Retry-After that would end after the
// context's deadline (or the retry budget) is not waited for; the 429 is
// returned at once.
func TestRetryNeverOutlivesDeadline(t *testing.T) {
	tests := []struct {
		name   string
		ctx    func(t *testing.T) context.Context
		budget time.Duration
	}{
		{name: "ctx deadline", ctx: func(t *testing.T) context.Context {
			ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
			t.Cleanup(cancel)
			return ctx
		}},
		{name: "retry budget", ctx: func(t *testing.T) context.Context { return t.Context() }, budget: 10 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newFake(t)
			srv.AddService("svc", "svc", eventsapi.StatusRunning)
			srv.Fail(1, eventsapitest.Fault{Status: 429, RetryAfter: "60", Code: "APIG.0308"})
			c := newClient(t, srv, func(cfg *eventsapi.Config) {
				cfg.MaxRetryAfter = time.Hour
				cfg.MaxRetryDuration = tt.budget
			})
			_, err := c.GetService(tt.ctx(t), "svc")
			if !eventsapi.IsThrottled(err) || errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("err = %v, want the 429 at once", err)
			}
			var ae *eventsapi.APIError
			if errors.As(err, &ae); ae.RetryAfter != time.Minute {
				t.Errorf("RetryAfter = %v", ae.RetryAfter)
			}
			if n := len(srv.Requests()); n != 1 {
				t.Errorf("%d requests, want 1", n)
			}
		})
	}
}

func TestRetryGivesUp(t *testing.T) {
	srv := newFake(t)
	srv.AddService("svc", "svc", eventsapi.StatusRunning)
	srv.Fail(100, eventsapitest.Fault{Status: 503})
	c := newClient(t, srv, func(cfg *eventsapi.Config) { cfg.MaxRetries = 3 })
	_, err := c.GetService(ctxT(t), "svc")
	var ae *eventsapi.APIError
	if !errors.As(err, &ae) || ae.StatusCode != 503 {
		t.Fatalf("err = %v, want the last 503", err)
	}
	st := c.Stats()
	if st.Requests != 4 || st.Retries != 3 || st.Failures != 1 || len(srv.Requests()) != 4 {
		t.Errorf("stats %+v, %d requests; want 4 requests, 3 retries, 1 failure", st, len(srv.Requests()))
	}
}

func TestNoRetries(t *testing.T) {
	srv := newFake(t)
	srv.AddService("svc", "svc", eventsapi.StatusRunning)
	srv.Fail(1, eventsapitest.Fault{Status: 500})
	c := newClient(t, srv, func(cfg *eventsapi.Config) { cfg.MaxRetries = -1 })
	if _, err := c.GetService(ctxT(t), "svc"); err == nil {
		t.Fatal("no error")
	}
	if n := len(srv.Requests()); n != 1 {
		t.Errorf("%d requests, want 1", n)
	}
}

// TestRetryNetworkErrors: a body cut short and a refused connection are
// retried.
func TestRetryNetworkErrors(t *testing.T) {
	t.Run("truncated body", func(t *testing.T) {
		srv := newFake(t)
		manyEvents(srv, "svc", 50, 1)
		srv.Fail(2, eventsapitest.Fault{Truncate: true, Path: "/events"})
		c := newClient(t, srv)
		page, err := c.ListEvents(ctxT(t), "svc", eventsapi.EventsQuery{})
		if err != nil {
			t.Fatal(err)
		}
		if page.Count != 50 || len(srv.Requests()) != 3 || c.Stats().Retries != 2 {
			t.Errorf("count %d, %d requests, stats %+v", page.Count, len(srv.Requests()), c.Stats())
		}
	})
	t.Run("connection refused", func(t *testing.T) {
		srv := eventsapitest.NewServer()
		srv.Close()
		c := newClient(t, srv, func(cfg *eventsapi.Config) { cfg.MaxRetries = 2 })
		_, err := c.GetService(ctxT(t), "svc")
		var ae *eventsapi.APIError
		if err == nil || errors.As(err, &ae) {
			t.Fatalf("err = %v, want a network error", err)
		}
		if st := c.Stats(); st.Requests != 3 || st.Retries != 2 {
			t.Errorf("stats %+v, want 3 requests, 2 retries", st)
		}
	})
	t.Run("latency fault then success", func(t *testing.T) {
		srv := newFake(t)
		srv.AddService("svc", "svc", eventsapi.StatusRunning)
		// The first response would take an hour; the client gives up after
		// 2 s (ample for the second, prompt answer even on a loaded
		// machine under -race) and retries. The fake notices the client
		// leave and stops waiting.
		srv.Fail(1, eventsapitest.Fault{Latency: time.Hour})
		c := newClient(t, srv, func(cfg *eventsapi.Config) {
			cfg.HTTPClient = &http.Client{Timeout: 2 * time.Second}
		})
		if _, err := c.GetService(ctxT(t), "svc"); err != nil {
			t.Fatal(err)
		}
		if st := c.Stats(); st.Requests != 2 || st.Retries != 1 {
			t.Errorf("stats %+v: the timed-out request must be retried", st)
		}
	})
}

func TestContextCancelled(t *testing.T) {
	srv := newFake(t)
	srv.AddService("svc", "svc", eventsapi.StatusRunning)
	srv.Fail(5, eventsapitest.Fault{Status: 503})
	c := newClient(t, srv)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := c.GetService(ctx, "svc")
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if n := len(srv.Requests()); n != 0 {
		t.Errorf("%d requests sent with a cancelled context", n)
	}
}
