package eventsapi

// Event types as documented. Unknown values returned by the API are kept
// verbatim in Event.EventType, never dropped.
const (
	EventTypeNormal   = "normal"
	EventTypeAbnormal = "abnormal"
)

// Event is one service event, in the API's own shape.
type Event struct {
	EventType string `json:"event_type"`
	EventInfo string `json:"event_info"`
	// OccurTime is milliseconds since the Unix epoch (UTC).
	OccurTime int64 `json:"occur_time"`
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

// Service is the subset of a service's details (or of one entry of the
// service list) that the notifier uses.
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
}

// ServicesPage is one page of GET /v1/{project_id}/services.
type ServicesPage struct {
	TotalCount int       `json:"total_count"`
	Count      int       `json:"count"`
	Services   []Service `json:"services"`
}
