package setup

import (
	"bytes"
	"encoding/json"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"testing"
)

// chatVars are the chat platforms' URL variables with a documented host.
var chatVars = []string{"FEISHU_WEBHOOK_URLS", "DINGTALK_WEBHOOK_URLS", "WECOM_WEBHOOK_URLS"}

// warnings runs the start-up path of the functions (configuration from the
// environment, then the destinations with the logger) and returns the
// destinations' names and every record logged at warn or above, as JSON
// objects, with the raw log.
func warnings(t *testing.T, env map[string]string) ([]string, []map[string]any, string) {
	t.Helper()
	setEnv(t, env)
	c, err := LoadPoller(false)
	if err != nil {
		t.Fatalf("LoadPoller: %v", err)
	}
	var buf bytes.Buffer
	ds, err := c.Destinations(slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})), nil)
	if err != nil {
		t.Fatalf("Destinations: %v", err)
	}
	var recs []map[string]any
	for line := range strings.Lines(buf.String()) {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		if rec["level"] == "WARN" || rec["level"] == "ERROR" {
			recs = append(recs, rec)
		}
	}
	return destNames(t, ds), recs, buf.String()
}

// Regression (issue 17): the chat platforms' URL variables refused
// http://127.0.0.1:PORT/... (a local stand-in) and any https host other
// than the vendor's (a private deployment, an egress relay). Both are
// accepted now; the relays with one start-up warning per variable, naming
// the variable and never a URL, a host or a token.
func TestChatURLsOnLoopbackAndRelays(t *testing.T) {
	env := with(base(),
		"FEISHU_WEBHOOK_URLS", "http://127.0.0.1:8081/open-apis/bot/v2/hook/s3cr3t-f1,"+
			"https://relay.example.com/feishu/s3cr3t-f2,"+
			"https://relay.example.com/open-apis/bot/v2/hook/s3cr3t-f3,"+
			"https://open.feishu.cn/open-apis/bot/v2/hook/s3cr3t-f4",
		"FEISHU_SECRET", "s3cr3t-fs",
		"DINGTALK_WEBHOOK_URLS", "http://127.0.0.1:8082/robot/send?access_token=s3cr3t-d1,"+
			"https://relay.example.com/dingtalk?access_token=s3cr3t-d2",
		"DINGTALK_SECRET", "SECs3cr3t-ds",
		"WECOM_WEBHOOK_URLS", "http://localhost:8083/cgi-bin/webhook/send?key=s3cr3t-w1,"+
			"http://[::1]:8084/whatever/s3cr3t-w2,"+
			"https://relay.example.com/wecom/s3cr3t-w3",
	)
	names, recs, raw := warnings(t, env)
	if len(names) != 9 {
		t.Errorf("destinations %v, want 9 (every URL accepted)", names)
	}
	var warned []string
	for _, rec := range recs {
		v, _ := rec["variable"].(string)
		warned = append(warned, v)
		if rec["level"] != "WARN" {
			t.Errorf("record %v: want level WARN", rec)
		}
		msg, _ := rec["msg"].(string)
		if !strings.Contains(msg, v) {
			t.Errorf("warning %q does not name its variable %s", msg, v)
		}
	}
	slices.Sort(warned)
	want := slices.Sorted(slices.Values(chatVars))
	if !slices.Equal(warned, want) {
		t.Errorf("warnings for %q, want exactly one for each of %q\n%s", warned, want, raw)
	}
	for _, leak := range []string{"s3cr3t", "relay.example.com", "127.0.0.1", "localhost", "::1", "/open-apis", "access_token", "key="} {
		if strings.Contains(raw, leak) {
			t.Errorf("the log shows %q (part of a URL):\n%s", leak, raw)
		}
	}
	// The warnings say which entries: Feishu's #2 and #3, not its loopback
	// #1 nor its documented #4.
	for _, rec := range recs {
		if rec["variable"] == "FEISHU_WEBHOOK_URLS" {
			if got, _ := json.Marshal(rec["urls"]); string(got) != "[2,3]" {
				t.Errorf("FEISHU_WEBHOOK_URLS warning names URLs %s, want [2,3]", got)
			}
		}
	}
}

// Loopback (local stand-ins, http or https) and the documented hosts are
// accepted without a warning.
func TestChatURLsWithoutWarning(t *testing.T) {
	env := with(base(),
		"FEISHU_WEBHOOK_URLS", "https://127.0.0.1:8443/anything/s3cr3t-f1,https://open.larksuite.com/open-apis/bot/v2/hook/s3cr3t-f2",
		"DINGTALK_WEBHOOK_URLS", "https://oapi.dingtalk.com/robot/send?access_token=s3cr3t-d1",
		"WECOM_WEBHOOK_URLS", "https://QYAPI.weixin.qq.com/cgi-bin/webhook/send?key=s3cr3t-w1",
		"SLACK_WEBHOOK_URL", "https://hooks.slack.com/services/T0/B0/s3cr3t-4",
		"TEAMS_WEBHOOK_URLS", "https://teams-relay.example.com/workflows/1?sig=s3cr3t-8",
		"WEBHOOK_URLS", "https://receiver.example.com/hook/s3cr3t-6",
	)
	names, recs, raw := warnings(t, env)
	if len(names) != 7 {
		t.Errorf("destinations %v, want 7", names)
	}
	if len(recs) != 0 {
		t.Errorf("warnings, want none:\n%s", raw)
	}
}

// Slack's URL variables follow the same rule: hooks.slack.com and
// slack.com are documented; another https host is a warning.
func TestSlackURLsOnRelays(t *testing.T) {
	env := with(base(),
		"SLACK_WEBHOOK_URL", "https://relay.example.com/slack/s3cr3t-4",
		"SLACK_BOT_TOKEN", "xoxb-s3cr3t-5", "SLACK_CHANNEL", "C1",
		"SLACK_API_URL", "https://relay.example.com/slack-api/",
	)
	_, recs, raw := warnings(t, env)
	var warned []string
	for _, rec := range recs {
		v, _ := rec["variable"].(string)
		warned = append(warned, v)
	}
	slices.Sort(warned)
	if !slices.Equal(warned, []string{"SLACK_API_URL", "SLACK_WEBHOOK_URL"}) {
		t.Errorf("warnings for %q, want SLACK_API_URL and SLACK_WEBHOOK_URL\n%s", warned, raw)
	}
	if strings.Contains(raw, "s3cr3t") || strings.Contains(raw, "relay.example.com") {
		t.Errorf("the log shows a URL:\n%s", raw)
	}
}

// What stays refused: http off loopback, anything but https/http, and, on
// a documented host, a path that is not the platform's webhook (a pasted
// wrong URL).
func TestChatURLsStillRefused(t *testing.T) {
	tests := []struct {
		name, v, url, want string
	}{
		{"feishu http relay", "FEISHU_WEBHOOK_URLS", "http://relay.example.com/open-apis/bot/v2/hook/s3cr3t-9", "http:// is refused except on loopback"},
		{"feishu wrong path", "FEISHU_WEBHOOK_URLS", "https://open.feishu.cn/open-apis/im/v1/s3cr3t-9", "not a custom bot webhook"},
		{"dingtalk wrong path", "DINGTALK_WEBHOOK_URLS", "https://oapi.dingtalk.com/other?access_token=s3cr3t-11", "not a custom robot webhook"},
		{"dingtalk no token", "DINGTALK_WEBHOOK_URLS", "https://oapi.dingtalk.com/robot/send?x=s3cr3t-11", "no access_token"},
		{"wecom wrong path", "WECOM_WEBHOOK_URLS", "https://qyapi.weixin.qq.com/cgi-bin/other?key=s3cr3t-13", "not a group robot webhook"},
		{"wecom http", "WECOM_WEBHOOK_URLS", "http://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=s3cr3t-13", "http://"},
		{"wecom ftp", "WECOM_WEBHOOK_URLS", "ftp://relay.example.com/s3cr3t-13", "not https"},
		{"teams http", "TEAMS_WEBHOOK_URLS", "http://relay.example.com/s3cr3t-8", "http://"},
		{"webhook http", "WEBHOOK_URLS", "http://10.0.0.1/s3cr3t-6", "http://"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			setEnv(t, with(base(), tt.v, tt.url))
			_, err := LoadPoller(false)
			var ce *ConfigError
			if !errors.As(err, &ce) || ce.Var != tt.v || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %s named, saying %q", err, tt.v, tt.want)
			}
			if strings.Contains(err.Error(), "s3cr3t") || strings.Contains(err.Error(), "relay.example.com") {
				t.Errorf("error shows the URL: %v", err)
			}
		})
	}
}
