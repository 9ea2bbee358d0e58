package notifier

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/slack-go/slack"
)

// hostile is a notification full of text that tries to mention, forge
// links, overflow every limit and break UTF-8.
func hostile() Notification {
	n := fixture(KindFailed)
	s := &n.Summary
	s.ServiceName = "<!channel> " + strings.Repeat("svc-&-<@U123>-", 40)
	s.Model = "<http://evil.example|TF 3.0.0> <!here>"
	s.ErrorMsg = "Error: <!subteam^S123> " + strings.Repeat("boom ", 2000)
	s.Phase = "<!everyone>"
	huge := "<!channel> <http://x|y> " + strings.Repeat("é<>&", 1<<20/5)
	for i := range 30 {
		s.AbnormalEvents = append(s.AbnormalEvents, ev("abnormal", int64(10+i), "<!here> again "+strings.Repeat("x", 400)))
	}
	s.AbnormalEvents = append(s.AbnormalEvents,
		ev("abnormal", 100, huge),
		ev("abnormal", 200, "bad utf-8 \xff\xfe\xfd <@U999> \x1b[31mred"),
	)
	s.ProjectID = "<!channel>"
	return n
}

// checkSlackMessage asserts that blocks and text are valid Block Kit within
// every Slack limit, with nothing that can mention or link.
func checkSlackMessage(t *testing.T, blocks []slack.Block, text string) {
	t.Helper()
	raw, err := json.Marshal(map[string]any{"text": text, "blocks": blocks})
	if err != nil {
		t.Fatalf("not JSON: %v", err)
	}
	if !utf8.Valid(raw) {
		t.Error("invalid UTF-8")
	}
	var msg struct {
		Text   string `json:"text"`
		Blocks []struct {
			Type string           `json:"type"`
			Text *json.RawMessage `json:"text"`
			// section fields and context elements are text objects
			Fields   []textObj `json:"fields"`
			Elements []textObj `json:"elements"`
		} `json:"blocks"`
	}
	if err := json.Unmarshal(raw, &msg); err != nil {
		t.Fatal(err)
	}
	texts := []string{msg.Text}
	limit := func(what, s string, max int) {
		texts = append(texts, s)
		if n := utf8.RuneCountInString(s); n > max {
			t.Errorf("%s has %d characters, limit %d", what, n, max)
		}
	}
	limit("fallback text", msg.Text, maxFallback)
	if len(msg.Blocks) == 0 || len(msg.Blocks) > maxBlocks {
		t.Errorf("%d blocks, limit %d", len(msg.Blocks), maxBlocks)
	}
	for i, b := range msg.Blocks {
		var txt textObj
		if b.Text != nil {
			if err := json.Unmarshal(*b.Text, &txt); err != nil {
				t.Fatal(err)
			}
		}
		switch b.Type {
		case "header":
			if txt.Type != "plain_text" {
				t.Errorf("block %d: header of type %q", i, txt.Type)
			}
			limit("header", txt.Text, maxHeaderText)
		case "section":
			if b.Text == nil && len(b.Fields) == 0 {
				t.Errorf("block %d: empty section", i)
			}
			if b.Text != nil {
				limit("section text", txt.Text, maxSectionText)
			}
			if len(b.Fields) > maxFields {
				t.Errorf("block %d: %d fields", i, len(b.Fields))
			}
			for _, f := range b.Fields {
				limit("field", f.Text, maxFieldText)
			}
		case "context":
			if len(b.Elements) == 0 || len(b.Elements) > 10 {
				t.Errorf("block %d: %d context elements", i, len(b.Elements))
			}
			for _, e := range b.Elements {
				limit("context", e.Text, maxSectionText)
			}
		default:
			t.Errorf("block %d: unexpected type %q", i, b.Type)
		}
	}
	for _, s := range texts {
		for _, bad := range []string{"<!", "<@", "<#", "<http", "\x1b", "\uFFFD\uFFFD\uFFFD\uFFFD"} {
			if strings.Contains(s, bad) {
				t.Errorf("unescaped %q in %.80q", bad, s)
			}
		}
	}
}

type textObj struct {
	Type string `json:"type"`
	Text string `json:"text"`
}

func TestHostileTextMakesValidBlockKit(t *testing.T) {
	n := hostile()
	t.Run("message", func(t *testing.T) {
		blocks, text, cut := SlackBlocks(n)
		checkSlackMessage(t, blocks, text)
		if !cut {
			t.Error("1 MB of text was not reported as truncated")
		}
		var sb strings.Builder
		enc := json.NewEncoder(&sb)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(blocks); err != nil {
			t.Fatal(err)
		}
		raw := sb.String()
		for _, want := range []string{truncationMark, "&lt;!channel&gt;", "&lt;http://x|y&gt;", "\uFFFD"} {
			if !strings.Contains(raw, want) {
				t.Errorf("blocks lack %q", want)
			}
		}
	})
	t.Run("thread reply", func(t *testing.T) {
		blocks, text, _ := slackDetailBlocks(n)
		checkSlackMessage(t, blocks, text)
	})
	t.Run("digest of 100", func(t *testing.T) {
		var ns []Notification
		for range 100 {
			ns = append(ns, n)
		}
		blocks, text, _ := DigestBlocks(ns)
		checkSlackMessage(t, blocks, text)
	})
	t.Run("every fixture", func(t *testing.T) {
		for _, n := range fixtures() {
			blocks, text, _ := SlackBlocks(n)
			checkSlackMessage(t, blocks, text)
		}
	})
}

func TestHostileTextOnTerminal(t *testing.T) {
	var b strings.Builder
	if err := RenderText(&b, hostile(), false); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	if strings.Contains(out, "\x1b") {
		t.Error("terminal escape from ModelArts text reached the terminal")
	}
	if !utf8.ValidString(out) {
		t.Error("invalid UTF-8 on the terminal")
	}
	if len(out) > 64<<10 {
		t.Errorf("%d bytes of output for one notification", len(out))
	}
}

func TestTruncateRunes(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		max     int
		want    string
		wantCut bool
	}{
		{"fits", "héllo", 5, "héllo", false},
		{"cut with note", strings.Repeat("é", 30), 20, strings.Repeat("é", 7) + truncationMark, true},
		{"no half entity", "abcdefgh&lt;ijklmnopqrstuvwxyz", 23, "abcdefgh" + truncationMark, true},
		{"tiny limit", "abcdef", 3, "ab…", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, cut := truncateRunes(tt.in, tt.max)
			if got != tt.want || cut != tt.wantCut {
				t.Errorf("truncateRunes(%q, %d) = %q, %v; want %q, %v", tt.in, tt.max, got, cut, tt.want, tt.wantCut)
			}
			if utf8.RuneCountInString(got) > tt.max {
				t.Errorf("%d runes > %d", utf8.RuneCountInString(got), tt.max)
			}
		})
	}
}

func TestEscapeSlack(t *testing.T) {
	tests := []struct{ in, want string }{
		{"<!channel> & <@U123>", "&lt;!channel&gt; &amp; &lt;@U123&gt;"},
		{"<http://x|y>", "&lt;http://x|y&gt;"},
		{"ok \xff", "ok \uFFFD"},
		{"a\x00b\x1b[1mc\nd", "ab[1mc\nd"},
	}
	for _, tt := range tests {
		if got := EscapeSlack(tt.in); got != tt.want {
			t.Errorf("EscapeSlack(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
