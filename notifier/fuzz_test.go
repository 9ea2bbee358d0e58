package notifier

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/slack-go/slack"
)

// FuzzSlackBlocks: whatever ModelArts writes into a summary (v1 or v2:
// event_info_cn, counts, warnings, the raw status, pod events and their
// error), every Slack
// message built from it (the message, the thread detail, a stopped
// deployment's parent, a digest) stays within Slack's limits, is valid
// UTF-8 JSON, and has no unescaped "<!" (nor "<@", "<#", "<http"): it can
// never mention a channel or forge a link.
func FuzzSlackBlocks(f *testing.F) {
	f.Add(uint8(1), "service-07085", "TF 3.0.0", "Error: boom", "scheduling", "Insufficient resources.", uint8(3), "", "")
	f.Add(uint8(4), "<!channel>", "<http://evil|x>", "<!here> & <@U1>", "<!everyone>", "\xff\xfe<!subteam^S1>\x1b[31m", uint8(60), "<!channel> 资源不足", "<https://evil|click>")
	f.Add(uint8(0), strings.Repeat("é", 200), strings.Repeat("<", 400), "", "", strings.Repeat("&<>", 300), uint8(45), strings.Repeat("资源<>", 900), strings.Repeat("拉取<&>", 1500))
	f.Add(uint8(2), "", "", "", "", "", uint8(0), "", "")
	f.Add(uint8(2), "v2", "UPGRADING", "", "image_pull", "", uint8(7), "服务部署失败\xff", "0/4 nodes are available: <@U1>")
	f.Fuzz(func(t *testing.T, kind uint8, name, model, errMsg, phase, info string, nEvents uint8, infoCN, pod string) {
		n := fixture(Kinds[int(kind)%len(Kinds)])
		s := &n.Summary
		s.ServiceName, s.Model, s.ErrorMsg, s.Phase = name, model, errMsg, phase
		s.ServiceID = name + "-" + info
		if infoCN != "" || pod != "" {
			s.Generation, s.ServiceStatusRaw = "v2", model
			s.DeployTimeoutMinutes, s.FailsAt = int(nEvents), at(int64(nEvents)*60000)
			s.PodEventsError = pod
		}
		// Up to 47 events: past the events a message quotes (10) and the
		// notifications a digest lists (40), yet cheap enough for the
		// fuzzer to minimise what it finds.
		nEvents %= 48
		for i := range int(nEvents) {
			e := ev("abnormal", int64(i), info+strings.Repeat("x", i%7))
			if infoCN != "" {
				e.EventInfoCN, e.EventCount = infoCN+strings.Repeat("字", i%5), i
				if i%2 == 1 {
					e.EventType = "warning"
				}
			}
			s.AbnormalEvents = append(s.AbnormalEvents, e)
			s.Events = append(s.Events, e)
			if pod != "" {
				s.PodEvents = append(s.PodEvents, PodEvent{Type: "Warning", Reason: pod, Message: pod + info, Count: i, LastTimestamp: at(int64(i))})
			}
		}
		if nEvents%3 == 0 && len(s.Phases) > 0 {
			s.Phases[0].Name = info
		}
		blocks, text, _ := SlackBlocks(n)
		fuzzCheckMessage(t, "message", blocks, text)
		blocks, text, _ = slackDetailBlocks(n)
		fuzzCheckMessage(t, "thread detail", blocks, text)
		stopped := n
		stopped.Thread, stopped.Summary.ServiceStatus = ParentUpdate, model
		blocks, text, _ = slackStoppedBlocks(stopped)
		fuzzCheckMessage(t, "stopped parent", blocks, text)
		ns := make([]Notification, 1+int(nEvents))
		for i := range ns {
			ns[i] = n
		}
		blocks, text, _ = DigestBlocks(ns)
		fuzzCheckMessage(t, "digest", blocks, text)
	})
}

// fuzzCheckMessage checks one message against Slack's limits and for
// anything that could mention or link.
func fuzzCheckMessage(t *testing.T, what string, blocks []slack.Block, text string) {
	t.Helper()
	raw, err := json.Marshal(map[string]any{"text": text, "blocks": blocks})
	if err != nil {
		t.Fatalf("%s: not JSON: %v", what, err)
	}
	if !utf8.Valid(raw) {
		t.Fatalf("%s: invalid UTF-8", what)
	}
	var msg struct {
		Blocks []struct {
			Type     string    `json:"type"`
			Text     *textObj  `json:"text"`
			Fields   []textObj `json:"fields"`
			Elements []textObj `json:"elements"`
		} `json:"blocks"`
	}
	if err := json.Unmarshal(raw, &msg); err != nil {
		t.Fatal(err)
	}
	texts := []string{text}
	limit := func(kind, s string, max int) {
		texts = append(texts, s)
		if n := utf8.RuneCountInString(s); n > max {
			t.Errorf("%s: %s has %d characters, limit %d", what, kind, n, max)
		}
	}
	limit("fallback text", text, maxFallback)
	if len(msg.Blocks) == 0 || len(msg.Blocks) > maxBlocks {
		t.Errorf("%s: %d blocks, limit %d", what, len(msg.Blocks), maxBlocks)
	}
	for _, b := range msg.Blocks {
		if b.Text != nil {
			max := maxSectionText
			if b.Type == "header" {
				max = maxHeaderText
			}
			limit(b.Type+" text", b.Text.Text, max)
		}
		if len(b.Fields) > maxFields {
			t.Errorf("%s: %d fields, limit %d", what, len(b.Fields), maxFields)
		}
		for _, fld := range b.Fields {
			limit("field", fld.Text, maxFieldText)
		}
		if len(b.Elements) > 10 {
			t.Errorf("%s: %d context elements, limit 10", what, len(b.Elements))
		}
		for _, e := range b.Elements {
			limit("context", e.Text, maxSectionText)
		}
	}
	for _, s := range texts {
		for _, bad := range []string{"<!", "<@", "<#", "<http"} {
			if strings.Contains(s, bad) {
				t.Fatalf("%s: unescaped %q in %.120q", what, bad, s)
			}
		}
	}
}
