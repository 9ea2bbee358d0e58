package model

import "time"

// Event types as documented. Unknown values returned by the API are kept
// verbatim in Event.EventType (v2 values lower-cased), never dropped.
const (
	EventTypeNormal   = "normal"
	EventTypeAbnormal = "abnormal"
	// EventTypeWarning exists only in v2 (WARNING).
	EventTypeWarning = "warning"
)

// Event is one service event, in the v1 API's shape, which v2 records are
// translated into. It holds only strings and integers, so it is comparable.
//
// v1 events set EventType, EventInfo and OccurTime and leave the other
// fields zero. v2 records (GET /v2/{project_id}/services/{id}/events) set
// every field: EventType is NORMAL, ABNORMAL or WARNING lower-cased,
// OccurTime is create_at (the first occurrence), LastOccurTime update_at
// (the last), Count event_count and ID id. ModelArts updates a v2 record
// in place when its event repeats (MODELARTS-V2.md), so the same ID can be
// read again later with a larger Count and LastOccurTime.
type Event struct {
	EventType string `json:"event_type"`
	EventInfo string `json:"event_info"`
	// OccurTime is milliseconds since the Unix epoch (UTC).
	OccurTime int64 `json:"occur_time"`

	// ID identifies a v2 record (empty for v1).
	ID string `json:"id,omitempty"`
	// EventInfoCN is a v2 record's Chinese text (EventInfo is English).
	EventInfoCN string `json:"event_info_cn,omitempty"`
	// Count is how often a v2 record's event occurred (at least 1).
	Count int `json:"event_count,omitempty"`
	// LastOccurTime is a v2 record's last occurrence, in milliseconds
	// since the Unix epoch (equal to OccurTime for a record that occurred
	// once).
	LastOccurTime int64 `json:"last_occur_time,omitempty"`
}

// EventsPage is one page of GET /v1/{project_id}/services/{service_id}/events.
type EventsPage struct {
	ServiceName string `json:"service_name"`
	// TotalCount is the number of events matching the query without paging.
	TotalCount int    `json:"total_count"`
	ServiceID  string `json:"service_id"`
	// Count is the number of events in this page.
	Count  int     `json:"count"`
	Events []Event `json:"events"`
}

// Service statuses documented for GET /v1/{project_id}/services/{service_id}.
const (
	StatusRunning    = "running"
	StatusDeploying  = "deploying"
	StatusConcerning = "concerning"
	StatusFailed     = "failed"
	StatusStopped    = "stopped"
	StatusFinished   = "finished"
	StatusStopping   = "stopping"
	StatusDeleting   = "deleting"
	StatusPending    = "pending"
	StatusWaiting    = "waiting"
)

// Generations of the ModelArts inference API (Service.Generation).
const (
	// GenerationV1: /v1/{project_id}/services, the legacy real-time
	// services.
	GenerationV1 = "v1"
	// GenerationV2: /v2/{project_id}/services, the new-version inference
	// services ("推理部署（新版）").
	GenerationV2 = "v2"
)

// RawStatusError is the v2 status ERROR ("异常", meaning undocumented). It
// has no v1 twin: eventsapi.NormalizeV2Status maps it to StatusConcerning, and a
// caller that has a deployment open treats Service.RawStatus ==
// RawStatusError as that deployment's failure.
const RawStatusError = "ERROR"

// Service is the subset of a service's details (or of one entry of the
// service list) that the notifier uses, for either generation.
//
// For v2, Status is the status normalised with NormalizeV2Status and
// RawStatus the API's own; ErrorMsg is failure_reason and UpdateTime
// update_at. v2 has no transition_at or progress.
type Service struct {
	ServiceID   string `json:"service_id"`
	ServiceName string `json:"service_name"`
	Status      string `json:"status"`
	// ErrorMsg is set when Status is failed.
	ErrorMsg string `json:"error_msg,omitempty"`
	// UpdateTime and TransitionAt are milliseconds since the Unix epoch.
	UpdateTime   int64  `json:"update_time,omitempty"`
	TransitionAt int64  `json:"transition_at,omitempty"`
	Progress     int    `json:"progress,omitempty"`
	Description  string `json:"description,omitempty"`
	InferType    string `json:"infer_type,omitempty"`

	// Generation is GenerationV1 or GenerationV2: the API the service is
	// read through. Results of the client always set it.
	Generation string `json:"generation,omitempty"`
	// RawStatus is a v2 service's status verbatim, e.g. "UPGRADING"
	// (empty for v1).
	RawStatus string `json:"raw_status,omitempty"`
	// DeployTimeoutMinutes is a v2 service's deploy_timeout_minutes: how
	// long a deployment may last before ModelArts sets it to failed (0:
	// not given).
	DeployTimeoutMinutes int `json:"deploy_timeout_minutes,omitempty"`
	// DeploymentName is, for v2 details, the name of the current
	// version's newest instance group (deployment), the name pod events
	// are read by (eventsapi's Client.PodEvents). Empty for v1 and v2 list entries.
	DeploymentName string `json:"deployment_name,omitempty"`
	// Deployments are, for v2 details, every instance group (deployment)
	// of the current version, in the order listed, with when each was
	// created: the deployment a notification is about is the newest one
	// created before it ended (DeploymentAt). Empty for v1 and list
	// entries.
	Deployments []DeploymentRef `json:"deployments,omitempty"`
}

// DeploymentRef names one v2 deployment (instance group) and when it was
// created (ms since the epoch; 0 when not given).
type DeploymentRef struct {
	Name      string `json:"name"`
	CreatedAt int64  `json:"created_at,omitempty"`
}

// DeploymentAt returns the name of the v2 deployment that was the newest
// one created at or before t (ms): the one a deployment that ended (or was
// still open) at t ran as. At equal creation times the later listed wins.
// When no deployment's creation time is known it returns DeploymentName;
// when every known one was created after t, "" (the deployment of that
// time is no longer listed).
func (s Service) DeploymentAt(t int64) string {
	name, best, known := "", int64(-1), false
	for _, d := range s.Deployments {
		if d.CreatedAt == 0 {
			continue
		}
		known = true
		if d.CreatedAt <= t && d.CreatedAt >= best {
			name, best = d.Name, d.CreatedAt
		}
	}
	if !known {
		return s.DeploymentName
	}
	return name
}

// ServicesPage is one page of GET /v1/{project_id}/services.
type ServicesPage struct {
	TotalCount int       `json:"total_count"`
	Count      int       `json:"count"`
	Services   []Service `json:"services"`
}

// PodEvent is one Kubernetes event of a v2 deployment's pods (GET
// .../deployments/{deployment_name}/instances/all/pods/all/events).
type PodEvent struct {
	// Type is "Normal" or "Warning".
	Type string `json:"type"`
	// Reason is the Kubernetes reason, e.g. FailedScheduling,
	// ImagePullBackOff, Unhealthy, OOMKilled.
	Reason  string `json:"reason"`
	Message string `json:"message"`
	// ReportingComponent is e.g. default-scheduler or kubelet.
	ReportingComponent string `json:"reporting_component"`
	Count              int    `json:"count"`
	// FirstTimestamp and LastTimestamp are the first and last occurrence
	// (zero when the API gave none that could be read).
	FirstTimestamp time.Time `json:"first_timestamp"`
	LastTimestamp  time.Time `json:"last_timestamp"`
}
