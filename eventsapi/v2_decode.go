package eventsapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// v2Statuses maps the v2 statuses (MODELARTS-V2.md, "Statuses") onto the
// v1 set. The rows marked inferred there are our reading: UPGRADING is a
// deployment under way, INIT waits to be deployed, INTERRUPTING stops,
// DELETED is gone, RESTARTING deploys again, and ERROR (no v1 twin) is an
// alarm unless a deployment is open, which the caller decides with
// RawStatus.
var v2Statuses = map[string]string{
	"DEPLOYING":    StatusDeploying,
	"RUNNING":      StatusRunning,
	"FAILED":       StatusFailed,
	"STOPPED":      StatusStopped,
	"STOPPING":     StatusStopping,
	"DELETING":     StatusDeleting,
	"CONCERNING":   StatusConcerning,
	"UPGRADING":    StatusDeploying,
	"INIT":         StatusPending,
	"INTERRUPTING": StatusStopping,
	"DELETED":      StatusDeleting,
	"RESTARTING":   StatusDeploying,
	RawStatusError: StatusConcerning,
}

// NormalizeV2Status maps a v2 service (or deployment) status onto the v1
// statuses: DEPLOYING, UPGRADING and RESTARTING → deploying; RUNNING →
// running; FAILED → failed; STOPPED → stopped; STOPPING and INTERRUPTING →
// stopping; DELETING and DELETED → deleting; CONCERNING and ERROR →
// concerning; INIT → pending. The match ignores case and surrounding
// space; any other value is returned lower-cased, never dropped.
//
// ERROR has no v1 twin: a caller with a deployment open treats RawStatus
// == RawStatusError as its failure.
func NormalizeV2Status(raw string) string {
	raw = strings.TrimSpace(raw)
	if s, ok := v2Statuses[strings.ToUpper(raw)]; ok {
		return s
	}
	return strings.ToLower(raw)
}

// v2Page is one page of a v2 list answer: {current, pages, size, total,
// data}. Only total and data are used (size means the page's count in
// one place and the page size in another).
type v2Page[T any] struct {
	Total int `json:"total"`
	Data  []T `json:"data"`
}

// wireEventV2 is one record of GET /v2/.../services/{id}/events.
type wireEventV2 struct {
	ID          string `json:"id"`
	EventType   string `json:"event_type"`
	EventInfo   string `json:"event_info"`
	EventInfoCN string `json:"event_info_cn"`
	EventCount  millis `json:"event_count"`
	CreateAt    millis `json:"create_at"`
	UpdateAt    millis `json:"update_at"`
}

// decodeEventsPageV2 decodes a v2 events answer. create_at and update_at
// are accepted as numbers or numeric strings; when one is missing the
// other stands in for it, when both are (or one is unusable) the record's
// index is named in a *DecodeError. event_count is at least 1.
func decodeEventsPageV2(data []byte) (total int, evs []Event, err error) {
	var w v2Page[wireEventV2]
	if err := json.Unmarshal(data, &w); err != nil {
		return 0, nil, fmt.Errorf("decode v2 events page: %w", err)
	}
	evs = make([]Event, len(w.Data))
	for i := range w.Data {
		we := &w.Data[i]
		for _, f := range [...]struct {
			name string
			m    *millis
		}{{"create_at", &we.CreateAt}, {"update_at", &we.UpdateAt}} {
			if f.m.set && f.m.bad != "" {
				return 0, nil, fmt.Errorf("decode v2 events page: %w", &DecodeError{
					Field: fmt.Sprintf("data[%d].%s", i, f.name), Value: f.m.bad, Reason: f.m.reason,
				})
			}
		}
		first, last := we.CreateAt.ms, we.UpdateAt.ms
		switch {
		case !we.CreateAt.set && !we.UpdateAt.set:
			return 0, nil, fmt.Errorf("decode v2 events page: %w", &DecodeError{
				Field: fmt.Sprintf("data[%d].update_at", i), Value: "nothing", Reason: "missing (and no create_at)",
			})
		case !we.CreateAt.set:
			first = last
		case !we.UpdateAt.set:
			last = first
		}
		evs[i] = Event{
			EventType:     strings.ToLower(we.EventType),
			EventInfo:     we.EventInfo,
			OccurTime:     first,
			ID:            we.ID,
			EventInfoCN:   we.EventInfoCN,
			Count:         max(int(min(we.EventCount.ms, 1<<31-1)), 1),
			LastOccurTime: max(last, first),
		}
	}
	return w.Total, evs, nil
}

// wireServiceV2 is a v2 service: an entry of the list or the details.
// version is an object in the details; it is kept raw so that a list entry
// holding something else there cannot fail the read.
type wireServiceV2 struct {
	ID                   string          `json:"id"`
	Name                 string          `json:"name"`
	Status               string          `json:"status"`
	FailureReason        string          `json:"failure_reason"`
	DeployTimeoutMinutes millis          `json:"deploy_timeout_minutes"`
	Description          string          `json:"description"`
	Type                 string          `json:"type"`
	UpdateAt             millis          `json:"update_at"`
	Version              json.RawMessage `json:"version"`
}

type wireVersionV2 struct {
	DeployTimeoutMinutes millis `json:"deploy_timeout_minutes"`
	InstanceGroups       []struct {
		Name     string `json:"name"`
		CreateAt millis `json:"create_at"`
		UpdateAt millis `json:"update_at"`
	} `json:"instance_groups"`
}

// service translates w. Times and timeouts that are not usable numbers
// are left at 0 rather than failing the read: the status is what matters.
func (w *wireServiceV2) service() Service {
	s := Service{
		ServiceID:            w.ID,
		ServiceName:          w.Name,
		Status:               NormalizeV2Status(w.Status),
		RawStatus:            w.Status,
		ErrorMsg:             w.FailureReason,
		UpdateTime:           w.UpdateAt.ms,
		Description:          w.Description,
		InferType:            w.Type,
		Generation:           GenerationV2,
		DeployTimeoutMinutes: int(min(w.DeployTimeoutMinutes.ms, 1<<31-1)),
	}
	var v wireVersionV2
	if bytes.HasPrefix(bytes.TrimSpace(w.Version), []byte("{")) && json.Unmarshal(w.Version, &v) == nil {
		if s.DeployTimeoutMinutes == 0 {
			s.DeployTimeoutMinutes = int(min(v.DeployTimeoutMinutes.ms, 1<<31-1))
		}
		// The newest instance group: the latest update_at, then
		// create_at; at equal times the later one listed.
		var bestU, bestC int64 = -1, -1
		for _, g := range v.InstanceGroups {
			if g.Name == "" {
				continue
			}
			s.Deployments = append(s.Deployments, DeploymentRef{Name: g.Name, CreatedAt: g.CreateAt.ms})
			if g.UpdateAt.ms > bestU || g.UpdateAt.ms == bestU && g.CreateAt.ms >= bestC {
				bestU, bestC, s.DeploymentName = g.UpdateAt.ms, g.CreateAt.ms, g.Name
			}
		}
	}
	return s
}

func decodeServiceV2(data []byte) (*Service, error) {
	var w wireServiceV2
	if err := json.Unmarshal(data, &w); err != nil {
		return nil, fmt.Errorf("decode v2 service: %w", err)
	}
	s := w.service()
	return &s, nil
}

func decodeServicesPageV2(data []byte) (total int, svcs []Service, err error) {
	var w v2Page[wireServiceV2]
	if err := json.Unmarshal(data, &w); err != nil {
		return 0, nil, fmt.Errorf("decode v2 service list: %w", err)
	}
	svcs = make([]Service, len(w.Data))
	for i := range w.Data {
		svcs[i] = w.Data[i].service()
		svcs[i].DeploymentName = "" // list entries do not name deployments
		svcs[i].Deployments = nil
	}
	return w.Total, svcs, nil
}

// wirePodEvent is one element of the pod events answer (a bare array).
type wirePodEvent struct {
	Type               string  `json:"type"`
	Reason             string  `json:"reason"`
	Message            string  `json:"message"`
	ReportingComponent string  `json:"reporting_component"`
	Count              millis  `json:"count"`
	FirstTimestamp     podTime `json:"first_timestamp"`
	LastTimestamp      podTime `json:"last_timestamp"`
}

// decodePodEvents decodes the pod events answer, a bare JSON array (null
// is no events).
func decodePodEvents(data []byte) ([]PodEvent, error) {
	var w []wirePodEvent
	if err := json.Unmarshal(data, &w); err != nil {
		return nil, fmt.Errorf("decode pod events: %w", err)
	}
	out := make([]PodEvent, len(w))
	for i, we := range w {
		out[i] = PodEvent{
			Type:               we.Type,
			Reason:             we.Reason,
			Message:            we.Message,
			ReportingComponent: we.ReportingComponent,
			Count:              int(min(we.Count.ms, 1<<31-1)),
			FirstTimestamp:     we.FirstTimestamp.t,
			LastTimestamp:      we.LastTimestamp.t,
		}
	}
	return out, nil
}

// podTime decodes a pod event timestamp, whose format the SDK does not
// show: an RFC 3339 string (with or without fraction; "2006-01-02
// 15:04:05" without a zone is taken as UTC), or milliseconds since the
// epoch as a number or a numeric string (a value below 1e11, which would
// be before March 1973 in milliseconds, is taken as seconds). Anything
// else, null included, is left as the zero time rather than failing the
// read: a pod event's reason and message matter more than its time.
type podTime struct{ t time.Time }

func (p *podTime) UnmarshalJSON(b []byte) error {
	p.t = parsePodTime(b)
	return nil
}

func parsePodTime(b []byte) time.Time {
	b = bytes.TrimSpace(b)
	if ms, reason := parseMillis(b); reason == "" {
		switch {
		case ms == 0:
			return time.Time{}
		case ms < 1e11:
			return time.Unix(ms, 0).UTC()
		}
		return time.UnixMilli(ms).UTC()
	}
	var s string
	if json.Unmarshal(b, &s) != nil {
		return time.Time{}
	}
	s = strings.TrimSpace(s)
	for _, layout := range [...]string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02 15:04:05.999999999Z07:00", "2006-01-02 15:04:05.999999999"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC()
		}
	}
	return time.Time{}
}
