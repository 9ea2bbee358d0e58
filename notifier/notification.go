// Package notifier formats deployment summaries and delivers them to Slack,
// to generic (Standard Webhooks) webhooks and to a terminal.
//
// It does not know where summaries come from: the watch loop in functions/
// builds them. This package must not import eventsapi or functions.
package notifier

import (
	"context"
	"time"
)

// Kind is the notification type, the "type" of the webhook body.
type Kind string

// The notification kinds; these strings are a public contract.
const (
	KindSucceeded Kind = "deployment.succeeded"
	KindFailed    Kind = "deployment.failed"
	KindStalled   Kind = "deployment.stalled"
	KindRecovered Kind = "deployment.recovered"
	KindAbnormal  Kind = "service.abnormal"
	KindReport    Kind = "deployment.report"
)

// Kinds lists every kind, in a stable order.
var Kinds = []Kind{KindSucceeded, KindFailed, KindStalled, KindRecovered, KindAbnormal, KindReport}

// Status is a deployment's status in a summary.
type Status string

// Deployment statuses.
const (
	StatusSucceeded  Status = "succeeded"
	StatusFailed     Status = "failed"
	StatusStalled    Status = "stalled"
	StatusInProgress Status = "in_progress"
	StatusRecovered  Status = "recovered"
	StatusAbnormal   Status = "abnormal"
)

// PhaseStatus is one phase's status.
type PhaseStatus string

// Phase statuses.
const (
	PhaseSucceeded PhaseStatus = "succeeded"
	PhaseFailed    PhaseStatus = "failed"
	PhaseStalled   PhaseStatus = "stalled"
	PhaseRunning   PhaseStatus = "running"
	PhasePending   PhaseStatus = "pending"
)

// The five deployment phases, in order.
const (
	PhaseImageBuild   = "image_build"
	PhaseEnvironment  = "environment"
	PhaseScheduling   = "scheduling"
	PhaseImagePull    = "image_pull"
	PhaseModelStartup = "model_startup"
)

// PhaseNames lists the five phases in deployment order.
var PhaseNames = []string{PhaseImageBuild, PhaseEnvironment, PhaseScheduling, PhaseImagePull, PhaseModelStartup}

// Time is an instant that marshals as RFC 3339 in UTC with milliseconds,
// e.g. "2026-11-28T12:00:00.000Z". The zero Time is omitted by `omitzero`.
type Time struct{ time.Time }

// TimeFormat is the layout of every time in a webhook body.
const TimeFormat = "2006-01-02T15:04:05.000Z07:00"

// At returns t as a Time.
func At(t time.Time) Time { return Time{t} }

// FromMillis returns the Time of a ModelArts occur_time.
func FromMillis(ms int64) Time { return Time{time.UnixMilli(ms).UTC()} }

// MarshalJSON implements json.Marshaler.
func (t Time) MarshalJSON() ([]byte, error) {
	if t.IsZero() {
		return []byte("null"), nil
	}
	return []byte(`"` + t.UTC().Format(TimeFormat) + `"`), nil
}

// UnmarshalJSON implements json.Unmarshaler.
func (t *Time) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*t = Time{}
		return nil
	}
	var tt time.Time
	if err := tt.UnmarshalJSON(b); err != nil {
		return err
	}
	*t = Time{tt.UTC()}
	return nil
}

// Event is a ModelArts service event in the API's own shape.
type Event struct {
	EventType string `json:"event_type"`
	EventInfo string `json:"event_info"`
	OccurTime int64  `json:"occur_time"`
	// Truncated is set when EventInfo was cut to MaxEventInfoBytes (see
	// TruncateEvent); the text then ends with "…".
	Truncated bool `json:"truncated,omitempty"`
}

// Phase is one phase of a deployment's timeline.
type Phase struct {
	Name      string      `json:"name"`
	Status    PhaseStatus `json:"status"`
	StartedAt Time        `json:"started_at,omitzero"`
	EndedAt   Time        `json:"ended_at,omitzero"`
	// DurationMS is set when the phase ended (or, while running, the time
	// so far); nil when it has not begun.
	DurationMS *int64 `json:"duration_ms,omitempty"`
}

// Summary is a deployment summary; its JSON is the "data" of the webhook body.
type Summary struct {
	ProjectID   string `json:"project_id"`
	ServiceID   string `json:"service_id"`
	ServiceName string `json:"service_name"`
	Status      Status `json:"status"`
	// Phase is the phase the summary is about: the failed or stalled phase,
	// the current phase of a deployment in progress; empty for runtime events.
	Phase string `json:"phase,omitempty"`
	// Model names the model when the events name it (e.g. "TF 3.0.0").
	Model string `json:"model,omitempty"`
	// ServiceStatus is the ModelArts service status when the summary was built.
	ServiceStatus string `json:"service_status,omitempty"`
	// ErrorMsg is the service's error_msg when it failed.
	ErrorMsg       string  `json:"error_msg,omitempty"`
	StartedAt      Time    `json:"started_at,omitzero"`
	EndedAt        Time    `json:"ended_at,omitzero"`
	DurationMS     *int64  `json:"duration_ms,omitempty"`
	Phases         []Phase `json:"phases"`
	AbnormalEvents []Event `json:"abnormal_events"`
	Events         []Event `json:"events"`
	// EventsOmitted and AbnormalEventsOmitted count the entries of Events
	// and AbnormalEvents a webhook body left out to stay within
	// MaxWebhookBody. The webhook destination sets them on its own copy;
	// summaries are built with them zero.
	EventsOmitted         int `json:"events_omitted,omitempty"`
	AbnormalEventsOmitted int `json:"abnormal_events_omitted,omitempty"`
}

// Notification is one thing worth telling people.
type Notification struct {
	// ID is stable: the same on every retry and every re-send of this
	// notification (it is the webhook-id), so receivers can deduplicate.
	ID   string `json:"-"`
	Kind Kind   `json:"type"`
	// Timestamp is when the notification was decided.
	Timestamp Time `json:"timestamp"`
	// DeploymentKey groups the notifications of one deployment (one Slack
	// thread). Empty for runtime events that belong to no deployment.
	DeploymentKey string `json:"-"`
	// ThreadTS is the Slack parent message of this deployment, when a
	// previous run created one (kept in the checkpoint store).
	ThreadTS string `json:"-"`
	// ParentUpdate marks a notification that only refreshes a deployment's
	// parent message (the Slack bot's, in ThreadTS): it is not an event of
	// its own. It is sent for a deployment closed because the service was
	// stopped (Summary.ServiceStatus stopped, stopping, deleting or
	// finished); Kind is left as the deployment's last notified kind and
	// means nothing here. Destinations without a parent message acknowledge
	// it as delivered without sending anything; it is never part of a
	// digest.
	ParentUpdate bool    `json:"-"`
	Summary      Summary `json:"data"`
}

// Result is the outcome of delivering one notification to one destination.
type Result struct {
	ID  string
	Err error // nil when delivered
	// ThreadTS is the Slack parent message ts of the notification's
	// deployment (bot-token Slack only), to be kept for later runs.
	ThreadTS string
}

// Notifier delivers notifications to one destination. It returns one Result
// per notification, in order; each notification succeeds or fails on its own.
// A destination may combine many notifications into one digest message; they
// then share its outcome. A ParentUpdate notification is never part of a
// digest, and a destination with no per-deployment parent message
// acknowledges it (a nil Err) without sending anything.
type Notifier interface {
	Notify(ctx context.Context, ns []Notification) []Result
}
