package notifier

// The markdown that DingTalk's and WeCom's robots take: a small subset
// (headings, bold, quotes, links), with each platform's own line breaks.

import (
	"strconv"
	"strings"
)

// mdFlavor is one platform's markdown.
type mdFlavor struct {
	// br separates lines: DingTalk renders a single "\n" as a space.
	br string
	// keyword starts the heading (a DingTalk keyword-security robot
	// refuses a message without one of its keywords); "" for none.
	keyword string
	// subtle wraps the closing line in the platform's de-emphasis.
	subtle func(string) string
}

// keywordMark is how the keyword starts a heading or a title.
func (f mdFlavor) keywordMark() string {
	if f.keyword == "" {
		return ""
	}
	return "【" + f.keyword + "】"
}

// chatMarkdown renders a view as markdown: heading, facts, deadline,
// timeline, error, hint (with a Troubleshooting link), events, pod events
// and times. Every ModelArts text is escaped with [EscapeChat].
func chatMarkdown(v summaryView, f mdFlavor) string {
	e := EscapeChat
	var lines []string
	add := func(s string) { lines = append(lines, s) }
	add("#### " + f.keywordMark() + chatKindIcon(v.Kind) + " " + e(v.Title))
	for _, fact := range chatFacts(v) {
		add("**" + fact.Label + ":** " + e(fact.Value))
	}
	if v.Deadline != "" {
		add("⏰ " + e(v.Deadline))
	}
	if v.Usual != "" {
		add("📏 " + e(v.Usual))
	}
	if len(v.Phases) > 0 {
		add("**Timeline**")
		for _, p := range v.Phases {
			add(chatPhaseIcon(p.Status) + " " + e(p.Name) + " · " + p.Duration + " · " + e(p.State))
		}
	}
	if v.Error != "" {
		add("**Error**")
		add("> " + e(v.Error))
	}
	if v.Hint != "" || v.HelpURL != "" {
		hint := "💡 " + e(v.Hint)
		if v.HelpURL != "" {
			hint += " [Troubleshooting](" + v.HelpURL + ")"
		}
		add(hint)
	}
	if v.Console != "" {
		add("[Open in the ModelArts console](" + v.Console + ")")
	}
	for _, l := range []eventList{v.Events, v.Pods} {
		if l.Total > 0 {
			add("**" + e(l.Heading()) + "**")
			mdLines(l.Lines, add)
		}
	}
	if v.PodError != "" {
		add(e(v.PodError))
	}
	times := e(chatTimes(v))
	if f.subtle != nil {
		times = f.subtle(times)
	}
	add(times)
	return strings.Join(lines, f.br)
}

// mdLines quotes events, one a line: "time · warning · text ×N", the
// second text on a line of its own.
func mdLines(ls []eventLine, add func(string)) {
	for _, l := range ls {
		line := "> "
		if l.When != "" {
			line += l.When + " · "
		}
		if l.Label != "" {
			line += "**" + l.Label + "** · "
		}
		add(line + EscapeChat(l.Text) + l.Count)
		if l.Text2 != "" {
			add("> " + EscapeChat(l.Text2))
		}
	}
}

// chatDigestMarkdown renders a digest as markdown.
func chatDigestMarkdown(d digestView, f mdFlavor) string {
	e := EscapeChat
	lines := []string{"#### " + f.keywordMark() + chatDigestTitle(d), e(d.Counts)}
	for _, it := range d.Items {
		lines = append(lines, chatKindIcon(it.Kind)+" "+e(it.Line))
		for _, q := range []string{it.EventQuote(), it.PodQuote()} {
			if q != "" {
				lines = append(lines, "> "+e(q))
			}
		}
	}
	if d.More > 0 {
		lines = append(lines, "… and "+strconv.Itoa(d.More)+" more")
	}
	return strings.Join(lines, f.br)
}

// markdownWithin renders n at the first budget whose markdown is at most
// limit bytes, else cuts the tightest rendering to limit bytes (in runes,
// ending with truncationMark); cut reports whether anything was cut.
func markdownWithin(n Notification, f mdFlavor, limit int) (text string, cut bool) {
	if n.Project != nil {
		return projectMarkdown(n.Project, f, limit)
	}
	n.Summary = n.Summary.Bounded()
	text, cut, ok := fitChat(len(chatBudgets), func(level int) (string, bool) {
		v := newView(n, chatBudgets[level])
		return chatMarkdown(v, f), v.cut
	}, func(s any) int { return len(s.(string)) }, limit)
	if !ok {
		text, _ = cutContent(text, limit)
	}
	return text, cut
}

// digestMarkdownWithin is markdownWithin for a digest.
func digestMarkdownWithin(ns []Notification, f mdFlavor, limit int) (text string, cut bool) {
	ns = boundAll(ns)
	text, cut, ok := fitChat(len(chatDigestBudgets), func(level int) (string, bool) {
		d := newDigestView(ns, chatDigestBudgets[level])
		return chatDigestMarkdown(d, f), d.cut
	}, func(s any) int { return len(s.(string)) }, limit)
	if !ok {
		text, _ = cutContent(text, limit)
	}
	return text, cut
}
