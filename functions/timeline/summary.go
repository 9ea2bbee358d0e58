package timeline

import (
	"time"

	"github.com/modelarts-notifier/modelarts-notifier/eventsapi/model"
	"github.com/modelarts-notifier/modelarts-notifier/notifier/domain"
)

// MaxSummaryEvents caps the events and the abnormal events of a summary, to
// bound the size of a webhook body. The most recent ones are kept; a
// deployment's events also keep its first (start) event.
const MaxSummaryEvents = 100

// Summary converts d into the notifier's deployment summary for the service
// svc of project projectID. Durations of a deployment or phase still open run
// up to now; a phase that never began has no duration. Events are capped to
// MaxSummaryEvents (the first event and the most recent others), abnormal
// events to the most recent MaxSummaryEvents. Slices are never nil.
func (d Deployment) Summary(projectID string, svc model.Service, now time.Time) domain.Summary {
	nowMS := now.UnixMilli()
	s := domain.Summary{
		ProjectID:      projectID,
		ServiceID:      svc.ServiceID,
		ServiceName:    svc.ServiceName,
		Status:         d.Outcome.Status(),
		Phase:          d.Phase,
		Model:          d.Model,
		ServiceStatus:  svc.Status,
		ErrorMsg:       d.ErrorMsg,
		StartedAt:      domain.FromMillis(d.Start),
		Phases:         make([]domain.Phase, numPhases),
		AbnormalEvents: Events(lastN(d.Abnormal, MaxSummaryEvents)),
		Events:         Events(capKeepFirst(d.Events, MaxSummaryEvents)),
	}
	s.Hint, s.HelpURL = d.Hint, d.HelpURL
	// One array backs every duration pointer.
	durations := make([]int64, numPhases+1)
	end := d.End
	if end != 0 {
		s.EndedAt = domain.FromMillis(end)
	} else {
		end = nowMS
	}
	durations[numPhases] = max(end-d.Start, 0)
	s.DurationMS = &durations[numPhases]
	for i, ph := range d.Phases {
		p := domain.Phase{Name: ph.Name, Status: ph.Status}
		if ph.Start != 0 {
			p.StartedAt = domain.FromMillis(ph.Start)
			phEnd := ph.End
			if phEnd != 0 {
				p.EndedAt = domain.FromMillis(phEnd)
			} else {
				phEnd = end
			}
			durations[i] = max(phEnd-ph.Start, 0)
			p.DurationMS = &durations[i]
		}
		s.Phases[i] = p
	}
	return s
}

// RuntimeSummary is the summary of runtime events evs (events outside any
// deployment; the caller passes the abnormal ones) of the service svc: status
// abnormal, no phase, an empty phase list (they belong to no deployment),
// and evs as both the abnormal events and the events, capped to the most
// recent MaxSummaryEvents. ErrorMsg is the service's error_msg when its status
// is failed (or v2 ERROR). Slices are never nil.
func RuntimeSummary(projectID string, svc model.Service, evs []model.Event) domain.Summary {
	evs = lastN(evs, MaxSummaryEvents)
	s := domain.Summary{
		ProjectID:      projectID,
		ServiceID:      svc.ServiceID,
		ServiceName:    svc.ServiceName,
		Status:         domain.StatusAbnormal,
		ServiceStatus:  svc.Status,
		Phases:         []domain.Phase{},
		AbnormalEvents: Events(evs),
		Events:         Events(evs),
	}
	if failedStatus(svc) {
		s.ErrorMsg = svc.ErrorMsg
	}
	// The hint of the newest event that has one.
	for i := len(evs) - 1; i >= 0 && s.Hint == ""; i-- {
		s.Hint, s.HelpURL = HintFor(evs[i])
	}
	return s
}

// Events returns evs (the API's) as the domain shows them, each
// event_info cut at domain.MaxEventInfoBytes (marked truncated), never
// nil: the one place an event changes type.
func Events(evs []model.Event) []domain.Event {
	out := make([]domain.Event, len(evs))
	for i, e := range evs {
		out[i] = domain.TruncateEvent(domain.Event{
			ID: e.ID, EventType: e.EventType, EventInfo: e.EventInfo, EventInfoCN: e.EventInfoCN,
			EventCount: e.Count, OccurTime: e.OccurTime, LastOccurTime: e.LastOccurTime,
		})
	}
	return out
}

// lastN returns the last n of evs.
func lastN(evs []model.Event, n int) []model.Event {
	if len(evs) > n {
		return evs[len(evs)-n:]
	}
	return evs
}

// capKeepFirst returns evs capped to n: the first event and the last n-1.
func capKeepFirst(evs []model.Event, n int) []model.Event {
	if len(evs) <= n {
		return evs
	}
	out := make([]model.Event, 0, n)
	out = append(out, evs[0])
	return append(out, evs[len(evs)-n+1:]...)
}
