package notifier

import (
	"bytes"
	"encoding/json"
	"runtime"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/santhosh-tekuri/jsonschema/v6"
	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
)

func TestTruncateEvent(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    string // "" means: check only the properties
		wantCut bool
	}{
		{"short", "pull image success", "pull image success", false},
		{"exactly the bound", strings.Repeat("a", MaxEventInfoBytes), strings.Repeat("a", MaxEventInfoBytes), false},
		{"one byte over", strings.Repeat("a", MaxEventInfoBytes+1), strings.Repeat("a", MaxEventInfoBytes-3) + "…", true},
		{"1 MB", strings.Repeat("x", 1<<20), strings.Repeat("x", MaxEventInfoBytes-3) + "…", true},
		// 3-byte runes: 1364 of them (4092 bytes) and the ellipsis.
		{"chinese", strings.Repeat("资源不足", 1000), strings.Repeat("资源不足", 341) + "…", true},
		// 4-byte runes after one byte: "a" and 1023 emoji (4093 bytes), the ellipsis.
		{"emoji", "a" + strings.Repeat("🚀", 2000), "a" + strings.Repeat("🚀", 1023) + "…", true},
		// Shifted by two bytes: the 1024th emoji would end past 4093 bytes.
		{"emoji shifted", "ab" + strings.Repeat("🚀", 2000), "ab" + strings.Repeat("🚀", 1022) + "…", true},
		{"short invalid utf-8", "bad \xff\xfe tail", "bad \uFFFD tail", false},
		{"long invalid utf-8", strings.Repeat("\xff中", 3000), "", true},
		{"empty", "", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := Event{EventType: "abnormal", EventInfo: tt.in, OccurTime: 7}
			got := TruncateEvent(in)
			if tt.want != "" && got.EventInfo != tt.want {
				t.Errorf("EventInfo = %q (%d bytes), want %q (%d bytes)", abbrev(got.EventInfo), len(got.EventInfo), abbrev(tt.want), len(tt.want))
			}
			if got.Truncated != tt.wantCut {
				t.Errorf("Truncated = %v, want %v", got.Truncated, tt.wantCut)
			}
			if len(got.EventInfo) > MaxEventInfoBytes {
				t.Errorf("%d bytes > %d", len(got.EventInfo), MaxEventInfoBytes)
			}
			if !utf8.ValidString(got.EventInfo) {
				t.Error("invalid UTF-8")
			}
			if tt.wantCut {
				if !strings.HasSuffix(got.EventInfo, "…") {
					t.Error("a cut text does not end with …")
				}
				// Cut on a rune boundary: what is kept is a prefix of the repaired text.
				kept := strings.TrimSuffix(got.EventInfo, "…")
				if !strings.HasPrefix(strings.ToValidUTF8(tt.in, "\uFFFD"), kept) {
					t.Error("the kept text is not a prefix of the original")
				}
				if len(got.EventInfo) < MaxEventInfoBytes-6 {
					t.Errorf("cut to %d bytes: more than one rune short of the bound", len(got.EventInfo))
				}
			}
			if got.EventType != in.EventType || got.OccurTime != in.OccurTime {
				t.Errorf("other fields changed: %+v", got)
			}
			if again := TruncateEvent(got); again != got {
				t.Error("TruncateEvent is not idempotent")
			}
		})
	}
	if e := TruncateEvent(Event{EventInfo: "short", Truncated: true}); !e.Truncated {
		t.Error("an event already marked truncated lost the mark")
	}
}

func abbrev(s string) string {
	if len(s) > 40 {
		return s[:20] + "..." + s[len(s)-20:]
	}
	return s
}

func TestSummaryBoundedCopies(t *testing.T) {
	huge := strings.Repeat("é", 1<<19) // 1 MB
	s := baseSummary()
	s.AbnormalEvents = []Event{ev("abnormal", 5, huge)}
	s.Events = append(s.Events, s.AbnormalEvents[0])
	events := append([]Event(nil), s.Events...)

	b := s.Bounded()

	if s.AbnormalEvents[0].EventInfo != huge || s.AbnormalEvents[0].Truncated || !slicesEqual(s.Events, events) {
		t.Fatal("Bounded changed the caller's events")
	}
	last := b.Events[len(b.Events)-1]
	if !b.AbnormalEvents[0].Truncated || !last.Truncated || len(last.EventInfo) > MaxEventInfoBytes {
		t.Errorf("not cut: abnormal %v, events %v (%d bytes)", b.AbnormalEvents[0].Truncated, last.Truncated, len(last.EventInfo))
	}
	if b.Events[0] != s.Events[0] {
		t.Error("a short event changed")
	}
	if z := (Summary{}).Bounded(); z.Events != nil || z.AbnormalEvents != nil {
		t.Error("nil lists became non-nil")
	}
}

func slicesEqual(a, b []Event) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// webhookBodyOf sends n through a real Webhook and returns the one body
// the receiver got, after checking its size, its signature (with the
// reference library) and the strict schema.
func webhookBodyOf(t *testing.T, n Notification) []byte {
	t.Helper()
	srv := newRecorder(t, nil)
	w := newTestWebhook(t, srv.URL, testSecret, newFakeClock())
	if r := w.Notify(t.Context(), []Notification{n}); r[0].Err != nil {
		t.Fatalf("Notify: %v", r[0].Err)
	}
	reqs := srv.Requests()
	if len(reqs) != 1 {
		t.Fatalf("%d requests, want 1", len(reqs))
	}
	body := reqs[0].Body
	if len(body) > MaxWebhookBody {
		t.Errorf("body of %d bytes > %d", len(body), MaxWebhookBody)
	}
	if !utf8.Valid(body) {
		t.Error("body is not valid UTF-8")
	}
	verifier, err := standardwebhooks.NewWebhook(testSecret)
	if err != nil {
		t.Fatal(err)
	}
	if err := verifier.Verify(body, reqs[0].Header); err != nil {
		t.Errorf("signature is not over the body sent: %v", err)
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if err := compileSchema(t, true).Validate(inst); err != nil {
		t.Errorf("body does not match webhook-v1.json: %v", err)
	}
	return body
}

type bodyData struct {
	Data Summary `json:"data"`
}

func decodeBody(t *testing.T, body []byte) Summary {
	t.Helper()
	var d bodyData
	if err := json.Unmarshal(body, &d); err != nil {
		t.Fatal(err)
	}
	return d.Data
}

// TestWebhookBodyHugeEventInfo: the 1 MB event_info that made a 2 MB body
// (it is in abnormal_events and in events) now makes one under 64 KiB,
// with both copies cut and marked.
func TestWebhookBodyHugeEventInfo(t *testing.T) {
	n := fixture(KindFailed)
	huge := "Service failed. Error: " + strings.Repeat("资源不足 😀 <x> ", 1<<20/24)
	n.Summary.AbnormalEvents = append(n.Summary.AbnormalEvents, ev("abnormal", 90000, huge))
	n.Summary.Events = append(n.Summary.Events, ev("abnormal", 90000, huge))
	before := n.Summary.Events[len(n.Summary.Events)-1]

	got := decodeBody(t, webhookBodyOf(t, n))

	if got.EventsOmitted != 0 || got.AbnormalEventsOmitted != 0 {
		t.Errorf("omitted %d events, %d abnormal: all fit once cut", got.EventsOmitted, got.AbnormalEventsOmitted)
	}
	for _, list := range [][]Event{got.AbnormalEvents, got.Events} {
		e := list[len(list)-1]
		if !e.Truncated || len(e.EventInfo) > MaxEventInfoBytes || !strings.HasSuffix(e.EventInfo, "…") || !utf8.ValidString(e.EventInfo) {
			t.Errorf("event: truncated %v, %d bytes, ends %q", e.Truncated, len(e.EventInfo), e.EventInfo[len(e.EventInfo)-6:])
		}
		if !strings.HasPrefix(huge, strings.TrimSuffix(e.EventInfo, "…")) {
			t.Error("the cut text is not the start of the original")
		}
	}
	for _, e := range got.Events[:len(got.Events)-1] {
		if e.Truncated {
			t.Errorf("a short event is marked truncated: %q", e.EventInfo)
		}
	}
	if n.Summary.Events[len(n.Summary.Events)-1] != before {
		t.Error("the webhook changed the caller's summary")
	}
}

// TestWebhookBodyDropsOldEvents: 100 events of 4 KiB (400 KiB) make a body
// under 64 KiB that keeps the deployment's start and the newest events,
// and says how many it left out.
func TestWebhookBodyDropsOldEvents(t *testing.T) {
	n := fixture(KindStalled)
	var evs []Event
	for i := range 100 {
		evs = append(evs, ev("normal", int64(i), strings.Repeat(string(rune('a'+i%26)), 4096)))
	}
	evs[0].EventInfo = "start to deploy service"
	n.Summary.Events = evs

	got := decodeBody(t, webhookBodyOf(t, n))

	kept := len(got.Events)
	if got.EventsOmitted == 0 || got.EventsOmitted+kept != 100 {
		t.Fatalf("events_omitted %d with %d kept, want them to add up to 100", got.EventsOmitted, kept)
	}
	if kept < 10 {
		t.Errorf("only %d events kept: 64 KiB holds about 15 of 4 KiB", kept)
	}
	if got.Events[0] != evs[0] {
		t.Errorf("first event = %q, want the deployment's start", got.Events[0].EventInfo)
	}
	if !slicesEqual(got.Events[1:], evs[100-kept+1:]) {
		t.Error("the events kept are not the newest")
	}
	if got.AbnormalEventsOmitted != 0 {
		t.Errorf("abnormal_events_omitted = %d with no abnormal events", got.AbnormalEventsOmitted)
	}
}

// TestWebhookBodyDropsOldAbnormalEvents: once events hold only the
// deployment's start, the oldest abnormal events go, the newest stays.
func TestWebhookBodyDropsOldAbnormalEvents(t *testing.T) {
	n := fixture(KindFailed)
	var abn []Event
	for i := range 40 {
		abn = append(abn, ev("abnormal", int64(1000+i), strings.Repeat("<&>", 1365))) // 4095 bytes, 6 in JSON each
	}
	n.Summary.AbnormalEvents = abn
	n.Summary.Events = append([]Event{ev("normal", 0, "start to deploy service")}, abn...)

	got := decodeBody(t, webhookBodyOf(t, n))

	if got.EventsOmitted != 40 || len(got.Events) != 1 || got.Events[0].EventInfo != "start to deploy service" {
		t.Errorf("events: %d kept (%d omitted), want only the start", len(got.Events), got.EventsOmitted)
	}
	k := len(got.AbnormalEvents)
	if k == 0 || got.AbnormalEventsOmitted+k != 40 {
		t.Fatalf("abnormal_events_omitted %d with %d kept", got.AbnormalEventsOmitted, k)
	}
	if got.AbnormalEvents[k-1] != abn[39] {
		t.Error("the newest abnormal event was not kept")
	}
}

// TestWebhookBodyHugeStrings: when even no event would fit, error_msg and
// the names are cut too, and the body still goes out.
func TestWebhookBodyHugeStrings(t *testing.T) {
	n := fixture(KindFailed)
	n.Summary.ErrorMsg = strings.Repeat("失败 ", 1<<18)
	n.Summary.ServiceName = strings.Repeat("<svc>", 1<<16)
	n.Summary.Model = strings.Repeat("m", 1<<17)

	got := decodeBody(t, webhookBodyOf(t, n))

	if len(got.ErrorMsg) > MaxEventInfoBytes || !strings.HasSuffix(got.ErrorMsg, "…") {
		t.Errorf("error_msg of %d bytes", len(got.ErrorMsg))
	}
	if got.ServiceID != n.Summary.ServiceID || got.Status != StatusFailed {
		t.Error("short fields changed")
	}
}

// TestWebhookBodyEfficient: shortening a 200-event body (800 KB) costs a
// few marshals of the body, not one per event dropped (which would
// allocate hundreds of megabytes here).
func TestWebhookBodyEfficient(t *testing.T) {
	n := fixture(KindStalled)
	for i := range 200 {
		n.Summary.Events = append(n.Summary.Events, ev("normal", int64(i), strings.Repeat("z", 4000)))
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	body, shortened, err := webhookBody(n)
	runtime.ReadMemStats(&after)
	if err != nil || !shortened || len(body) > MaxWebhookBody {
		t.Fatalf("%d bytes, shortened %v, err %v", len(body), shortened, err)
	}
	if mb := (after.TotalAlloc - before.TotalAlloc) >> 20; mb > 40 {
		t.Errorf("%d MB allocated to shorten one 800 KB body", mb)
	}
}

// TestSlackAndTextBoundEvents: the 1 MB event reaches no Slack message
// (bot message, thread reply, digest, incoming webhook body) or terminal
// output in full, and Chinese and emoji text is cut on rune boundaries.
func TestSlackAndTextBoundEvents(t *testing.T) {
	n := fixture(KindFailed)
	huge := strings.Repeat("资源不足😀", 1<<20/16) + "\xff\xfe"
	n.Summary.AbnormalEvents = append(n.Summary.AbnormalEvents, ev("abnormal", 90000, huge))
	n.Summary.Events = append(n.Summary.Events, ev("abnormal", 90000, huge))
	n.Summary.ErrorMsg = huge

	check := func(what string, blocks any, text string) {
		t.Helper()
		raw, err := json.Marshal(map[string]any{"text": text, "blocks": blocks})
		if err != nil {
			t.Fatal(err)
		}
		if len(raw) > 32<<10 {
			t.Errorf("%s: %d bytes", what, len(raw))
		}
		if !utf8.Valid(raw) {
			t.Errorf("%s: invalid UTF-8", what)
		}
	}
	blocks, text, cut := SlackBlocks(n)
	checkSlackMessage(t, blocks, text)
	check("message", blocks, text)
	if !cut {
		t.Error("message: not reported as cut")
	}
	blocks, text, _ = slackDetailBlocks(n)
	checkSlackMessage(t, blocks, text)
	check("thread reply", blocks, text)
	stopped := n
	stopped.Thread, stopped.Summary.ServiceStatus = ParentUpdate, "stopped"
	blocks, text, _ = slackStoppedBlocks(stopped)
	checkSlackMessage(t, blocks, text)
	check("stopped parent", blocks, text)
	ns := []Notification{n, n, n, n, n, n, n}
	blocks, text, _ = DigestBlocks(ns)
	checkSlackMessage(t, blocks, text)
	check("digest", blocks, text)

	srv := newRecorder(t, nil)
	if r := newTestSlackWebhook(t, srv.URL, newFakeClock()).Notify(t.Context(), []Notification{n}); r[0].Err != nil {
		t.Fatal(r[0].Err)
	}
	if body := srv.Requests()[0].Body; len(body) > 32<<10 || !utf8.Valid(body) {
		t.Errorf("slack webhook body of %d bytes", len(body))
	}

	var out strings.Builder
	if err := RenderText(&out, n, false); err != nil {
		t.Fatal(err)
	}
	if err := RenderReportText(&out, []Summary{n.Summary}, false); err != nil {
		t.Fatal(err)
	}
	if out.Len() > 32<<10 || !utf8.ValidString(out.String()) || !strings.Contains(out.String(), "…") {
		t.Errorf("terminal output of %d bytes", out.Len())
	}
	if n.Summary.Events[len(n.Summary.Events)-1].EventInfo != huge {
		t.Error("a destination changed the caller's summary")
	}
}

// FuzzTruncateEvent: whatever the text, the result is valid UTF-8 of at
// most MaxEventInfoBytes bytes, a prefix of the repaired text (and "…"
// when cut), and cutting it again changes nothing.
func FuzzTruncateEvent(f *testing.F) {
	f.Add("short", 0)
	f.Add("资源不足😀\xff", 900)
	f.Add("ab🚀", 1500)
	f.Fuzz(func(t *testing.T, s string, repeat int) {
		repeat = max(0, repeat%2000)
		in := strings.Repeat(s, repeat+1)
		got := TruncateEvent(Event{EventInfo: in})
		if len(got.EventInfo) > MaxEventInfoBytes || !utf8.ValidString(got.EventInfo) {
			t.Fatalf("%d bytes, valid %v", len(got.EventInfo), utf8.ValidString(got.EventInfo))
		}
		valid := strings.ToValidUTF8(in, "\uFFFD")
		if got.Truncated != (len(valid) > MaxEventInfoBytes) {
			t.Fatalf("Truncated %v for %d bytes", got.Truncated, len(valid))
		}
		kept := got.EventInfo
		if got.Truncated {
			kept = strings.TrimSuffix(kept, "…")
			if len(kept) == len(got.EventInfo) || len(got.EventInfo) < MaxEventInfoBytes-3 {
				t.Fatalf("cut to %d bytes", len(got.EventInfo))
			}
		}
		if !strings.HasPrefix(valid, kept) {
			t.Fatal("not a prefix of the text")
		}
		if TruncateEvent(got) != got {
			t.Fatal("not idempotent")
		}
	})
}
