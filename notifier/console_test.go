package notifier

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

func TestConsoleTemplate(t *testing.T) {
	tests := []struct {
		raw, region string
		v           ConsoleValues
		want        string
		err         string
	}{
		{"", "cn-north-4", ConsoleValues{Region: "cn-north-4"}, "https://console.huaweicloud.com/modelarts/?region=cn-north-4", ""},
		{"", "ap-southeast-1", ConsoleValues{Region: "ap-southeast-1"}, "https://console-intl.huaweicloud.com/modelarts/?region=ap-southeast-1", ""},
		{"https://console.example.com/ma/{project_id}/{generation}/services/{service_id}?name={service_name}&r={region}", "cn-north-4",
			ConsoleValues{Region: "cn-north-4", ProjectID: "p1", ServiceID: "s 1", ServiceName: "bert&ner?<x>", Generation: "v2"},
			"https://console.example.com/ma/p1/v2/services/s+1?name=bert%26ner%3F%3Cx%3E&r=cn-north-4", ""},
		{"https://x.example.com/{service}", "cn-north-4", ConsoleValues{}, "", "unknown placeholder {service}"},
		{"http://console.example.com/{service_id}", "cn-north-4", ConsoleValues{}, "", "https"},
		{"console.example.com", "cn-north-4", ConsoleValues{}, "", "absolute"},
		{"https://x.example.com/a|b", "cn-north-4", ConsoleValues{}, "", "chat link"},
	}
	for _, tc := range tests {
		ct, err := ParseConsoleTemplate(tc.raw, tc.region)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("ParseConsoleTemplate(%q) err = %v, want %q", tc.raw, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("ParseConsoleTemplate(%q): %v", tc.raw, err)
		}
		if got := ct.URL(tc.v); got != tc.want {
			t.Errorf("URL = %q, want %q", got, tc.want)
		}
	}
}

// Every notification carries the console link: a button in Slack, an
// action in Teams and Feishu, a link in DingTalk and WeCom, a line in the
// terminal, data.console_url in the webhook body. A link that is not safe
// to put in markup is shown nowhere.
func TestConsoleLinkEverywhere(t *testing.T) {
	const link = "https://console.huaweicloud.com/modelarts/?region=cn-north-4"
	n := Notification{ID: "x", Kind: KindFailed, Summary: Summary{ServiceName: "bert-ner", ServiceID: "s1", Status: StatusFailed, ConsoleURL: link}}
	blocks, _, _ := SlackBlocks(n)
	b, _ := json.Marshal(blocks)
	if !strings.Contains(string(b), `"url":"`+strings.ReplaceAll(link, "&", `\u0026`)+`"`) || !strings.Contains(string(b), "ModelArts console") {
		t.Errorf("Slack blocks have no console button: %s", b)
	}
	teams, _, _ := teamsCard(n)
	b, _ = json.Marshal(teams)
	if !strings.Contains(string(b), `"Action.OpenUrl"`) || !strings.Contains(string(b), link) {
		t.Errorf("Teams card has no console action: %s", b)
	}
	feishu, _, _ := feishuCardMessage(n)
	b, _ = json.Marshal(feishu)
	if !strings.Contains(string(b), link) || !strings.Contains(string(b), "ModelArts console") {
		t.Errorf("Feishu card has no console button: %s", b)
	}
	for name, f := range map[string]mdFlavor{"dingtalk": {br: "\n\n", keyword: "ModelArts"}, "wecom": wecomFlavor} {
		if md, _ := markdownWithin(n, f, 4096); !strings.Contains(md, "("+link+")") {
			t.Errorf("%s markdown has no console link: %s", name, md)
		}
	}
	var buf bytes.Buffer
	if err := RenderText(&buf, n, false); err != nil || !strings.Contains(buf.String(), link) {
		t.Errorf("terminal text has no console line (%v): %s", err, buf.String())
	}
	body, _, err := webhookBody(n)
	if err != nil || !strings.Contains(string(body), `"console_url":"`+strings.ReplaceAll(link, "&", `\u0026`)+`"`) {
		t.Errorf("webhook body has no console_url (%v): %s", err, body)
	}

	n.Summary.ConsoleURL = "https://evil.example/x|<!channel>"
	blocks, _, _ = SlackBlocks(n)
	b, _ = json.Marshal(blocks)
	if strings.Contains(string(b), "evil.example") {
		t.Errorf("an unsafe console link is shown: %s", b)
	}
}
