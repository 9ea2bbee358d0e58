package notifier

import (
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"
)

// MaxEventInfoBytes bounds one event's event_info in every delivery
// (webhook, Slack, terminal): longer text is cut by [TruncateEvent].
const MaxEventInfoBytes = 4096

// MaxWebhookBody bounds a webhook body, in bytes: a longer body has events
// left out (and says how many) until it fits.
const MaxWebhookBody = 64 << 10

// ellipsis ends a text cut by [TruncateEvent]; it counts within the bound.
const ellipsis = "…"

// cutBytes makes s valid UTF-8 (invalid bytes become U+FFFD) and, when it
// is longer than limit bytes, cuts it on a rune boundary so that it and a
// trailing ellipsis fit in limit bytes. It reports whether it cut.
func cutBytes(s string, limit int) (string, bool) {
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

// TruncateEvent returns e with EventInfo made valid UTF-8 and, when longer
// than [MaxEventInfoBytes] bytes, cut on a rune boundary to at most that
// many bytes, ending with "…" (within the bound) and with Truncated set.
// It is idempotent: an event it returns comes back unchanged.
func TruncateEvent(e Event) Event {
	var cut bool
	e.EventInfo, cut = cutBytes(e.EventInfo, MaxEventInfoBytes)
	e.Truncated = e.Truncated || cut
	return e
}

// Bounded returns s with [TruncateEvent] applied to every event of
// AbnormalEvents and Events. The lists are copies: s's own are never
// changed. Every destination applies it before formatting; callers may
// too (it is idempotent).
func (s Summary) Bounded() Summary {
	s.AbnormalEvents = truncateEvents(s.AbnormalEvents)
	s.Events = truncateEvents(s.Events)
	return s
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

// Bounds of the summary's own strings in a webhook body, applied only when
// the body does not fit without any events.
const (
	maxBodyIDBytes    = 512 // project_id, service_id, service_name, model, service_status, phase
	maxBodyPhaseBytes = 64  // one phase name
)

// omittedReserve is room kept for events_omitted and
// abnormal_events_omitted when events are dropped.
const omittedReserve = 64

// webhookBody marshals n as a webhook body of at most [MaxWebhookBody]
// bytes. Every event is cut by [TruncateEvent]. When the body is still too
// long, events are left out until it fits, in this order: the oldest
// entries of data.events but the first (the deployment's start), the
// oldest of data.abnormal_events but the newest, then the first event,
// then the newest abnormal event; the counts go into data.events_omitted
// and data.abnormal_events_omitted. Without any event left, the summary's
// own strings are cut (error_msg at [MaxEventInfoBytes]). A body that
// still does not fit is an error, never sent. shortened reports whether
// anything was left out or cut beyond the per-event bound.
//
// Each step drops, at once, as many events as their own JSON sizes say
// are needed, so a body is marshalled a few times, not once per event.
// Events are taken to be in time order, as a summary lists them.
func webhookBody(n Notification) (body []byte, shortened bool, err error) {
	n.Summary = n.Summary.Bounded()
	s := &n.Summary
	stringsCut := false
	for {
		body, err = json.Marshal(n)
		if err != nil {
			return nil, false, err
		}
		if len(body) <= MaxWebhookBody {
			return body, shortened, nil
		}
		shortened = true
		need := len(body) - MaxWebhookBody + omittedReserve
		switch {
		case len(s.Events) > 1:
			k := dropCount(s.Events[1:], need)
			s.Events = append([]Event{s.Events[0]}, s.Events[1+k:]...)
			s.EventsOmitted += k
		case len(s.AbnormalEvents) > 1:
			k := dropCount(s.AbnormalEvents[:len(s.AbnormalEvents)-1], need)
			s.AbnormalEvents = s.AbnormalEvents[k:]
			s.AbnormalEventsOmitted += k
		case len(s.Events) == 1:
			s.Events = []Event{}
			s.EventsOmitted++
		case len(s.AbnormalEvents) == 1:
			s.AbnormalEvents = []Event{}
			s.AbnormalEventsOmitted++
		case !stringsCut:
			stringsCut = true
			cutSummaryStrings(s)
		default:
			return nil, true, fmt.Errorf("body of %d bytes exceeds %d bytes even without events", len(body), MaxWebhookBody)
		}
	}
}

// dropCount is how many of evs, from the first, must go to shorten the
// body by at least need bytes (each takes its JSON and a comma); at least
// one, at most len(evs).
func dropCount(evs []Event, need int) int {
	freed := 0
	for i, e := range evs {
		b, err := json.Marshal(e)
		if err != nil {
			return i + 1
		}
		freed += len(b) + 1
		if freed >= need {
			return i + 1
		}
	}
	return len(evs)
}

// cutSummaryStrings bounds the summary's own strings (a copy's: the
// phases are copied before their names are cut).
func cutSummaryStrings(s *Summary) {
	s.ErrorMsg, _ = cutBytes(s.ErrorMsg, MaxEventInfoBytes)
	for _, p := range []*string{&s.ProjectID, &s.ServiceID, &s.ServiceName, &s.Model, &s.ServiceStatus, &s.Phase} {
		*p, _ = cutBytes(*p, maxBodyIDBytes)
	}
	if s.Phases != nil {
		ps := make([]Phase, len(s.Phases))
		copy(ps, s.Phases)
		for i := range ps {
			ps[i].Name, _ = cutBytes(ps[i].Name, maxBodyPhaseBytes)
		}
		s.Phases = ps
	}
}
