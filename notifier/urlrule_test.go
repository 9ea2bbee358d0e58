package notifier

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
)

// The URL rule, the same for every URL variable: https anywhere, http on
// loopback only; a host other than the variable's documented one is
// "elsewhere" (accepted, and warned about once by the registry).
func TestCheckURL(t *testing.T) {
	tests := []struct {
		name, url string
		want      hostClass
		wantErr   string
	}{
		{"FEISHU_WEBHOOK_URLS", "https://open.feishu.cn/open-apis/bot/v2/hook/x", hostDocumented, ""},
		{"FEISHU_WEBHOOK_URLS", "https://Open.LarkSuite.com./x", hostDocumented, ""},
		{"FEISHU_WEBHOOK_URLS", "https://feishu.corp.example/x", hostElsewhere, ""},
		{"FEISHU_WEBHOOK_URLS", "https://open.feishu.cn.evil.example/x", hostElsewhere, ""},
		{"FEISHU_WEBHOOK_URLS", "http://127.0.0.1:9/x", hostLoopback, ""},
		{"FEISHU_WEBHOOK_URLS", "http://127.8.9.10:9/x", hostLoopback, ""},
		{"FEISHU_WEBHOOK_URLS", "https://127.0.0.1:9/x", hostLoopback, ""},
		{"FEISHU_WEBHOOK_URLS", "http://[::1]:9/x", hostLoopback, ""},
		{"FEISHU_WEBHOOK_URLS", "http://LOCALHOST:9/x", hostLoopback, ""},
		{"FEISHU_WEBHOOK_URLS", "http://open.feishu.cn/x", 0, "FEISHU_WEBHOOK_URLS: http:// is refused except on loopback"},
		{"FEISHU_WEBHOOK_URLS", "http://10.0.0.1/x", 0, "FEISHU_WEBHOOK_URLS: http:// is refused"},
		{"FEISHU_WEBHOOK_URLS", "http://localhost.evil.example/x", 0, "FEISHU_WEBHOOK_URLS: http:// is refused"},
		{"DINGTALK_WEBHOOK_URLS", "https://oapi.dingtalk.com/robot/send", hostDocumented, ""},
		{"DINGTALK_WEBHOOK_URLS", "https://relay.example/robot/send", hostElsewhere, ""},
		{"WECOM_WEBHOOK_URLS", "https://qyapi.weixin.qq.com/cgi-bin/webhook/send", hostDocumented, ""},
		{"WECOM_WEBHOOK_URLS", "wss://qyapi.weixin.qq.com/x", 0, `WECOM_WEBHOOK_URLS: scheme "wss" is not https`},
		{"SLACK_WEBHOOK_URL", "https://hooks.slack.com/services/x", hostDocumented, ""},
		{"SLACK_WEBHOOK_URL", "https://relay.example/services/x", hostElsewhere, ""},
		// No documented host: any https host is as good as another.
		{"WEBHOOK_URLS", "https://receiver.example/x", hostDocumented, ""},
		{"TEAMS_WEBHOOK_URLS", "https://prod-1.westus.logic.azure.com/x", hostDocumented, ""},
		{"TEAMS_WEBHOOK_URLS", "http://teams.example/x", 0, "TEAMS_WEBHOOK_URLS: http://"},
		{"WEBHOOK_URLS", "/just/a/path", 0, "WEBHOOK_URLS: URL has no host"},
	}
	for _, tt := range tests {
		_, got, err := checkURL(tt.name, tt.url)
		if (err == nil) != (tt.wantErr == "") || (err != nil && !strings.HasPrefix(err.Error(), tt.wantErr)) {
			t.Errorf("checkURL(%s, %s) err = %v, want %q", tt.name, tt.url, err, tt.wantErr)
			continue
		}
		if err == nil && got != tt.want {
			t.Errorf("checkURL(%s, %s) = %d, want %d", tt.name, tt.url, got, tt.want)
		}
	}
}

// Every URL variable that documents hosts is one of a chat platform, and
// every chat platform's webhook variable documents its hosts, except
// Teams (Workflows hosts vary by region and cloud).
func TestDocumentedHosts(t *testing.T) {
	want := map[string]bool{"SLACK_WEBHOOK_URL": true, "SLACK_API_URL": true, "FEISHU_WEBHOOK_URLS": true, "DINGTALK_WEBHOOK_URLS": true, "WECOM_WEBHOOK_URLS": true}
	for _, v := range RegistryVars() {
		if got := len(v.Hosts) > 0; got != want[v.Name] {
			t.Errorf("%s: documents hosts %v, want %v", v.Name, v.Hosts, want[v.Name])
		}
		for _, h := range v.Hosts {
			if h != strings.ToLower(h) {
				t.Errorf("%s: host %q is not lower case", v.Name, h)
			}
		}
	}
}

// The registry warns once per variable whose URLs include one elsewhere,
// naming the variable and the entries' numbers, never a URL or a host.
func TestRegistryWarnsOncePerVariable(t *testing.T) {
	env := map[string]string{
		"FEISHU_WEBHOOK_URLS":   "https://relay.example/f/" + chatToken + ",http://127.0.0.1:1/f," + "https://relay.example/g/" + chatToken,
		"DINGTALK_WEBHOOK_URLS": "https://oapi.dingtalk.com/robot/send?access_token=" + chatToken + ",https://relay.example/d?access_token=" + chatToken,
		"WECOM_WEBHOOK_URLS":    "http://localhost:1/cgi-bin/webhook/send?key=" + chatToken,
		"WEBHOOK_URLS":          "https://receiver.example/" + chatToken,
		"TEAMS_WEBHOOK_URLS":    "https://teams-relay.example/" + chatToken,
	}
	var buf bytes.Buffer
	dests, err := BuildDestinations(env, DestinationOptions{Logger: slog.New(slog.NewJSONHandler(&buf, nil))})
	if err != nil {
		t.Fatal(err)
	}
	if len(dests) != 8 {
		t.Errorf("%d destinations, want 8", len(dests))
	}
	got := map[string]string{}
	for line := range strings.Lines(buf.String()) {
		var rec struct {
			Level, Msg, Variable string
			URLs                 []int
		}
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatal(err)
		}
		if rec.Level != "WARN" {
			t.Errorf("record %s: want WARN", line)
		}
		if _, dup := got[rec.Variable]; dup {
			t.Errorf("%s warned twice", rec.Variable)
		}
		got[rec.Variable] = rec.Msg
	}
	want := map[string]string{
		"FEISHU_WEBHOOK_URLS":   "FEISHU_WEBHOOK_URLS: URLs #1, #3 are on a host other than open.feishu.cn or open.larksuite.com (a private deployment or a relay?); accepted",
		"DINGTALK_WEBHOOK_URLS": "DINGTALK_WEBHOOK_URLS: URL #2 is on a host other than oapi.dingtalk.com (a private deployment or a relay?); accepted",
	}
	if len(got) != len(want) || got["FEISHU_WEBHOOK_URLS"] != want["FEISHU_WEBHOOK_URLS"] || got["DINGTALK_WEBHOOK_URLS"] != want["DINGTALK_WEBHOOK_URLS"] {
		t.Errorf("warnings %q, want %q", got, want)
	}
	for _, leak := range []string{chatToken, "relay.example", "127.0.0.1", "localhost"} {
		if strings.Contains(buf.String(), leak) {
			t.Errorf("the log shows %q:\n%s", leak, buf.String())
		}
	}
	// Without a logger (configuration checks), nothing is logged and
	// nothing fails.
	if _, err := BuildDestinations(env, DestinationOptions{}); err != nil {
		t.Fatal(err)
	}
}
