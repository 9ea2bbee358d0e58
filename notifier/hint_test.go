package notifier

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/slack-go/slack"
)

// A known failure class carries what to do about it in every output; a
// link is made only of a plain https URL.
func TestHintRendered(t *testing.T) {
	n := Notification{ID: "msg_hint", Kind: KindFailed, Summary: Summary{
		ServiceID: "s", ServiceName: "svc", Status: StatusFailed, Phase: PhaseScheduling,
		Hint:    "Resources are insufficient: pick another flavor or pool, or wait.",
		HelpURL: "https://support.huaweicloud.com/intl/en-us/trouble-modelarts/modelarts_13_0143.html",
		Phases:  []Phase{}, AbnormalEvents: []Event{}, Events: []Event{},
	}}
	var text bytes.Buffer
	if err := RenderText(&text, n, false); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(text.String(), "hint       Resources are insufficient") || !strings.Contains(text.String(), n.Summary.HelpURL) {
		t.Errorf("terminal text lacks the hint:\n%s", text.String())
	}
	blocks, _, _ := SlackBlocks(n)
	unescape := strings.NewReplacer(`\u003c`, "<", `\u003e`, ">", `\u0026`, "&")
	b, _ := json.Marshal(slack.Blocks{BlockSet: blocks})
	b = []byte(unescape.Replace(string(b)))
	if !strings.Contains(string(b), "pick another flavor") || !strings.Contains(string(b), "Troubleshooting: https://support.huaweicloud.com/") {
		t.Errorf("Slack blocks lack the hint or its link: %s", b)
	}
	body, _ := json.Marshal(n)
	if !bytes.Contains(body, []byte(`"hint":"Resources are insufficient`)) || !bytes.Contains(body, []byte(`"help_url":"https://support`)) {
		t.Errorf("webhook body lacks hint/help_url: %s", body)
	}

	n.Summary.Hint = "<!channel> click <https://evil.example|here>"
	n.Summary.HelpURL = "https://evil.example|<!channel>"
	blocks, _, _ = SlackBlocks(n)
	b, _ = json.Marshal(slack.Blocks{BlockSet: blocks})
	b = []byte(unescape.Replace(string(b)))
	if strings.Contains(string(b), "<!channel>") || strings.Contains(string(b), "Troubleshooting:") || strings.Contains(string(b), "<https://evil") {
		t.Errorf("hostile hint or URL rendered live: %s", b)
	}
}
