package domain

import "time"

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

// Status is the "status" of a summary: a deployment's outcome, or what
// the notification says of it (recovered, abnormal).
type Status string

// Summary statuses.
const (
	StatusSucceeded  Status = "succeeded"
	StatusFailed     Status = "failed"
	StatusStalled    Status = "stalled"
	StatusInProgress Status = "in_progress"
	StatusRecovered  Status = "recovered"
	StatusAbnormal   Status = "abnormal"
)

// Outcome is where a deployment stands: succeeded, failed, stalled or in
// progress. It is not a notification's kind (Kind) nor a summary's
// status (Status), which also says recovered and abnormal.
type Outcome string

// Deployment outcomes.
const (
	OutcomeSucceeded  Outcome = "succeeded"
	OutcomeFailed     Outcome = "failed"
	OutcomeStalled    Outcome = "stalled"
	OutcomeInProgress Outcome = "in_progress"
)

// Status is the summary status that says o.
func (o Outcome) Status() Status { return Status(o) }

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

// Event is a ModelArts service event in the API's own shape: v1's
// event_type, event_info and occur_time, which both generations fill, and
// the fields only v2 (new-version inference) records have.
type Event struct {
	// ID is the v2 event's id (its identity: a repeat keeps it); empty for v1.
	ID string `json:"id,omitempty"`
	// EventType is lower-case: normal, abnormal or (v2 only) warning.
	EventType string `json:"event_type"`
	// EventInfo is the event text (v2: the English one, may be empty).
	EventInfo string `json:"event_info"`
	// EventInfoCN is v2's Chinese text of the event.
	EventInfoCN string `json:"event_info_cn,omitempty"`
	// EventCount is how many times v2 saw the event (0 or 1: once).
	EventCount int `json:"event_count,omitempty"`
	// OccurTime is the (first) occurrence, ms since the epoch.
	OccurTime int64 `json:"occur_time"`
	// LastOccurTime is v2's last occurrence, ms since the epoch.
	LastOccurTime int64 `json:"last_occur_time,omitempty"`
	// Truncated is set when EventInfo or EventInfoCN was cut to
	// MaxEventInfoBytes (see TruncateEvent); the text cut then ends with "…".
	Truncated bool `json:"truncated,omitempty"`
}

// EventTypeWarning is the event_type of v2's WARNING events, which are
// shown like abnormal ones, with their own label.
const EventTypeWarning = "warning"

// PodEvent is a Kubernetes event of a v2 deployment's pods (a Warning one:
// the caller passes no others), e.g. FailedScheduling or ImagePullBackOff.
type PodEvent struct {
	Type           string `json:"type"`
	Reason         string `json:"reason"`
	Message        string `json:"message"`
	Count          int    `json:"count,omitempty"`
	FirstTimestamp Time   `json:"first_timestamp,omitzero"`
	LastTimestamp  Time   `json:"last_timestamp,omitzero"`
}

// MaxPodEvents is how many pod events a delivery keeps: the newest
// (see [Summary.Bounded]).
const MaxPodEvents = 20

// Phase is one phase of a deployment's timeline.
type Phase struct {
	Name      string      `json:"name"`
	Status    PhaseStatus `json:"status"`
	StartedAt Time        `json:"started_at,omitzero"`
	EndedAt   Time        `json:"ended_at,omitzero"`
	// DurationMS is set when the phase ended (or, while running, the time
	// so far); nil when it has not begun.
	DurationMS *int64 `json:"duration_ms,omitempty"`
	// UsualMS is how long the phase usually takes for this service: the
	// median of its last successful durations (Samples of them), set when
	// there are enough to learn from (3 or more).
	UsualMS *int64 `json:"usual_ms,omitempty"`
	Samples int    `json:"samples,omitempty"`
}

// Summary is a deployment summary; its JSON is the "data" of the webhook body.
type Summary struct {
	ProjectID   string `json:"project_id"`
	ServiceID   string `json:"service_id"`
	ServiceName string `json:"service_name"`
	// Generation is the ModelArts API the service lives in: "v1", or "v2"
	// (new-version inference).
	Generation string `json:"generation,omitempty"`
	Status     Status `json:"status"`
	// Phase is the phase the summary is about: the failed or stalled phase,
	// the current phase of a deployment in progress; empty for runtime events.
	Phase string `json:"phase,omitempty"`
	// Model names the model when the events name it (e.g. "TF 3.0.0").
	Model string `json:"model,omitempty"`
	// ServiceStatus is the ModelArts service status when the summary was built.
	ServiceStatus string `json:"service_status,omitempty"`
	// ServiceStatusRaw is v2's own status (e.g. "UPGRADING"), which
	// ServiceStatus normalises onto v1's set.
	ServiceStatusRaw string `json:"service_status_raw,omitempty"`
	// ErrorMsg is the service's error_msg (v2: failure_reason) when it failed.
	ErrorMsg string `json:"error_msg,omitempty"`
	// Hint says what to do about a known failure or abnormal class (e.g.
	// insufficient resources: pick another flavor or pool, or wait), and
	// HelpURL is Huawei's troubleshooting page for it, when there is one.
	Hint    string `json:"hint,omitempty"`
	HelpURL string `json:"help_url,omitempty"`
	// ConsoleURL opens the service in the ModelArts console (CONSOLE_URL).
	ConsoleURL string `json:"console_url,omitempty"`
	StartedAt  Time   `json:"started_at,omitzero"`
	EndedAt    Time   `json:"ended_at,omitzero"`
	DurationMS *int64 `json:"duration_ms,omitempty"`
	// DeployTimeoutMinutes is v2's deploy timeout: ModelArts fails a
	// deployment that takes longer.
	DeployTimeoutMinutes int `json:"deploy_timeout_minutes,omitempty"`
	// FailsAt is when ModelArts itself will fail the deployment (its start
	// plus the deploy timeout); set for stalled or in-progress v2
	// deployments.
	FailsAt Time `json:"fails_at,omitzero"`
	// StallThresholdMS is the stall threshold of Phase for this service
	// (stall and recovery notifications), and StallThresholdLearned says
	// it was learned from the service's own history rather than taken
	// from STALL_THRESHOLDS.
	StallThresholdMS      int64   `json:"stall_threshold_ms,omitempty"`
	StallThresholdLearned bool    `json:"stall_threshold_learned,omitempty"`
	Phases                []Phase `json:"phases"`
	AbnormalEvents        []Event `json:"abnormal_events"`
	Events                []Event `json:"events"`
	// PodEvents are the Warning events of a failed or stalled v2
	// deployment's pods: what Kubernetes says went wrong.
	PodEvents []PodEvent `json:"pod_events,omitempty"`
	// PodEventsError says why the pod events could not be read.
	PodEventsError string `json:"pod_events_error,omitempty"`
	// EventsOmitted and AbnormalEventsOmitted count the entries of Events
	// and AbnormalEvents a webhook body left out to stay within
	// MaxWebhookBody. The webhook destination sets them on its own copy;
	// summaries are built with them zero.
	EventsOmitted         int `json:"events_omitted,omitempty"`
	AbnormalEventsOmitted int `json:"abnormal_events_omitted,omitempty"`
	// PodEventsOmitted counts the pod events a delivery left out: the
	// oldest beyond [MaxPodEvents] ([Summary.Bounded]) and those a webhook
	// body dropped to stay within MaxWebhookBody. Summaries are built with
	// it zero.
	PodEventsOmitted int `json:"pod_events_omitted,omitempty"`
}
