package notifier

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/santhosh-tekuri/jsonschema/v6"
	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/modelarts-notifier/modelarts-notifier/notifier/schema"
)

// testSecret is a Standard Webhooks secret (base64 of 32 bytes).
const testSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

// received is one request an httptest server saw.
type received struct {
	Method string
	Path   string
	Header http.Header
	Body   []byte
}

// recorder is an httptest server that records requests and answers with
// the scripted handler (or 200 "ok").
type recorder struct {
	*httptest.Server
	mu   sync.Mutex
	reqs []received
}

func newRecorder(t *testing.T, answer func(w http.ResponseWriter, r *http.Request, n int)) *recorder {
	t.Helper()
	rec := &recorder{}
	rec.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rec.mu.Lock()
		rec.reqs = append(rec.reqs, received{Method: r.Method, Path: r.URL.Path, Header: r.Header.Clone(), Body: body})
		n := len(rec.reqs)
		rec.mu.Unlock()
		r.Body = io.NopCloser(bytes.NewReader(body))
		if answer == nil {
			_, _ = io.WriteString(w, "ok")
			return
		}
		answer(w, r, n)
	}))
	t.Cleanup(rec.Close)
	return rec
}

func (r *recorder) Requests() []received {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]received(nil), r.reqs...)
}

// fastRetry retries quickly; waits go through a fake clock anyway.
var fastRetry = RetryPolicy{MaxAttempts: 3, BaseDelay: time.Second, MaxDelay: 30 * time.Second}

func newTestWebhook(t *testing.T, url, secret string, clk *fakeClock) *Webhook {
	t.Helper()
	w, err := NewWebhook(WebhookConfig{URL: url, Secret: secret, SendConfig: SendConfig{Version: "1.2.3", Now: clk.Now, Sleep: clk.Sleep, Retry: fastRetry}}, nil)
	if err != nil {
		t.Fatalf("NewWebhook: %v", err)
	}
	return w
}

func TestWebhookPostsSignedBody(t *testing.T) {
	srv := newRecorder(t, nil)
	clk := newFakeClock()
	w := newTestWebhook(t, srv.URL+"/hooks/abc", testSecret, clk)
	ns := fixtures()

	results := w.Notify(t.Context(), ns)

	var want []Result
	for _, n := range ns {
		want = append(want, Result{ID: n.ID})
	}
	if diff := cmp.Diff(want, results); diff != "" {
		t.Fatalf("results (-want +got):\n%s", diff)
	}
	reqs := srv.Requests()
	if len(reqs) != len(ns) {
		t.Fatalf("server got %d requests, want %d", len(reqs), len(ns))
	}
	verifier, err := standardwebhooks.NewWebhook(testSecret)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range reqs {
		n := ns[i]
		if r.Method != http.MethodPost || r.Path != "/hooks/abc" {
			t.Errorf("request %d: %s %s, want POST /hooks/abc", i, r.Method, r.Path)
		}
		got := map[string]string{
			"content-type":      r.Header.Get("Content-Type"),
			"user-agent":        r.Header.Get("User-Agent"),
			"webhook-id":        r.Header.Get("webhook-id"),
			"webhook-timestamp": r.Header.Get("webhook-timestamp"),
		}
		wantH := map[string]string{
			"content-type":      "application/json",
			"user-agent":        "modelarts-notifier/1.2.3",
			"webhook-id":        n.ID,
			"webhook-timestamp": jsonNumber(clk.Now().Unix()),
		}
		if diff := cmp.Diff(wantH, got); diff != "" {
			t.Errorf("request %d headers (-want +got):\n%s", i, diff)
		}
		// The reference library, not our code, checks the signature.
		if err := verifier.Verify(r.Body, r.Header); err != nil {
			t.Errorf("request %d: reference library rejects the signature: %v", i, err)
		}
		var body struct {
			Type      Kind            `json:"type"`
			Timestamp string          `json:"timestamp"`
			Data      json.RawMessage `json:"data"`
		}
		if err := json.Unmarshal(r.Body, &body); err != nil {
			t.Fatalf("request %d: body is not JSON: %v", i, err)
		}
		if body.Type != n.Kind || body.Timestamp != "2026-11-28T12:28:00.000Z" {
			t.Errorf("request %d: type %q timestamp %q", i, body.Type, body.Timestamp)
		}
		var data Summary
		if err := json.Unmarshal(body.Data, &data); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(n.Summary, data, cmpopts.EquateEmpty(), cmp.Comparer(func(a, b Time) bool { return a.Equal(b.Time) })); diff != "" {
			t.Errorf("request %d data (-want +got):\n%s", i, diff)
		}
	}
}

func jsonNumber(i int64) string { b, _ := json.Marshal(i); return string(b) }

func TestWebhookUnsignedWithoutSecret(t *testing.T) {
	srv := newRecorder(t, nil)
	w := newTestWebhook(t, srv.URL, "", newFakeClock())
	if r := w.Notify(t.Context(), fixtures()[:1]); r[0].Err != nil {
		t.Fatal(r[0].Err)
	}
	if sig := srv.Requests()[0].Header.Get("webhook-signature"); sig != "" {
		t.Errorf("webhook-signature = %q without a secret", sig)
	}
}

func TestWebhookRetriesWithSameID(t *testing.T) {
	srv := newRecorder(t, func(w http.ResponseWriter, _ *http.Request, n int) {
		switch n {
		case 1:
			w.WriteHeader(http.StatusServiceUnavailable)
		case 2:
			w.Header().Set("Retry-After", "7")
			w.WriteHeader(http.StatusTooManyRequests)
		}
	})
	clk := newFakeClock()
	w := newTestWebhook(t, srv.URL, testSecret, clk)
	n := fixture(KindFailed)

	if r := w.Notify(t.Context(), []Notification{n}); r[0].Err != nil {
		t.Fatalf("Notify: %v", r[0].Err)
	}
	reqs := srv.Requests()
	if len(reqs) != 3 {
		t.Fatalf("%d requests, want 3", len(reqs))
	}
	verifier, _ := standardwebhooks.NewWebhook(testSecret)
	for i, r := range reqs {
		if got := r.Header.Get("webhook-id"); got != n.ID {
			t.Errorf("attempt %d: webhook-id %q, want %q", i, got, n.ID)
		}
		if err := verifier.VerifyIgnoringTimestamp(r.Body, r.Header); err != nil {
			t.Errorf("attempt %d: %v", i, err)
		}
	}
	sleeps := clk.Sleeps()
	if len(sleeps) != 2 || sleeps[0] < 900*time.Millisecond || sleeps[0] > 1100*time.Millisecond || sleeps[1] != 7*time.Second {
		t.Errorf("waits = %v, want [~1s 7s] (backoff, then Retry-After)", sleeps)
	}
	if reqs[2].Header.Get("webhook-timestamp") == reqs[0].Header.Get("webhook-timestamp") {
		t.Error("webhook-timestamp was not renewed on retry")
	}
}

func TestWebhookRetryAfterNeverPastDeadline(t *testing.T) {
	srv := newRecorder(t, func(w http.ResponseWriter, _ *http.Request, _ int) {
		w.Header().Set("Retry-After", "20")
		w.WriteHeader(http.StatusTooManyRequests)
		_, _ = io.WriteString(w, "slow down")
	})
	clk := newFakeClock()
	w := newTestWebhook(t, srv.URL, "", clk)
	ctx, cancel := context.WithDeadline(t.Context(), clk.Now().Add(10*time.Second))
	defer cancel()

	r := w.Notify(ctx, fixtures()[:1])

	if r[0].Err == nil || !strings.Contains(r[0].Err.Error(), "status 429") {
		t.Fatalf("err = %v, want the 429", r[0].Err)
	}
	if n := len(srv.Requests()); n != 1 {
		t.Errorf("%d attempts, want 1: waiting 20s would pass the 10s deadline", n)
	}
	if s := clk.Sleeps(); len(s) != 0 {
		t.Errorf("waited %v past the deadline", s)
	}
}

func TestWebhookRetryAfterCapped(t *testing.T) {
	srv := newRecorder(t, func(w http.ResponseWriter, _ *http.Request, n int) {
		if n == 1 {
			w.Header().Set("Retry-After", "3600")
			w.WriteHeader(http.StatusTooManyRequests)
		}
	})
	clk := newFakeClock()
	w := newTestWebhook(t, srv.URL, "", clk)
	if r := w.Notify(t.Context(), fixtures()[:1]); r[0].Err != nil {
		t.Fatal(r[0].Err)
	}
	if diff := cmp.Diff([]time.Duration{30 * time.Second}, clk.Sleeps()); diff != "" {
		t.Errorf("waits (-want +got):\n%s", diff)
	}
}

func TestNewWebhookRejectsBadConfig(t *testing.T) {
	const badSecret = "whsec_not*base64!!"
	tests := []struct {
		name    string
		cfg     WebhookConfig
		wantErr string
		hidden  string
	}{
		{"plain http", WebhookConfig{URL: "http://hooks.example.com/T0/secretpath"}, "WEBHOOK_URLS: http:// is refused", "secretpath"},
		{"no scheme", WebhookConfig{URL: "hooks.example.com/secretpath"}, "WEBHOOK_URLS", "secretpath"},
		{"empty", WebhookConfig{}, "WEBHOOK_URLS: empty URL", ""},
		{"bad secret", WebhookConfig{URL: "https://hooks.example.com/x", Secret: badSecret}, "WEBHOOK_SECRET", "not*base64"},
		{"empty secret key", WebhookConfig{URL: "https://hooks.example.com/x", Secret: "whsec_"}, "WEBHOOK_SECRET", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewWebhook(tt.cfg, nil)
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("err = %q, want it to say %q", err, tt.wantErr)
			}
			if tt.hidden != "" && strings.Contains(err.Error(), tt.hidden) {
				t.Errorf("err = %q shows %q", err, tt.hidden)
			}
		})
	}
	for _, ok := range []string{"http://127.0.0.1:8080/x", "http://localhost/x", "http://[::1]:9/x", "https://hooks.example.com/x"} {
		if _, err := NewWebhook(WebhookConfig{URL: ok, Secret: testSecret}, nil); err != nil {
			t.Errorf("NewWebhook(%s): %v", ok, err)
		}
	}
}

// compileSchema compiles the published webhook schema; strict also forbids,
// in every object it describes, the properties it does not list.
func compileSchema(t *testing.T, strict bool) *jsonschema.Schema {
	t.Helper()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(schema.WebhookV1))
	if err != nil {
		t.Fatal(err)
	}
	if strict {
		forbidUnlisted(doc)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	if err := c.AddResource("webhook-v1.json", doc); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile("webhook-v1.json")
	if err != nil {
		t.Fatal(err)
	}
	return sch
}

// forbidUnlisted sets additionalProperties to false in every subschema
// that lists properties.
func forbidUnlisted(v any) {
	switch v := v.(type) {
	case map[string]any:
		if _, ok := v["properties"].(map[string]any); ok {
			v["additionalProperties"] = false
		}
		for _, sub := range v {
			forbidUnlisted(sub)
		}
	case []any:
		for _, sub := range v {
			forbidUnlisted(sub)
		}
	}
}

// TestWebhookSchemaAllowsAddedFields: v1 promises that fields may be
// added, so the published schema must accept a body with fields it does
// not know (a receiver validating against it must not break).
func TestWebhookSchemaAllowsAddedFields(t *testing.T) {
	sch := compileSchema(t, false)
	body, err := json.Marshal(fixture(KindFailed))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatal(err)
	}
	m["added_later"] = true
	data := m["data"].(map[string]any)
	data["added_later"] = "x"
	data["phases"].([]any)[0].(map[string]any)["added_later"] = 1
	data["events"].([]any)[0].(map[string]any)["added_later"] = 1
	added, _ := json.Marshal(m)
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(added))
	if err != nil {
		t.Fatal(err)
	}
	if err := sch.Validate(inst); err != nil {
		t.Errorf("published schema rejects added fields: %v", err)
	}
	if err := compileSchema(t, true).Validate(inst); err == nil {
		t.Error("strict schema accepts fields it does not list")
	}
}

// TestWebhookBodyMatchesSchema validates every kind's body against the
// published schema with a schema library, and against a strict variant of
// it, so that the body has no field the schema does not document.
func TestWebhookBodyMatchesSchema(t *testing.T) {
	sch := compileSchema(t, true)
	ns := fixtures()
	minimal := Notification{ID: "m", Kind: KindAbnormal, Timestamp: At(t0), Summary: Summary{ServiceID: "s", Status: StatusAbnormal}}
	ns = append(ns, minimal)
	for _, n := range ns {
		t.Run(string(n.Kind), func(t *testing.T) {
			body, err := json.Marshal(n)
			if err != nil {
				t.Fatal(err)
			}
			inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			if err := sch.Validate(inst); err != nil {
				t.Errorf("body does not match webhook-v1.json: %v\n%s", err, body)
			}
		})
	}
	// And the schema does reject a wrong body.
	bad, _ := jsonschema.UnmarshalJSON(strings.NewReader(`{"type":"deployment.exploded","timestamp":"yesterday","data":{}}`))
	if err := sch.Validate(bad); err == nil {
		t.Error("schema accepts an invalid body")
	}
}
