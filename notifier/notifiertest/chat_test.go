package notifiertest_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/modelarts-notifier/modelarts-notifier/notifier"
	"github.com/modelarts-notifier/modelarts-notifier/notifier/notifiertest"
)

// chatStandIn is one platform: its stand-in and the real destination
// pointed at it.
type chatStandIn struct {
	srv  *notifiertest.ChatServer
	dest notifier.Notifier
}

const (
	feishuSecret   = "feishu-standin-secret"
	dingtalkSecret = "SECdingtalk-standin-secret"
	dingtalkWord   = "ModelArts"
)

// newChatStandIns starts every chat stand-in on clock now and builds the
// product's destinations for them (signing secret destSecret, "" for the
// stand-ins' own).
func newChatStandIns(t *testing.T, now func() time.Time, destSecret string) map[string]chatStandIn {
	t.Helper()
	retry := notifier.RetryPolicy{MaxAttempts: 3, BaseDelay: time.Millisecond, MaxDelay: 2 * time.Millisecond}
	client := &http.Client{Timeout: 300 * time.Millisecond}
	secret := func(own string) string {
		if destSecret != "" {
			return destSecret
		}
		return own
	}
	out := map[string]chatStandIn{}
	teams := notifiertest.NewTeams(t, notifiertest.ChatConfig{Now: now})
	tm, err := notifier.NewTeams(notifier.TeamsConfig{URL: teams.WebhookURL, SendConfig: notifier.SendConfig{HTTPClient: client, Now: now, Sleep: noSleep, Retry: retry}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	out[notifiertest.PlatformTeams] = chatStandIn{teams, tm}
	feishu := notifiertest.NewFeishu(t, notifiertest.ChatConfig{Secret: feishuSecret, Now: now})
	fs, err := notifier.NewFeishu(notifier.FeishuConfig{URL: feishu.WebhookURL, Secret: secret(feishuSecret), SendConfig: notifier.SendConfig{HTTPClient: client, Now: now, Sleep: noSleep, Retry: retry}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	out[notifiertest.PlatformFeishu] = chatStandIn{feishu, fs}
	ding := notifiertest.NewDingTalk(t, notifiertest.ChatConfig{Secret: dingtalkSecret, Keyword: dingtalkWord, Now: now})
	dt, err := notifier.NewDingTalk(notifier.DingTalkConfig{URL: ding.WebhookURL, Secret: secret(dingtalkSecret), Keyword: dingtalkWord, SendConfig: notifier.SendConfig{HTTPClient: client, Now: now, Sleep: noSleep, Retry: retry}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	out[notifiertest.PlatformDingTalk] = chatStandIn{ding, dt}
	wecom := notifiertest.NewWeCom(t, notifiertest.ChatConfig{Now: now})
	wc, err := notifier.NewWeCom(notifier.WeComConfig{URL: wecom.WebhookURL, SendConfig: notifier.SendConfig{HTTPClient: client, Now: now, Sleep: noSleep, Retry: retry}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	out[notifiertest.PlatformWeCom] = chatStandIn{wecom, wc}
	return out
}

var chatPlatforms = []string{notifiertest.PlatformTeams, notifiertest.PlatformFeishu, notifiertest.PlatformDingTalk, notifiertest.PlatformWeCom}

func chatNotification(id string, kind notifier.Kind, svc, phase string, start time.Time, events ...notifier.Event) notifier.Notification {
	status := map[notifier.Kind]notifier.Status{notifier.KindSucceeded: notifier.StatusSucceeded, notifier.KindFailed: notifier.StatusFailed,
		notifier.KindStalled: notifier.StatusStalled, notifier.KindRecovered: notifier.StatusRecovered, notifier.KindAbnormal: notifier.StatusAbnormal}[kind]
	n := notifier.Notification{ID: id, Kind: kind, Timestamp: notifier.At(start.Add(10 * time.Minute)),
		Summary: notifier.Summary{ProjectID: "p1", ServiceID: svc, ServiceName: svc, Status: status, Phase: phase,
			AbnormalEvents: events}}
	if !start.IsZero() {
		n.Summary.StartedAt = notifier.At(start)
	}
	return n
}

// Every stand-in reads back what the real destination sent: one message
// per notification (kind, service id, phase, start, the event's text,
// hostile text escaped so that nothing is refused), then a digest (counts
// by kind, the listed notifications and their phases).
func TestChatStandInsReadMessages(t *testing.T) {
	start := time.Date(2030, 1, 7, 9, 12, 10, 0, time.UTC)
	now := func() time.Time { return start.Add(time.Hour) }
	hostile := "OOM <!channel> @all <at user_id=\"all\">x</at> [click](http://evil.example) <@U1> 资源不足"
	oom := notifier.Event{EventType: "abnormal", EventInfo: hostile, OccurTime: start.Add(time.Minute).UnixMilli()}
	single := []notifier.Notification{
		chatNotification("n-stall", notifier.KindStalled, "svc-01", "image_pull", start),
		chatNotification("n-oom", notifier.KindAbnormal, "svc-02", "", time.Time{}, oom),
	}
	for _, name := range chatPlatforms {
		t.Run(name, func(t *testing.T) {
			c := newChatStandIns(t, now, "")[name]
			for _, n := range single {
				if res := c.dest.Notify(context.Background(), []notifier.Notification{n}); res[0].Err != nil {
					t.Fatalf("%s: %v (rejected: %q)", n.ID, res[0].Err, c.srv.Rejected())
				}
			}
			got := c.srv.Take()
			if len(got) != 2 || got[0].Digest || got[1].Digest {
				t.Fatalf("%d messages, want two single ones: %+v", len(got), got)
			}
			st := got[0].Items[0]
			if st.Kind != notifier.KindStalled || st.ServiceID != "svc-01" || st.Phase != "image_pull" || st.Started != "2030-01-07 09:12:10 UTC" {
				t.Errorf("stall read back as %+v", st)
			}
			ab := got[1].Items[0]
			if ab.Kind != notifier.KindAbnormal || ab.ServiceID != "svc-02" || !strings.Contains(ab.Text, notifier.EscapeChat(hostile)) ||
				!strings.Contains(ab.Text, "2030-01-07 09:13:10 UTC") {
				t.Errorf("abnormal read back as %+v", ab)
			}

			var batch []notifier.Notification
			for i := range 7 {
				batch = append(batch, chatNotification(fmt.Sprintf("n-%d", i), notifier.KindFailed, fmt.Sprintf("svc-%02d", i), "scheduling", start))
			}
			batch = append(batch, chatNotification("n-oom2", notifier.KindAbnormal, "svc-09", "", time.Time{}, oom))
			for _, r := range c.dest.Notify(context.Background(), batch) {
				if r.Err != nil {
					t.Fatalf("digest: %v", r.Err)
				}
			}
			got = c.srv.Take()
			if len(got) != 1 || !got[0].Digest {
				t.Fatalf("%d messages, want one digest: %+v", len(got), got)
			}
			d := got[0]
			if d.Total != 8 || d.Counts[notifier.KindFailed] != 7 || d.Counts[notifier.KindAbnormal] != 1 || len(d.Items)+d.More != 8 {
				t.Errorf("digest: total %d counts %v, %d listed + %d more", d.Total, d.Counts, len(d.Items), d.More)
			}
			for _, it := range d.Items {
				if it.Kind == notifier.KindFailed && it.Phase != "scheduling" {
					t.Errorf("digest item %+v: phase not read", it)
				}
			}
			if r := c.srv.Rejected(); len(r) != 0 {
				t.Errorf("rejected: %q", r)
			}
		})
	}
}

// Signatures are checked as the vendors document them: a destination
// signing with another secret is refused (and the refusal is permanent).
func TestChatStandInsVerifySignatures(t *testing.T) {
	now := func() time.Time { return time.Date(2030, 1, 7, 9, 0, 0, 0, time.UTC) }
	n := chatNotification("n-1", notifier.KindSucceeded, "svc-01", "", now())
	for _, name := range []string{notifiertest.PlatformFeishu, notifiertest.PlatformDingTalk} {
		t.Run(name, func(t *testing.T) {
			c := newChatStandIns(t, now, "another-secret")[name]
			if res := c.dest.Notify(context.Background(), []notifier.Notification{n}); res[0].Err == nil {
				t.Fatal("a message signed with another secret was accepted")
			}
			if r := c.srv.Rejected(); len(r) != 1 || !strings.Contains(r[0], "bad sign") {
				t.Errorf("rejected: %q, want one bad sign", r)
			}
			if len(c.srv.Messages()) != 0 {
				t.Error("a forged message was recorded")
			}
		})
	}
	if got, want := notifiertest.DingTalkSignature(dingtalkSecret, 1700000000000), notifier.DingTalkSign(dingtalkSecret, 1700000000000); got != want {
		t.Errorf("DingTalk signature %q, the product's %q", got, want)
	}
	if got, want := notifiertest.FeishuSignature(feishuSecret, 1700000000), notifier.FeishuSign(feishuSecret, 1700000000); got != want {
		t.Errorf("Feishu signature %q, the product's %q", got, want)
	}
}

// Injected faults answer each platform's own rate-limit and busy answers,
// which the destinations retry; a hang that was accepted is recorded.
func TestChatStandInsFaults(t *testing.T) {
	now := func() time.Time { return time.Date(2030, 1, 7, 9, 0, 0, 0, time.UTC) }
	n := chatNotification("n-1", notifier.KindSucceeded, "svc-01", "", now())
	for _, name := range chatPlatforms {
		t.Run(name, func(t *testing.T) {
			c := newChatStandIns(t, now, "")[name]
			c.srv.Fail(1, notifiertest.ServerError)
			c.srv.Fail(1, notifiertest.TooManyRequests)
			// No deadline: the pause a rate-limit answer starts (a minute
			// for DingTalk and WeCom) is waited out on the fake clock.
			res := c.dest.Notify(context.Background(), []notifier.Notification{n})
			if res[0].Err != nil {
				t.Fatalf("after a busy and a rate-limited answer: %v", res[0].Err)
			}
			if got := c.srv.Requests(); got != 3 {
				t.Errorf("%d requests, want 3", got)
			}
			if len(c.srv.Messages()) != 1 || len(c.srv.Throttled()) != 0 || len(c.srv.Rejected()) != 0 {
				t.Errorf("messages %d, throttled %q, rejected %q", len(c.srv.Messages()), c.srv.Throttled(), c.srv.Rejected())
			}
		})
	}
}

// More than the platform's per-minute limit on its clock is answered with
// its rate-limit code and listed by Throttled.
func TestChatStandInRateLimit(t *testing.T) {
	srv := notifiertest.NewWeCom(t, notifiertest.ChatConfig{Now: func() time.Time { return time.Date(2030, 1, 7, 9, 0, 0, 0, time.UTC) }})
	body := `{"msgtype":"markdown","markdown":{"content":"#### ✅ Deployment succeeded: svc-01"}}`
	for range 21 {
		resp, err := http.Post(srv.WebhookURL, "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	if got := len(srv.Messages()); got != 20 {
		t.Errorf("%d messages accepted, want 20", got)
	}
	if got := srv.Throttled(); len(got) != 1 {
		t.Errorf("throttled %q, want one", got)
	}
}

// Mention and link markup, and messages over a platform's limits, are
// refused with the platform's error answer and listed by Rejected.
func TestChatStandInsRefuse(t *testing.T) {
	now := func() time.Time { return time.Date(2030, 1, 7, 9, 0, 0, 0, time.UTC) }
	big := strings.Repeat("x", 30<<10)
	cases := []struct {
		platform, body, want string
	}{
		{notifiertest.PlatformTeams, `{"type":"message","attachments":[{"contentType":"application/vnd.microsoft.card.adaptive","content":{"type":"AdaptiveCard","body":[{"type":"TextBlock","text":"hi <at>Everyone</at>"}]}}]}`, "mention"},
		{notifiertest.PlatformTeams, `{"type":"message","attachments":[{"contentType":"application/vnd.microsoft.card.adaptive","content":{"type":"AdaptiveCard","body":[{"type":"TextBlock","text":"[x](http://evil)"}]}}]}`, "markdown link"},
		{notifiertest.PlatformTeams, `{"type":"message","attachments":[{"contentType":"application/vnd.microsoft.card.adaptive","content":{"type":"AdaptiveCard","body":[{"type":"TextBlock","text":"` + big + `"}]}}]}`, "Too Large"},
		{notifiertest.PlatformFeishu, `{"msg_type":"interactive","card":{"header":{"title":{"tag":"plain_text","content":"t <at user_id=\"all\"></at>"}},"elements":[]}}`, "mention"},
		{notifiertest.PlatformFeishu, `{"msg_type":"interactive","card":{"header":{"title":{"tag":"plain_text","content":"t"}},"elements":[{"tag":"div","text":{"tag":"lark_md","content":"[x](http://evil)"}}]}}`, "markdown link"},
		{notifiertest.PlatformDingTalk, `{"msgtype":"markdown","markdown":{"title":"ModelArts","text":"hi @all"}}`, "unescaped @"},
		{notifiertest.PlatformDingTalk, `{"msgtype":"markdown","markdown":{"title":"ModelArts","text":"hi"},"at":{"isAtAll":true}}`, "mentions"},
		{notifiertest.PlatformDingTalk, `{"msgtype":"markdown","markdown":{"title":"t","text":"no keyword"}}`, "no keyword"},
		{notifiertest.PlatformWeCom, `{"msgtype":"markdown","markdown":{"content":"hi <@userid>"}}`, "unescaped @"},
		{notifiertest.PlatformWeCom, `{"msgtype":"markdown","markdown":{"content":"` + strings.Repeat("x", 4097) + `"}}`, "4097 bytes"},
	}
	for _, c := range cases {
		t.Run(c.platform+" "+c.want, func(t *testing.T) {
			var srv *notifiertest.ChatServer
			switch c.platform {
			case notifiertest.PlatformTeams:
				srv = notifiertest.NewTeams(t, notifiertest.ChatConfig{Now: now})
			case notifiertest.PlatformFeishu:
				srv = notifiertest.NewFeishu(t, notifiertest.ChatConfig{Now: now})
			case notifiertest.PlatformDingTalk:
				srv = notifiertest.NewDingTalk(t, notifiertest.ChatConfig{Now: now, Keyword: dingtalkWord})
			case notifiertest.PlatformWeCom:
				srv = notifiertest.NewWeCom(t, notifiertest.ChatConfig{Now: now})
			}
			resp, err := http.Post(srv.WebhookURL, "application/json", strings.NewReader(c.body))
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if r := srv.Rejected(); len(r) != 1 || !strings.Contains(r[0], c.want) {
				t.Errorf("rejected %q, want one saying %q", r, c.want)
			}
			if len(srv.Messages()) != 0 {
				t.Error("a refused message was recorded")
			}
		})
	}
}
