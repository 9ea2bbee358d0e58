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
	if n.Project != nil {
		return projectBlocks(n.Project)
	}
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
	v := newView(n, slackBudget)
	b := blockBuilder{truncated: v.cut}
	b.header(fmt.Sprintf("%s %s: %s", emoji, title, EscapeSlack(v.Service())))
	phase := ""
	if v.Phase != "" {
		phase = "`" + EscapeSlack(v.Phase) + "`"
	}
	statusField := EscapeSlack(status)
	if v.ModelArts != "" {
		statusField += " (ModelArts: " + EscapeSlack(v.ModelArts) + ")"
	}
	b.fields(
		"Service", EscapeSlack(v.Service()),
		"Status", statusField,
		"Phase", phase,
		"Duration", v.Duration,
		"Model", EscapeSlack(v.Model),
		"Service ID", codeSpan(v.ServiceID),
	)
	if note != "" {
		b.section(note)
	}
	b.deadline(v)
	if len(v.Phases) > 0 {
		b.section(timeline(v))
	}
	b.problems(v)
	b.console(v)
	b.context(v.timesLine(codeSpan))
	return b.done(), b.fit(fallbackText(title, status, n), maxFallback), b.truncated
}

// console adds a button that opens the service in the ModelArts console.
func (b *blockBuilder) console(v summaryView) {
	if v.Console == "" {
		return
	}
	text := slack.NewTextBlockObject(slack.PlainTextType, "ModelArts console", false, false)
	btn := slack.NewButtonBlockElement("console", "console", text)
	btn.URL = v.Console
	b.blocks = append(b.blocks, slack.NewActionBlock("console", btn))
}

// deadline adds, when ModelArts will fail the deployment, when.
func (b *blockBuilder) deadline(v summaryView) {
	if v.Deadline != "" {
		b.section(":alarm_clock: " + EscapeSlack(v.Deadline))
	}
	if v.Usual != "" {
		b.context(":straight_ruler: " + EscapeSlack(v.Usual))
	}
}

// problems adds the service's error message, the hint and its link, the
// abnormal (and warning) events, and the pod events or why they could not
// be read.
func (b *blockBuilder) problems(v summaryView) {
	if v.Error != "" {
		b.section("*Error*\n" + quote(b.fit(EscapeSlack(v.Error), maxSectionText-20)))
	}
	var help []string
	if v.Hint != "" {
		help = append(help, ":bulb: "+b.fit(EscapeSlack(v.Hint), maxSectionText-600))
	}
	if v.HelpURL != "" {
		// A plain URL, which Slack links itself: no link markup in any
		// message, so nothing can be forged (the URL comes from our own
		// table, and is shown only when it is safe to link).
		help = append(help, "Troubleshooting: "+v.HelpURL)
	}
	if len(help) > 0 {
		b.section(strings.Join(help, "\n"))
	}
	if len(v.Events.Lines) > 0 {
		b.section(b.quoteEvents(v.Events))
	}
	if len(v.Pods.Lines) > 0 {
		b.section(b.quoteEvents(v.Pods))
	}
	if v.PodError != "" {
		b.section(b.fit(EscapeSlack(v.PodError), maxErrorLine))
	}
}

// maxErrorLine bounds the line saying why pod events could not be read.
const maxErrorLine = 1000

// lineOverhead is room kept, per quoted line, for what surrounds a text:
// "\n> ", the time in a code span, a "warning" label and a count.
const lineOverhead = 60

// quoteEvents quotes a list of events under its heading ("*Abnormal
// events* (12), the last 10"), each cut to a readable length: the time in
// a code span, a warning labelled so, the text and its count ("×N"), and
// event_info_cn, when it says something else, on a line of its own.
func (b *blockBuilder) quoteEvents(l eventList) string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "*%s* (%d)%s", l.Name, l.Total, shownNote(len(l.Lines), l.Total))
	lines := 0
	for _, e := range l.Lines {
		lines++
		if e.Text2 != "" {
			lines++
		}
	}
	// Share the section among the lines so that the most recent event,
	// last, is never the one cut off.
	each := min(maxEventText, (maxSectionText-100)/lines-lineOverhead)
	for _, e := range l.Lines {
		sb.WriteString("\n> ")
		if e.When != "" {
			fmt.Fprintf(&sb, "`%s` ", e.When)
		}
		if e.Label != "" {
			sb.WriteString("*" + e.Label + "* ")
		}
		sb.WriteString(b.fit(EscapeSlack(e.Text), each) + e.Count)
		if e.Text2 != "" {
			sb.WriteString("\n> " + b.fit(EscapeSlack(e.Text2), each))
		}
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

// timeline renders the phases, one line each: mark, aligned name, duration
// and status (a stalled one in bold: ":warning: … *stalled*"), then the
// "between phases" and "total" lines when the view has them.
func timeline(v summaryView) string {
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
	for _, p := range v.Phases {
		status := "_" + EscapeSlack(p.State) + "_"
		if p.Status == PhaseStalled {
			status = "*" + EscapeSlack(p.State) + "*"
		}
		line(phaseEmoji(p.Status), EscapeSlack(p.Name), p.Duration, status)
	}
	if v.Between != "" {
		line(betweenPhasesEmoji, betweenPhasesLabel, v.Between, "_waiting_")
		line(totalEmoji, totalLabel, v.Total, "")
	}
	return sb.String()
}

// fallbackText is the plain-text version of a notification, one line:
// title, service, outcome (not yet escaped), duration, last abnormal event
// (both texts, and its count), then when ModelArts fails the deployment
// and the newest pod event (or why pod events could not be read).
func fallbackText(title, outcome string, n Notification) string {
	it, _ := newDigestItem(n, slackDigestBudget)
	text := fmt.Sprintf("%s: %s, %s", title, EscapeSlack(it.Service), EscapeSlack(outcome)) + afterDuration(n.Summary, outcome)
	var tail []string
	if it.Deadline != "" {
		tail = append(tail, EscapeSlack(it.Deadline))
	}
	if pod := digestPodQuote(it); pod != "" {
		tail = append(tail, pod)
	}
	if it.Event != "" {
		ev := EscapeSlack(it.Event)
		if len(tail) > 0 {
			// Leave room for what follows.
			ev, _ = truncateRunes(ev, maxFallback/3)
		}
		text += ": " + ev + it.EventCount
	}
	if len(tail) > 0 {
		text += " · " + strings.Join(tail, " · ")
	}
	return text
}

// slackDetailBlocks renders the thread reply that tells a deployment's
// thread what changed: the outcome, the error and events, the times.
func slackDetailBlocks(n Notification) (blocks []slack.Block, fallback string, truncated bool) {
	n.Summary = n.Summary.Bounded()
	v := newView(n, slackBudget)
	b := blockBuilder{truncated: v.cut}
	status := outcome(n.Summary)
	line := fmt.Sprintf("%s *%s*: %s", kindEmoji(n.Kind), n.Kind.Title(), EscapeSlack(status)) + afterDuration(n.Summary, status)
	b.section(line)
	b.deadline(v)
	b.problems(v)
	b.console(v)
	b.context(v.timesLine(codeSpan))
	return b.done(), b.fit(fallbackText(n.Kind.Title(), status, n), maxFallback), b.truncated
}

// DigestBlocks renders many notifications as one message: a header with
// the count and one line per notification (the first 20; the rest are
// counted).
func DigestBlocks(ns []Notification) (blocks []slack.Block, fallback string, truncated bool) {
	d := newDigestView(ns, slackDigestBudget)
	b := blockBuilder{truncated: d.cut}
	b.header(fmt.Sprintf(":bell: %d ModelArts notifications", d.Count))
	for _, it := range d.Items {
		b.section(digestLine(it))
	}
	if d.More > 0 {
		b.context(fmt.Sprintf("… and %d more", d.More))
	}
	fallback = fmt.Sprintf("%d ModelArts notifications: %s", d.Count, d.Counts)
	return b.done(), b.fit(fallback, maxFallback), b.truncated
}

// maxDigestEvent bounds one event quoted in a digest line (and the pod
// event in a fallback text).
const maxDigestEvent = 300

// digestLine is one notification in a digest: its title, service and
// outcome, when ModelArts fails it, its last abnormal event and its newest
// pod event (or why pod events could not be read).
func digestLine(it digestItem) string {
	line := fmt.Sprintf("%s *%s*: %s, %s", kindEmoji(it.Kind), it.Title, EscapeSlack(it.Service), EscapeSlack(it.Outcome))
	if it.Deadline != "" {
		line += " · " + EscapeSlack(it.Deadline)
	}
	if it.Event != "" {
		ev, _ := truncateRunes(EscapeSlack(it.Event), maxDigestEvent)
		line += "\n> " + ev + it.EventCount
	}
	if pod := digestPodQuote(it); pod != "" {
		line += "\n> " + pod
	}
	return line
}

// digestPodQuote is an item's newest pod event ("Pod " and its text, cut,
// and count), or why pod events could not be read, escaped; "" when
// neither.
func digestPodQuote(it digestItem) string {
	if it.Pod != "" {
		pod, _ := truncateRunes(EscapeSlack(it.Pod), maxDigestEvent)
		return "Pod " + pod + it.PodCount
	}
	if it.PodError != "" {
		msg, _ := truncateRunes(EscapeSlack(it.PodError), maxDigestEvent)
		return msg
	}
	return ""
}
