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

// phaseMark is a phase status's mark and colour on a terminal. A stalled
// phase reads "⚠ stalled" (a warning, not a pause).
func phaseMark(s PhaseStatus) (mark, color string) {
	switch s {
	case PhaseSucceeded:
		return "✓", ansiGreen
	case PhaseFailed:
		return "✗", ansiRed
	case PhaseStalled:
		return "⚠", ansiYellow
	case PhaseRunning:
		return "▶", ansiCyan
	}
	return "·", ansiDim
}

// statusColor colours a deployment status in a report's headings.
func statusColor(s Status) string {
	switch s {
	case StatusSucceeded, StatusRecovered:
		return ansiGreen
	case StatusFailed:
		return ansiRed
	case StatusStalled, StatusAbnormal:
		return ansiYellow
	}
	return ansiCyan
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
// durations and a mark per phase status (a stalled phase reads
// "⚠ stalled") and, when the phases leave a second or more over, a
// "between phases" and a "total" row so that the table adds up, then the
// error, the abnormal and warning events (event_info_cn on a line of its
// own) and the pod events (or why they could not be read). A success reads "succeeded
// in 2m15s". A v2 summary's row "modelarts" shows the raw status too, and
// "deadline" when ModelArts fails the deployment. Durations are written as
// [FormatDuration] writes them. Text from ModelArts is cleaned of control
// characters, and every event is cut as [TruncateEvent] cuts it (then
// shorter still). color adds ANSI colours; pass true only when w is a
// terminal.
func RenderText(w io.Writer, n Notification, color bool) error {
	if n.Project != nil {
		return RenderProjectReport(w, n.Project)
	}
	t := &textWriter{w: w, color: color}
	n.Summary = n.Summary.Bounded()
	v := newView(n, terminalBudget)
	t.printf("%s\n", t.paint(ansiBold+kindColor(n.Kind), v.Title))
	if v.Notified != "" {
		t.printf("  %-10s %s\n", "notified", v.Notified)
	}
	renderView(t, v, false)
	return t.err
}

// RenderReportText writes a list of deployment summaries: a count, then
// each summary as RenderText does, separated by blank lines.
//
// Deprecated: use [RenderReport], which shows a whole report (the service,
// the window and the runtime events too).
func RenderReportText(w io.Writer, sums []Summary, color bool) error {
	t := &textWriter{w: w, color: color}
	noun := "deployments"
	if len(sums) == 1 {
		noun = "deployment"
	}
	t.printf("%s\n", t.paint(ansiBold, fmt.Sprintf("Report: %d %s", len(sums), noun)))
	for _, s := range sums {
		t.printf("\n%s\n", t.paint(ansiBold, fmt.Sprintf("%s (%s)", oneLine(serviceName(s)), strings.ReplaceAll(string(s.Status), "_", " "))))
		renderView(t, reportView(s), false)
	}
	return t.err
}

// ReportView is what a one-off report of one service shows, the same
// things as the report's JSON: the service, the window read, every
// deployment in it and the runtime events (those outside any deployment).
type ReportView struct {
	ProjectID     string
	ServiceID     string
	ServiceName   string
	ServiceStatus string // the ModelArts service status when the report was made
	// Since is the window as the user asked for it ("24h", "7d"); From is
	// its start and GeneratedAt its end (when the report was made).
	Since       string
	From        Time
	GeneratedAt Time
	// EventsRead is how many events the window held (not shown when 0).
	EventsRead    int
	Deployments   []Summary
	RuntimeEvents []Event
}

// RenderReport writes a report for people at a terminal: a header (the
// service, its ModelArts status, the window, the events read), then every
// deployment ("Deployment 1 of 2", coloured by its status, then as
// [RenderText] shows it, less the service and id already in the header) or "No deployment in
// the window.", then the runtime events, oldest first as given, each
// timed, abnormal ones labelled "[abnormal]" and warning ones "[warning]"
// (event_info_cn on a line of its own), or "No runtime events in the
// window.". Every runtime event is shown, as in the JSON; text is cleaned
// and cut as RenderText does. color as in RenderText.
func RenderReport(w io.Writer, r ReportView, color bool) error {
	t := &textWriter{w: w, color: color}
	name := oneLine(r.ServiceName)
	if name == "" {
		name = oneLine(r.ServiceID)
	}
	t.printf("%s\n", t.paint(ansiBold+kindColor(KindReport), KindReport.Title()+": "+name))
	row := func(label, value string) {
		if value != "" {
			t.printf("  %-10s %s\n", label, value)
		}
	}
	row("service", oneLine(r.ServiceName))
	row("id", oneLine(r.ServiceID))
	row("project", oneLine(r.ProjectID))
	row("modelarts", oneLine(r.ServiceStatus))
	row("window", windowText(r))
	if r.EventsRead > 0 {
		row("events", fmt.Sprintf("%d read", r.EventsRead))
	}

	if len(r.Deployments) == 0 {
		t.printf("\n%s\n", "No deployment in the window.")
	}
	for i, s := range r.Deployments {
		heading := fmt.Sprintf("Deployment %d of %d", i+1, len(r.Deployments))
		t.printf("\n%s\n", t.paint(ansiBold+statusColor(s.Status), heading))
		// The header names the service; a deployment of another one
		// (which a caller should not pass) still says which.
		same := s.ServiceID == r.ServiceID && s.ServiceName == r.ServiceName
		renderView(t, reportView(s), same)
	}

	if len(r.RuntimeEvents) == 0 {
		t.printf("\n%s\n", "No runtime events in the window.")
		return t.err
	}
	t.printf("\n%s\n", t.paint(ansiBold, "Runtime events "+runtimeCounts(r.RuntimeEvents)))
	for _, e := range r.RuntimeEvents {
		label := ""
		switch {
		case isWarning(e):
			label = t.paint(ansiYellow, "[warning]") + " "
		case strings.EqualFold(e.EventType, "abnormal"):
			label = t.paint(ansiRed, "[abnormal]") + " "
		}
		line, _ := newEventLine(TruncateEvent(e), maxTextEvent)
		writeEventLine(t, line, label)
	}
	return t.err
}

// windowText is a report's window, e.g. "last 24h: 2026-11-27 12:28:00
// UTC to 2026-11-28 12:28:00 UTC".
func windowText(r ReportView) string {
	var span string
	from, to := humanTime(r.From), humanTime(r.GeneratedAt)
	switch {
	case from != "" && to != "":
		span = from + " to " + to
	case from != "":
		span = "from " + from
	case to != "":
		span = "to " + to
	}
	since := oneLine(r.Since)
	switch {
	case since == "":
		return span
	case span == "":
		return "last " + since
	}
	return "last " + since + ": " + span
}

// runtimeCounts is "(3)", or "(3: 1 abnormal, 1 warning)".
func runtimeCounts(evs []Event) string {
	abnormal, warning := 0, 0
	for _, e := range evs {
		switch {
		case isWarning(e):
			warning++
		case strings.EqualFold(e.EventType, "abnormal"):
			abnormal++
		}
	}
	var parts []string
	if abnormal > 0 {
		parts = append(parts, fmt.Sprintf("%d abnormal", abnormal))
	}
	if warning > 0 {
		parts = append(parts, fmt.Sprintf("%d warning", warning))
	}
	if len(parts) == 0 {
		return fmt.Sprintf("(%d)", len(evs))
	}
	return fmt.Sprintf("(%d: %s)", len(evs), strings.Join(parts, ", "))
}

// writeEventLine writes an event: its time, label (already painted, with
// its trailing space, or ""), text and count, then its second text on a
// line of its own.
func writeEventLine(t *textWriter, l eventLine, label string) {
	when := l.When
	if when == "" {
		when = timePad
	}
	t.printf("  %s  %s%s%s\n", t.paint(ansiDim, when), label, l.Text, l.Count)
	if l.Text2 != "" {
		t.printf("  %s  %s\n", timePad, l.Text2)
	}
}

// reportView is a deployment of a report laid out for a terminal; its
// deadline is read against the deployment's start.
func reportView(s Summary) summaryView {
	return newView(Notification{Summary: s.Bounded()}, terminalBudget)
}

// renderView writes the body shared by notifications and reports.
// inHeader leaves out the service and id rows (a report's header has
// them).
func renderView(t *textWriter, v summaryView, inHeader bool) {
	row := func(label, value string) {
		if value != "" {
			t.printf("  %-10s %s\n", label, value)
		}
	}
	if !inHeader {
		row("service", v.ServiceName)
		row("id", v.ServiceID)
	}
	row("status", v.Outcome)
	row("modelarts", v.ModelArts)
	row("model", v.Model)
	row("started", v.Started)
	row("ended", v.Ended)
	row("duration", v.Duration)
	row("deadline", v.Deadline)
	row("usual", v.Usual)
	if v.Error != "" {
		row("error", t.paint(ansiRed, v.Error))
	}
	row("hint", v.Hint)
	row("help", v.HelpURL)
	row("console", v.Console)
	if len(v.Phases) > 0 {
		t.printf("\n  %-15s %-12s %9s\n", "phase", "status", "duration")
		for _, p := range v.Phases {
			mark, color := phaseMark(p.Status)
			status := mark + " " + p.State
			// Pad by runes (the marks are multi-byte), then colour.
			status += strings.Repeat(" ", max(12-utf8.RuneCountInString(status), 0))
			t.printf("  %-15s %s %9s\n", p.Name, t.paint(color, status), p.Duration)
		}
		if v.Between != "" {
			t.printf("  %-15s %-12s %9s\n", betweenPhasesLabel, "", v.Between)
			t.printf("  %-15s %-12s %9s\n", totalLabel, "", v.Total)
		}
	}
	if len(v.Events.Lines) > 0 {
		t.printf("\n  %s\n", t.paint(ansiYellow, strings.ToLower(v.Events.Heading())))
		for _, l := range v.Events.Lines {
			label := ""
			if l.Label != "" {
				label = t.paint(ansiYellow, "["+l.Label+"]") + " "
			}
			writeEventLine(t, l, label)
		}
	}
	if len(v.Pods.Lines) > 0 {
		t.printf("\n  %s\n", t.paint(ansiYellow, strings.ToLower(v.Pods.Heading())))
		for _, l := range v.Pods.Lines {
			writeEventLine(t, l, "")
		}
	}
	if v.PodError != "" {
		t.printf("\n  %s\n", v.PodError)
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

// Notify prints each notification followed by a blank line. A thread-only
// notification ([ThreadOnly]) is acknowledged without printing anything.
func (t *Terminal) Notify(ctx context.Context, ns []Notification) []Result {
	t.mu.Lock()
	defer t.mu.Unlock()
	results := make([]Result, len(ns))
	for i, n := range ns {
		results[i].ID = n.ID
		if n.ThreadOnly() {
			continue // no thread to change
		}
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
