package notifier

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// productVars are PRODUCT.md's destination variables, and which are
// secret: the registry must list exactly these.
var productVars = map[string]bool{
	"SLACK_WEBHOOK_URL": true, "SLACK_BOT_TOKEN": true, "SLACK_CHANNEL": false, "SLACK_API_URL": false,
	"WEBHOOK_URLS": true, "WEBHOOK_SECRET": true,
	"TEAMS_WEBHOOK_URLS":  true,
	"FEISHU_WEBHOOK_URLS": true, "FEISHU_SECRET": true,
	"DINGTALK_WEBHOOK_URLS": true, "DINGTALK_SECRET": true, "DINGTALK_KEYWORD": false,
	"WECOM_WEBHOOK_URLS": true,
}

func TestRegistryRows(t *testing.T) {
	got := map[string]bool{}
	kinds := map[string]bool{}
	for _, k := range Registry() {
		if k.Name == "" || k.Desc == "" || k.New == nil || len(k.Vars) == 0 || kinds[k.Name] {
			t.Errorf("kind %q: incomplete or repeated row", k.Name)
		}
		kinds[k.Name] = true
		if !k.Vars[0].Enables {
			t.Errorf("kind %s: its first variable does not enable it", k.Name)
		}
		for _, v := range k.Vars {
			if v.Desc == "" || strings.Contains(v.Desc, "\n") {
				t.Errorf("%s: a description must be one line", v.Name)
			}
			if _, dup := got[v.Name]; dup {
				t.Errorf("%s is listed twice", v.Name)
			}
			got[v.Name] = v.Secret
			if v.List != strings.HasSuffix(v.Name, "_URLS") {
				t.Errorf("%s: List = %v", v.Name, v.List)
			}
		}
	}
	if diff := cmp.Diff(productVars, got); diff != "" {
		t.Errorf("variables and their secrecy (-PRODUCT.md +registry):\n%s", diff)
	}
	if diff := cmp.Diff(fmt.Sprint(RegistryVars()), fmt.Sprint(func() (vs []Var) {
		for _, k := range Registry() {
			vs = append(vs, k.Vars...)
		}
		return
	}())); diff != "" {
		t.Error(diff)
	}
}

// TestRegistryLimits: the documented limits each chat kind's row states
// are the ones its destination keeps.
func TestRegistryLimits(t *testing.T) {
	want := map[string]struct {
		bytes     int
		windows   []rateWindow
		perSecond int
		perMinute int
	}{
		"teams":    {MaxTeamsBody, teamsWindows, 4, 0},
		"feishu":   {MaxFeishuBody, feishuWindows, 5, 100},
		"dingtalk": {MaxDingTalkText, dingtalkWindows, 0, 20},
		"wecom":    {MaxWeComContent, wecomWindows, 0, 20},
	}
	for _, k := range Registry() {
		w, ok := want[k.Name]
		if !ok {
			continue
		}
		if k.Limits.MessageBytes != w.bytes || k.Limits.PerSecond != w.perSecond || k.Limits.PerMinute != w.perMinute {
			t.Errorf("%s: limits %+v", k.Name, k.Limits)
		}
		for _, win := range w.windows {
			if (win.per.Seconds() == 1 && win.n != k.Limits.PerSecond) || (win.per.Minutes() == 1 && win.n != k.Limits.PerMinute) {
				t.Errorf("%s: window %+v disagrees with limits %+v", k.Name, win, k.Limits)
			}
		}
	}
	if MaxWeComContent != 4096 || MaxFeishuBody > 20<<10 {
		t.Error("documented sizes changed")
	}
}

func TestRegistryBuildsEveryKind(t *testing.T) {
	env := map[string]string{
		"SLACK_WEBHOOK_URL":     "https://hooks.slack.com/services/T0/B0/" + chatToken,
		"SLACK_BOT_TOKEN":       "xoxb-" + chatToken,
		"SLACK_CHANNEL":         "C123",
		"WEBHOOK_URLS":          "https://a.example/hook, https://b.example/hook",
		"WEBHOOK_SECRET":        "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
		"TEAMS_WEBHOOK_URLS":    "https://prod-01.westus.logic.azure.com/workflows/1/triggers/manual/paths/invoke?sig=" + chatToken,
		"FEISHU_WEBHOOK_URLS":   "https://open.feishu.cn/open-apis/bot/v2/hook/a,https://open.larksuite.com/open-apis/bot/v2/hook/b",
		"FEISHU_SECRET":         chatSecret,
		"DINGTALK_WEBHOOK_URLS": "https://oapi.dingtalk.com/robot/send?access_token=" + chatToken,
		"DINGTALK_SECRET":       chatSecret,
		"DINGTALK_KEYWORD":      "告警",
		"WECOM_WEBHOOK_URLS":    "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=" + chatToken,
	}
	dests, err := BuildDestinations(env, DestinationOptions{Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, d := range dests {
		names = append(names, fmt.Sprintf("%s %T", d.Name, d.Notifier))
		if strings.Contains(d.Name, chatToken) {
			t.Errorf("destination name %q holds a secret", d.Name)
		}
	}
	h := ShortHash
	want := []string{
		"slack-webhook *notifier.SlackWebhook",
		"slack-bot:C123 *notifier.SlackBot",
		"webhook-" + h("https://a.example/hook") + " *notifier.Webhook",
		"webhook-" + h("https://b.example/hook") + " *notifier.Webhook",
		"teams-" + h(env["TEAMS_WEBHOOK_URLS"]) + " *notifier.Teams",
		"feishu-" + h("https://open.feishu.cn/open-apis/bot/v2/hook/a") + " *notifier.Feishu",
		"feishu-" + h("https://open.larksuite.com/open-apis/bot/v2/hook/b") + " *notifier.Feishu",
		"dingtalk-" + h(env["DINGTALK_WEBHOOK_URLS"]) + " *notifier.DingTalk",
		"wecom-" + h(env["WECOM_WEBHOOK_URLS"]) + " *notifier.WeCom",
	}
	if diff := cmp.Diff(want, names); diff != "" {
		t.Errorf("destinations (-want +got):\n%s", diff)
	}
	// The names the functions' setup has always given webhooks.
	if got := ShortHash("https://a.example/hook"); len(got) != 8 {
		t.Errorf("ShortHash = %q", got)
	}
	for _, k := range Registry() {
		if !k.Configured(env) {
			t.Errorf("%s not configured", k.Name)
		}
		if k.Configured(map[string]string{}) {
			t.Errorf("%s configured by an empty environment", k.Name)
		}
	}
	if none, err := BuildDestinations(map[string]string{}, DestinationOptions{}); err != nil || len(none) != 0 {
		t.Errorf("empty environment: %v, %v", none, err)
	}
}

func TestRegistryErrorsNameTheVariable(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		wantVar string
		wantMsg string
	}{
		{"feishu secret alone", map[string]string{"FEISHU_SECRET": chatSecret}, "FEISHU_SECRET", "set, but FEISHU_WEBHOOK_URLS is empty"},
		{"dingtalk keyword alone", map[string]string{"DINGTALK_KEYWORD": "x"}, "DINGTALK_KEYWORD", "set, but DINGTALK_WEBHOOK_URLS is empty"},
		{"dingtalk secret alone", map[string]string{"DINGTALK_SECRET": chatSecret}, "DINGTALK_SECRET", "set, but"},
		{"webhook secret alone", map[string]string{"WEBHOOK_SECRET": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}, "WEBHOOK_SECRET", "set, but WEBHOOK_URLS is empty"},
		{"bad webhook secret", map[string]string{"WEBHOOK_URLS": "https://a.example/h", "WEBHOOK_SECRET": "whsec_!!" + chatSecret}, "WEBHOOK_SECRET", "not a valid"},
		{"slack channel alone", map[string]string{"SLACK_CHANNEL": "C1"}, "SLACK_BOT_TOKEN", "required when SLACK_CHANNEL is set"},
		{"slack token alone", map[string]string{"SLACK_BOT_TOKEN": "xoxb-" + chatToken}, "SLACK_CHANNEL", "required"},
		{"slack api url", map[string]string{"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_CHANNEL": "C1", "SLACK_API_URL": "http://evil.example/" + chatToken}, "SLACK_API_URL", "http://"},
		{"second feishu URL", map[string]string{"FEISHU_WEBHOOK_URLS": "https://open.feishu.cn/open-apis/bot/v2/hook/a,https://open.feishu.cn/open-apis/im/" + chatToken}, "FEISHU_WEBHOOK_URLS", "URL #2: not a custom bot webhook"},
		{"feishu relay on http", map[string]string{"FEISHU_WEBHOOK_URLS": "http://relay.example/" + chatToken}, "FEISHU_WEBHOOK_URLS", "URL #1: http:// is refused except on loopback"},
		{"repeated URL", map[string]string{"WECOM_WEBHOOK_URLS": "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=1, https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=1"}, "WECOM_WEBHOOK_URLS", "URL #2 repeats URL #1"},
		{"connector URL", map[string]string{"TEAMS_WEBHOOK_URLS": "https://x.webhook.office.com/webhookb2/" + chatToken}, "TEAMS_WEBHOOK_URLS", "URL #1: an Office 365 connector URL"},
		{"dingtalk without token", map[string]string{"DINGTALK_WEBHOOK_URLS": "https://oapi.dingtalk.com/robot/send?x=" + chatToken}, "DINGTALK_WEBHOOK_URLS", "URL #1: URL has no access_token"},
		{"slack webhook http", map[string]string{"SLACK_WEBHOOK_URL": "http://hooks.slack.com/services/" + chatToken}, "SLACK_WEBHOOK_URL", "http://"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := BuildDestinations(tt.env, DestinationOptions{})
			var ve *VarError
			if !errors.As(err, &ve) || ve.Var != tt.wantVar || !strings.Contains(ve.Msg, tt.wantMsg) {
				t.Fatalf("err = %v; want a VarError for %s saying %q", err, tt.wantVar, tt.wantMsg)
			}
			if strings.Count(err.Error(), tt.wantVar) != 1 {
				t.Errorf("%q names the variable more than once", err)
			}
			for _, s := range chatSecrets {
				if strings.Contains(err.Error(), s) {
					t.Errorf("error shows a value: %v", err)
				}
			}
		})
	}
}

func TestSplitList(t *testing.T) {
	if got := SplitList(" a, ,b ,, c "); fmt.Sprint(got) != "[a b c]" {
		t.Errorf("SplitList = %q", got)
	}
	if got := SplitList(""); got != nil {
		t.Errorf("SplitList(\"\") = %q", got)
	}
}
