package notifier

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Credentials of the chat destinations in tests.
const (
	chatToken  = "ToKeN5ecret0123456789abcdef"
	chatSecret = "SECsigningsecret0123456789abcdef"
)

// chatKind builds one kind of chat destination against a test server.
type chatKind struct {
	name string
	// okBody is the platform's answer to a delivered message.
	okBody string
	// rateBody (with rateStatus) is its "too many messages" answer, and
	// pause how long the destination then stops.
	rateStatus int
	rateBody   string
	pause      time.Duration
	// limit is the size limit of its messages (see bodySize), and windows
	// its rate limit.
	limit   int
	windows []rateWindow
	build   func(t *testing.T, base string, clk *fakeClock, logger *slog.Logger, client *http.Client, retry RetryPolicy) Notifier
}

var chatKinds = []chatKind{
	{
		name: "teams", okBody: "", rateStatus: http.StatusTooManyRequests, rateBody: `{"error":{"code":"TooManyRequests"}}`,
		limit: MaxTeamsBody, windows: teamsWindows,
		build: func(t *testing.T, base string, clk *fakeClock, logger *slog.Logger, client *http.Client, retry RetryPolicy) Notifier {
			n, err := NewTeams(TeamsConfig{URL: base + "/workflows/0f1e/triggers/manual/paths/invoke?api-version=1&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig=" + chatToken, SendConfig: SendConfig{HTTPClient: client, Now: clk.Now, Sleep: clk.Sleep, Retry: retry}}, logger)
			if err != nil {
				t.Fatal(err)
			}
			return n
		},
	},
	{
		name: "feishu", okBody: `{"code":0,"data":{},"msg":"success"}`, rateStatus: http.StatusBadRequest, rateBody: `{"code":9499,"msg":"too many request","data":{}}`,
		pause: time.Second, limit: MaxFeishuBody, windows: feishuWindows,
		build: func(t *testing.T, base string, clk *fakeClock, logger *slog.Logger, client *http.Client, retry RetryPolicy) Notifier {
			n, err := NewFeishu(FeishuConfig{URL: base + "/open-apis/bot/v2/hook/" + chatToken, Secret: chatSecret, SendConfig: SendConfig{HTTPClient: client, Now: clk.Now, Sleep: clk.Sleep, Retry: retry}}, logger)
			if err != nil {
				t.Fatal(err)
			}
			return n
		},
	},
	{
		name: "dingtalk", okBody: `{"errcode":0,"errmsg":"ok"}`, rateStatus: http.StatusOK, rateBody: `{"errcode":130101,"errmsg":"send too fast, exceed 20 times per minute"}`,
		pause: time.Minute, limit: MaxDingTalkText, windows: dingtalkWindows,
		build: func(t *testing.T, base string, clk *fakeClock, logger *slog.Logger, client *http.Client, retry RetryPolicy) Notifier {
			n, err := NewDingTalk(DingTalkConfig{URL: base + "/robot/send?access_token=" + chatToken, Secret: chatSecret, Keyword: "ModelArts", SendConfig: SendConfig{HTTPClient: client, Now: clk.Now, Sleep: clk.Sleep, Retry: retry}}, logger)
			if err != nil {
				t.Fatal(err)
			}
			return n
		},
	},
	{
		name: "wecom", okBody: `{"errcode":0,"errmsg":"ok"}`, rateStatus: http.StatusOK, rateBody: `{"errcode":45009,"errmsg":"api freq out of limit"}`,
		pause: time.Minute, limit: MaxWeComContent, windows: wecomWindows,
		build: func(t *testing.T, base string, clk *fakeClock, logger *slog.Logger, client *http.Client, retry RetryPolicy) Notifier {
			n, err := NewWeCom(WeComConfig{URL: base + "/cgi-bin/webhook/send?key=" + chatToken, SendConfig: SendConfig{HTTPClient: client, Now: clk.Now, Sleep: clk.Sleep, Retry: retry}}, logger)
			if err != nil {
				t.Fatal(err)
			}
			return n
		},
	},
}

// chatSecrets are what no error or log line may show.
var chatSecrets = []string{chatToken, chatSecret}

// chatRecorder is a test server that answers with answer and keeps every
// request.
type chatRecorder struct {
	*httptest.Server
	mu     sync.Mutex
	bodies [][]byte
	urls   []string
	hits   atomic.Int64
}

func newChatRecorder(t *testing.T, answer func(w http.ResponseWriter, r *http.Request, body []byte)) *chatRecorder {
	t.Helper()
	rec := &chatRecorder{}
	rec.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rec.hits.Add(1)
		rec.mu.Lock()
		rec.bodies = append(rec.bodies, body)
		rec.urls = append(rec.urls, r.URL.String())
		rec.mu.Unlock()
		answer(w, r, body)
	}))
	t.Cleanup(rec.Close)
	return rec
}

func (r *chatRecorder) Bodies() [][]byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([][]byte(nil), r.bodies...)
}

func answerWith(status int, body string) func(http.ResponseWriter, *http.Request, []byte) {
	return func(w http.ResponseWriter, _ *http.Request, _ []byte) {
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}
}

func (k chatKind) ok() func(http.ResponseWriter, *http.Request, []byte) {
	status := http.StatusOK
	if k.name == "teams" {
		status = http.StatusAccepted // Workflows answers 202, no body
	}
	return answerWith(status, k.okBody)
}

// TestChatRetryDecisionEveryStatus: every status from 200 to 599, at every
// chat destination, is decided as Classify says: delivered after one try,
// retried (two tries with MaxAttempts 2), or failed at once; a 3xx is never
// followed; a 429's Retry-After is waited. A 2xx without the platform's
// answer (204: no body) is no delivery where the platform answers in its
// body. Then a client timeout is retried like any network error.
func TestChatRetryDecisionEveryStatus(t *testing.T) {
	for _, ck := range chatKinds {
		t.Run(ck.name, func(t *testing.T) {
			var status, landed atomic.Int64
			rec := newChatRecorder(t, func(w http.ResponseWriter, r *http.Request, _ []byte) {
				if r.URL.Path == "/landed" {
					landed.Add(1)
					_, _ = io.WriteString(w, ck.okBody)
					return
				}
				code := int(status.Load())
				if code == hang {
					<-r.Context().Done()
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
					_, _ = io.WriteString(w, ck.okBody)
				} else {
					_, _ = io.WriteString(w, "nope")
				}
			})
			n := fixture(KindAbnormal)
			for code := 200; code <= 599; code++ {
				status.Store(int64(code))
				rec.hits.Store(0)
				clk := newFakeClock()
				r := ck.build(t, rec.URL, clk, nil, nil, RetryPolicy{MaxAttempts: 2}).Notify(t.Context(), []Notification{n})[0]
				want := Classify(code)
				if code == http.StatusNoContent && ck.okBody != "" {
					want = Permanent // no body, so no answer saying it was delivered
				}
				wantHits := map[Verdict]int64{Delivered: 1, Retry: 2, Permanent: 1}[want]
				if got := rec.hits.Load(); got != wantHits || (r.Err != nil) != (want != Delivered) {
					t.Errorf("status %d (%v): %d tries, err %v; want %d tries", code, want, got, r.Err, wantHits)
				}
				if r.Err != nil && !strings.Contains(r.Err.Error(), fmt.Sprintf("status %d", code)) {
					t.Errorf("status %d: error %q does not name the status", code, r.Err)
				}
				if l := landed.Swap(0); l != 0 {
					t.Errorf("status %d: followed the redirect", code)
				}
				if code == http.StatusTooManyRequests && fmt.Sprint(clk.Sleeps()) != "[2s]" {
					t.Errorf("429: waited %v, want Retry-After's 2s", clk.Sleeps())
				}
			}
			status.Store(hang)
			rec.hits.Store(0)
			client := &http.Client{Timeout: 20 * time.Millisecond}
			r := ck.build(t, rec.URL, newFakeClock(), nil, client, RetryPolicy{MaxAttempts: 2}).Notify(t.Context(), []Notification{n})[0]
			if got := rec.hits.Load(); got != 2 || r.Err == nil {
				t.Errorf("client timeout: %d tries, err %v; want 2 tries and an error", got, r.Err)
			}
		})
	}
}

// answerCase is one answer of a platform and what a destination must do
// with it.
type answerCase struct {
	name   string
	status int
	body   string
	tries  int64 // with MaxAttempts 2: 1 delivered or permanent, 2 retried
	ok     bool
	code   int // the PlatformError's code, when there must be one
}

// answerTable is each platform's documented answers: what is delivered,
// what is retried (rate limiting, busy, 429, 5xx) and what is permanent.
var answerTable = map[string][]answerCase{
	"teams": {
		{"202 accepted", 202, "", 1, true, 0},
		{"200 ok", 200, "", 1, true, 0},
		{"400 schema mismatch", 400, `{"error":{"code":"TriggerInputSchemaMismatch","message":"..."}}`, 1, false, 0},
		{"401", 401, `{"error":{"code":"DirectApiAuthorizationRequired"}}`, 1, false, 0},
		{"404 flow gone", 404, `{"error":{"code":"WorkflowNotFound"}}`, 1, false, 0},
		{"413 too large", 413, "Request Entity Too Large", 1, false, 0},
		{"429", 429, `{"error":{"code":"TooManyRequests"}}`, 2, false, 0},
		{"502", 502, "bad gateway", 2, false, 0},
	},
	"feishu": {
		{"success", 200, `{"code":0,"data":{},"msg":"success"}`, 1, true, 0},
		{"old success", 200, `{"Extra":null,"StatusCode":0,"StatusMessage":"success"}`, 1, true, 0},
		{"9499 too many request (400)", 400, `{"code":9499,"msg":"too many request","data":{}}`, 2, false, 9499},
		{"11232 rate limited", 200, `{"code":11232,"msg":"frequency limited psm[lark.oapi.app_platform_runtime]appID[1]"}`, 2, false, 11232},
		{"99991400 frequency (429)", 429, `{"code":99991400,"msg":"request trigger frequency limit"}`, 2, false, 0},
		{"19021 sign", 200, `{"code":19021,"data":{},"msg":"sign match fail or timestamp is not within one hour from current time"}`, 1, false, 19021},
		{"19022 ip", 200, `{"code":19022,"msg":"Ip Not Allowed"}`, 1, false, 19022},
		{"19024 keyword", 200, `{"code":19024,"msg":"Key Words Not Found"}`, 1, false, 19024},
		{"19001 param (400)", 400, `{"code":19001,"msg":"param invalid: incoming webhook access token invalid"}`, 1, false, 0},
		{"not feishu", 200, "<html>proxy</html>", 1, false, 0},
		{"500", 500, `{"code":-1}`, 2, false, 0},
	},
	"dingtalk": {
		{"ok", 200, `{"errcode":0,"errmsg":"ok"}`, 1, true, 0},
		{"130101 too fast", 200, `{"errcode":130101,"errmsg":"send too fast, exceed 20 times per minute"}`, 2, false, 130101},
		{"-1 busy", 200, `{"errcode":-1,"errmsg":"系统繁忙"}`, 2, false, -1},
		{"310000 keyword", 200, `{"errcode":310000,"errmsg":"keywords not in content"}`, 1, false, 310000},
		{"310000 sign", 200, `{"errcode":310000,"errmsg":"sign not match"}`, 1, false, 310000},
		{"300001 token", 200, `{"errcode":300001,"errmsg":"token is not exist"}`, 1, false, 300001},
		{"empty 200", 200, "", 1, false, 0},
		{"503", 503, "", 2, false, 0},
	},
	"wecom": {
		{"ok", 200, `{"errcode":0,"errmsg":"ok"}`, 1, true, 0},
		{"45009 frequency", 200, `{"errcode":45009,"errmsg":"api freq out of limit"}`, 2, false, 45009},
		{"-1 busy", 200, `{"errcode":-1,"errmsg":"system busy"}`, 2, false, -1},
		{"93000 invalid webhook", 200, `{"errcode":93000,"errmsg":"invalid webhook url, hint: [1]"}`, 1, false, 93000},
		{"40058 too long", 200, `{"errcode":40058,"errmsg":"markdown.content exceed max length 4096. invalid Request Parameter"}`, 1, false, 40058},
		{"not json", 200, "ok", 1, false, 0},
		{"502", 502, "", 2, false, 0},
	},
}

// TestChatAnswerTable: each platform's documented answers, errcode in a
// 200 included, are delivered, retried or refused as documented, and a
// refusal's error carries the platform's code.
func TestChatAnswerTable(t *testing.T) {
	for _, ck := range chatKinds {
		for _, tc := range answerTable[ck.name] {
			t.Run(ck.name+"/"+tc.name, func(t *testing.T) {
				rec := newChatRecorder(t, answerWith(tc.status, tc.body))
				r := ck.build(t, rec.URL, newFakeClock(), nil, nil, RetryPolicy{MaxAttempts: 2}).Notify(t.Context(), []Notification{fixture(KindFailed)})[0]
				if got := rec.hits.Load(); got != tc.tries || (r.Err == nil) != tc.ok {
					t.Fatalf("%d tries, err %v; want %d tries, delivered %v", got, r.Err, tc.tries, tc.ok)
				}
				if tc.code != 0 {
					var pe *PlatformError
					if !errors.As(r.Err, &pe) || pe.Code != tc.code || pe.Platform != ck.name {
						t.Errorf("err %v (%T); want a %s PlatformError with code %d", r.Err, r.Err, ck.name, tc.code)
					} else if pe.RateLimited != (tc.tries == 2 && tc.code != -1) {
						t.Errorf("RateLimited = %v for code %d", pe.RateLimited, tc.code)
					}
				}
			})
		}
	}
}

// TestChatRateLimitOnFakeClock: every destination keeps its platform's
// rate limit: the message beyond it waits (on the fake clock) until the
// oldest one in the window leaves it.
func TestChatRateLimitOnFakeClock(t *testing.T) {
	for _, ck := range chatKinds {
		t.Run(ck.name, func(t *testing.T) {
			rec := newChatRecorder(t, ck.ok())
			clk := newFakeClock()
			start := clk.Now()
			d := ck.build(t, rec.URL, clk, nil, nil, RetryPolicy{})
			// The tightest window, filled one message at a time, then one
			// more.
			w := ck.windows[len(ck.windows)-1]
			var at []time.Duration
			for i := range w.n + 1 {
				n := fixture(KindAbnormal)
				n.ID = fmt.Sprintf("rl_%d", i)
				if r := d.Notify(t.Context(), []Notification{n})[0]; r.Err != nil {
					t.Fatalf("message %d: %v", i, r.Err)
				}
				at = append(at, clk.Now().Sub(start))
			}
			if got := rec.hits.Load(); got != int64(w.n+1) {
				t.Fatalf("%d requests, want %d", got, w.n+1)
			}
			// The one beyond the window went when the first left it.
			if got := at[w.n]; got != w.per {
				t.Errorf("message %d went at +%s, want +%s (sent at %v)", w.n+1, got, w.per, at)
			}
			if len(ck.windows) > 1 {
				// Feishu: 5 a second as well as 100 a minute.
				first := ck.windows[0]
				if got := at[first.n]; got != first.per {
					t.Errorf("message %d went at +%s, want +%s", first.n+1, got, first.per)
				}
			}
		})
	}
}

// TestChatDigestBeyondLimit: more notifications than the digest threshold,
// or than the rate limit lets through now, go as one digest that every
// notification shares; fewer go one by one.
func TestChatDigestBeyondLimit(t *testing.T) {
	for _, ck := range chatKinds {
		t.Run(ck.name, func(t *testing.T) {
			rec := newChatRecorder(t, ck.ok())
			clk := newFakeClock()
			d := ck.build(t, rec.URL, clk, nil, nil, RetryPolicy{})

			few := runtimeBatch(3)
			for i, r := range d.Notify(t.Context(), few) {
				if r.ID != few[i].ID || r.Err != nil {
					t.Errorf("few: result %d = %+v", i, r)
				}
			}
			if got := rec.hits.Load(); got != 3 {
				t.Errorf("3 notifications: %d messages, want 3", got)
			}

			many := runtimeBatch(7)
			rec.hits.Store(0)
			results := d.Notify(t.Context(), many)
			if got := rec.hits.Load(); got != 1 {
				t.Errorf("7 notifications: %d messages, want 1 digest", got)
			}
			for i, r := range results {
				if r.ID != many[i].ID || r.Err != nil {
					t.Errorf("many: result %d = %+v", i, r)
				}
			}
			bodies := rec.Bodies()
			if last := string(bodies[len(bodies)-1]); !strings.Contains(last, "7 ModelArts notifications") {
				t.Errorf("the digest does not say how many:\n%s", last)
			}

			// Fill the minute's window but two: three more make a digest.
			// (Teams has only a per-second window: it paces, never digests.)
			w := ck.windows[len(ck.windows)-1]
			if w.per < time.Minute {
				return
			}
			clk2 := newFakeClock()
			d2 := ck.build(t, rec.URL, clk2, nil, nil, RetryPolicy{})
			for i := range w.n - 2 {
				n := fixture(KindAbnormal)
				n.ID = fmt.Sprintf("fill_%d", i)
				d2.Notify(t.Context(), []Notification{n})
			}
			rec.hits.Store(0)
			slept := len(clk2.Sleeps())
			results = d2.Notify(t.Context(), runtimeBatch(3))
			if got := rec.hits.Load(); got != 1 {
				t.Errorf("3 notifications with room for 2: %d messages, want 1 digest", got)
			}
			for i, r := range results {
				if r.Err != nil {
					t.Errorf("result %d: %v", i, r.Err)
				}
			}
			if got := clk2.Sleeps()[slept:]; len(got) != 0 {
				t.Errorf("waited %v; the digest fits the window", got)
			}
		})
	}
}

// TestChatRateLimitAnswerPauses: after the platform's "too fast" answer,
// the destination stops for the documented pause, then retries once and
// delivers.
func TestChatRateLimitAnswerPauses(t *testing.T) {
	for _, ck := range chatKinds {
		if ck.pause == 0 {
			continue // Teams: a 429 with Retry-After, as TestChatRetryDecisionEveryStatus shows
		}
		t.Run(ck.name, func(t *testing.T) {
			var first atomic.Bool
			rec := newChatRecorder(t, func(w http.ResponseWriter, r *http.Request, b []byte) {
				if first.CompareAndSwap(false, true) {
					w.WriteHeader(ck.rateStatus)
					_, _ = io.WriteString(w, ck.rateBody)
					return
				}
				ck.ok()(w, r, b)
			})
			clk := newFakeClock()
			start := clk.Now()
			r := ck.build(t, rec.URL, clk, nil, nil, RetryPolicy{}).Notify(t.Context(), []Notification{fixture(KindFailed)})[0]
			if r.Err != nil || rec.hits.Load() != 2 {
				t.Fatalf("err %v after %d tries; want delivered on the second", r.Err, rec.hits.Load())
			}
			if got := clk.Now().Sub(start); got < ck.pause || got > ck.pause+200*time.Millisecond {
				t.Errorf("retried after %s (waits %v), want the %s pause", got, clk.Sleeps(), ck.pause)
			}
		})
	}
}

// TestChatParentUpdateNotSent: a ParentUpdate notification is acknowledged
// without a message; the others keep their order and results.
func TestChatParentUpdateNotSent(t *testing.T) {
	for _, ck := range chatKinds {
		t.Run(ck.name, func(t *testing.T) {
			rec := newChatRecorder(t, ck.ok())
			d := ck.build(t, rec.URL, newFakeClock(), nil, nil, RetryPolicy{})
			if r := d.Notify(t.Context(), []Notification{stoppedFixture()}); len(r) != 1 || r[0].Err != nil || r[0].ID != "msg_stopped" {
				t.Errorf("parent update alone: %+v", r)
			}
			if got := rec.hits.Load(); got != 0 {
				t.Errorf("parent update sent %d messages", got)
			}
			ns := []Notification{fixture(KindFailed), stoppedFixture(), fixture(KindSucceeded)}
			results := d.Notify(t.Context(), ns)
			for i, r := range results {
				if r.ID != ns[i].ID || r.Err != nil {
					t.Errorf("result %d = %+v", i, r)
				}
			}
			if got := rec.hits.Load(); got != 2 {
				t.Errorf("%d messages for two notifications and a parent update", got)
			}
		})
	}
}

// TestChatNoSecretLeaks makes every chat destination fail in every way (an
// answer that echoes the request, a platform message that echoes the URL,
// a refused connection, a timeout) and checks that no error or log line
// shows the token or the signing secret.
func TestChatNoSecretLeaks(t *testing.T) {
	echo := func(status int) func(http.ResponseWriter, *http.Request, []byte) {
		return func(w http.ResponseWriter, r *http.Request, body []byte) {
			w.WriteHeader(status)
			fmt.Fprintf(w, "bad %s %s %.200s", r.URL, r.Header, body)
		}
	}
	echoCode := func(w http.ResponseWriter, r *http.Request, _ []byte) {
		msg, _ := json.Marshal("invalid webhook " + r.URL.String())
		fmt.Fprintf(w, `{"code":19001,"errcode":93000,"msg":%s,"errmsg":%s}`, msg, msg)
	}
	failures := map[string]func(t *testing.T) string{
		"400 echo":        func(t *testing.T) string { return newChatRecorder(t, echo(400)).URL },
		"502 echo":        func(t *testing.T) string { return newChatRecorder(t, echo(502)).URL },
		"code echoes URL": func(t *testing.T) string { return newChatRecorder(t, echoCode).URL },
		"connection refused": func(t *testing.T) string {
			srv := httptest.NewServer(http.NotFoundHandler())
			srv.Close()
			return srv.URL
		},
		"timeout": func(t *testing.T) string {
			return newChatRecorder(t, func(_ http.ResponseWriter, r *http.Request, _ []byte) { <-r.Context().Done() }).URL
		},
	}
	for _, ck := range chatKinds {
		for name, failure := range failures {
			if ck.name == "teams" && name == "code echoes URL" {
				continue // a 200 from Teams is a delivery
			}
			t.Run(ck.name+"/"+name, func(t *testing.T) {
				var logs bytes.Buffer
				logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
				client := &http.Client{Timeout: 50 * time.Millisecond}
				r := ck.build(t, failure(t), newFakeClock(), logger, client, RetryPolicy{MaxAttempts: 2}).Notify(t.Context(), []Notification{fixture(KindFailed)})[0]
				if r.Err == nil {
					t.Fatal("delivery did not fail")
				}
				var pe *PlatformError
				for _, s := range chatSecrets {
					if strings.Contains(r.Err.Error(), s) {
						t.Errorf("error shows %q: %v", s, r.Err)
					}
					if strings.Contains(logs.String(), s) {
						t.Errorf("log shows %q:\n%s", s, logs.String())
					}
					if errors.As(r.Err, &pe) && strings.Contains(pe.Msg, s) {
						t.Errorf("PlatformError.Msg shows %q", s)
					}
				}
				if !strings.Contains(logs.String(), "failed") || !strings.Contains(logs.String(), "msg_01_deployment.failed") {
					t.Errorf("failure not logged with its notification ID:\n%s", logs.String())
				}
			})
		}
	}
}

// TestChatDestinationDown: once a message has used up its retries on a
// 5xx, the rest of the batch fail at once with ErrDestinationDown; a
// rate-limited robot is busy, not down, and every notification gets its
// own attempt.
func TestChatDestinationDown(t *testing.T) {
	for _, ck := range chatKinds {
		t.Run(ck.name+"/5xx", func(t *testing.T) {
			rec := newChatRecorder(t, answerWith(http.StatusServiceUnavailable, "down"))
			ns := runtimeBatch(3)
			results := ck.build(t, rec.URL, newFakeClock(), nil, nil, RetryPolicy{MaxAttempts: 2}).Notify(t.Context(), ns)
			if got := rec.hits.Load(); got != 2 {
				t.Errorf("%d requests, want 2 (the first message's tries)", got)
			}
			for i, r := range results {
				if r.ID != ns[i].ID || r.Err == nil || errors.Is(r.Err, ErrDestinationDown) != (i > 0) {
					t.Errorf("result %d = %+v", i, r)
				}
			}
		})
		if ck.pause == 0 {
			continue
		}
		t.Run(ck.name+"/rate limited", func(t *testing.T) {
			rec := newChatRecorder(t, answerWith(ck.rateStatus, ck.rateBody))
			ns := runtimeBatch(3)
			results := ck.build(t, rec.URL, newFakeClock(), nil, nil, RetryPolicy{MaxAttempts: 2}).Notify(t.Context(), ns)
			if got := rec.hits.Load(); got != 6 {
				t.Errorf("%d requests, want 6 (two tries each)", got)
			}
			for i, r := range results {
				if r.Err == nil || errors.Is(r.Err, ErrDestinationDown) || !rateLimited(r.Err) {
					t.Errorf("result %d = %v; want rate limited, not down", i, r.Err)
				}
			}
		})
	}
}

// TestChatStopsBeforeDeadline: a pause that would end past the deadline
// is not waited: the notification fails with ErrDeadlineNear and the rest
// are not attempted.
func TestChatStopsBeforeDeadline(t *testing.T) {
	for _, ck := range chatKinds {
		if ck.pause < time.Minute {
			continue
		}
		t.Run(ck.name, func(t *testing.T) {
			rec := newChatRecorder(t, answerWith(ck.rateStatus, ck.rateBody))
			deadline := time.Now().Add(time.Hour)
			ctx, cancel := context.WithDeadline(t.Context(), deadline)
			defer cancel()
			clk := newFakeClockAt(deadline.Add(-30 * time.Second))
			ns := runtimeBatch(3)
			results := ck.build(t, rec.URL, clk, nil, nil, RetryPolicy{}).Notify(ctx, ns)
			if got := rec.hits.Load(); got != 1 {
				t.Errorf("%d requests, want 1", got)
			}
			for i, r := range results {
				if !errors.Is(r.Err, ErrDeadlineNear) {
					t.Errorf("result %d: %v; want ErrDeadlineNear", i, r.Err)
				}
			}
		})
	}
}

func TestRateLimiterWindows(t *testing.T) {
	clk := newFakeClock()
	start := clk.Now()
	l := newRateLimiter(newClock(clk.Now, clk.Sleep), rateWindow{n: 2, per: time.Second}, rateWindow{n: 3, per: time.Minute})
	var at []time.Duration
	for range 5 {
		if err := l.wait(t.Context()); err != nil {
			t.Fatal(err)
		}
		at = append(at, clk.Now().Sub(start))
	}
	// Two at once, the third a second later, then the minute is full.
	want := []time.Duration{0, 0, time.Second, time.Minute, time.Minute}
	if fmt.Sprint(at) != fmt.Sprint(want) {
		t.Errorf("sent at %v, want %v", at, want)
	}
	if f := l.free(); f != 0 {
		t.Errorf("free = %d right after a full window, want 0", f)
	}
	l.pause(10 * time.Second)
	before := clk.Now()
	if err := l.wait(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got := clk.Now().Sub(before); got < 10*time.Second {
		t.Errorf("waited %s after a 10s pause", got)
	}
}

func TestEscapeChat(t *testing.T) {
	tests := []struct{ in, want string }{
		{`<at user_id="all">所有人</at>`, `＜at user_id="all"＞所有人＜/at＞`},
		{"@all @所有人 <@wangqing>", "＠all ＠所有人 ＜＠wangqing＞"},
		{"[click](https://evil.example) ![x](https://evil.example/x.png)", "［click］(https://evil.example) !［x］(https://evil.example/x.png)"},
		{"<!channel> <font color=\"warning\">x</font>", "＜!channel＞ ＜font color=\"warning\"＞x＜/font＞"},
		{"line\nbreak\x1b[31m \xff", "line break［31m \uFFFD"},
		{"资源不足，请等待资源空闲。", "资源不足，请等待资源空闲。"},
	}
	for _, tt := range tests {
		if got := EscapeChat(tt.in); got != tt.want {
			t.Errorf("EscapeChat(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestCutContent(t *testing.T) {
	s := strings.Repeat("资", 2000) // 6000 bytes
	got, cut := cutContent(s, MaxWeComContent)
	if !cut || len(got) > MaxWeComContent || !strings.HasSuffix(got, truncationMark) {
		t.Errorf("cut %v, %d bytes, ends %q", cut, len(got), got[len(got)-20:])
	}
	if got, cut := cutContent("short", 10); got != "short" || cut {
		t.Errorf("cutContent(short) = %q, %v", got, cut)
	}
}
