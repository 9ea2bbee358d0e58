package eventsapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
)

// DecodeError reports a value the API returned that cannot be used, naming
// the field and, for events, the event's index in the page.
type DecodeError struct {
	// Field is the JSON path, e.g. "events[3].occur_time".
	Field string
	// Value is a bounded excerpt of the raw JSON value.
	Value string
	// Reason says what is wrong with it.
	Reason string
}

func (e *DecodeError) Error() string {
	return fmt.Sprintf("%s: %s (got %s)", e.Field, e.Reason, e.Value)
}

// DecodeEventsPage decodes the body of GET .../events. occur_time is
// accepted as a JSON integer, a float or a string of digits (API gateways
// produce all three); anything else, including a missing occur_time, is a
// *DecodeError naming the event's index. Unknown event_type values are kept.
func DecodeEventsPage(data []byte) (*EventsPage, error) {
	if page, ok := decodeEventsPageFast(data); ok {
		return page, nil
	}
	return decodeEventsPageJSON(data)
}

// decodeEventsPageJSON is DecodeEventsPage with encoding/json: every page
// the fast decoder (pagefast.go) leaves to it, and every error.
func decodeEventsPageJSON(data []byte) (*EventsPage, error) {
	var w struct {
		ServiceName string      `json:"service_name"`
		TotalCount  int         `json:"total_count"`
		ServiceID   string      `json:"service_id"`
		Count       int         `json:"count"`
		Events      []wireEvent `json:"events"`
	}
	if err := json.Unmarshal(data, &w); err != nil {
		return nil, fmt.Errorf("decode events page: %w", err)
	}
	page := &EventsPage{
		ServiceName: w.ServiceName,
		TotalCount:  w.TotalCount,
		ServiceID:   w.ServiceID,
		Count:       w.Count,
		Events:      make([]Event, len(w.Events)),
	}
	for i := range w.Events {
		we := &w.Events[i]
		if !we.OccurTime.set || we.OccurTime.bad != "" {
			val, reason := "nothing", "missing"
			if we.OccurTime.set {
				val, reason = we.OccurTime.bad, we.OccurTime.reason
			}
			return nil, fmt.Errorf("decode events page: %w", &DecodeError{
				Field:  fmt.Sprintf("events[%d].occur_time", i),
				Value:  val,
				Reason: reason,
			})
		}
		page.Events[i] = Event{EventType: we.EventType, EventInfo: we.EventInfo, OccurTime: we.OccurTime.ms}
	}
	return page, nil
}

type wireEvent struct {
	EventType string `json:"event_type"`
	EventInfo string `json:"event_info"`
	OccurTime millis `json:"occur_time"`
}

// millis decodes a time in milliseconds leniently. It never fails the
// whole document: a bad value is recorded, so the caller can name the
// event's index.
type millis struct {
	ms     int64
	set    bool
	bad    string // excerpt of a bad value
	reason string
}

func (m *millis) UnmarshalJSON(b []byte) error {
	m.set = true
	ms, reason := parseMillis(b)
	if reason != "" {
		m.bad, _ = truncate(string(b), 64)
		m.reason = reason
		return nil
	}
	m.ms = ms
	return nil
}

// parseMillis parses a JSON value holding milliseconds since the epoch: an
// integer, a float (truncated to whole milliseconds) or a string holding
// either. It returns a reason when the value is unusable.
func parseMillis(b []byte) (int64, string) {
	b = bytes.TrimSpace(b)
	if len(b) >= 2 && b[0] == '"' && b[len(b)-1] == '"' {
		b = bytes.TrimSpace(b[1 : len(b)-1])
	}
	if len(b) == 0 {
		return 0, "want milliseconds since the epoch, got an empty value"
	}
	integer := true
	for i, c := range b {
		switch {
		case '0' <= c && c <= '9':
		case c == '.' || c == 'e' || c == 'E' || c == '+' || (c == '-' && i > 0):
			integer = false
		default:
			return 0, "want milliseconds since the epoch as a non-negative number"
		}
	}
	if integer {
		v, err := strconv.ParseInt(string(b), 10, 64)
		if err != nil {
			return 0, "out of range"
		}
		return v, ""
	}
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, "want milliseconds since the epoch as a number"
	}
	if f < 0 || f >= math.MaxInt64 {
		return 0, "out of range"
	}
	return int64(f), ""
}

// decodeService decodes a service (details or a list entry). Times that
// are not usable numbers are left at 0 rather than failing the read: the
// status is what matters.
func decodeService(data []byte) (*Service, error) {
	var w wireService
	if err := json.Unmarshal(data, &w); err != nil {
		return nil, fmt.Errorf("decode service: %w", err)
	}
	s := w.service()
	return &s, nil
}

type wireService struct {
	ServiceID    string `json:"service_id"`
	ServiceName  string `json:"service_name"`
	Status       string `json:"status"`
	ErrorMsg     string `json:"error_msg"`
	UpdateTime   millis `json:"update_time"`
	TransitionAt millis `json:"transition_at"`
	Progress     millis `json:"progress"`
	Description  string `json:"description"`
	InferType    string `json:"infer_type"`
}

func (w *wireService) service() Service {
	return Service{
		ServiceID:    w.ServiceID,
		ServiceName:  w.ServiceName,
		Status:       w.Status,
		ErrorMsg:     w.ErrorMsg,
		UpdateTime:   w.UpdateTime.ms,
		TransitionAt: w.TransitionAt.ms,
		Progress:     int(w.Progress.ms),
		Description:  w.Description,
		InferType:    w.InferType,
		Generation:   GenerationV1,
	}
}

// decodeServicesPage decodes the body of GET /v1/{project_id}/services.
func decodeServicesPage(data []byte) (*ServicesPage, error) {
	var w struct {
		TotalCount int           `json:"total_count"`
		Count      int           `json:"count"`
		Services   []wireService `json:"services"`
	}
	if err := json.Unmarshal(data, &w); err != nil {
		return nil, fmt.Errorf("decode service list: %w", err)
	}
	page := &ServicesPage{TotalCount: w.TotalCount, Count: w.Count, Services: make([]Service, len(w.Services))}
	for i := range w.Services {
		page.Services[i] = w.Services[i].service()
	}
	return page, nil
}
