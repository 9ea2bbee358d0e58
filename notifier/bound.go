package notifier

import (
	"encoding/json"
	"fmt"
)

// MaxWebhookBody bounds a webhook body, in bytes: a longer body has events
// left out (and says how many) until it fits.
const MaxWebhookBody = 64 << 10

// Bounds of the summary's own strings in a webhook body, applied only when
// the body does not fit without any events.
const (
	maxBodyIDBytes    = 512 // project_id, service_id, service_name, model, service_status(_raw), phase, generation
	maxBodyPhaseBytes = 64  // one phase name
)

// omittedReserve is room kept for events_omitted, abnormal_events_omitted
// and pod_events_omitted when events are dropped.
const omittedReserve = 96

// webhookBody marshals n as a webhook body of at most [MaxWebhookBody]
// bytes. The summary is first [Summary.Bounded] (every event cut by
// [TruncateEvent], at most [MaxPodEvents] pod events). When the body is
// still too long, events are left out until it fits, in this order: the
// oldest entries of data.events but the first (the deployment's start),
// the oldest of data.pod_events but the newest, the oldest of
// data.abnormal_events but the newest, then the first event, then the
// newest pod event, then the newest abnormal event; the counts go into
// data.events_omitted, data.pod_events_omitted and
// data.abnormal_events_omitted. Without any event left, the summary's own
// strings are cut (error_msg at [MaxEventInfoBytes]).
// A body that still does not fit is an error, never sent. shortened
// reports whether anything was left out or cut beyond the per-event
// bounds.
//
// Each step drops, at once, as many events as their own JSON sizes say
// are needed, so a body is marshalled a few times, not once per event.
// Events are taken to be in time order, as a summary lists them (and as
// Bounded puts pod events).
func webhookBody(n Notification) (body []byte, shortened bool, err error) {
	if n.Project != nil {
		return projectWebhookBody(n)
	}
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
		case len(s.PodEvents) > 1:
			k := dropCount(s.PodEvents[:len(s.PodEvents)-1], need)
			s.PodEvents = s.PodEvents[k:]
			s.PodEventsOmitted += k
		case len(s.AbnormalEvents) > 1:
			k := dropCount(s.AbnormalEvents[:len(s.AbnormalEvents)-1], need)
			s.AbnormalEvents = s.AbnormalEvents[k:]
			s.AbnormalEventsOmitted += k
		case len(s.Events) == 1:
			s.Events = []Event{}
			s.EventsOmitted++
		case len(s.PodEvents) == 1:
			s.PodEvents = nil
			s.PodEventsOmitted++
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

// dropCount is how many of xs, from the first, must go to shorten the
// body by at least need bytes (each takes its JSON and a comma); at least
// one, at most len(xs).
func dropCount[T any](xs []T, need int) int {
	freed := 0
	for i, x := range xs {
		b, err := json.Marshal(x)
		if err != nil {
			return i + 1
		}
		freed += len(b) + 1
		if freed >= need {
			return i + 1
		}
	}
	return len(xs)
}

// cutSummaryStrings bounds the summary's own strings (a copy's: the
// phases are copied before their names are cut).
func cutSummaryStrings(s *Summary) {
	s.ErrorMsg, _ = cutBytes(s.ErrorMsg, MaxEventInfoBytes)
	for _, p := range []*string{&s.ProjectID, &s.ServiceID, &s.ServiceName, &s.Model, &s.ServiceStatus, &s.ServiceStatusRaw, &s.Phase, &s.Generation} {
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
