package notifiertest

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/modelarts-notifier/modelarts-notifier/notifier"
)

// WebhookReceiver is a webhook endpoint that verifies every request with
// the Standard Webhooks reference library and records what it accepted.
// Requests that fail verification, or whose body is not a notification,
// are answered 401 or 400 and listed by Rejected.
type WebhookReceiver struct {
	*httptest.Server
	verifier *standardwebhooks.Webhook
	faults   *faultQueue
	opts     options

	mu       sync.Mutex
	got      []Delivery
	rejected []string
	requests int
}

// NewWebhookReceiver starts a receiver for webhooks signed with secret (a
// Standard Webhooks "whsec_..." secret). It is closed when t's test ends.
func NewWebhookReceiver(t testing.TB, secret string, opts ...Option) *WebhookReceiver {
	t.Helper()
	v, err := standardwebhooks.NewWebhook(secret)
	if err != nil {
		t.Fatalf("standard webhooks verifier: %v", err)
	}
	r := &WebhookReceiver{verifier: v, faults: newFaultQueue(), opts: makeOptions(opts)}
	r.Server = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.Close)
	return r
}

// Close ends any hanging request, then shuts the server down.
func (r *WebhookReceiver) Close() {
	r.faults.stop()
	r.Server.Close()
}

// Fail makes the next n requests suffer f, after any faults already
// pending: faults are consumed in the order they were added. A fault
// applies before verification.
func (r *WebhookReceiver) Fail(n int, f Fault) { r.faults.add(n, f) }

// ClearFaults drops every pending fault.
func (r *WebhookReceiver) ClearFaults() { r.faults.clear() }

func (r *WebhookReceiver) serve(w http.ResponseWriter, req *http.Request) {
	body, err := io.ReadAll(req.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	r.mu.Lock()
	r.requests++
	r.mu.Unlock()
	fault := r.faults.next()
	switch fault {
	case TooManyRequests:
		w.Header().Set("Retry-After", "1")
		http.Error(w, "slow down", http.StatusTooManyRequests)
		return
	case ServerError:
		http.Error(w, "try later", http.StatusServiceUnavailable)
		return
	case Hang:
		r.faults.hang(req)
		return
	}
	if err := r.verifier.Verify(body, req.Header); err != nil {
		r.reject(w, "signature: "+err.Error(), http.StatusUnauthorized)
		return
	}
	var doc struct {
		Type notifier.Kind    `json:"type"`
		Data notifier.Summary `json:"data"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		r.reject(w, "json: "+err.Error(), http.StatusBadRequest)
		return
	}
	d := Delivery{ID: req.Header.Get("webhook-id"), Kind: doc.Type, Data: doc.Data, Body: body, Round: r.opts.roundNow()}
	r.mu.Lock()
	r.got = append(r.got, d)
	r.mu.Unlock()
	if fault == AcceptAndHang {
		r.faults.hang(req)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (r *WebhookReceiver) reject(w http.ResponseWriter, why string, status int) {
	r.mu.Lock()
	r.rejected = append(r.rejected, why)
	r.mu.Unlock()
	http.Error(w, why, status)
}

// Received returns every notification accepted so far, in arrival order.
func (r *WebhookReceiver) Received() []Delivery {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Delivery(nil), r.got...)
}

// Take returns the notifications accepted since the last Take and
// forgets them.
func (r *WebhookReceiver) Take() []Delivery {
	r.mu.Lock()
	defer r.mu.Unlock()
	got := r.got
	r.got = nil
	return got
}

// Rejected returns why each rejected request was rejected.
func (r *WebhookReceiver) Rejected() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.rejected...)
}

// Requests counts the requests received, faulted ones included.
func (r *WebhookReceiver) Requests() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.requests
}
