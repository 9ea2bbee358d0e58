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
	t := &textWriter{w: w, color: color}
	title := fmt.Sprintf("%s: %s", n.Kind.Title(), oneLine(serviceName(n.Summary)))
	t.printf("%s\n", t.paint(ansiBold+kindColor(n.Kind), title))
	if ts := humanTime(n.Timestamp); ts != "" {
		t.printf("  %-10s %s\n", "notified", ts)
	}
	renderSummary(t, n.Summary.Bounded(), failsAtRef(n), false)
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
		renderSummary(t, s.Bounded(), s.StartedAt, false)
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
		renderSummary(t, s.Bounded(), s.StartedAt, same)
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
		eventLines(t, TruncateEvent(e), label)
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

// eventLines writes an event: its time, label (already painted, with its
// trailing space, or ""), text and count, then event_info_cn, when it says
// something else, on a line of its own.
func eventLines(t *textWriter, e Event, label string) {
	first, second := eventTexts(e)
	info, _ := truncateRunes(first, maxTextEvent)
	t.printf("  %s  %s%s%s\n", t.paint(ansiDim, eventTime(e)), label, info, countMark(e.EventCount))
	if second != "" {
		cn, _ := truncateRunes(second, maxTextEvent)
		t.printf("  %s  %s\n", timePad, cn)
	}
}

// renderSummary writes the body shared by notifications and reports; ref
// is the day a deadline is read against (see failsAtText). inHeader leaves
// out the service and id rows (a report's header has them).
func renderSummary(t *textWriter, s Summary, ref Time, inHeader bool) {
	row := func(label, value string) {
		if value != "" {
			t.printf("  %-10s %s\n", label, value)
		}
	}
	if !inHeader {
		row("service", oneLine(s.ServiceName))
		row("id", oneLine(s.ServiceID))
	}
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
		if gap, ok := betweenPhases(s); ok {
			t.printf("  %-15s %-12s %9s\n", betweenPhasesLabel, "", FormatDuration(gap))
			t.printf("  %-15s %-12s %9s\n", totalLabel, "", FormatDuration(*s.DurationMS))
		}
	}
	if len(s.AbnormalEvents) > 0 {
		heading := strings.ToLower(eventsHeading(s.AbnormalEvents))
		t.printf("\n  %s\n", t.paint(ansiYellow, fmt.Sprintf("%s (%d)", heading, len(s.AbnormalEvents))))
		for _, e := range s.AbnormalEvents {
			label := ""
			if isWarning(e) {
				label = t.paint(ansiYellow, "[warning]") + " "
			}
			eventLines(t, e, label)
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
