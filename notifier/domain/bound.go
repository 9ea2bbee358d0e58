package domain

import (
	"slices"
	"strings"
	"unicode/utf8"
)

// maxPodWordBytes bounds a pod event's reason and type.
const maxPodWordBytes = 512

// MaxEventInfoBytes bounds one event's event_info in every delivery
// (webhook, Slack, terminal): longer text is cut by [TruncateEvent].
const MaxEventInfoBytes = 4096

// ellipsis ends a text cut by [TruncateEvent]; it counts within the bound.
const ellipsis = "…"

// CutBytes makes s valid UTF-8 (invalid bytes become U+FFFD) and, when it
// is longer than limit bytes, cuts it on a rune boundary so that it and a
// trailing ellipsis fit in limit bytes. It reports whether it cut.
func CutBytes(s string, limit int) (string, bool) {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if len(s) <= limit {
		return s, false
	}
	keep := limit - len(ellipsis)
	for keep > 0 && !utf8.RuneStart(s[keep]) {
		keep--
	}
	return s[:keep] + ellipsis, true
}

// TruncateEvent returns e with EventInfo and EventInfoCN made valid UTF-8
// and each, when longer than [MaxEventInfoBytes] bytes, cut on a rune
// boundary to at most that many bytes, ending with "…" (within the bound);
// Truncated is set when either was cut. It is idempotent: an event it
// returns comes back unchanged.
func TruncateEvent(e Event) Event {
	var cut, cutCN bool
	e.EventInfo, cut = CutBytes(e.EventInfo, MaxEventInfoBytes)
	e.EventInfoCN, cutCN = CutBytes(e.EventInfoCN, MaxEventInfoBytes)
	e.Truncated = e.Truncated || cut || cutCN
	return e
}

// Bounded returns s with [TruncateEvent] applied to every event of
// AbnormalEvents and Events, and its pod events bounded: each message cut
// as event_info is (reason and type at 512 bytes), put in time order
// (oldest first, by last timestamp, else first; stable), and only the
// newest [MaxPodEvents] kept (PodEventsOmitted counts the rest), and
// PodEventsError cut as event_info is (without a flag). The lists
// are copies: s's own are never changed. Every destination applies it
// before formatting; callers may too (it is idempotent).
func (s Summary) Bounded() Summary {
	s.AbnormalEvents = truncateEvents(s.AbnormalEvents)
	s.Events = truncateEvents(s.Events)
	var dropped int
	s.PodEvents, dropped = boundPodEvents(s.PodEvents)
	s.PodEventsOmitted += dropped
	s.PodEventsError, _ = CutBytes(s.PodEventsError, MaxEventInfoBytes)
	return s
}

// boundPodEvents is a bounded, time-ordered copy of ps with at most
// MaxPodEvents entries, the newest, and how many older ones it left out.
func boundPodEvents(ps []PodEvent) ([]PodEvent, int) {
	if ps == nil {
		return nil, 0
	}
	out := make([]PodEvent, len(ps))
	for i, p := range ps {
		p.Message, _ = CutBytes(p.Message, MaxEventInfoBytes)
		p.Reason, _ = CutBytes(p.Reason, maxPodWordBytes)
		p.Type, _ = CutBytes(p.Type, maxPodWordBytes)
		out[i] = p
	}
	slices.SortStableFunc(out, func(a, b PodEvent) int { return PodEventTime(a).Compare(PodEventTime(b).Time) })
	dropped := max(len(out)-MaxPodEvents, 0)
	return out[dropped:], dropped
}

// PodEventTime is when a pod event last happened: its last timestamp,
// else its first (zero when it has neither).
func PodEventTime(p PodEvent) Time {
	if !p.LastTimestamp.IsZero() {
		return p.LastTimestamp
	}
	return p.FirstTimestamp
}

func truncateEvents(evs []Event) []Event {
	if evs == nil {
		return nil
	}
	out := make([]Event, len(evs))
	for i, e := range evs {
		out[i] = TruncateEvent(e)
	}
	return out
}
