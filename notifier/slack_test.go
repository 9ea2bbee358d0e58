package notifier

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/slack-go/slack"
)

func newTestSlackWebhook(t *testing.T, url string, clk *fakeClock) *SlackWebhook {
	t.Helper()
	s, err := NewSlackWebhook(SlackWebhookConfig{URL: url + "/services/" + secretPath, SendConfig: SendConfig{Now: clk.Now, Sleep: clk.Sleep, Retry: fastRetry}}, nil)
	if err != nil {
		t.Fatalf("NewSlackWebhook: %v", err)
	}
	return s
}

func TestSlackWebhookOneMessagePerNotification(t *testing.T) {
	srv := newRecorder(t, nil)
	clk := newFakeClock()
	ns := fixtures()[:3]
	results := newTestSlackWebhook(t, srv.URL, clk).Notify(t.Context(), ns)

	for i, r := range results {
		if r.Err != nil || r.ID != ns[i].ID || r.ThreadTS != "" {
			t.Errorf("result %d = %+v", i, r)
		}
	}
	reqs := srv.Requests()
	if len(reqs) != len(ns) {
		t.Fatalf("%d messages, want %d", len(reqs), len(ns))
	}
	for i, r := range reqs {
		if r.Path != "/services/"+secretPath || r.Header.Get("Content-Type") != "application/json" {
			t.Errorf("message %d: %s %s", i, r.Path, r.Header.Get("Content-Type"))
		}
		var msg slack.WebhookMessage
		if err := json.Unmarshal(r.Body, &msg); err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
		blocks, text, _ := SlackBlocks(ns[i])
		if msg.Text != text {
			t.Errorf("message %d text = %q, want %q", i, msg.Text, text)
		}
		if got, want := mustJSON(t, msg.Blocks.BlockSet), mustJSON(t, blocks); got != want {
			t.Errorf("message %d blocks differ:\n got %s\nwant %s", i, got, want)
		}
	}
	// Three messages, one per second.
	if diff := cmp.Diff([]time.Duration{time.Second, time.Second}, clk.Sleeps()); diff != "" {
		t.Errorf("pacing (-want +got):\n%s", diff)
	}
}

func TestSlackWebhookDigest(t *testing.T) {
	srv := newRecorder(t, nil)
	clk := newFakeClock()
	ns := append(fixtures(), fixtures()[0])
	ns[len(ns)-1].ID = "another"
	results := newTestSlackWebhook(t, srv.URL, clk).Notify(t.Context(), ns)

	reqs := srv.Requests()
	if len(reqs) != 1 {
		t.Fatalf("%d messages, want one digest", len(reqs))
	}
	var msg slack.WebhookMessage
	if err := json.Unmarshal(reqs[0].Body, &msg); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(msg.Text, "7 ModelArts notifications: 2 deployment.succeeded") {
		t.Errorf("digest text = %q", msg.Text)
	}
	for i, r := range results {
		if r.Err != nil || r.ID != ns[i].ID {
			t.Errorf("result %d = %+v", i, r)
		}
	}
	if len(clk.Sleeps()) != 0 {
		t.Errorf("one message waited %v", clk.Sleeps())
	}
}

func TestSlackWebhookErrorsNameSlackError(t *testing.T) {
	tests := []struct {
		status int
		body   string
		want   string
		tries  int
	}{
		{http.StatusBadRequest, "invalid_payload", `status 400: slack error "invalid_payload"`, 1},
		{http.StatusNotFound, "no_service", `status 404: slack error "no_service"`, 1},
		{http.StatusNotFound, "channel_not_found", `slack error "channel_not_found"`, 1},
		{http.StatusGone, "channel_is_archived", `slack error "channel_is_archived"`, 1},
		{http.StatusForbidden, "action_prohibited", `slack error "action_prohibited"`, 1},
		{http.StatusInternalServerError, "rollup_error", `status 500: slack error "rollup_error"`, 3},
	}
	for _, tt := range tests {
		t.Run(tt.body, func(t *testing.T) {
			srv := newRecorder(t, func(w http.ResponseWriter, _ *http.Request, _ int) {
				w.WriteHeader(tt.status)
				_, _ = w.Write([]byte(tt.body))
			})
			r := newTestSlackWebhook(t, srv.URL, newFakeClock()).Notify(t.Context(), fixtures()[:1])
			if r[0].Err == nil || !strings.Contains(r[0].Err.Error(), tt.want) {
				t.Errorf("err = %v, want %q", r[0].Err, tt.want)
			}
			if n := len(srv.Requests()); n != tt.tries {
				t.Errorf("%d tries, want %d", n, tt.tries)
			}
		})
	}
}
