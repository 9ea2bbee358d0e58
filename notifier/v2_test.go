package notifier

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/santhosh-tekuri/jsonschema/v6"
)

// v2File is a fixture's golden-file stem: "msg_v2_stalled" -> "v2_stalled".
func v2File(n Notification) string { return strings.TrimPrefix(n.ID, "msg_") }

func TestGoldenV2(t *testing.T) {
	for _, n := range v2Fixtures() {
		t.Run(n.ID, func(t *testing.T) {
			blocks, text, cut := SlackBlocks(n)
			if cut {
				t.Error("a fixture was truncated")
			}
			checkSlackMessage(t, blocks, text)
			golden(t, v2File(n)+".blocks.golden", slackJSON(t, text, blocks))

			blocks, text, _ = slackDetailBlocks(n)
			checkSlackMessage(t, blocks, text)
			golden(t, v2File(n)+".reply.blocks.golden", slackJSON(t, text, blocks))

			var buf bytes.Buffer
			if err := RenderText(&buf, n, false); err != nil {
				t.Fatal(err)
			}
			golden(t, v2File(n)+".txt.golden", buf.Bytes())

			var pretty bytes.Buffer
			if err := json.Indent(&pretty, webhookBodyOf(t, n), "", "  "); err != nil {
				t.Fatal(err)
			}
			pretty.WriteByte('\n')
			golden(t, v2File(n)+".webhook.json.golden", pretty.Bytes())
		})
	}
	t.Run("digest", func(t *testing.T) {
		blocks, text, _ := DigestBlocks(v2Fixtures())
		checkSlackMessage(t, blocks, text)
		golden(t, "digest_v2.blocks.golden", slackJSON(t, text, blocks))
	})
	t.Run("report", func(t *testing.T) {
		var sums []Summary
		for _, n := range v2Fixtures() {
			sums = append(sums, n.Summary)
		}
		var buf bytes.Buffer
		if err := RenderReportText(&buf, sums, false); err != nil {
			t.Fatal(err)
		}
		golden(t, "report_v2.txt.golden", buf.Bytes())
	})
}

// TestV2Rendering checks, in every rendering, what a v2 summary must show.
func TestV2Rendering(t *testing.T) {
	type rendering struct{ name, text string }
	render := func(t *testing.T, n Notification) []rendering {
		t.Helper()
		var out []rendering
		add := func(name string, blocks any, fallback string) {
			raw, err := json.Marshal(blocks)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, rendering{name + " blocks", unescapeJSON(t, string(raw))}, rendering{name + " fallback", fallback})
		}
		b, f, _ := SlackBlocks(n)
		add("message", b, f)
		b, f, _ = slackDetailBlocks(n)
		add("thread reply", b, f)
		var buf bytes.Buffer
		if err := RenderText(&buf, n, false); err != nil {
			t.Fatal(err)
		}
		out = append(out, rendering{"terminal", buf.String()})
		buf.Reset()
		if err := RenderReportText(&buf, []Summary{n.Summary}, false); err != nil {
			t.Fatal(err)
		}
		out = append(out, rendering{"report", buf.String()})
		return out
	}
	tests := []struct {
		id   string
		want []string // in every rendering
		// wantFull only in blocks and text (not the one-line fallback)
		wantFull []string
		// wantStatus only where the service status is shown: the
		// message, the terminal and the report
		wantStatus string
	}{
		{"msg_v2_stalled",
			[]string{"ModelArts fails it at 12:38 UTC (deploy timeout 40 min)", "FailedScheduling: 0/4 nodes are available", "(×14)", "×14"},
			[]string{"资源不足，请等待资源空闲。", "NotTriggerScaleUp: pod didn't trigger scale-up"},
			"deploying (UPGRADING)"},
		{"msg_v2_failed",
			[]string{"服务部署超时，错误信息：服务部署时间超过20分钟，设置为失败。", "Pod events could not be read: eventsapi: list pod events of qwen-chat-v2: 403"},
			nil, "failed"},
		{"msg_v2_warning",
			[]string{"Service error. There are 1 abnormal instances.", "服务异常，不正常的实例数为1", "×7"},
			[]string{"arning events", "warning"},
			"concerning (ERROR)"},
	}
	for _, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			for _, r := range render(t, v2Fixture(tt.id)) {
				want := tt.want
				if !strings.HasSuffix(r.name, "fallback") {
					want = append(append([]string{}, want...), tt.wantFull...)
				}
				if r.name == "message blocks" || r.name == "terminal" || r.name == "report" {
					want = append(want, tt.wantStatus)
				}
				for _, w := range want {
					if !strings.Contains(r.text, w) {
						t.Errorf("%s lacks %q:\n%s", r.name, w, r.text)
					}
				}
			}
		})
	}
	t.Run("failed: no fails_at, no raw status equal to the normalised one", func(t *testing.T) {
		for _, r := range render(t, v2Fixture("msg_v2_failed")) {
			for _, bad := range []string{"fails it at", "(FAILED)", " / "} {
				if strings.Contains(r.text, bad) {
					t.Errorf("%s shows %q", r.name, bad)
				}
			}
		}
	})
	t.Run("fails_at on another day shows the date", func(t *testing.T) {
		n := v2Fixture("msg_v2_stalled")
		n.Summary.FailsAt = At(t0.Add(24 * time.Hour))
		for _, r := range render(t, n) {
			if !strings.Contains(r.text, "ModelArts fails it at 2026-11-29 11:58 UTC") {
				t.Errorf("%s lacks the date:\n%s", r.name, r.text)
			}
		}
	})
	t.Run("warning label", func(t *testing.T) {
		n := v2Fixture("msg_v2_warning")
		blocks, _, _ := SlackBlocks(n)
		raw := unescapeJSON(t, string(must(json.Marshal(blocks))))
		if !strings.Contains(raw, "*Warning events* (1)") || !strings.Contains(raw, "` *warning* Service error.") {
			t.Errorf("slack: no warning label:\n%s", raw)
		}
		var buf bytes.Buffer
		_ = RenderText(&buf, n, false)
		if !strings.Contains(buf.String(), "warning events (1)") || !strings.Contains(buf.String(), "UTC  [warning] Service error.") {
			t.Errorf("terminal: no warning label:\n%s", buf.String())
		}
		// Mixed with an abnormal event, the list says both.
		n.Summary.AbnormalEvents = append(n.Summary.AbnormalEvents, ev("abnormal", 1600000, "Service failed. Error: boom"))
		blocks, _, _ = SlackBlocks(n)
		if raw := unescapeJSON(t, string(must(json.Marshal(blocks)))); !strings.Contains(raw, "*Abnormal and warning events* (2)") {
			t.Errorf("slack: mixed list heading:\n%s", raw)
		}
	})
	t.Run("pod error takes the place of pod events", func(t *testing.T) {
		n := v2Fixture("msg_v2_failed")
		blocks, _, _ := SlackBlocks(n)
		raw, _ := json.Marshal(blocks)
		if strings.Contains(string(raw), "*Pod events*") {
			t.Error("a Pod events section without pod events")
		}
	})
}

// unescapeJSON turns a JSON text's \uXXXX escapes (of <, >, &) back into
// characters, so tests can look for text as Slack shows it.
func unescapeJSON(t *testing.T, s string) string {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
	return buf.String()
}

// TestV1BodyUnchanged: a summary without v2 fields writes none of the new
// keys, so a receiver written for the v1 body sees the same JSON.
func TestV1BodyUnchanged(t *testing.T) {
	for _, n := range fixtures() {
		body, err := json.Marshal(n)
		if err != nil {
			t.Fatal(err)
		}
		for _, key := range []string{"id", "event_info_cn", "event_count", "last_occur_time", "generation", "service_status_raw", "deploy_timeout_minutes", "fails_at", "pod_events", "pod_events_error", "pod_events_omitted"} {
			if bytes.Contains(body, []byte(`"`+key+`"`)) {
				t.Errorf("%s: a v1 body has %q", n.Kind, key)
			}
		}
	}
}

// TestWebhookBodyV2MatchesSchema: each v2 body validates against the
// strict schema (webhookBodyOf checks it), and a body with every v2 field
// set, pod events omitted and a warning event does too.
func TestWebhookBodyV2MatchesSchema(t *testing.T) {
	for _, n := range v2Fixtures() {
		t.Run(n.ID, func(t *testing.T) {
			got := decodeBody(t, webhookBodyOf(t, n))
			if diff := cmp.Diff(n.Summary.Bounded(), got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("body round trip (-want +got):\n%s", diff)
			}
		})
	}
	t.Run("every field", func(t *testing.T) {
		n := v2Fixture("msg_v2_stalled")
		n.Summary.PodEventsError = "partial: one pod's events timed out"
		for i := range MaxPodEvents + 3 {
			n.Summary.PodEvents = append(n.Summary.PodEvents, PodEvent{Type: "Warning", Reason: "BackOff", Message: "Back-off restarting failed container", Count: i + 1, LastTimestamp: at(int64(30000 + i))})
		}
		n.Summary.AbnormalEvents = append(n.Summary.AbnormalEvents, v2ev("e-5", "warning", 30000, "w", "警告", 2, 40000))
		got := decodeBody(t, webhookBodyOf(t, n))
		if len(got.PodEvents) != MaxPodEvents || got.PodEventsOmitted != 5 {
			t.Errorf("%d pod events, %d omitted; want %d and 5", len(got.PodEvents), got.PodEventsOmitted, MaxPodEvents)
		}
	})
	t.Run("a wrong v2 body is rejected", func(t *testing.T) {
		sch := compileSchema(t, true)
		for _, bad := range []string{
			`{"generation":"v3"}`,
			`{"pod_events":[{"reason":"x"}]}`,
			`{"fails_at":"tomorrow"}`,
			`{"events":[{"event_type":"normal","event_info":"x","occur_time":1,"event_count":"7"}]}`,
		} {
			body, _ := json.Marshal(v2Fixture("msg_v2_stalled"))
			var m map[string]any
			_ = json.Unmarshal(body, &m)
			var patch map[string]any
			if err := json.Unmarshal([]byte(bad), &patch); err != nil {
				t.Fatal(err)
			}
			for k, v := range patch {
				m["data"].(map[string]any)[k] = v
			}
			raw, _ := json.Marshal(m)
			inst, _ := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
			if err := sch.Validate(inst); err == nil {
				t.Errorf("schema accepts data patched with %s", bad)
			}
		}
	})
}

func TestTruncateEventCN(t *testing.T) {
	huge := strings.Repeat("资源不足", 1000)
	tests := []struct {
		name       string
		info, cn   string
		wantInfo   string
		wantCN     string
		wantCut    bool
		checkProps bool
	}{
		{"both short", "a", "资源", "a", "资源", false, false},
		{"cn cut", "short", huge, "short", strings.Repeat("资源不足", 341) + "…", true, false},
		{"info cut, cn short", strings.Repeat("x", MaxEventInfoBytes+1), "资源", strings.Repeat("x", MaxEventInfoBytes-3) + "…", "资源", true, false},
		{"cn invalid utf-8", "", "坏\xff\xfe", "", "坏\uFFFD", false, false},
		{"cn exactly the bound", "", strings.Repeat("a", MaxEventInfoBytes), "", strings.Repeat("a", MaxEventInfoBytes), false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := v2ev("id-1", "warning", 5, tt.info, tt.cn, 3, 9)
			got := TruncateEvent(in)
			if got.EventInfo != tt.wantInfo || got.EventInfoCN != tt.wantCN || got.Truncated != tt.wantCut {
				t.Errorf("got %q / %q (%d bytes), truncated %v; want %q / %q, %v", abbrev(got.EventInfo), abbrev(got.EventInfoCN), len(got.EventInfoCN), got.Truncated, abbrev(tt.wantInfo), abbrev(tt.wantCN), tt.wantCut)
			}
			if got.ID != in.ID || got.EventCount != in.EventCount || got.LastOccurTime != in.LastOccurTime || got.EventType != in.EventType {
				t.Errorf("other fields changed: %+v", got)
			}
			if TruncateEvent(got) != got {
				t.Error("not idempotent")
			}
		})
	}
}

// TestBoundedPodEvents: pod events are cut like event_info, put in time
// order, kept to the newest MaxPodEvents (the rest counted), and the
// caller's slice is never changed.
func TestBoundedPodEvents(t *testing.T) {
	s := v2Base()
	huge := "<!channel> " + strings.Repeat("拉取镜像失败", 2000) + "\xff"
	// 25 events, newest first (as an API might list them), one of them huge.
	for i := range 25 {
		p := PodEvent{Type: "Warning", Reason: fmt.Sprintf("R%02d", 24-i), Message: "m", LastTimestamp: at(int64(1000 * (24 - i)))}
		if i == 0 {
			p.Message = huge
			p.Reason = strings.Repeat("r", 1000)
		}
		s.PodEvents = append(s.PodEvents, p)
	}
	// No last timestamp: ordered by the first one.
	s.PodEvents = append(s.PodEvents, PodEvent{Type: "Warning", Reason: "First", Message: "m", FirstTimestamp: at(23500)})
	orig := append([]PodEvent(nil), s.PodEvents...)

	b := s.Bounded()

	if !cmp.Equal(s.PodEvents, orig) {
		t.Fatal("Bounded changed the caller's pod events")
	}
	if len(b.PodEvents) != MaxPodEvents || b.PodEventsOmitted != 6 {
		t.Fatalf("%d kept, %d omitted; want %d, 6", len(b.PodEvents), b.PodEventsOmitted, MaxPodEvents)
	}
	var reasons []string
	for _, p := range b.PodEvents {
		reasons = append(reasons, p.Reason)
	}
	if reasons[len(reasons)-3] != "R23" || reasons[len(reasons)-2] != "First" || reasons[0] != "R06" {
		t.Errorf("order: %v", reasons)
	}
	last := b.PodEvents[len(b.PodEvents)-1]
	if len(last.Message) > MaxEventInfoBytes || !strings.HasSuffix(last.Message, "…") || !utf8.ValidString(last.Message) || len(last.Reason) > 512 {
		t.Errorf("huge pod event: message %d bytes, reason %d bytes", len(last.Message), len(last.Reason))
	}
	again := b.Bounded()
	if !cmp.Equal(again.PodEvents, b.PodEvents) || again.PodEventsOmitted != b.PodEventsOmitted {
		t.Error("Bounded is not idempotent on pod events")
	}
	if z := (Summary{}).Bounded(); z.PodEvents != nil || z.PodEventsOmitted != 0 {
		t.Error("no pod events became some")
	}
}

// hostileV2 is a v2 notification whose Chinese texts, pod events and pod
// error try to mention, forge links, overflow and break UTF-8.
func hostileV2() Notification {
	n := v2Fixture("msg_v2_stalled")
	s := &n.Summary
	bad := "<!channel> <https://evil|click> <@U1> \xff\xfe \x1b[31m"
	huge := bad + strings.Repeat("资源不足<&>", 1<<20/15)
	s.ServiceStatusRaw = "<!here> UPGRADING"
	s.PodEventsError = bad + strings.Repeat("超时 ", 5000)
	for i := range 30 {
		cn := bad + strings.Repeat("告警", i)
		if i%10 == 9 {
			cn = huge
		}
		typ := "abnormal"
		if i%2 == 0 {
			typ = "warning"
		}
		e := v2ev(fmt.Sprintf("e-%d", i), typ, int64(30000+i), "", cn, i, 0)
		if i%3 == 0 {
			e.EventInfo = bad + "english"
		}
		s.AbnormalEvents = append(s.AbnormalEvents, e)
		s.Events = append(s.Events, e)
	}
	for i := range 30 {
		msg := bad + strings.Repeat("x", i*10)
		if i%7 == 0 {
			msg = huge
		}
		s.PodEvents = append(s.PodEvents, PodEvent{Type: "Warning", Reason: "<!subteam^S1>" + bad, Message: msg, Count: i, LastTimestamp: at(int64(40000 + i))})
	}
	return n
}

func TestHostileV2Text(t *testing.T) {
	n := hostileV2()
	t.Run("slack", func(t *testing.T) {
		blocks, text, cut := SlackBlocks(n)
		checkSlackMessage(t, blocks, text)
		if !cut {
			t.Error("1 MB of text was not reported as truncated")
		}
		raw := unescapeJSON(t, string(must(json.Marshal(blocks))))
		for _, want := range []string{"&lt;!channel&gt;", "&lt;https://evil|click&gt;", "&lt;!subteam^S1&gt;", "\uFFFD", "*Pod events* (32), the last 10", "Pod events could not be read"} {
			if !strings.Contains(raw, want) {
				t.Errorf("blocks lack %q", want)
			}
		}
		blocks, text, _ = slackDetailBlocks(n)
		checkSlackMessage(t, blocks, text)
		stopped := n
		stopped.Thread, stopped.Summary.ServiceStatus = ParentUpdate, "stopped"
		blocks, text, _ = slackStoppedBlocks(stopped)
		checkSlackMessage(t, blocks, text)
		ns := []Notification{n, n, n, n, n, n, n, n}
		for range 30 {
			ns = append(ns, n)
		}
		blocks, text, _ = DigestBlocks(ns)
		checkSlackMessage(t, blocks, text)
	})
	t.Run("slack webhook body", func(t *testing.T) {
		srv := newRecorder(t, nil)
		if r := newTestSlackWebhook(t, srv.URL, newFakeClock()).Notify(t.Context(), []Notification{n}); r[0].Err != nil {
			t.Fatal(r[0].Err)
		}
		body := srv.Requests()[0].Body
		if len(body) > 40<<10 || !utf8.Valid(body) {
			t.Errorf("slack webhook body of %d bytes", len(body))
		}
	})
	t.Run("terminal", func(t *testing.T) {
		var text, report strings.Builder
		if err := RenderText(&text, n, false); err != nil {
			t.Fatal(err)
		}
		if err := RenderReportText(&report, []Summary{n.Summary}, true); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(text.String(), "\x1b") {
			t.Error("terminal escape from ModelArts text reached the terminal")
		}
		for _, out := range []string{text.String(), report.String()} {
			if !utf8.ValidString(out) {
				t.Error("invalid UTF-8 on the terminal")
			}
			// 30 events in two languages and 20 pod events, each at most
			// 1000 characters: far from the megabytes given.
			if len(out) > 300<<10 {
				t.Errorf("%d bytes on the terminal", len(out))
			}
		}
	})
	t.Run("webhook", func(t *testing.T) {
		got := decodeBody(t, webhookBodyOf(t, n))
		for _, e := range append(got.AbnormalEvents, got.Events...) {
			if len(e.EventInfoCN) > MaxEventInfoBytes || (e.Truncated != (strings.HasSuffix(e.EventInfoCN, "…") || strings.HasSuffix(e.EventInfo, "…"))) {
				t.Errorf("event %s: cn %d bytes, truncated %v", e.ID, len(e.EventInfoCN), e.Truncated)
			}
		}
		for _, p := range got.PodEvents {
			if len(p.Message) > MaxEventInfoBytes || !utf8.ValidString(p.Message) {
				t.Errorf("pod event message of %d bytes", len(p.Message))
			}
		}
	})
}

// TestWebhookBodyHugeChinese: event_info_cn and pod messages of 1 MB of
// Chinese text, in many events, make a body within 64 KiB that keeps the
// deployment's start, the newest pod event and the newest abnormal event.
func TestWebhookBodyHugeChinese(t *testing.T) {
	n := v2Fixture("msg_v2_stalled")
	s := &n.Summary
	huge := strings.Repeat("资源不足，调度失败。", 1<<20/30)
	for i := range 12 {
		e := v2ev(fmt.Sprintf("e-h%d", i), "abnormal", int64(30000+i), "", huge, i+2, int64(40000+i))
		s.AbnormalEvents = append(s.AbnormalEvents, e)
		s.Events = append(s.Events, e)
	}
	for i := range 25 {
		s.PodEvents = append(s.PodEvents, PodEvent{Type: "Warning", Reason: "FailedScheduling", Message: huge, Count: i + 1, LastTimestamp: at(int64(1300000 + i))})
	}
	s.PodEventsError = huge

	body := webhookBodyOf(t, n) // checks ≤ 64 KiB, the signature and the strict schema
	got := decodeBody(t, body)

	if got.Events[0].EventInfo != "start to deploy service" {
		t.Errorf("first event %q, want the deployment's start", got.Events[0].EventInfo)
	}
	if len(got.PodEvents) == 0 || got.PodEvents[len(got.PodEvents)-1].Count != 25 {
		t.Error("the newest pod event was not kept")
	}
	if k := len(got.AbnormalEvents); k == 0 || got.AbnormalEvents[k-1].ID != "e-h11" {
		t.Error("the newest abnormal event was not kept")
	}
	if got.PodEventsOmitted+len(got.PodEvents) != 25+2 {
		t.Errorf("pod events: %d kept + %d omitted, want 27", len(got.PodEvents), got.PodEventsOmitted)
	}
	if got.EventsOmitted+len(got.Events) != len(s.Events) || got.AbnormalEventsOmitted+len(got.AbnormalEvents) != len(s.AbnormalEvents) {
		t.Error("omitted counts do not add up")
	}
	for _, e := range got.AbnormalEvents {
		if !strings.HasPrefix(e.ID, "e-h") {
			continue
		}
		if !e.Truncated || len(e.EventInfoCN) > MaxEventInfoBytes {
			t.Errorf("abnormal event %s: truncated %v, %d bytes", e.ID, e.Truncated, len(e.EventInfoCN))
		}
	}
	if n.Summary.AbnormalEvents[1].EventInfoCN != huge || len(n.Summary.PodEvents) != 27 {
		t.Error("the webhook changed the caller's summary")
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
