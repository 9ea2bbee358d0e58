package notifier

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

// The report of a running service with a runtime abnormal event (the
// demo's yolo-detector): the text shows the event the JSON has.
func TestRenderReportShowsRuntimeEvents(t *testing.T) {
	s := gapSummary()
	r := ReportView{
		ServiceID: s.ServiceID, ServiceName: s.ServiceName, ServiceStatus: "running",
		Since: "24h", From: At(t0.Add(-time.Hour)), GeneratedAt: At(t0.Add(23 * time.Hour)),
		Deployments: []Summary{s},
		RuntimeEvents: []Event{
			ev("abnormal", 20*60*1000, "Instance yolo-detector-7f9c restarted: the model process exited (out of memory)."),
			ev("normal", 21*60*1000, "Instance yolo-detector-7f9c is running."),
			{EventType: "warning", EventInfo: "Service error. There are 1 abnormal instances.", OccurTime: t0.UnixMilli() + 22*60*1000},
		},
	}
	var buf bytes.Buffer
	if err := RenderReport(&buf, r, false); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{
		"Deployment report: service-07085\n",
		"  window     last 24h: 2026-11-28 10:58:00 UTC to 2026-11-29 10:58:00 UTC\n",
		"\nDeployment 1 of 1\n  status     succeeded in 2m15s\n",
		"\nRuntime events (3: 1 abnormal, 1 warning)\n",
		"  2026-11-28 12:18:00 UTC  [abnormal] Instance yolo-detector-7f9c restarted: the model process exited (out of memory).\n",
		"  2026-11-28 12:19:00 UTC  Instance yolo-detector-7f9c is running.\n",
		"  2026-11-28 12:20:00 UTC  [warning] Service error.",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
	// The service is said once, in the header.
	if n := strings.Count(out, "f2a7c1d8-63a4-4b1e-9c35-3f1e8d07085a"); n != 1 {
		t.Errorf("service id shown %d times:\n%s", n, out)
	}
	// Everything the JSON of a report holds in its lists is in the text.
	raw, _ := json.Marshal(r.RuntimeEvents)
	var evs []Event
	_ = json.Unmarshal(raw, &evs)
	for _, e := range evs {
		if !strings.Contains(out, e.EventInfo) {
			t.Errorf("runtime event %q missing", e.EventInfo)
		}
	}
}

func TestRenderReportEmpty(t *testing.T) {
	var buf bytes.Buffer
	if err := RenderReport(&buf, ReportView{ServiceID: "svc-id", Since: "7d"}, false); err != nil {
		t.Fatal(err)
	}
	want := "Deployment report: svc-id\n" +
		"  id         svc-id\n" +
		"  window     last 7d\n" +
		"\nNo deployment in the window.\n" +
		"\nNo runtime events in the window.\n"
	if got := buf.String(); got != want {
		t.Errorf("empty report:\n%s\nwant:\n%s", got, want)
	}
}

// A deployment of another service than the report's still says which.
func TestRenderReportOtherService(t *testing.T) {
	var buf bytes.Buffer
	r := ReportView{ServiceID: "a", ServiceName: "svc-a", Deployments: []Summary{gapSummary()}}
	if err := RenderReport(&buf, r, false); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "  service    service-07085\n") {
		t.Errorf("the deployment's own service is not shown:\n%s", buf.String())
	}
}

// Text from ModelArts in runtime events is cleaned and cut, as elsewhere.
func TestRenderReportHostileRuntimeEvent(t *testing.T) {
	long := strings.Repeat("x", 3*MaxEventInfoBytes)
	r := ReportView{ServiceName: "s\x1b[2Jvc", RuntimeEvents: []Event{
		ev("abnormal", 0, "boom\x1b[31m\nsecond line\x07"),
		ev("abnormal", 1, long),
	}}
	var buf bytes.Buffer
	if err := RenderReport(&buf, r, false); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	if strings.ContainsAny(out, "\x1b\x07") {
		t.Errorf("control characters reached the terminal: %q", out)
	}
	if !strings.Contains(out, "[abnormal] boom[31m second line\n") {
		t.Errorf("event not on one line:\n%s", out)
	}
	if strings.Contains(out, strings.Repeat("x", maxTextEvent)) || !strings.Contains(out, truncationMark) {
		t.Error("a long runtime event was not cut")
	}
}

type failWriter struct{ n int }

func (f *failWriter) Write(p []byte) (int, error) {
	if f.n == 0 {
		return 0, errors.New("disk full")
	}
	f.n--
	return len(p), nil
}

func TestRenderReportWriteError(t *testing.T) {
	for n := range 3 {
		if err := RenderReport(&failWriter{n: n}, reportFixture(), false); err == nil || err.Error() != "disk full" {
			t.Errorf("after %d writes: err = %v, want disk full", n, err)
		}
	}
}

// A stalled phase is marked in words, on the terminal and in Slack, and
// no mark reads as "paused".
func TestStalledPhaseInWords(t *testing.T) {
	for _, n := range []Notification{fixture(KindStalled), v2Fixture("msg_v2_stalled")} {
		var buf bytes.Buffer
		_ = RenderText(&buf, n, false)
		if !strings.Contains(buf.String(), "⚠ stalled") || strings.Contains(buf.String(), "⏸") {
			t.Errorf("terminal:\n%s", buf.String())
		}
		tl := timeline(newView(n, slackBudget))
		if !strings.Contains(tl, ":warning: `"+n.Summary.Phase) || !strings.Contains(tl, "*stalled*") || strings.Contains(tl, "pause") {
			t.Errorf("slack timeline:\n%s", tl)
		}
	}
}

// The phase table adds up: the phases, the time between them and the
// total, on the terminal and in Slack.
func TestPhaseTableAddsUp(t *testing.T) {
	n := gapFixture()
	var buf bytes.Buffer
	_ = RenderText(&buf, n, false)
	for _, want := range []string{
		"  model_startup   ✓ succeeded        15s\n  between phases                      1m\n  total                            2m15s\n",
		"  status     succeeded in 2m15s\n",
	} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("terminal lacks %q:\n%s", want, buf.String())
		}
	}
	tl := timeline(newView(n, slackBudget))
	if !strings.HasSuffix(tl, "\n:clock3: `between phases` 1m _waiting_\n:stopwatch: `total         ` 2m15s") {
		t.Errorf("slack timeline:\n%s", tl)
	}
	// Phases back to back: no extra rows.
	buf.Reset()
	_ = RenderText(&buf, fixture(KindSucceeded), false)
	if strings.Contains(buf.String(), "between phases") || strings.Contains(timeline(newView(fixture(KindSucceeded), slackBudget)), "between phases") {
		t.Errorf("a between-phases row without time between phases:\n%s", buf.String())
	}
}

// A success says so with its duration, once, everywhere.
func TestSuccessSaysIt(t *testing.T) {
	n := gapFixture()
	var buf bytes.Buffer
	_ = RenderText(&buf, n, false)
	blocks, fallback, _ := SlackBlocks(n)
	raw, _ := json.Marshal(blocks)
	reply, replyText, _ := slackDetailBlocks(n)
	rawReply, _ := json.Marshal(reply)
	digest, _, _ := DigestBlocks([]Notification{n, fixture(KindFailed)})
	rawDigest, _ := json.Marshal(digest)
	for name, text := range map[string]string{
		"terminal": buf.String(), "blocks": string(raw), "fallback": fallback,
		"reply": string(rawReply), "reply fallback": replyText, "digest": string(rawDigest),
	} {
		if !strings.Contains(text, "succeeded in 2m15s") {
			t.Errorf("%s lacks the success line:\n%s", name, text)
		}
		for _, bad := range []string{"succeeded, model_startup", "succeeded in 2m15s after"} {
			if strings.Contains(text, bad) {
				t.Errorf("%s says %q:\n%s", name, bad, text)
			}
		}
	}
}
