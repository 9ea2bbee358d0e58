package notifier

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
)

const testToken = "xoxb-1234-5678-SeCrEtToKeN"

// slackCall is one Web API call the fake Slack received.
type slackCall struct {
	Method    string // chat.postMessage, chat.update
	Channel   string
	TS        string // chat.update: the message updated
	ThreadTS  string
	Broadcast bool
	Text      string
	Blocks    string // JSON
}

// slackAnswer is what the fake Slack answers: a status, headers and body.
// A zero answer means the usual success.
type slackAnswer struct {
	Status int
	Header map[string]string
	Body   string
}

// fakeSlack is an httptest server speaking the part of Slack's Web API the
// bot uses. It checks the token, records each call, and answers with
// script(call, n) when that is set (n counts calls from 1).
type fakeSlack struct {
	*httptest.Server
	mu     sync.Mutex
	calls  []slackCall
	script func(c slackCall, n int) slackAnswer
}

func newFakeSlack(t *testing.T, script func(c slackCall, n int) slackAnswer) *fakeSlack {
	t.Helper()
	f := &fakeSlack{script: script}
	f.Server = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.Close)
	return f
}

func (f *fakeSlack) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	form, _ := url.ParseQuery(string(body))
	token := form.Get("token")
	if token == "" {
		token = strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
	}
	c := slackCall{
		Method:    strings.TrimPrefix(r.URL.Path, "/"),
		Channel:   form.Get("channel"),
		TS:        form.Get("ts"),
		ThreadTS:  form.Get("thread_ts"),
		Broadcast: form.Get("reply_broadcast") == "true",
		Text:      form.Get("text"),
		Blocks:    form.Get("blocks"),
	}
	f.mu.Lock()
	f.calls = append(f.calls, c)
	n := len(f.calls)
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	if token != testToken {
		_, _ = io.WriteString(w, `{"ok":false,"error":"invalid_auth"}`)
		return
	}
	var a slackAnswer
	if f.script != nil {
		a = f.script(c, n)
	}
	if a.Status == 0 && a.Body == "" {
		ts := c.TS
		if ts == "" {
			ts = fmt.Sprintf("1795867200.%06d", n)
		}
		a.Body = fmt.Sprintf(`{"ok":true,"channel":%q,"ts":%q}`, c.Channel, ts)
	}
	for k, v := range a.Header {
		w.Header().Set(k, v)
	}
	w.WriteHeader(max(a.Status, http.StatusOK))
	_, _ = io.WriteString(w, a.Body)
}

func (f *fakeSlack) Calls() []slackCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]slackCall(nil), f.calls...)
}

// summary drops the bulky fields of calls for comparison.
func summarize(calls []slackCall) []slackCall {
	var out []slackCall
	for _, c := range calls {
		c.Text, c.Blocks = "", ""
		out = append(out, c)
	}
	return out
}

// checkBlocks asserts that a recorded blocks parameter is Block Kit within
// Slack's limits.
func checkBlocks(t *testing.T, raw string) {
	t.Helper()
	var blocks []map[string]any
	if err := json.Unmarshal([]byte(raw), &blocks); err != nil {
		t.Fatalf("blocks are not JSON: %v", err)
	}
	if len(blocks) == 0 || len(blocks) > maxBlocks {
		t.Errorf("%d blocks", len(blocks))
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
