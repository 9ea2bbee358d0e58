package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
)

// webhookReceiver is a generic webhook endpoint that verifies every request
// with the Standard Webhooks reference library and records what it got.
type webhookReceiver struct {
	*httptest.Server
	verifier *standardwebhooks.Webhook

	mu       sync.Mutex
	got      []received
	failNext int // answer this many requests with 503
}

type received struct {
	ID   string
	Type string
	Body map[string]any
}

func newWebhookReceiver(t *testing.T, secret string) *webhookReceiver {
	t.Helper()
	v, err := standardwebhooks.NewWebhook(secret)
	if err != nil {
		t.Fatalf("standard webhooks verifier: %v", err)
	}
	r := &webhookReceiver{verifier: v}
	r.Server = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.Close)
	return r
}

func (r *webhookReceiver) serve(w http.ResponseWriter, req *http.Request) {
	body, err := io.ReadAll(req.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if err := r.verifier.Verify(body, req.Header); err != nil {
		http.Error(w, "signature: "+err.Error(), http.StatusUnauthorized)
		return
	}
	var doc map[string]any
	if err := json.Unmarshal(body, &doc); err != nil {
		http.Error(w, "json: "+err.Error(), http.StatusBadRequest)
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.failNext > 0 {
		r.failNext--
		http.Error(w, "try later", http.StatusServiceUnavailable)
		return
	}
	typ, _ := doc["type"].(string)
	r.got = append(r.got, received{ID: req.Header.Get("webhook-id"), Type: typ, Body: doc})
	w.WriteHeader(http.StatusNoContent)
}

func (r *webhookReceiver) take() []received {
	r.mu.Lock()
	defer r.mu.Unlock()
	got := r.got
	r.got = nil
	return got
}

// slackAPI is a stand-in for Slack's Web API: chat.postMessage and
// chat.update, answering like Slack and recording each call.
type slackAPI struct {
	*httptest.Server

	mu    sync.Mutex
	calls []slackCall
	seq   int
}

type slackCall struct {
	Method   string
	Channel  string
	TS       string // chat.update: the message updated
	ThreadTS string
	Text     string
	Blocks   string
}

func newSlackAPI(t *testing.T) *slackAPI {
	t.Helper()
	s := &slackAPI{}
	mux := http.NewServeMux()
	mux.HandleFunc("/chat.postMessage", s.handle("chat.postMessage"))
	mux.HandleFunc("/chat.update", s.handle("chat.update"))
	s.Server = httptest.NewServer(mux)
	t.Cleanup(s.Close)
	return s
}

func (s *slackAPI) handle(method string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if err := r.ParseForm(); err != nil {
			fmt.Fprint(w, `{"ok":false,"error":"invalid_form_data"}`)
			return
		}
		// Slack accepts the token as a bearer header or a form field.
		if r.Header.Get("Authorization") != "Bearer xoxb-e2e-token" && r.Form.Get("token") != "xoxb-e2e-token" {
			fmt.Fprint(w, `{"ok":false,"error":"invalid_auth"}`)
			return
		}
		c := slackCall{
			Method: method, Channel: r.Form.Get("channel"), TS: r.Form.Get("ts"),
			ThreadTS: r.Form.Get("thread_ts"), Text: r.Form.Get("text"), Blocks: r.Form.Get("blocks"),
		}
		s.mu.Lock()
		s.seq++
		ts := c.TS
		if method == "chat.postMessage" {
			ts = fmt.Sprintf("1700000000.%06d", s.seq)
		}
		s.calls = append(s.calls, c)
		s.mu.Unlock()
		_ = json.NewEncoder(w).Encode(map[string]any{"ok": true, "channel": c.Channel, "ts": ts})
	}
}

func (s *slackAPI) take() []slackCall {
	s.mu.Lock()
	defer s.mu.Unlock()
	got := s.calls
	s.calls = nil
	return got
}
