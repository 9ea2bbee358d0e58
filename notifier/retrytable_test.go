package notifier

import (
	"bytes"
	"context"
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
			w, err := NewWebhook(WebhookConfig{URL: url + "/hook/" + secretPath, Secret: testSecret, HTTPClient: client, Now: clk.Now, Sleep: clk.Sleep, Retry: RetryPolicy{MaxAttempts: 2}}, logger)
			if err != nil {
				t.Fatal(err)
			}
			return w
		},
	},
	{
		name: "slack-webhook", okBody: "ok",
		build: func(t *testing.T, url string, clk *fakeClock, logger *slog.Logger, client *http.Client) Notifier {
			s, err := NewSlackWebhook(SlackWebhookConfig{URL: url + "/services/" + secretPath, HTTPClient: client, Now: clk.Now, Sleep: clk.Sleep, Retry: RetryPolicy{MaxAttempts: 2}}, logger)
			if err != nil {
				t.Fatal(err)
			}
			return s
		},
	},
	{
		name: "slack-bot", okBody: `{"ok":true,"channel":"C1","ts":"1795867200.000001"}`,
		build: func(t *testing.T, url string, clk *fakeClock, logger *slog.Logger, client *http.Client) Notifier {
			b, err := NewSlackBot(SlackBotConfig{Token: testToken, Channel: "C1", APIURL: url, HTTPClient: client, Now: clk.Now, Sleep: clk.Sleep, Retry: RetryPolicy{MaxAttempts: 2}}, logger)
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
			block := make(chan struct{})
			srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { <-block }))
			t.Cleanup(func() { close(block); srv.Close() })
			return srv.URL
		},
	}
	for _, dk := range destinationKinds {
		for name, failure := range failures {
			t.Run(dk.name+"/"+name, func(t *testing.T) {
				var logs bytes.Buffer
				logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
				ctx := t.Context()
				if name == "timeout" {
					var cancel func()
					ctx, cancel = context.WithTimeout(ctx, 200*time.Millisecond)
					defer cancel()
				}
				r := dk.build(t, failure(t), newFakeClock(), logger, nil).Notify(ctx, []Notification{fixture(KindFailed)})[0]
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
