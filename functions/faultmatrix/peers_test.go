package faultmatrix

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/modelarts-notifier/modelarts-notifier/notifier"
)

// peerFault is what a peer does to one request instead of answering it.
type peerFault int

const (
	faultNone          peerFault = iota
	fault429                     // 429 with Retry-After: 1
	fault5xx                     // 503
	faultHang                    // never answers: the client times out; not accepted
	faultAcceptAndHang           // accepts (records), then never answers
)

// faultQueue hands out injected faults in order.
type faultQueue struct {
	mu sync.Mutex
	q  []peerFault
}

func (f *faultQueue) add(n int, k peerFault) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for range n {
		f.q = append(f.q, k)
	}
}

func (f *faultQueue) take() peerFault {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.q) == 0 {
		return faultNone
	}
	k := f.q[0]
	f.q = f.q[1:]
	return k
}

func (f *faultQueue) clear() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.q = nil
}

// receipt is one notification a destination accepted.
type receipt struct {
	ID   string
	Poll int64 // the poll during which it arrived
	Kind notifier.Kind
	Data notifier.Summary
}

// hang waits until the client gives up. The body must have been read:
// only then does the server notice the client hanging up.
func hang(r *http.Request) {
	_, _ = io.Copy(io.Discard, r.Body)
	select {
	case <-r.Context().Done():
	case <-time.After(5 * time.Second):
	}
}

// webhookReceiver verifies every request with the Standard Webhooks
// reference library and records what it accepted.
type webhookReceiver struct {
	*httptest.Server
	verifier *standardwebhooks.Webhook
	faults   faultQueue
	poll     *atomic.Int64

	mu   sync.Mutex
	got  []receipt
	bad  []string // requests that failed verification
	hits int
}

func newWebhookReceiver(t testing.TB, secret string, poll *atomic.Int64) *webhookReceiver {
	t.Helper()
	v, err := standardwebhooks.NewWebhook(secret)
	if err != nil {
		t.Fatalf("standard webhooks verifier: %v", err)
	}
	r := &webhookReceiver{verifier: v, poll: poll}
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
	r.mu.Lock()
	r.hits++
	r.mu.Unlock()
	fault := r.faults.take()
	switch fault {
	case fault429:
		w.Header().Set("Retry-After", "1")
		http.Error(w, "slow down", http.StatusTooManyRequests)
		return
	case fault5xx:
		http.Error(w, "try later", http.StatusServiceUnavailable)
		return
	case faultHang:
		hang(req)
		return
	}
	var doc struct {
		Type notifier.Kind    `json:"type"`
		Data notifier.Summary `json:"data"`
	}
	verr := r.verifier.Verify(body, req.Header)
	if verr == nil {
		verr = json.Unmarshal(body, &doc)
	}
	r.mu.Lock()
	if verr != nil {
		r.bad = append(r.bad, verr.Error())
		r.mu.Unlock()
		http.Error(w, verr.Error(), http.StatusBadRequest)
		return
	}
	r.got = append(r.got, receipt{ID: req.Header.Get("webhook-id"), Poll: r.poll.Load(), Kind: doc.Type, Data: doc.Data})
	r.mu.Unlock()
	if fault == faultAcceptAndHang {
		hang(req)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (r *webhookReceiver) receipts() []receipt {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]receipt(nil), r.got...)
}

const slackToken = "xoxb-faultmatrix-token"

// slackAPI is a stand-in for Slack's Web API (chat.postMessage,
// chat.update). It checks every message against Slack's limits and for
// unescaped mentions, and can be told to fail.
type slackAPI struct {
	*httptest.Server
	faults faultQueue

	mu       sync.Mutex
	seq      int
	messages int
	bad      []string
}

func newSlackAPI(t testing.TB) *slackAPI {
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
		switch s.faults.take() {
		case fault429:
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusTooManyRequests)
			return
		case fault5xx:
			w.WriteHeader(http.StatusInternalServerError)
			return
		case faultHang, faultAcceptAndHang:
			hang(r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		if err := r.ParseForm(); err != nil {
			fmt.Fprint(w, `{"ok":false,"error":"invalid_form_data"}`)
			return
		}
		if r.Header.Get("Authorization") != "Bearer "+slackToken && r.Form.Get("token") != slackToken {
			fmt.Fprint(w, `{"ok":false,"error":"invalid_auth"}`)
			return
		}
		problem := checkSlackMessage(r.Form.Get("text"), r.Form.Get("blocks"))
		s.mu.Lock()
		s.seq++
		ts := r.Form.Get("ts")
		if method == "chat.postMessage" {
			ts = fmt.Sprintf("1700000000.%06d", s.seq)
		}
		s.messages++
		if problem != "" {
			s.bad = append(s.bad, problem)
		}
		s.mu.Unlock()
		_ = json.NewEncoder(w).Encode(map[string]any{"ok": true, "channel": r.Form.Get("channel"), "ts": ts})
	}
}

// checkSlackMessage reports what breaks Slack's limits or lets ModelArts
// text mention people ("" when all is well).
func checkSlackMessage(text, blocksJSON string) string {
	if strings.Contains(text, "<!") || strings.Contains(blocksJSON, "<!") {
		return "unescaped <! in a message"
	}
	var blocks []struct {
		Type string `json:"type"`
		Text *struct {
			Text string `json:"text"`
		} `json:"text"`
	}
	if err := json.Unmarshal([]byte(blocksJSON), &blocks); err != nil {
		return "blocks: " + err.Error()
	}
	if len(blocks) > 50 {
		return fmt.Sprintf("%d blocks", len(blocks))
	}
	for _, b := range blocks {
		if b.Text == nil {
			continue
		}
		n := len([]rune(b.Text.Text))
		if b.Type == "header" && n > 150 || n > 3000 {
			return fmt.Sprintf("%s text of %d characters", b.Type, n)
		}
	}
	return ""
}

func (s *slackAPI) problems() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.bad...)
}

// ackRecorder wraps a real destination and records what it acknowledged:
// Slack messages carry no notification id, so the ids Slack got are the
// ones its destination reported delivered.
type ackRecorder struct {
	next notifier.Notifier
	poll *atomic.Int64

	mu  sync.Mutex
	got []receipt
}

func (a *ackRecorder) Notify(ctx context.Context, ns []notifier.Notification) []notifier.Result {
	res := a.next.Notify(ctx, ns)
	a.mu.Lock()
	defer a.mu.Unlock()
	for i, r := range res {
		if r.Err == nil && i < len(ns) {
			a.got = append(a.got, receipt{ID: r.ID, Poll: a.poll.Load(), Kind: ns[i].Kind, Data: ns[i].Summary})
		}
	}
	return res
}

func (a *ackRecorder) receipts() []receipt {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]receipt(nil), a.got...)
}
