package notifier

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func newTestBot(t *testing.T, apiURL string, clk *fakeClock) *SlackBot {
	t.Helper()
	b, err := NewSlackBot(SlackBotConfig{Token: testToken, Channel: "C0DEPLOYS", APIURL: apiURL, SendConfig: SendConfig{Now: clk.Now, Sleep: clk.Sleep, Retry: fastRetry}}, nil)
	if err != nil {
		t.Fatalf("NewSlackBot: %v", err)
	}
	return b
}

func withThread(n Notification, ts string) Notification { n.ThreadTS = ts; return n }

func TestSlackBotThreads(t *testing.T) {
	const parent = "1795867000.000100"
	tests := []struct {
		name      string
		ns        []Notification
		want      []slackCall
		wantTS    []string
		wantSleep []time.Duration
	}{
		{
			name:   "first notification posts the parent",
			ns:     []Notification{fixture(KindStalled)},
			want:   []slackCall{{Method: "chat.postMessage", Channel: "C0DEPLOYS"}},
			wantTS: []string{"1795867200.000001"},
		},
		{
			name: "a known parent is updated and the recovery goes in its thread",
			ns:   []Notification{withThread(fixture(KindRecovered), parent)},
			want: []slackCall{
				{Method: "chat.update", Channel: "C0DEPLOYS", TS: parent},
				{Method: "chat.postMessage", Channel: "C0DEPLOYS", ThreadTS: parent},
			},
			wantTS:    []string{parent},
			wantSleep: []time.Duration{time.Second},
		},
		{
			name: "a failure in the thread is broadcast to the channel",
			ns:   []Notification{withThread(fixture(KindFailed), parent)},
			want: []slackCall{
				{Method: "chat.update", Channel: "C0DEPLOYS", TS: parent},
				{Method: "chat.postMessage", Channel: "C0DEPLOYS", ThreadTS: parent, Broadcast: true},
			},
			wantTS:    []string{parent},
			wantSleep: []time.Duration{time.Second},
		},
		{
			name: "one call: the parent posted first is updated next",
			ns:   []Notification{fixture(KindStalled), fixture(KindRecovered)},
			want: []slackCall{
				{Method: "chat.postMessage", Channel: "C0DEPLOYS"},
				{Method: "chat.update", Channel: "C0DEPLOYS", TS: "1795867200.000001"},
				{Method: "chat.postMessage", Channel: "C0DEPLOYS", ThreadTS: "1795867200.000001"},
			},
			wantTS:    []string{"1795867200.000001", "1795867200.000001"},
			wantSleep: []time.Duration{time.Second, time.Second},
		},
		{
			name:   "runtime events are plain channel messages",
			ns:     []Notification{fixture(KindAbnormal)},
			want:   []slackCall{{Method: "chat.postMessage", Channel: "C0DEPLOYS"}},
			wantTS: []string{""},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newFakeSlack(t, nil)
			clk := newFakeClock()
			results := newTestBot(t, srv.URL+"/", clk).Notify(t.Context(), tt.ns)

			var gotTS []string
			for i, r := range results {
				if r.Err != nil || r.ID != tt.ns[i].ID {
					t.Errorf("result %d = %+v", i, r)
				}
				gotTS = append(gotTS, r.ThreadTS)
			}
			if diff := cmp.Diff(tt.wantTS, gotTS); diff != "" {
				t.Errorf("Result.ThreadTS (-want +got):\n%s", diff)
			}
			calls := srv.Calls()
			if diff := cmp.Diff(tt.want, summarize(calls)); diff != "" {
				t.Errorf("calls (-want +got):\n%s", diff)
			}
			for _, c := range calls {
				checkBlocks(t, c.Blocks)
				if c.Text == "" {
					t.Errorf("%s without fallback text", c.Method)
				}
			}
			if diff := cmp.Diff(tt.wantSleep, clk.Sleeps()); diff != "" {
				t.Errorf("pacing waits (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSlackBotUpdateResendsBlocksAndText(t *testing.T) {
	srv := newFakeSlack(t, nil)
	n := withThread(fixture(KindSucceeded), "1795867000.000100")
	newTestBot(t, srv.URL, newFakeClock()).Notify(t.Context(), []Notification{n})
	update := srv.Calls()[0]
	blocks, text, _ := SlackBlocks(n)
	wantBlocks := mustJSON(t, blocks)
	if update.Method != "chat.update" || update.Text != text || update.Blocks != wantBlocks {
		t.Errorf("chat.update got text %q blocks %s\nwant text %q blocks %s", update.Text, update.Blocks, text, wantBlocks)
	}
}

func TestSlackBotParentGonePostsNewParent(t *testing.T) {
	srv := newFakeSlack(t, func(c slackCall, _ int) slackAnswer {
		if c.Method == "chat.update" {
			return slackAnswer{Body: `{"ok":false,"error":"message_not_found"}`}
		}
		return slackAnswer{}
	})
	r := newTestBot(t, srv.URL, newFakeClock()).Notify(t.Context(), []Notification{withThread(fixture(KindStalled), "1.0")})
	want := []slackCall{
		{Method: "chat.update", Channel: "C0DEPLOYS", TS: "1.0"},
		{Method: "chat.postMessage", Channel: "C0DEPLOYS"},
	}
	if diff := cmp.Diff(want, summarize(srv.Calls())); diff != "" {
		t.Errorf("calls (-want +got):\n%s", diff)
	}
	if r[0].Err != nil || r[0].ThreadTS != "1795867200.000002" {
		t.Errorf("result = %+v, want the new parent", r[0])
	}
}

func TestSlackBotRateLimited(t *testing.T) {
	srv := newFakeSlack(t, func(_ slackCall, n int) slackAnswer {
		if n == 1 {
			return slackAnswer{Status: http.StatusTooManyRequests, Header: map[string]string{"Retry-After": "4"}, Body: `{"ok":false,"error":"ratelimited"}`}
		}
		return slackAnswer{}
	})
	clk := newFakeClock()
	r := newTestBot(t, srv.URL, clk).Notify(t.Context(), []Notification{fixture(KindAbnormal)})
	if r[0].Err != nil {
		t.Fatal(r[0].Err)
	}
	if n := len(srv.Calls()); n != 2 {
		t.Errorf("%d calls, want 2", n)
	}
	// 4s from Retry-After; the pacer then has nothing left to wait.
	if diff := cmp.Diff([]time.Duration{4 * time.Second}, clk.Sleeps()); diff != "" {
		t.Errorf("waits (-want +got):\n%s", diff)
	}
}

func TestSlackBotAPIErrors(t *testing.T) {
	tests := []struct {
		name      string
		answer    slackAnswer
		wantErr   string
		wantCalls int
	}{
		{"channel_not_found", slackAnswer{Body: `{"ok":false,"error":"channel_not_found"}`}, `slack error "channel_not_found"`, 1},
		{"invalid_blocks", slackAnswer{Body: `{"ok":false,"error":"invalid_blocks"}`}, `slack error "invalid_blocks"`, 1},
		{"ok:false ratelimited retries", slackAnswer{Body: `{"ok":false,"error":"ratelimited"}`}, `slack error "ratelimited"`, 3},
		{"5xx retries", slackAnswer{Status: 503, Body: "<html>upstream connect error</html>"}, "status 503", 3},
		{"429 without Retry-After retries", slackAnswer{Status: 429}, "status 429", 3},
		{"404 is permanent", slackAnswer{Status: 404, Body: "not here"}, `status 404: "not here"`, 1},
		{"garbage 200 is permanent", slackAnswer{Body: "<<not json"}, "unreadable answer", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newFakeSlack(t, func(slackCall, int) slackAnswer { return tt.answer })
			r := newTestBot(t, srv.URL, newFakeClock()).Notify(t.Context(), []Notification{fixture(KindFailed)})
			if r[0].Err == nil || !strings.Contains(r[0].Err.Error(), tt.wantErr) {
				t.Errorf("err = %v, want %q", r[0].Err, tt.wantErr)
			}
			if n := len(srv.Calls()); n != tt.wantCalls {
				t.Errorf("%d calls, want %d", n, tt.wantCalls)
			}
		})
	}
}

func TestSlackBotDigest(t *testing.T) {
	srv := newFakeSlack(t, nil)
	clk := newFakeClock()
	ns := append(fixtures(), withThread(fixture(KindRecovered), "1.5"))
	for i := range ns {
		ns[i].ID += "-d"
	}
	results := newTestBot(t, srv.URL, clk).Notify(t.Context(), ns)

	calls := srv.Calls()
	want := []slackCall{{Method: "chat.postMessage", Channel: "C0DEPLOYS"}}
	for range ns {
		want = append(want, slackCall{Method: "chat.postMessage", Channel: "C0DEPLOYS", ThreadTS: "1795867200.000001"})
	}
	if diff := cmp.Diff(want, summarize(calls)); diff != "" {
		t.Errorf("calls (-want +got):\n%s", diff)
	}
	if !strings.HasPrefix(calls[0].Text, "7 ModelArts notifications") {
		t.Errorf("digest text = %q", calls[0].Text)
	}
	for i, r := range results {
		if r.Err != nil || r.ID != ns[i].ID || r.ThreadTS != ns[i].ThreadTS {
			t.Errorf("result %d = %+v", i, r)
		}
	}
	// Eight messages, one per second, on the fake clock.
	if got := clk.Sleeps(); len(got) != 7 || got[0] != time.Second || got[6] != time.Second {
		t.Errorf("pacing waits = %v, want 7 × 1s", got)
	}
}

func TestSlackBotDigestFailureIsShared(t *testing.T) {
	srv := newFakeSlack(t, func(slackCall, int) slackAnswer {
		return slackAnswer{Body: `{"ok":false,"error":"not_in_channel"}`}
	})
	results := newTestBot(t, srv.URL, newFakeClock()).Notify(t.Context(), append(fixtures(), fixtures()...))
	for i, r := range results {
		if r.Err == nil || !strings.Contains(r.Err.Error(), "not_in_channel") {
			t.Errorf("result %d err = %v", i, r.Err)
		}
	}
	if n := len(srv.Calls()); n != 1 {
		t.Errorf("%d calls after a failed digest, want 1", n)
	}
}

func TestNewSlackBotRejectsBadConfig(t *testing.T) {
	tests := []struct {
		name string
		cfg  SlackBotConfig
		want string
	}{
		{"no token", SlackBotConfig{Channel: "C1"}, "SLACK_BOT_TOKEN"},
		{"no channel", SlackBotConfig{Token: testToken}, "SLACK_CHANNEL"},
		{"http api", SlackBotConfig{Token: testToken, Channel: "C1", APIURL: "http://slack.example.com/api/"}, "SLACK_API_URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewSlackBot(tt.cfg, nil)
			if err == nil || !strings.Contains(err.Error(), tt.want) || strings.Contains(err.Error(), testToken) {
				t.Errorf("err = %v, want it to name %s", err, tt.want)
			}
		})
	}
}

// TestSlackBotDigestCapsThreadReplies: a digest of 100 posts the digest and
// the details of the first maxDigestItems in its thread, not 100 replies
// (100 s at one message a second, in a Lambda that has 120 s); the digest
// says how many more there were. The digest delivers them all.
func TestSlackBotDigestCapsThreadReplies(t *testing.T) {
	srv := newFakeSlack(t, nil)
	clk := newFakeClock()
	ns := runtimeBatch(100)
	results := newTestBot(t, srv.URL, clk).Notify(t.Context(), ns)

	calls := srv.Calls()
	if len(calls) != 1+maxDigestItems {
		t.Fatalf("%d calls, want the digest and %d replies", len(calls), maxDigestItems)
	}
	for _, c := range calls[1:] {
		if c.ThreadTS != "1795867200.000001" {
			t.Errorf("reply %+v is not in the digest's thread", summarize([]slackCall{c}))
		}
	}
	if more := fmt.Sprintf("and %d more", 100-maxDigestItems); !strings.Contains(calls[0].Blocks, more) {
		t.Errorf("digest does not say %q", more)
	}
	for i, r := range results {
		if r.Err != nil || r.ID != ns[i].ID {
			t.Errorf("result %d = %+v", i, r)
		}
	}
	if got := len(clk.Sleeps()); got != maxDigestItems {
		t.Errorf("%d pacing waits, want %d", got, maxDigestItems)
	}
}

// TestSlackBotDigestBeforeDeadline: the digest's replies stop when the
// deadline is closer than the pacing interval (the digest, posted, still
// delivers everyone); a digest that cannot go out at all fails everyone
// with ErrDeadlineNear, without a request.
func TestSlackBotDigestBeforeDeadline(t *testing.T) {
	tests := []struct {
		name      string
		left      time.Duration // on the fake clock, before the deadline
		wantCalls int
		wantErr   error
	}{
		{"replies stop", 5500 * time.Millisecond, 5, nil}, // digest at 0 s, replies at 1-4 s
		{"no time for the digest", 500 * time.Millisecond, 0, ErrDeadlineNear},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newFakeSlack(t, nil)
			deadline := time.Now().Add(time.Hour) // far away on the wall clock
			ctx, cancel := context.WithDeadline(t.Context(), deadline)
			defer cancel()
			ns := runtimeBatch(10)
			results := newTestBot(t, srv.URL, newFakeClockAt(deadline.Add(-tt.left))).Notify(ctx, ns)

			if got := len(srv.Calls()); got != tt.wantCalls {
				t.Errorf("%d calls, want %d", got, tt.wantCalls)
			}
			for i, r := range results {
				if r.ID != ns[i].ID || !errors.Is(r.Err, tt.wantErr) || (tt.wantErr == nil && r.Err != nil) {
					t.Errorf("result %d = %+v, want err %v", i, r, tt.wantErr)
				}
			}
		})
	}
}
