package notifier

import (
	"bytes"
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"
)

// chatRenderer renders one platform's messages as they are posted
// (unsigned), and measures them as the platform bounds them.
type chatRenderer struct {
	name    string
	format  chatFormat
	limit   int
	measure func(msg any) int
}

func chatRenderers() []chatRenderer {
	return []chatRenderer{
		{"teams", teamsFormat{}, MaxTeamsBody, jsonSize},
		{"feishu", feishuFormat{}, MaxFeishuBody - feishuSignReserve, jsonSize},
		{"dingtalk", dingtalkFormat{flavor: mdFlavor{br: "\n\n", keyword: "ModelArts"}}, MaxDingTalkText,
			func(m any) int { return len(m.(dingtalkMessage).Markdown.Text) }},
		{"wecom", wecomFormat{}, MaxWeComContent,
			func(m any) int { return len(m.(wecomMessage).Markdown.Content) }},
	}
}

// chatJSON is a message as the platform receives it, indented, with <, >
// and & unescaped so that goldens are readable.
func chatJSON(t *testing.T, msg any) []byte {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(msg); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestGoldenChat: the message of every notification kind, v2's (Chinese
// text, pod events, deadline) and a digest, on every chat platform.
func TestGoldenChat(t *testing.T) {
	for _, cr := range chatRenderers() {
		t.Run(cr.name, func(t *testing.T) {
			for _, n := range fixtures() {
				msg, cut, err := cr.format.message(n)
				if err != nil || cut {
					t.Errorf("%s: err %v, cut %v", n.Kind, err, cut)
				}
				golden(t, cr.name+"_"+kindFile(n.Kind)+".json.golden", chatJSON(t, msg))
			}
			for _, n := range v2Fixtures() {
				msg, cut, err := cr.format.message(n)
				if err != nil || cut {
					t.Errorf("%s: err %v, cut %v", n.ID, err, cut)
				}
				golden(t, cr.name+"_"+v2File(n)+".json.golden", chatJSON(t, msg))
			}
			msg, _, err := cr.format.digest(append(fixtures(), v2Fixtures()...))
			if err != nil {
				t.Fatal(err)
			}
			golden(t, cr.name+"_digest.json.golden", chatJSON(t, msg))
		})
	}
}

// chatHostile is a notification whose every text tries to mention everyone
// or forge a link in one of the platforms' markup, overflow every limit,
// break UTF-8 or drive a terminal.
func chatHostile() Notification {
	n := v2Fixture("msg_v2_stalled")
	s := &n.Summary
	attack := `<at user_id="all">所有人</at> <at id=all></at> @所有人 @all <@all> <!channel> [点我](https://evil.example) ![x](https://evil.example/x.png) <font color="warning">x</font> `
	s.ServiceName = attack + strings.Repeat("服务-<@U1>-", 100)
	s.Model = attack
	s.Phase = attack
	s.ServiceStatusRaw = attack
	s.ErrorMsg = attack + strings.Repeat("错误 boom ", 3000)
	s.Hint = attack + strings.Repeat("hint ", 1000)
	s.HelpURL = "https://evil.example/x) [y](https://z"
	s.ProjectID = attack
	for i := range 40 {
		e := v2ev("h", "abnormal", int64(i), attack+strings.Repeat("x", 600), attack+strings.Repeat("资源不足", 300), 3, 0)
		s.AbnormalEvents = append(s.AbnormalEvents, e)
	}
	s.AbnormalEvents = append(s.AbnormalEvents, ev("abnormal", 9999, "bad utf-8 \xff\xfe <@U9> \x1b[31mred\x07 "+strings.Repeat("é<>&", 1<<18)))
	for i := range 30 {
		s.PodEvents = append(s.PodEvents, PodEvent{Type: "Warning", Reason: attack, Message: attack + strings.Repeat("0/4 nodes ", 500), Count: i + 2, LastTimestamp: at(int64(i))})
	}
	s.PodEventsError = attack + strings.Repeat("denied ", 2000)
	return n
}

// chatStrings is every string in a message's JSON.
func chatStrings(t *testing.T, msg any) []string {
	t.Helper()
	raw, err := json.Marshal(msg)
	if err != nil {
		t.Fatal(err)
	}
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatal(err)
	}
	var out []string
	var walk func(any)
	walk = func(v any) {
		switch v := v.(type) {
		case string:
			out = append(out, v)
		case []any:
			for _, x := range v {
				walk(x)
			}
		case map[string]any:
			for _, x := range v {
				walk(x)
			}
		}
	}
	walk(v)
	return out
}

// checkChatMessage asserts that a message is within its platform's limit,
// valid UTF-8, and carries nothing that can mention anyone or link.
func checkChatMessage(t *testing.T, cr chatRenderer, msg any) {
	t.Helper()
	if size := cr.measure(msg); size > cr.limit {
		t.Errorf("%d bytes > the %d limit", size, cr.limit)
	}
	for _, s := range chatStrings(t, msg) {
		if !utf8.ValidString(s) {
			t.Errorf("invalid UTF-8 in %.80q", s)
		}
		// This package's own markup: WeCom's grey closing line, and the
		// Troubleshooting link (never for a hostile URL, as checked below).
		s = strings.NewReplacer(`<font color="comment">`, "", "</font>", "").Replace(s)
		for _, bad := range []string{"<at", "<@", "<!", "<font", "](", "![", "@", "\x1b", "\x07", "evil.example/x)"} {
			if strings.Contains(s, bad) {
				t.Errorf("%q in %.120q", bad, s)
			}
		}
	}
}

func TestHostileTextInChatMessages(t *testing.T) {
	n := chatHostile()
	for _, cr := range chatRenderers() {
		t.Run(cr.name, func(t *testing.T) {
			msg, cut, err := cr.format.message(n)
			if err != nil {
				t.Fatal(err)
			}
			if !cut {
				t.Error("megabytes of text were not reported as cut")
			}
			checkChatMessage(t, cr, msg)
			raw := string(chatJSON(t, msg))
			if !strings.Contains(raw, "truncated") {
				t.Error("the message does not say that it was cut")
			}
			for _, want := range []string{"＜at user_id=", "＠所有人", "［点我］"} {
				if !strings.Contains(raw, want) {
					t.Errorf("the escaped text %q is missing: hostile text must be shown, inert", want)
				}
			}
		})
		t.Run(cr.name+"/digest of 100", func(t *testing.T) {
			// Bounded once here (it is idempotent): cutting a megabyte of
			// invalid UTF-8 a hundred times only slows the race detector.
			b := n
			b.Summary = b.Summary.Bounded()
			var ns []Notification
			for range 100 {
				ns = append(ns, b)
			}
			msg, _, err := cr.format.digest(ns)
			if err != nil {
				t.Fatal(err)
			}
			checkChatMessage(t, cr, msg)
			if raw := string(chatJSON(t, msg)); !regexp.MustCompile(`… and [0-9]+ more`).MatchString(raw) {
				t.Error("the digest does not count the notifications it left out")
			}
		})
		t.Run(cr.name+"/every fixture", func(t *testing.T) {
			for _, n := range append(fixtures(), v2Fixtures()...) {
				msg, _, err := cr.format.message(n)
				if err != nil {
					t.Fatal(err)
				}
				checkChatMessage(t, cr, msg)
			}
		})
	}
}

// TestChatEventsCut: every event_info is cut as TruncateEvent cuts it
// (Summary.Bounded) before it is laid out, and the newest events are the
// ones kept when not all fit.
func TestChatEventsCut(t *testing.T) {
	n := fixture(KindFailed)
	n.Summary.AbnormalEvents = nil
	for i := range 12 {
		n.Summary.AbnormalEvents = append(n.Summary.AbnormalEvents, ev("abnormal", int64(i), "event "+string(rune('A'+i))+" "+strings.Repeat("y", 5000)))
	}
	n.Summary = n.Summary.Bounded()
	v := newView(n, chatBudgets[0])
	if len(v.Events.Lines) != 10 || !strings.HasPrefix(v.Events.Lines[9].Text, "event L") || !strings.HasPrefix(v.Events.Lines[0].Text, "event C") {
		t.Errorf("kept %d events, first %.10q, last %.10q; want the newest 10", len(v.Events.Lines), v.Events.Lines[0].Text, v.Events.Lines[len(v.Events.Lines)-1].Text)
	}
	if !strings.Contains(v.Events.Heading(), "(12), the last 10") || !v.cut {
		t.Errorf("heading %q, cut %v", v.Events.Heading(), v.cut)
	}
	for _, l := range v.Events.Lines {
		if utf8.RuneCountInString(l.Text) > chatBudgets[0].eventRunes || !strings.HasSuffix(l.Text, truncationMark) {
			t.Errorf("event not cut to %d runes with a mark: %d runes", chatBudgets[0].eventRunes, utf8.RuneCountInString(l.Text))
		}
	}
}

// TestWeComLimit: a message of long Chinese text stays within WeCom's
// 4,096 bytes, cut in runes, saying so.
func TestWeComLimit(t *testing.T) {
	n := v2Fixture("msg_v2_failed")
	n.Summary.ErrorMsg = strings.Repeat("服务部署超时", 2000)
	for i := range 10 {
		n.Summary.AbnormalEvents = append(n.Summary.AbnormalEvents, v2ev("x", "abnormal", int64(i), "", strings.Repeat("资源不足，请等待资源空闲。", 100), 1, 0))
	}
	msg, cut, err := wecomFormat{}.message(n)
	if err != nil {
		t.Fatal(err)
	}
	content := msg.(wecomMessage).Markdown.Content
	if len(content) > MaxWeComContent || !utf8.ValidString(content) || !cut {
		t.Errorf("%d bytes (limit %d), valid %v, cut %v", len(content), MaxWeComContent, utf8.ValidString(content), cut)
	}
	if !strings.Contains(content, truncationMark) {
		t.Error("the content does not say that it was cut")
	}
	if !strings.HasPrefix(content, "#### ❌ Deployment failed: qwen-chat-v2") {
		t.Errorf("the heading was lost: %.80q", content)
	}
}
