package notifiertest_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/modelarts-notifier/modelarts-notifier/notifier"
	"github.com/modelarts-notifier/modelarts-notifier/notifier/notifiertest"
)

const (
	secret      = "whsec_bm90aWZpZXJ0ZXN0LXNlY3JldC1rZXktMDEyMzQ1Njc4OQ=="
	otherSecret = "whsec_b3RoZXItc2VjcmV0LWtleS0wMTIzNDU2Nzg5YWJjZGVm"
	token       = "xoxb-notifiertest-token"
)

func noSleep(ctx context.Context, _ time.Duration) error { return ctx.Err() }

func notification(id string) notifier.Notification {
	return notifier.Notification{ID: id, Kind: notifier.KindAbnormal, Timestamp: notifier.At(time.Now()),
		Summary: notifier.Summary{ProjectID: "p1", ServiceID: "svc-1", ServiceName: "svc <!channel> <@U123> <http://x|y>",
			AbnormalEvents: []notifier.Event{{EventInfo: "out of memory <!here>"}}}}
}

func TestWebhookReceiverVerifiesSignatures(t *testing.T) {
	var round int64 = 7
	rx := notifiertest.NewWebhookReceiver(t, secret, notifiertest.WithRound(func() int64 { return round }))
	send := func(key, id string) error {
		wh, err := notifier.NewWebhook(notifier.WebhookConfig{URL: rx.URL, Secret: key, SendConfig: notifier.SendConfig{Sleep: noSleep, Retry: notifier.RetryPolicy{MaxAttempts: 1}}}, nil)
		if err != nil {
			t.Fatal(err)
		}
		return wh.Notify(context.Background(), []notifier.Notification{notification(id)})[0].Err
	}

	if err := send(otherSecret, "n-forged"); err == nil {
		t.Error("a webhook signed with another secret was accepted")
	}
	if got := rx.Rejected(); len(got) != 1 || !strings.HasPrefix(got[0], "signature: ") {
		t.Errorf("Rejected() = %q, want one signature failure", got)
	}
	if got := rx.Received(); len(got) != 0 {
		t.Errorf("forged webhook recorded: %+v", got)
	}

	if err := send(secret, "n-1"); err != nil {
		t.Fatalf("signed webhook: %v", err)
	}
	got := rx.Take()
	if len(got) != 1 {
		t.Fatalf("Take() = %d deliveries, want 1", len(got))
	}
	d := got[0]
	if d.ID != "n-1" || d.Kind != notifier.KindAbnormal || d.Data.ServiceID != "svc-1" || d.Round != 7 || len(d.Body) == 0 {
		t.Errorf("delivery = {ID %q Kind %q ServiceID %q Round %d, %d bytes}", d.ID, d.Kind, d.Data.ServiceID, d.Round, len(d.Body))
	}
	if got := rx.Take(); len(got) != 0 {
		t.Errorf("second Take() = %d deliveries, want none", len(got))
	}
	if n := rx.Requests(); n != 2 {
		t.Errorf("Requests() = %d, want 2", n)
	}
}

// postSigned posts a signed body and returns the status and Retry-After,
// status 0 when the client gave up waiting.
func postSigned(t *testing.T, target, id string) (int, string) {
	t.Helper()
	wh, err := standardwebhooks.NewWebhook(secret)
	if err != nil {
		t.Fatal(err)
	}
	body := `{"type":"service.abnormal","data":{"service_id":"svc-1"}}`
	now := time.Now()
	sig, err := wh.Sign(id, now, []byte(body))
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequest(http.MethodPost, target, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("webhook-id", id)
	req.Header.Set("webhook-timestamp", strconv.FormatInt(now.Unix(), 10))
	req.Header.Set("webhook-signature", sig)
	return do(t, req)
}

func do(t *testing.T, req *http.Request) (int, string) {
	t.Helper()
	resp, err := (&http.Client{Timeout: 300 * time.Millisecond}).Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) && ue.Timeout() {
			return 0, ""
		}
		t.Fatal(err)
	}
	defer resp.Body.Close()
	return resp.StatusCode, resp.Header.Get("Retry-After")
}

func TestWebhookReceiverFaultsInOrder(t *testing.T) {
	rx := notifiertest.NewWebhookReceiver(t, secret)
	rx.Fail(1, notifiertest.TooManyRequests)
	rx.Fail(2, notifiertest.ServerError)
	rx.Fail(1, notifiertest.Hang)
	rx.Fail(1, notifiertest.AcceptAndHang)

	type answer struct {
		Status     int
		RetryAfter string
	}
	var got []answer
	for i := range 6 {
		s, ra := postSigned(t, rx.URL, "n-"+strconv.Itoa(i))
		got = append(got, answer{s, ra})
	}
	want := []answer{{429, "1"}, {503, ""}, {503, ""}, {0, ""}, {0, ""}, {204, ""}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("answers (-want +got):\n%s", diff)
	}
	var ids []string
	for _, d := range rx.Received() {
		ids = append(ids, d.ID)
	}
	// The accepted-then-hung request counts as received; the hung one not.
	if diff := cmp.Diff([]string{"n-4", "n-5"}, ids); diff != "" {
		t.Errorf("received ids (-want +got):\n%s", diff)
	}

	rx.Fail(3, notifiertest.ServerError)
	rx.ClearFaults()
	if s, _ := postSigned(t, rx.URL, "n-6"); s != http.StatusNoContent {
		t.Errorf("after ClearFaults: status %d, want 204", s)
	}
}

func slackPost(t *testing.T, api *notifiertest.SlackAPI, form url.Values) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, api.URL+"/chat.postMessage", strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return do(t, req)
}

func TestSlackAPI(t *testing.T) {
	api := notifiertest.NewSlackAPI(t, token)

	// Faults come first, in order.
	api.Fail(1, notifiertest.TooManyRequests)
	api.Fail(1, notifiertest.ServerError)
	api.Fail(1, notifiertest.Hang)
	ok := url.Values{"token": {token}, "channel": {"C1"}, "text": {"hello"}}
	for _, want := range []int{429, 500, 0, 200} {
		if s, _ := slackPost(t, api, ok); s != want {
			t.Errorf("status %d, want %d", s, want)
		}
	}
	if v := api.Violations(); len(v) != 0 {
		t.Errorf("a plain message: violations %q", v)
	}

	// Limits and unescaped markup are recorded, one line each.
	bad := url.Values{"token": {token}, "channel": {"C1"}, "text": {"hi <@U123>"}, "blocks": {`[
		{"type":"header","text":{"type":"plain_text","text":"` + strings.Repeat("h", notifiertest.MaxSlackHeaderText+1) + `"}},
		{"type":"section","text":{"type":"mrkdwn","text":"\u003c!channel\u003e"}}]`}}
	slackPost(t, api, bad)
	slackPost(t, api, url.Values{"token": {"xoxb-wrong"}, "channel": {"C1"}, "text": {"x"}})
	want := []string{
		"chat.postMessage: unescaped <@ in the text",
		"chat.postMessage: header text of 151 characters",
		"chat.postMessage: unescaped <! in section text",
		"chat.postMessage: invalid_auth",
	}
	if diff := cmp.Diff(want, api.Violations()); diff != "" {
		t.Errorf("violations (-want +got):\n%s", diff)
	}
	if n := len(api.Take()); n != 2 {
		t.Errorf("Take() = %d calls, want 2 (the hung and the unauthorised ones are not answered)", n)
	}

	// The real bot escapes hostile text and keeps within Slack's limits.
	bot, err := notifier.NewSlackBot(notifier.SlackBotConfig{Token: token, Channel: "C0TEST", APIURL: api.URL + "/", SendConfig: notifier.SendConfig{Sleep: noSleep, Retry: notifier.RetryPolicy{MaxAttempts: 1}}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	rec := notifiertest.NewRecorder(bot)
	if res := rec.Notify(context.Background(), []notifier.Notification{notification("n-1")}); res[0].Err != nil {
		t.Fatalf("bot: %v", res[0].Err)
	}
	calls := api.Take()
	if len(calls) == 0 || calls[0].Method != "chat.postMessage" || calls[0].Channel != "C0TEST" {
		t.Errorf("bot calls: %+v", calls)
	}
	if diff := cmp.Diff(want, api.Violations()); diff != "" {
		t.Errorf("the bot's message broke a limit (-want +got):\n%s", diff)
	}
	if got := rec.Received(); len(got) != 1 || got[0].ID != "n-1" {
		t.Errorf("Recorder.Received() = %+v", got)
	}
}

// TestRecorderParentUpdate: a parent update goes through to the Slack bot,
// which updates the parent message (chat.update, within Slack's limits),
// but the Recorder does not record it as a notification delivered.
func TestRecorderParentUpdate(t *testing.T) {
	api := notifiertest.NewSlackAPI(t, token)
	bot, err := notifier.NewSlackBot(notifier.SlackBotConfig{Token: token, Channel: "C0TEST", APIURL: api.URL + "/", SendConfig: notifier.SendConfig{Sleep: noSleep, Retry: notifier.RetryPolicy{MaxAttempts: 1}}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	rec := notifiertest.NewRecorder(bot)
	n := notification("n-stop")
	n.Kind, n.DeploymentKey, n.ThreadTS, n.Thread = notifier.KindStalled, "svc-1/1", "1700000000.000042", notifier.ParentUpdate
	n.Summary.Status, n.Summary.ServiceStatus, n.Summary.EndedAt = notifier.StatusStalled, "stopped", notifier.At(time.Now())
	if res := rec.Notify(context.Background(), []notifier.Notification{n}); res[0].Err != nil || res[0].ID != "n-stop" {
		t.Fatalf("result %+v", res[0])
	}
	calls := api.Take()
	if len(calls) != 1 || calls[0].Method != "chat.update" || calls[0].TS != n.ThreadTS || !strings.Contains(calls[0].Blocks, "Deployment stopped") {
		t.Errorf("calls: %+v", calls)
	}
	if v := api.Violations(); len(v) != 0 {
		t.Errorf("violations: %q", v)
	}
	if got := rec.Received(); len(got) != 0 {
		t.Errorf("Recorder recorded a parent update: %+v", got)
	}
}
