package notifier

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/slack-go/slack"
)

// Slack's Block Kit limits, in characters.
const (
	maxBlocks      = 50
	maxHeaderText  = 150
	maxSectionText = 3000
	maxFieldText   = 2000
	maxFields      = 10
	maxEventText   = 500 // one quoted event
	maxEvents      = 10  // events quoted in one message
	maxDigestItems = 20  // notifications listed in one digest (and detailed in its thread)
	maxFallback    = 3000
)

// EscapeSlack escapes text for Slack: it repairs invalid UTF-8, drops
// control characters and escapes &, < and >, so that text from ModelArts
// cannot mention (<!channel>, <!here>, <@U123>) or forge links (<http://x|y>).
func EscapeSlack(s string) string {
	return slackEscaper.Replace(clean(s))
}

var slackEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

// blockBuilder builds one message and remembers whether it cut anything.
type blockBuilder struct {
	blocks    []slack.Block
	truncated bool
}

func (b *blockBuilder) fit(s string, max int) string {
	s, cut := truncateRunes(s, max)
	b.truncated = b.truncated || cut
	return s
}

func (b *blockBuilder) header(text string) {
	t := slack.NewTextBlockObject(slack.PlainTextType, b.fit(text, maxHeaderText), true, false)
	b.blocks = append(b.blocks, slack.NewHeaderBlock(t))
}

func (b *blockBuilder) section(mrkdwn string) {
	t := slack.NewTextBlockObject(slack.MarkdownType, b.fit(mrkdwn, maxSectionText), false, false)
	b.blocks = append(b.blocks, slack.NewSectionBlock(t, nil, nil))
}

func (b *blockBuilder) fields(pairs ...string) {
	var fs []*slack.TextBlockObject
	for i := 0; i+1 < len(pairs) && len(fs) < maxFields; i += 2 {
		if pairs[i+1] == "" {
			continue
		}
		text := b.fit("*"+pairs[i]+"*\n"+pairs[i+1], maxFieldText)
		fs = append(fs, slack.NewTextBlockObject(slack.MarkdownType, text, false, false))
	}
	if len(fs) > 0 {
		b.blocks = append(b.blocks, slack.NewSectionBlock(nil, fs, nil))
	}
}

func (b *blockBuilder) context(mrkdwn string) {
	t := slack.NewTextBlockObject(slack.MarkdownType, b.fit(mrkdwn, maxSectionText), false, false)
	b.blocks = append(b.blocks, slack.NewContextBlock("", t))
}

// done caps the message at Slack's block limit.
func (b *blockBuilder) done() []slack.Block {
	if len(b.blocks) > maxBlocks {
		b.blocks = b.blocks[:maxBlocks]
		b.truncated = true
	}
	return b.blocks
}

// kindEmoji marks a kind in headers and digests.
func kindEmoji(k Kind) string {
	switch k {
	case KindSucceeded:
		return ":white_check_mark:"
	case KindFailed:
		return ":x:"
	case KindStalled:
		return ":hourglass_flowing_sand:"
	case KindRecovered:
		return ":arrow_forward:"
	case KindAbnormal:
		return ":warning:"
	case KindReport:
		return ":clipboard:"
	}
	return ":bell:"
}

// phaseEmoji marks a phase status in the timeline; a stalled phase is a
// warning (its status is in bold too), not an hourglass.
func phaseEmoji(s PhaseStatus) string {
	switch s {
	case PhaseSucceeded:
		return ":white_check_mark:"
	case PhaseFailed:
		return ":x:"
	case PhaseStalled:
		return ":warning:"
	case PhaseRunning:
		return ":arrows_counterclockwise:"
	}
	return ":white_circle:"
}

// serviceName is the name to show: the service name, else its id.
func serviceName(s Summary) string {
	if s.ServiceName != "" {
		return s.ServiceName
	}
	return s.ServiceID
}

// SlackBlocks renders a notification as Block Kit: a header with the
// outcome and service, fields (service, status, phase, duration, model),
// when ModelArts will fail the deployment (v2's FailsAt), the five-phase
// timeline, the error, the abnormal and warning events (both languages)
// and the pod events (or why they could not be read) quoted, and a
// context line with times. fallback is the plain text for notifications
// and screen readers. Everything from ModelArts is escaped, every event is
// first cut as [TruncateEvent] cuts it, and every Slack limit is kept;
// truncated reports whether some text had to be cut to Slack's limits (the
// text says so where it was cut).
func SlackBlocks(n Notification) (blocks []slack.Block, fallback string, truncated bool) {
	n.Summary = n.Summary.Bounded()
	return messageBlocks(n, kindEmoji(n.Kind), n.Kind.Title(), outcome(n.Summary), "")
}

// slackStoppedBlocks renders the parent message of a deployment that ended
// because its service was stopped (a ParentUpdate notification): as
// [SlackBlocks], headed "Deployment stopped", with a line saying when the
// service was stopped.
func slackStoppedBlocks(n Notification) (blocks []slack.Block, fallback string, truncated bool) {
	n.Summary = n.Summary.Bounded()
	return messageBlocks(n, stoppedEmoji, stoppedTitle, stoppedOutcome(n.Summary), stoppedNote(n))
}

const (
	stoppedEmoji = ":octagonal_sign:"
	stoppedTitle = "Deployment stopped"
)

// stoppedOutcome is the one-line status of a stopped deployment, e.g.
// "stopped in image_pull".
func stoppedOutcome(s Summary) string {
	if s.Phase == "" {
		return "stopped"
	}
	return "stopped in " + s.Phase
}

// stoppedNote says, in mrkdwn, that the service was stopped and when.
func stoppedNote(n Notification) string {
	s := n.Summary
	note := "The service was stopped"
	if st := serviceStatusText(s); st != "" {
		note += " (status " + codeSpan(st) + ")"
	}
	when := s.EndedAt
	if when.IsZero() {
		when = n.Timestamp
	}
	if t := humanTime(when); t != "" {
		note += " at " + t
	}
	return note + " before the deployment finished."
}

// messageBlocks is the full message of a notification: header (emoji,
// title and service), fields, note (mrkdwn, when set), timeline, problems
// and times. status is the outcome line, not yet escaped.
func messageBlocks(n Notification, emoji, title, status, note string) (blocks []slack.Block, fallback string, truncated bool) {
	var b blockBuilder
	s := n.Summary
	name := EscapeSlack(serviceName(s))
	b.header(fmt.Sprintf("%s %s: %s", emoji, title, EscapeSlack(oneLine(serviceName(s)))))
	phase := ""
	if s.Phase != "" {
		phase = "`" + EscapeSlack(s.Phase) + "`"
	}
	statusField := EscapeSlack(status)
	if st := serviceStatusText(s); st != "" {
		statusField += " (ModelArts: " + EscapeSlack(st) + ")"
	}
	dur := ""
	if s.DurationMS != nil {
		dur = FormatDuration(*s.DurationMS)
	}
	b.fields(
		"Service", name,
		"Status", statusField,
		"Phase", phase,
		"Duration", dur,
		"Model", EscapeSlack(s.Model),
		"Service ID", codeSpan(s.ServiceID),
	)
	if note != "" {
		b.section(note)
	}
	b.deadline(s, failsAtRef(n))
	if len(s.Phases) > 0 {
		b.section(timeline(s))
	}
	b.problems(s)
	b.context(timesLine(n))
	return b.done(), b.fit(fallbackText(title, status, s, failsAtRef(n)), maxFallback), b.truncated
}

// deadline adds, when FailsAt is set, when ModelArts will fail the
// deployment.
func (b *blockBuilder) deadline(s Summary, ref Time) {
	if text := failsAtText(s, ref); text != "" {
		b.section(":alarm_clock: " + EscapeSlack(text))
	}
}

// problems adds the service's error message, its abnormal (and warning)
// events, and its pod events or why they could not be read.
func (b *blockBuilder) problems(s Summary) {
	if s.ErrorMsg != "" {
		b.section("*Error*\n" + quote(b.fit(EscapeSlack(oneLine(s.ErrorMsg)), maxSectionText-20)))
	}
	if s.Hint != "" {
		text := ":bulb: " + b.fit(EscapeSlack(oneLine(s.Hint)), maxSectionText-600)
		// A plain URL, which Slack links itself: no link markup in any
		// message, so nothing can be forged (the URL comes from our own
		// table, and is shown only when it is a plain https URL).
		if u := s.HelpURL; strings.HasPrefix(u, "https://") && !strings.ContainsAny(u, "<>| \n*~`") && len(u) < 500 {
			text += "\nTroubleshooting: " + u
		}
		b.section(text)
	}
	if len(s.AbnormalEvents) > 0 {
		b.section(b.events(s.AbnormalEvents))
	}
	if len(s.PodEvents) > 0 {
		b.section(b.podEvents(s))
	}
	if s.PodEventsError != "" {
		b.section(b.fit(EscapeSlack(podEventsErrorText(s)), maxErrorLine))
	}
}

// maxErrorLine bounds the line saying why pod events could not be read.
const maxErrorLine = 1000

// lineOverhead is room kept, per quoted line, for what surrounds a text:
// "\n> ", the time in a code span, a "warning" label and a count.
const lineOverhead = 60

// events quotes the most recent abnormal events, each cut to a readable
// length, and says how many older ones were left out. A warning event is
// labelled so; event_info_cn, when it says something else, is quoted on a
// line of its own under event_info (or alone when event_info is empty);
// an event seen more than once ends with "×N".
func (b *blockBuilder) events(evs []Event) string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "*%s* (%d)", eventsHeading(evs), len(evs))
	shown := evs
	if len(shown) > maxEvents {
		shown = shown[len(shown)-maxEvents:]
		fmt.Fprintf(&sb, ", the last %d", maxEvents)
	}
	lines := 0
	for _, e := range shown {
		lines++
		if _, second := eventTexts(e); second != "" {
			lines++
		}
	}
	// Share the section among the lines so that the most recent event,
	// last, is never the one cut off.
	each := min(maxEventText, (maxSectionText-100)/lines-lineOverhead)
	for _, e := range shown {
		first, second := eventTexts(e)
		label := ""
		if isWarning(e) {
			label = "*warning* "
		}
		text := b.fit(EscapeSlack(first), each)
		fmt.Fprintf(&sb, "\n> `%s` %s%s%s", eventTime(e), label, text, countMark(e.EventCount))
		if second != "" {
			fmt.Fprintf(&sb, "\n> %s", b.fit(EscapeSlack(second), each))
		}
	}
	return sb.String()
}

// podEvents quotes the newest pod events, "Reason: message (×count)", each
// cut to a readable length, and says how many there were.
func (b *blockBuilder) podEvents(s Summary) string {
	var sb strings.Builder
	ps := s.PodEvents
	fmt.Fprintf(&sb, "*Pod events* (%d)", len(ps)+s.PodEventsOmitted)
	shown := ps
	if len(shown) > maxEvents {
		shown = shown[len(shown)-maxEvents:]
	}
	if len(shown) < len(ps)+s.PodEventsOmitted {
		fmt.Fprintf(&sb, ", the last %d", len(shown))
	}
	each := min(maxEventText, (maxSectionText-100)/len(shown)-lineOverhead)
	for _, p := range shown {
		sb.WriteString("\n> ")
		if t := humanTime(podEventTime(p)); t != "" {
			fmt.Fprintf(&sb, "`%s` ", t)
		}
		sb.WriteString(b.fit(EscapeSlack(podEventText(p)), each))
		sb.WriteString(podCountMark(p.Count))
	}
	return sb.String()
}

// quote makes text a Slack block quote.
func quote(s string) string { return "> " + strings.ReplaceAll(s, "\n", "\n> ") }

// codeSpan shows s in monospace, or "" when empty.
func codeSpan(s string) string {
	if s == "" {
		return ""
	}
	return "`" + strings.ReplaceAll(EscapeSlack(oneLine(s)), "`", "'") + "`"
}

// The timeline's rows of the time between phases and of the total.
const (
	betweenPhasesEmoji = ":clock3:"
	totalEmoji         = ":stopwatch:"
)

// timeline renders the phases of s, one line each: mark, aligned name,
// duration and status (a stalled one in bold: ":warning: … *stalled*"),
// then, when the phases leave a second or more over, a "between phases"
// line and a "total" line, so that the timeline adds up.
func timeline(s Summary) string {
	const width = len(betweenPhasesLabel)
	var sb strings.Builder
	sb.WriteString("*Timeline*")
	line := func(emoji, name, dur, status string) {
		pad := width - utf8.RuneCountInString(name)
		fmt.Fprintf(&sb, "\n%s `%s%s` %s", emoji, name, strings.Repeat(" ", max(pad, 0)), dur)
		if status != "" {
			sb.WriteString(" " + status)
		}
	}
	for _, p := range s.Phases {
		status := "_" + EscapeSlack(string(p.Status)) + "_"
		if p.Status == PhaseStalled {
			status = "*" + EscapeSlack(string(p.Status)) + "*"
		}
		line(phaseEmoji(p.Status), EscapeSlack(oneLine(p.Name)), duration(p.DurationMS), status)
	}
	if gap, ok := betweenPhases(s); ok {
		line(betweenPhasesEmoji, betweenPhasesLabel, FormatDuration(gap), "_waiting_")
		line(totalEmoji, totalLabel, FormatDuration(*s.DurationMS), "")
	}
	return sb.String()
}

// timesLine is the context line: when the deployment started and ended and
// when this was notified.
func timesLine(n Notification) string {
	var parts []string
	s := n.Summary
	if t := humanTime(s.StartedAt); t != "" {
		parts = append(parts, "Started "+t)
	}
	if t := humanTime(s.EndedAt); t != "" {
		parts = append(parts, "ended "+t)
	}
	if t := humanTime(n.Timestamp); t != "" {
		parts = append(parts, "notified "+t)
	}
	if s.ProjectID != "" {
		parts = append(parts, "project "+codeSpan(s.ProjectID))
	}
	if len(parts) == 0 {
		return string(n.Kind)
	}
	parts[0] = strings.ToUpper(parts[0][:1]) + parts[0][1:]
	return strings.Join(parts, " · ")
}

// fallbackText is the plain-text version of a notification, one line:
// title, service, outcome (not yet escaped), duration, last abnormal event
// (both texts, and its count), then when ModelArts fails the deployment
// and the newest pod event (or why pod events could not be read).
func fallbackText(title, outcome string, s Summary, ref Time) string {
	text := fmt.Sprintf("%s: %s, %s", title, EscapeSlack(oneLine(serviceName(s))), EscapeSlack(outcome)) + afterDuration(s, outcome)
	var tail []string
	if fa := failsAtText(s, ref); fa != "" {
		tail = append(tail, EscapeSlack(fa))
	}
	if k := len(s.PodEvents); k > 0 {
		pod, _ := truncateRunes(EscapeSlack(podEventText(s.PodEvents[k-1])), maxDigestEvent)
		tail = append(tail, "Pod "+pod+podCountMark(s.PodEvents[k-1].Count))
	} else if s.PodEventsError != "" {
		msg, _ := truncateRunes(EscapeSlack(podEventsErrorText(s)), maxDigestEvent)
		tail = append(tail, msg)
	}
	if k := len(s.AbnormalEvents); k > 0 {
		last := TruncateEvent(s.AbnormalEvents[k-1])
		ev := EscapeSlack(eventText(last))
		if len(tail) > 0 {
			// Leave room for what follows.
			ev, _ = truncateRunes(ev, maxFallback/3)
		}
		text += ": " + ev + countMark(last.EventCount)
	}
	if len(tail) > 0 {
		text += " · " + strings.Join(tail, " · ")
	}
	return text
}

// slackDetailBlocks renders the thread reply that tells a deployment's
// thread what changed: the outcome, the error and events, the times.
func slackDetailBlocks(n Notification) (blocks []slack.Block, fallback string, truncated bool) {
	var b blockBuilder
	n.Summary = n.Summary.Bounded()
	s := n.Summary
	line := fmt.Sprintf("%s *%s*: %s", kindEmoji(n.Kind), n.Kind.Title(), EscapeSlack(outcome(s))) + afterDuration(s, outcome(s))
	b.section(line)
	b.deadline(s, failsAtRef(n))
	b.problems(s)
	b.context(timesLine(n))
	return b.done(), b.fit(fallbackText(n.Kind.Title(), outcome(s), s, failsAtRef(n)), maxFallback), b.truncated
}

// DigestBlocks renders many notifications as one message: a header with
// the count and one line per notification (the first 20; the rest are
// counted).
func DigestBlocks(ns []Notification) (blocks []slack.Block, fallback string, truncated bool) {
	var b blockBuilder
	b.header(fmt.Sprintf(":bell: %d ModelArts notifications", len(ns)))
	for i, n := range ns {
		if i == maxDigestItems {
			b.context(fmt.Sprintf("… and %d more", len(ns)-maxDigestItems))
			break
		}
		b.section(digestLine(n))
	}
	counts := map[Kind]int{}
	for _, n := range ns {
		counts[n.Kind]++
	}
	var parts []string
	for _, k := range Kinds {
		if c := counts[k]; c > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", c, k))
		}
	}
	fallback = fmt.Sprintf("%d ModelArts notifications: %s", len(ns), strings.Join(parts, ", "))
	return b.done(), b.fit(fallback, maxFallback), b.truncated
}

// maxDigestEvent bounds one event quoted in a digest line (and the pod
// event in a fallback text).
const maxDigestEvent = 300

// digestLine is one notification in a digest: its title, service and
// outcome, when ModelArts fails it, its last abnormal event and its newest
// pod event (or why pod events could not be read).
func digestLine(n Notification) string {
	s := n.Summary.Bounded()
	line := fmt.Sprintf("%s *%s*: %s, %s", kindEmoji(n.Kind), n.Kind.Title(), EscapeSlack(oneLine(serviceName(s))), EscapeSlack(outcome(s))) + afterDuration(s, outcome(s))
	if fa := failsAtText(s, failsAtRef(n)); fa != "" {
		line += " · " + EscapeSlack(fa)
	}
	if k := len(s.AbnormalEvents); k > 0 {
		last := s.AbnormalEvents[k-1]
		ev, _ := truncateRunes(EscapeSlack(eventText(last)), maxDigestEvent)
		line += "\n> " + ev + countMark(last.EventCount)
	}
	if k := len(s.PodEvents); k > 0 {
		pod, _ := truncateRunes(EscapeSlack(podEventText(s.PodEvents[k-1])), maxDigestEvent)
		line += "\n> Pod " + pod + podCountMark(s.PodEvents[k-1].Count)
	} else if s.PodEventsError != "" {
		msg, _ := truncateRunes(EscapeSlack(podEventsErrorText(s)), maxDigestEvent)
		line += "\n> " + msg
	}
	return line
}
