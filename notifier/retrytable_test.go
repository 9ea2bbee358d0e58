package notifier

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestClassify(t *testing.T) {
	tests := []struct {
		status int
		want   Verdict
	}{
		{100, Permanent}, {200, Delivered}, {201, Delivered}, {202, Delivered}, {204, Delivered}, {299, Delivered},
		{301, Permanent}, {304, Permanent}, {400, Permanent}, {401, Permanent}, {403, Permanent},
		{404, Permanent}, {408, Permanent}, {410, Permanent}, {413, Permanent}, {429, Retry},
		{500, Retry}, {502, Retry}, {503, Retry}, {504, Retry}, {599, Retry}, {600, Permanent},
	}
	for _, tt := range tests {
		if got := Classify(tt.status); got != tt.want {
			t.Errorf("Classify(%d) = %v, want %v", tt.status, got, tt.want)
		}
	}
	for code, want := range map[string]Verdict{
		"ratelimited": Retry, "rate_limited": Retry, "invalid_payload": Permanent,
		"channel_not_found": Permanent, "no_service": Permanent, "invalid_auth": Permanent, "": Delivered,
	} {
		if got := ClassifySlackError(code); got != want {
			t.Errorf("ClassifySlackError(%q) = %v, want %v", code, got, want)
		}
	}
}

// destinationKind builds one kind of destination against a test server,
// with client as its HTTPClient (nil: the default). okBody is what the
// server sends with a 2xx.
type destinationKind struct {
	name   string
	okBody string
	build  func(t *testing.T, url string, clk *fakeClock, logger *slog.Logger, client *http.Client) Notifier
}

var destinationKinds = []destinationKind{
	{
		name: "webhook", okBody: "",
		build: func(t *testing.T, url string, clk *fakeClock, logger *slog.Logger, client *http.Client) Notifier {
			w, err := NewWebhook(WebhookConfig{URL: url + "/hook/" + secretPath, Secret: testSecret, SendConfig: SendConfig{HTTPClient: client, Now: clk.Now, Sleep: clk.Sleep, Retry: RetryPolicy{MaxAttempts: 2}}}, logger)
			if err != nil {
				t.Fatal(err)
			}
			return w
		},
	},
	{
		name: "slack-webhook", okBody: "ok",
		build: func(t *testing.T, url string, clk *fakeClock, logger *slog.Logger, client *http.Client) Notifier {
			s, err := NewSlackWebhook(SlackWebhookConfig{URL: url + "/services/" + secretPath, SendConfig: SendConfig{HTTPClient: client, Now: clk.Now, Sleep: clk.Sleep, Retry: RetryPolicy{MaxAttempts: 2}}}, logger)
			if err != nil {
				t.Fatal(err)
			}
			return s
		},
	},
	{
		name: "slack-bot", okBody: `{"ok":true,"channel":"C1","ts":"1795867200.000001"}`,
		build: func(t *testing.T, url string, clk *fakeClock, logger *slog.Logger, client *http.Client) Notifier {
			b, err := NewSlackBot(SlackBotConfig{Token: testToken, Channel: "C1", APIURL: url, SendConfig: SendConfig{HTTPClient: client, Now: clk.Now, Sleep: clk.Sleep, Retry: RetryPolicy{MaxAttempts: 2}}}, logger)
			if err != nil {
				t.Fatal(err)
			}
			return b
		},
	},
}

// secretPath is the credential part of webhook URLs in tests.
const secretPath = "T0001/B0002/XyZsEcReTpAtH"

// hang is the status that makes the retry table's server answer nothing
// until the client gives up.
const hang = 0

// TestRetryDecisionEveryStatus is the one table of retry decisions: every
// status code from 200 to 599, for every kind of destination, must be
// handled as Classify says: delivered after one try, retried (two tries
// with MaxAttempts 2), or failed at once. Then an http.Client timeout with
// a live context must be retried like any network error.
func TestRetryDecisionEveryStatus(t *testing.T) {
	for _, dk := range destinationKinds {
		t.Run(dk.name, func(t *testing.T) {
			var status, hits, landed atomic.Int64
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				_, _ = io.Copy(io.Discard, r.Body)
				if r.URL.Path == "/landed" {
					// Where every 3xx points: a redirect followed here
					// would pass for a delivery.
					landed.Add(1)
					_, _ = io.WriteString(w, dk.okBody)
					return
				}
				hits.Add(1)
				code := int(status.Load())
				if code == hang {
					<-r.Context().Done() // the client timed out
					return
				}
				if code == http.StatusTooManyRequests {
					w.Header().Set("Retry-After", "2")
				}
				if code/100 == 3 {
					w.Header().Set("Location", "/landed")
				}
				w.WriteHeader(code)
				if code/100 == 2 {
					_, _ = io.WriteString(w, dk.okBody)
				} else {
					_, _ = io.WriteString(w, "nope")
				}
			}))
			defer srv.Close()
			n := fixture(KindAbnormal)
			for code := 200; code <= 599; code++ {
				status.Store(int64(code))
				hits.Store(0)
				clk := newFakeClock()
				r := dk.build(t, srv.URL, clk, nil, nil).Notify(t.Context(), []Notification{n})[0]

				want := Classify(code)
				if dk.name == "slack-bot" && code == http.StatusNoContent {
					// No body, so no message ts: Slack's Web API cannot
					// have delivered; it is a permanent failure.
					want = Permanent
				}
				wantHits, wantErr := map[Verdict]int64{Delivered: 1, Retry: 2, Permanent: 1}[want], want != Delivered
				if got := hits.Load(); got != wantHits || (r.Err != nil) != wantErr {
					t.Errorf("status %d (%v): %d tries, err %v; want %d tries, error %v", code, want, got, r.Err, wantHits, wantErr)
				}
				if r.Err != nil && !strings.Contains(r.Err.Error(), fmt.Sprintf("status %d", code)) {
					t.Errorf("status %d: error %q does not name the status", code, r.Err)
				}
				if n := landed.Swap(0); n != 0 {
					t.Errorf("status %d: followed the redirect %d times", code, n)
				}
				if code == http.StatusTooManyRequests && fmt.Sprint(clk.Sleeps()) != "[2s]" {
					t.Errorf("429: waited %v, want Retry-After's 2s", clk.Sleeps())
				}
			}

			status.Store(hang)
			hits.Store(0)
			// The server never answers, so the client always times out:
			// the wall clock sets only how long the test takes.
			client := &http.Client{Timeout: 20 * time.Millisecond}
			r := dk.build(t, srv.URL, newFakeClock(), nil, client).Notify(t.Context(), []Notification{n})[0]
			if got := hits.Load(); got != 2 || r.Err == nil {
				t.Errorf("client timeout: %d tries, err %v; want 2 tries (retried), an error", got, r.Err)
			}
			if msg := fmt.Sprint(r.Err); !strings.Contains(msg, "Timeout") && !strings.Contains(msg, "deadline exceeded") {
				t.Errorf("client timeout: error %q does not say it timed out", r.Err)
			}
		})
	}
}

// TestCallerClientFollowsNoRedirect: a client passed in the config does
// not follow redirects either (a 307 would re-send the signed body to
// another host, even over http), and the caller's client is left as it was.
func TestCallerClientFollowsNoRedirect(t *testing.T) {
	var elsewhere atomic.Int64
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		elsewhere.Add(1)
		_, _ = io.WriteString(w, `{"ok":true,"channel":"C1","ts":"1.1"}`)
	}))
	defer other.Close()
	for _, dk := range destinationKinds {
		for _, code := range []int{http.StatusFound, http.StatusTemporaryRedirect, http.StatusPermanentRedirect} {
			t.Run(fmt.Sprintf("%s/%d", dk.name, code), func(t *testing.T) {
				var hits atomic.Int64
				srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					hits.Add(1)
					http.Redirect(w, r, other.URL+"/stolen", code)
				}))
				defer srv.Close()
				caller := &http.Client{Timeout: time.Minute}
				r := dk.build(t, srv.URL, newFakeClock(), nil, caller).Notify(t.Context(), []Notification{fixture(KindFailed)})[0]
				if r.Err == nil || !strings.Contains(r.Err.Error(), fmt.Sprintf("status %d", code)) {
					t.Errorf("err = %v, want a permanent status %d", r.Err, code)
				}
				if hits.Load() != 1 || elsewhere.Load() != 0 {
					t.Errorf("%d tries, %d requests to the redirect target; want 1, 0", hits.Load(), elsewhere.Load())
				}
				if caller.CheckRedirect != nil || caller.Transport != nil {
					t.Error("the caller's client was modified")
				}
			})
		}
	}
}

// TestNoSecretLeaks makes every destination fail in every way (an answer
// that echoes the request, a refused connection, a Slack error) and checks
// that neither errors nor logs show a URL path, a token or a secret.
func TestNoSecretLeaks(t *testing.T) {
	secrets := []string{secretPath, "XyZsEcReTpAtH", testToken, "SeCrEtToKeN", strings.TrimPrefix(testSecret, "whsec_")}
	echo := func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprintf(w, "bad request %s %s %s", r.URL, r.Header, body)
	}
	echoRetry := func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadGateway)
		fmt.Fprintf(w, "%s?%s", r.URL.Path, r.Header.Get("Authorization"))
	}
	failures := map[string]func(t *testing.T) string{
		"echoes the request": func(t *testing.T) string {
			srv := httptest.NewServer(http.HandlerFunc(echo))
			t.Cleanup(srv.Close)
			return srv.URL
		},
		"5xx echoing the path": func(t *testing.T) string {
			srv := httptest.NewServer(http.HandlerFunc(echoRetry))
			t.Cleanup(srv.Close)
			return srv.URL
		},
		"connection refused": func(t *testing.T) string {
			srv := httptest.NewServer(http.NotFoundHandler())
			srv.Close()
			return srv.URL
		},
		"timeout": func(t *testing.T) string {
			srv := httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
				// Read the body first: only then does the server notice
				// the client hanging up, and end r.Context().
				_, _ = io.Copy(io.Discard, r.Body)
				<-r.Context().Done()
			}))
			t.Cleanup(srv.Close)
			return srv.URL
		},
	}
	for _, dk := range destinationKinds {
		for name, failure := range failures {
			t.Run(dk.name+"/"+name, func(t *testing.T) {
				var logs bytes.Buffer
				logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
				var client *http.Client
				if name == "timeout" {
					// An http.Client timeout: a context deadline this
					// close would stop Slack before it posts anything.
					client = &http.Client{Timeout: 50 * time.Millisecond}
				}
				r := dk.build(t, failure(t), newFakeClock(), logger, client).Notify(t.Context(), []Notification{fixture(KindFailed)})[0]
				if r.Err == nil {
					t.Fatal("delivery did not fail")
				}
				for _, s := range secrets {
					if strings.Contains(r.Err.Error(), s) {
						t.Errorf("error shows secret %q: %v", s, r.Err)
					}
					if strings.Contains(logs.String(), s) {
						t.Errorf("log shows secret %q:\n%s", s, logs.String())
					}
				}
				if !strings.Contains(logs.String(), "failed") {
					t.Errorf("failure not logged:\n%s", logs.String())
				}
			})
		}
	}
}

// runtimeBatch is n runtime notifications (one message each at every
// destination) with distinct IDs.
func runtimeBatch(n int) []Notification {
	ns := make([]Notification, n)
	for i := range ns {
		ns[i] = fixture(KindAbnormal)
		ns[i].ID = fmt.Sprintf("%s_%d", ns[i].ID, i)
	}
	return ns
}

// TestDestinationDownFailsTheRest: once one notification has used up its
// retries on a 5xx or a timeout, the rest of the batch at that destination
// fail at once with ErrDestinationDown instead of each spending its own
// retries; a refusal (4xx) or rate limiting (429) is not "down", and every
// notification gets its own attempt. Every notification has its own Result.
func TestDestinationDownFailsTheRest(t *testing.T) {
	tests := []struct {
		name     string
		status   int // hang: no answer, the client times out
		wantHits int64
		wantDown bool
	}{
		{"5xx", http.StatusServiceUnavailable, 2, true},
		{"client timeout", hang, 2, true},
		{"4xx", http.StatusBadRequest, 3, false},
		{"429", http.StatusTooManyRequests, 6, false},
	}
	for _, dk := range destinationKinds {
		for _, tt := range tests {
			t.Run(dk.name+"/"+tt.name, func(t *testing.T) {
				var hits atomic.Int64
				srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					_, _ = io.Copy(io.Discard, r.Body)
					hits.Add(1)
					if tt.status == hang {
						<-r.Context().Done()
						return
					}
					w.WriteHeader(tt.status)
					_, _ = io.WriteString(w, "nope")
				}))
				defer srv.Close()
				client := &http.Client{Timeout: 20 * time.Millisecond}
				ns := runtimeBatch(3)
				results := dk.build(t, srv.URL, newFakeClock(), nil, client).Notify(t.Context(), ns)

				if got := hits.Load(); got != tt.wantHits {
					t.Errorf("%d requests, want %d", got, tt.wantHits)
				}
				if len(results) != len(ns) {
					t.Fatalf("%d results for %d notifications", len(results), len(ns))
				}
				for i, r := range results {
					if r.ID != ns[i].ID || r.Err == nil {
						t.Errorf("result %d = %+v, want a failure for %s", i, r, ns[i].ID)
						continue
					}
					down := errors.Is(r.Err, ErrDestinationDown)
					if wantDown := tt.wantDown && i > 0; down != wantDown {
						t.Errorf("result %d: err %v; want ErrDestinationDown: %v", i, r.Err, wantDown)
					}
					if down && (!strings.Contains(r.Err.Error(), ns[0].ID) || strings.Contains(r.Err.Error(), secretPath)) {
						t.Errorf("result %d: %q should name %s, the notification that failed, and no secret", i, r.Err, ns[0].ID)
					}
				}
			})
		}
	}
}

// TestSlackStopsBeforeDeadline: a Slack destination posts at most one
// message a second and sends none when the deadline is closer than that;
// the notifications left fail with ErrDeadlineNear, without a request.
func TestSlackStopsBeforeDeadline(t *testing.T) {
	for _, dk := range destinationKinds {
		if dk.name == "webhook" {
			continue // no pacing
		}
		t.Run(dk.name, func(t *testing.T) {
			var hits atomic.Int64
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				_, _ = io.Copy(io.Discard, r.Body)
				hits.Add(1)
				_, _ = io.WriteString(w, dk.okBody)
			}))
			defer srv.Close()
			// The deadline is an hour away on the wall clock and 2.5 s
			// away on the fake one: messages go at 0 s and 1 s; at 2 s only
			// 0.5 s would be left.
			deadline := time.Now().Add(time.Hour)
			ctx, cancel := context.WithDeadline(t.Context(), deadline)
			defer cancel()
			clk := newFakeClockAt(deadline.Add(-2500 * time.Millisecond))
			ns := runtimeBatch(4)
			results := dk.build(t, srv.URL, clk, nil, nil).Notify(ctx, ns)

			if got := hits.Load(); got != 2 {
				t.Errorf("%d messages, want 2", got)
			}
			for i, r := range results {
				wantNear := i >= 2
				if r.ID != ns[i].ID || (r.Err != nil) != wantNear || (wantNear && !errors.Is(r.Err, ErrDeadlineNear)) {
					t.Errorf("result %d = %+v; want ErrDeadlineNear: %v", i, r, wantNear)
				}
			}
			if got := clk.Sleeps(); fmt.Sprint(got) != "[1s]" {
				t.Errorf("waits = %v, want [1s]", got)
			}
		})
	}
}
