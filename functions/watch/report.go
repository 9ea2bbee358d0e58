package watch

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/modelarts-notifier/modelarts-notifier/eventsapi"
	"github.com/modelarts-notifier/modelarts-notifier/functions/duration"
	"github.com/modelarts-notifier/modelarts-notifier/functions/timeline"
	"github.com/modelarts-notifier/modelarts-notifier/notifier"
)

// Report is a one-off report of one service: every deployment in a window.
// It is what the report function returns (its JSON is documented in the
// README).
type Report struct {
	Type          notifier.Kind      `json:"type"`
	GeneratedAt   notifier.Time      `json:"generated_at"`
	ProjectID     string             `json:"project_id"`
	ServiceID     string             `json:"service_id"`
	ServiceName   string             `json:"service_name"`
	ServiceStatus string             `json:"service_status"`
	Since         string             `json:"since"`
	From          notifier.Time      `json:"from"`
	EventsRead    int                `json:"events_read"`
	Deployments   []notifier.Summary `json:"deployments"`
	// RuntimeEvents are the events outside any deployment, verbatim.
	RuntimeEvents []notifier.Event `json:"runtime_events"`
}

// MaxReportWindow bounds a report's window.
const MaxReportWindow = 31 * 24 * time.Hour

// ParseSince reads a report window: a duration ("90m", "24h") or days
// ("7d", "1d12h"); empty means 24h.
func ParseSince(s string) (time.Duration, error) {
	if s == "" {
		return 24 * time.Hour, nil
	}
	d, err := duration.Parse(s)
	if err != nil {
		return 0, fmt.Errorf("since %q: not a duration such as 24h or 7d", s)
	}
	if d <= 0 || d > MaxReportWindow {
		return 0, fmt.Errorf("since %q: must be positive and at most %s", s, duration.Format(MaxReportWindow))
	}
	return d, nil
}

// BuildReport reads a service's details and its events of the window and
// summarises every deployment in it. generation is "v1", "v2" or "" (find
// out: v2 first, then v1).
func BuildReport(ctx context.Context, api API, projectID, serviceID, generation, since string, now time.Time, th timeline.Thresholds) (*Report, error) {
	window, err := ParseSince(since)
	if err != nil {
		return nil, err
	}
	if since == "" {
		since = "24h"
	}
	svc, err := api.LookupService(ctx, serviceID, generation)
	if err != nil {
		return nil, err // the client's error names the service
	}
	from := now.Add(-window)
	var events []eventsapi.Event
	read := api.Events(ctx, serviceID, eventsapi.EventsQuery{StartTime: from.UnixMilli()})
	if svc.Generation == eventsapi.GenerationV2 {
		read = api.EventsV2(ctx, serviceID, from.UnixMilli())
	}
	for e, err := range read {
		if err != nil {
			return nil, err
		}
		events = append(events, e)
	}
	if th == nil {
		th = timeline.DefaultThresholds()
	}
	tl := timeline.Build(events, *svc, now, th)
	r := &Report{
		Type:          notifier.KindReport,
		GeneratedAt:   notifier.At(now.UTC()),
		ProjectID:     projectID,
		ServiceID:     svc.ServiceID,
		ServiceName:   svc.ServiceName,
		ServiceStatus: svc.Status,
		Since:         since,
		From:          notifier.At(from.UTC()),
		EventsRead:    len(events),
		Deployments:   make([]notifier.Summary, 0, len(tl.Deployments)),
		RuntimeEvents: make([]notifier.Event, 0, len(tl.Runtime)),
	}
	if r.ServiceID == "" {
		r.ServiceID = serviceID
	}
	for i, d := range tl.Deployments {
		s := deploymentSummary(projectID, *svc, d, now)
		// The latest v2 deployment that failed or stalled: its Warning pod
		// events say why (one request).
		if i == len(tl.Deployments)-1 && svc.Generation == eventsapi.GenerationV2 && svc.DeploymentName != "" &&
			(d.Outcome == notifier.OutcomeFailed || d.Outcome == notifier.OutcomeStalled) {
			end := d.End
			if end == 0 {
				end = now.UnixMilli()
			}
			evs, err := api.PodEvents(ctx, serviceID, svc.DeploymentName, d.Start, max(end, d.Start))
			if err != nil {
				s.PodEventsError = err.Error()
			}
			s.PodEvents = warnings(evs)
		}
		r.Deployments = append(r.Deployments, s)
	}
	r.RuntimeEvents = append(r.RuntimeEvents, timeline.Events(tl.Runtime)...)
	return r, nil
}

// Notifications turns a report into deployment.report notifications, one per
// deployment in the window (none when it had none). Their IDs are unique to
// this report.
func (r *Report) Notifications() []notifier.Notification {
	out := make([]notifier.Notification, 0, len(r.Deployments))
	for i, s := range r.Deployments {
		out = append(out, notifier.Notification{
			ID:        notificationID(r.ServiceID, string(notifier.KindReport), r.GeneratedAt.Format(time.RFC3339Nano), strconv.Itoa(i)),
			Kind:      notifier.KindReport,
			Timestamp: r.GeneratedAt,
			Summary:   s,
		})
	}
	return out
}

// warnings are the Warning pod events of evs, in the notifier's shape.
func warnings(evs []eventsapi.PodEvent) []notifier.PodEvent {
	var out []notifier.PodEvent
	for _, e := range evs {
		if strings.EqualFold(e.Type, "Warning") {
			out = append(out, notifier.PodEvent{Type: e.Type, Reason: e.Reason, Message: e.Message, Count: e.Count,
				FirstTimestamp: notifier.At(e.FirstTimestamp), LastTimestamp: notifier.At(e.LastTimestamp)})
		}
	}
	return out
}
