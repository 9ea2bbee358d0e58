package notifier

import (
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
	"unicode/utf8"
)

// ANSI colours, used only when the caller asks (on a terminal).
const (
	ansiReset  = "\x1b[0m"
	ansiBold   = "\x1b[1m"
	ansiDim    = "\x1b[2m"
	ansiRed    = "\x1b[31m"
	ansiGreen  = "\x1b[32m"
	ansiYellow = "\x1b[33m"
	ansiCyan   = "\x1b[36m"
)

// maxTextEvent bounds one event's text on a terminal.
const maxTextEvent = 1000

// textWriter writes lines, colouring only when asked, and keeps the first
// write error.
type textWriter struct {
	w     io.Writer
	color bool
	err   error
}

func (t *textWriter) paint(code, s string) string {
	if !t.color || code == "" {
		return s
	}
	return code + s + ansiReset
}

func (t *textWriter) printf(format string, args ...any) {
	if t.err == nil {
		_, t.err = fmt.Fprintf(t.w, format, args...)
	}
}

// phaseMark is a phase status's mark and colour on a terminal.
func phaseMark(s PhaseStatus) (mark, color string) {
	switch s {
	case PhaseSucceeded:
		return "✓", ansiGreen
	case PhaseFailed:
		return "✗", ansiRed
	case PhaseStalled:
		return "⏸", ansiYellow
	case PhaseRunning:
		return "▶", ansiCyan
	}
	return "·", ansiDim
}

// kindColor colours a kind's title.
func kindColor(k Kind) string {
	switch k {
	case KindSucceeded, KindRecovered:
		return ansiGreen
	case KindFailed:
		return ansiRed
	case KindStalled, KindAbnormal:
		return ansiYellow
	}
	return ansiCyan
}

// RenderText writes a notification for people at a terminal: a title line,
// the service, status and times, an aligned five-phase timeline with
// durations and a mark per phase status, then the error, the abnormal and
// warning events (event_info_cn on a line of its own) and the pod events
// (or why they could not be read). A v2 summary's row "modelarts" shows
// the raw status too, and "deadline" when ModelArts fails the deployment. Text from ModelArts is cleaned of control characters, and every
// event is cut as [TruncateEvent] cuts it (then shorter still). color adds
// ANSI colours; pass true only when w is a terminal.
func RenderText(w io.Writer, n Notification, color bool) error {
	t := &textWriter{w: w, color: color}
	title := fmt.Sprintf("%s: %s", n.Kind.Title(), oneLine(serviceName(n.Summary)))
	t.printf("%s\n", t.paint(ansiBold+kindColor(n.Kind), title))
	if ts := humanTime(n.Timestamp); ts != "" {
		t.printf("  %-10s %s\n", "notified", ts)
	}
	renderSummary(t, n.Summary.Bounded(), failsAtRef(n))
	return t.err
}

// RenderReportText writes a report: a count, then each summary as
// RenderText does, separated by blank lines.
func RenderReportText(w io.Writer, sums []Summary, color bool) error {
	t := &textWriter{w: w, color: color}
	noun := "deployments"
	if len(sums) == 1 {
		noun = "deployment"
	}
	t.printf("%s\n", t.paint(ansiBold, fmt.Sprintf("Report: %d %s", len(sums), noun)))
	for _, s := range sums {
		t.printf("\n%s\n", t.paint(ansiBold, fmt.Sprintf("%s (%s)", oneLine(serviceName(s)), strings.ReplaceAll(string(s.Status), "_", " "))))
		renderSummary(t, s.Bounded(), s.StartedAt)
	}
	return t.err
}

// renderSummary writes the body shared by notifications and reports; ref
// is the day a deadline is read against (see failsAtText).
func renderSummary(t *textWriter, s Summary, ref Time) {
	row := func(label, value string) {
		if value != "" {
			t.printf("  %-10s %s\n", label, value)
		}
	}
	row("service", oneLine(s.ServiceName))
	row("id", oneLine(s.ServiceID))
	row("status", outcome(s))
	row("modelarts", serviceStatusText(s))
	row("model", oneLine(s.Model))
	row("started", humanTime(s.StartedAt))
	row("ended", humanTime(s.EndedAt))
	if s.DurationMS != nil {
		row("duration", FormatDuration(*s.DurationMS))
	}
	row("deadline", failsAtText(s, ref))
	if s.ErrorMsg != "" {
		msg, _ := truncateRunes(oneLine(s.ErrorMsg), maxTextEvent)
		row("error", t.paint(ansiRed, msg))
	}
	if s.Hint != "" {
		hint, _ := truncateRunes(oneLine(s.Hint), maxTextEvent)
		row("hint", hint)
	}
	if s.HelpURL != "" {
		row("help", oneLine(s.HelpURL))
	}
	if len(s.Phases) > 0 {
		t.printf("\n  %-15s %-12s %9s\n", "phase", "status", "duration")
		for _, p := range s.Phases {
			mark, color := phaseMark(p.Status)
			name := oneLine(p.Name)
			status := fmt.Sprintf("%s %s", mark, p.Status)
			// Pad by runes (the marks are multi-byte), then colour.
			status += strings.Repeat(" ", max(12-utf8.RuneCountInString(status), 0))
			t.printf("  %-15s %s %9s\n", name, t.paint(color, status), duration(p.DurationMS))
		}
	}
	if len(s.AbnormalEvents) > 0 {
		heading := strings.ToLower(eventsHeading(s.AbnormalEvents))
		t.printf("\n  %s\n", t.paint(ansiYellow, fmt.Sprintf("%s (%d)", heading, len(s.AbnormalEvents))))
		for _, e := range s.AbnormalEvents {
			first, second := eventTexts(e)
			info, _ := truncateRunes(first, maxTextEvent)
			label := ""
			if isWarning(e) {
				label = t.paint(ansiYellow, "[warning]") + " "
			}
			t.printf("  %s  %s%s%s\n", t.paint(ansiDim, eventTime(e)), label, info, countMark(e.EventCount))
			if second != "" {
				cn, _ := truncateRunes(second, maxTextEvent)
				t.printf("  %s  %s\n", timePad, cn)
			}
		}
	}
	if len(s.PodEvents) > 0 {
		t.printf("\n  %s\n", t.paint(ansiYellow, fmt.Sprintf("pod events (%d)", len(s.PodEvents)+s.PodEventsOmitted)))
		for _, p := range s.PodEvents {
			when := humanTime(podEventTime(p))
			if when == "" {
				when = timePad
			}
			text, _ := truncateRunes(podEventText(p), maxTextEvent)
			t.printf("  %s  %s%s\n", t.paint(ansiDim, when), text, podCountMark(p.Count))
		}
	}
	if s.PodEventsError != "" {
		msg, _ := truncateRunes(podEventsErrorText(s), maxTextEvent)
		t.printf("\n  %s\n", msg)
	}
}

// timePad is as wide as a humanTime, to align lines under timed ones.
var timePad = strings.Repeat(" ", len("2006-01-02 15:04:05 UTC"))

// Terminal is a Notifier that prints notifications as text (for make run).
type Terminal struct {
	mu    sync.Mutex
	w     io.Writer
	color bool
}

var _ Notifier = (*Terminal)(nil)

// NewTerminal returns a Notifier that writes to w; color as in RenderText.
func NewTerminal(w io.Writer, color bool) *Terminal {
	return &Terminal{w: w, color: color}
}

// Notify prints each notification followed by a blank line. A
// ParentUpdate notification is acknowledged without printing anything.
func (t *Terminal) Notify(ctx context.Context, ns []Notification) []Result {
	return withoutParentUpdates(ns, func(ns []Notification) []Result { return t.notify(ctx, ns) })
}

func (t *Terminal) notify(ctx context.Context, ns []Notification) []Result {
	t.mu.Lock()
	defer t.mu.Unlock()
	results := make([]Result, len(ns))
	for i, n := range ns {
		results[i].ID = n.ID
		if err := ctx.Err(); err != nil {
			results[i].Err = err
			continue
		}
		err := RenderText(t.w, n, t.color)
		if err == nil {
			_, err = io.WriteString(t.w, "\n")
		}
		results[i].Err = err
	}
	return results
}
