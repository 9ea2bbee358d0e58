package notifier

import (
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Title is a short human title for a kind, e.g. "Deployment failed".
func (k Kind) Title() string {
	switch k {
	case KindSucceeded:
		return "Deployment succeeded"
	case KindFailed:
		return "Deployment failed"
	case KindStalled:
		return "Deployment stalled"
	case KindRecovered:
		return "Deployment recovered"
	case KindAbnormal:
		return "Abnormal events"
	case KindReport:
		return "Deployment report"
	}
	return string(k)
}

// FormatDuration writes a duration in milliseconds for people: "17ms",
// "20.2s", "1m21s", "2h05m".
func FormatDuration(ms int64) string {
	d := time.Duration(ms) * time.Millisecond
	switch {
	case d < 0:
		return "-" + FormatDuration(-ms)
	case d < time.Second:
		return fmt.Sprintf("%dms", ms)
	case d < time.Minute:
		return fmt.Sprintf("%.1fs", d.Seconds())
	case d < time.Hour:
		return fmt.Sprintf("%dm%02ds", int(d.Minutes()), int(d.Seconds())%60)
	}
	return fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
}

// duration is FormatDuration of p, or "-" when unknown.
func duration(p *int64) string {
	if p == nil {
		return "-"
	}
	return FormatDuration(*p)
}

// humanTime writes a Time as "2026-11-28 12:00:00 UTC", or "" when zero.
func humanTime(t Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02 15:04:05 MST")
}

// eventTime is the time of an event, as humanTime.
func eventTime(e Event) string { return humanTime(FromMillis(e.OccurTime)) }

// truncationMark ends every text that was cut.
const truncationMark = "… (truncated)"

// truncateRunes cuts s to at most max runes, ending it with an ellipsis and
// a note that it was cut, and reports whether it did.
func truncateRunes(s string, max int) (string, bool) {
	if utf8.RuneCountInString(s) <= max {
		return s, false
	}
	keep := max - utf8.RuneCountInString(truncationMark)
	if keep < 0 {
		// No room for the note: the ellipsis alone.
		return string([]rune(s)[:max-1]) + "…", true
	}
	cut := string([]rune(s)[:keep])
	// Do not leave half an escape entity (&lt;) behind.
	if i := strings.LastIndexByte(cut, '&'); i >= 0 && i >= len(cut)-4 && !strings.Contains(cut[i:], ";") {
		cut = cut[:i]
	}
	return cut + truncationMark, true
}

// clean repairs invalid UTF-8 and drops control characters (terminal
// escapes and the like), keeping newlines and tabs.
func clean(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if strings.IndexFunc(s, isUnwantedControl) < 0 {
		return s
	}
	return strings.Map(func(r rune) rune {
		if isUnwantedControl(r) {
			return -1
		}
		return r
	}, s)
}

func isUnwantedControl(r rune) bool {
	return r != '\n' && r != '\t' && unicode.IsControl(r)
}

// oneLine cleans s and folds its whitespace into single spaces.
func oneLine(s string) string { return strings.Join(strings.Fields(clean(s)), " ") }

// outcome is the one-line status of a summary, e.g. "failed in scheduling".
func outcome(s Summary) string {
	status := strings.ReplaceAll(string(s.Status), "_", " ")
	if s.Phase == "" {
		return status
	}
	switch s.Status {
	case StatusFailed, StatusStalled:
		return status + " in " + s.Phase
	case StatusRecovered:
		return "recovered, now in " + s.Phase
	}
	return status + ", " + s.Phase
}
