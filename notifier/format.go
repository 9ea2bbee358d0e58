package notifier

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// FormatDuration writes a duration in milliseconds for people, in one
// format used by every rendering (terminal, Slack): the largest unit and
// the next one, the smaller rounded half up, a zero smaller unit left out:
// "850ms", "15s", "2m15s", "2m", "1h5m", "3d4h", "7d" ("0s" for zero, a
// leading "-" when negative). Below a second it is exact milliseconds;
// above, it is rounded to whole seconds, then (from an hour) to minutes,
// then (from a day) to hours, so 59.6s reads "1m" and 23h59m40s "1d". It
// is the notation of the functions' duration settings (days, then Go's
// units, no trailing zero unit), so a value read back is the rounded one.
func FormatDuration(ms int64) string {
	if ms < 0 {
		if ms == math.MinInt64 {
			ms++ // one millisecond off, to negate
		}
		return "-" + FormatDuration(-ms)
	}
	const (
		second = 1000
		minute = 60 * second
		hour   = 60 * minute
		day    = 24 * hour
	)
	switch {
	case ms == 0:
		return "0s"
	case ms < second:
		return strconv.FormatInt(ms, 10) + "ms"
	}
	if s := roundDiv(ms, second); s < 60 {
		return strconv.FormatInt(s, 10) + "s"
	} else if s < 60*60 {
		return twoUnits(s/60, "m", s%60, "s")
	}
	if m := roundDiv(ms, minute); m < 24*60 {
		return twoUnits(m/60, "h", m%60, "m")
	}
	h := roundDiv(ms, hour)
	return twoUnits(h/24, "d", h%24, "h")
}

// roundDiv is n/d rounded half up, for n >= 0 and d > 0, without overflow.
func roundDiv(n, d int64) int64 {
	q, r := n/d, n%d
	if r >= d-d/2 {
		q++
	}
	return q
}

// twoUnits writes "2m15s", or "2m" when the smaller unit is zero.
func twoUnits(big int64, bigUnit string, small int64, smallUnit string) string {
	s := strconv.FormatInt(big, 10) + bigUnit
	if small != 0 {
		s += strconv.FormatInt(small, 10) + smallUnit
	}
	return s
}

// duration is FormatDuration of p, or "-" when unknown.
func duration(p *int64) string {
	if p == nil {
		return "-"
	}
	return FormatDuration(*p)
}

// betweenPhases is how long the deployment spent in no phase (waiting
// before, between or after its phases): its duration less the durations
// of its phases. ok is false when there are no phases, the duration is
// unknown or less than a second is left over (a few milliseconds between
// two events are not worth a row: the table adds up as shown).
func betweenPhases(s Summary) (ms int64, ok bool) {
	if s.DurationMS == nil || len(s.Phases) == 0 {
		return 0, false
	}
	ms = *s.DurationMS
	for _, p := range s.Phases {
		if p.DurationMS != nil {
			ms -= *p.DurationMS
		}
	}
	return ms, ms >= minBetweenPhases
}

// minBetweenPhases is the least time between phases worth a row.
const minBetweenPhases = 1000

// betweenPhasesLabel names the phase table's row of the time between
// phases; totalLabel its total row.
const (
	betweenPhasesLabel = "between phases"
	totalLabel         = "total"
)

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

// outcome is the one-line status of a summary, e.g. "failed in
// scheduling", "succeeded in 2m15s" (a success says how long it took, not
// its last phase).
func outcome(s Summary) string {
	status := strings.ReplaceAll(string(s.Status), "_", " ")
	if s.Status == StatusSucceeded {
		if s.DurationMS != nil {
			return status + " in " + FormatDuration(*s.DurationMS)
		}
		return status
	}
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

// afterDuration is " after 1m21s", the duration to follow the outcome
// line status, or "" when the duration is unknown or status already ends
// with it ("succeeded in 2m15s").
func afterDuration(s Summary, status string) string {
	if s.DurationMS == nil {
		return ""
	}
	d := FormatDuration(*s.DurationMS)
	if strings.HasSuffix(status, " in "+d) {
		return ""
	}
	return " after " + d
}

// isWarning reports whether e is a v2 WARNING event.
func isWarning(e Event) bool { return strings.EqualFold(e.EventType, eventTypeWarning) }

// eventTexts is an event's text, cleaned to one line each: event_info,
// then event_info_cn when it is set and says something else; event_info_cn
// alone when event_info is empty.
func eventTexts(e Event) (first, second string) {
	first, second = oneLine(e.EventInfo), oneLine(e.EventInfoCN)
	if first == "" {
		return second, ""
	}
	if second == first {
		second = ""
	}
	return first, second
}

// countMark is " ×N" for an event seen N > 1 times, else "".
func countMark(n int) string {
	if n > 1 {
		return fmt.Sprintf(" ×%d", n)
	}
	return ""
}

// eventText is an event's text on one line: both texts joined by " / ",
// e.g. "Insufficient resources. / 资源不足。" (not escaped; no count).
func eventText(e Event) string {
	first, second := eventTexts(e)
	if second != "" {
		first += " / " + second
	}
	return first
}

// serviceStatusText is the ModelArts status to show: the normalised one
// and, when set and different, the raw one, e.g. "deploying (UPGRADING)".
func serviceStatusText(s Summary) string {
	st, raw := oneLine(s.ServiceStatus), oneLine(s.ServiceStatusRaw)
	switch {
	case raw == "" || strings.EqualFold(raw, st):
		return st
	case st == "":
		return raw
	}
	return st + " (" + raw + ")"
}

// failsAtText says when ModelArts will fail the deployment, e.g.
// "ModelArts fails it at 12:40 UTC (deploy timeout 20 min)", or "" when
// FailsAt is not set. The date is shown too when it is not ref's (UTC).
func failsAtText(s Summary, ref Time) string {
	if s.FailsAt.IsZero() {
		return ""
	}
	t := s.FailsAt.UTC()
	layout := "15:04 MST"
	if ref.IsZero() || ref.UTC().Format(time.DateOnly) != t.Format(time.DateOnly) {
		layout = "2006-01-02 15:04 MST"
	}
	text := "ModelArts fails it at " + t.Format(layout)
	if s.DeployTimeoutMinutes > 0 {
		text += fmt.Sprintf(" (deploy timeout %d min)", s.DeployTimeoutMinutes)
	}
	return text
}

// failsAtRef is the day a deadline is read against: the notification's,
// else the deployment's start.
func failsAtRef(n Notification) Time {
	if !n.Timestamp.IsZero() {
		return n.Timestamp
	}
	return n.Summary.StartedAt
}

// podEventText is a pod event on one line, "Reason: message", cleaned of
// control characters (not escaped; no count).
func podEventText(p PodEvent) string {
	reason, msg := oneLine(p.Reason), oneLine(p.Message)
	switch {
	case reason == "":
		return msg
	case msg == "":
		return reason
	}
	return reason + ": " + msg
}

// podCountMark is " (×N)" for a pod event seen N > 1 times, else "".
func podCountMark(n int) string {
	if n > 1 {
		return fmt.Sprintf(" (×%d)", n)
	}
	return ""
}

// podEventsErrorText is the line shown when pod events could not be read.
func podEventsErrorText(s Summary) string {
	return "Pod events could not be read: " + oneLine(s.PodEventsError)
}

// eventsHeading names a list of abnormal events by what it holds:
// "Abnormal events", "Warning events" or "Abnormal and warning events".
func eventsHeading(evs []Event) string {
	warn := 0
	for _, e := range evs {
		if isWarning(e) {
			warn++
		}
	}
	switch warn {
	case 0:
		return "Abnormal events"
	case len(evs):
		return "Warning events"
	}
	return "Abnormal and warning events"
}

// cutContent cuts s, when longer than limit bytes, on a rune boundary so
// that it and truncationMark fit in limit bytes, and reports whether it did.
func cutContent(s string, limit int) (string, bool) {
	if len(s) <= limit {
		return s, false
	}
	keep := max(limit-len(truncationMark), 0)
	for keep > 0 && !utf8.RuneStart(s[keep]) {
		keep--
	}
	return s[:keep] + truncationMark, true
}
