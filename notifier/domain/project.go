package domain

// KindProjectReport is the kind of a report of every watched service.
const KindProjectReport Kind = "project.report"

// ProjectReport is a report of every watched service over a window: what
// deployed, how it ended, how long each phase took, what failed and why.
// Its JSON is the report function's answer and, posted, the webhook body's
// "data".
type ProjectReport struct {
	Type        Kind   `json:"type"`
	GeneratedAt Time   `json:"generated_at"`
	ProjectID   string `json:"project_id"`
	Since       string `json:"since"`
	From        Time   `json:"from"`
	// To is the window's end: now for a printed report, the start of the
	// current hour for a posted one.
	To       Time           `json:"to"`
	Totals   ProjectTotals  `json:"totals"`
	Phases   []PhaseStats   `json:"phases"`
	Failures []FailureGroup `json:"failures"`
	Services []ServiceEntry `json:"services"`
	// ServicesOmitted counts the services a body left out to stay within
	// its bound (the webhook's 64 KiB, Slack's blocks).
	ServicesOmitted int `json:"services_omitted,omitempty"`
}

// ProjectTotals count the deployments that started in the window, by
// their outcome now, and the runtime abnormal events.
type ProjectTotals struct {
	Services        int `json:"services"`
	Deployments     int `json:"deployments"`
	Succeeded       int `json:"succeeded"`
	Failed          int `json:"failed"`
	Stalled         int `json:"stalled"`
	InProgress      int `json:"in_progress"`
	Stopped         int `json:"stopped"`
	RuntimeAbnormal int `json:"runtime_abnormal"`
	// Unreadable counts the services that could not be read in time.
	Unreadable int `json:"unreadable,omitempty"`
}

// PhaseStats are the durations of one phase in the window's deployments
// where it succeeded.
type PhaseStats struct {
	Name     string `json:"name"`
	Count    int    `json:"count"`
	MedianMS int64  `json:"median_ms"`
	P90MS    int64  `json:"p90_ms"`
	MaxMS    int64  `json:"max_ms"`
}

// FailureGroup is the failed deployments of one phase and hint.
type FailureGroup struct {
	Phase    string   `json:"phase"`
	Hint     string   `json:"hint,omitempty"`
	Count    int      `json:"count"`
	Services []string `json:"services"`
}

// ServiceEntry is one service of a project report.
type ServiceEntry struct {
	ServiceID     string `json:"service_id"`
	ServiceName   string `json:"service_name"`
	Generation    string `json:"generation,omitempty"`
	ServiceStatus string `json:"service_status"`
	Deployments   int    `json:"deployments"`
	// Latest is the newest deployment that started in the window; nil
	// when none did.
	Latest *Summary `json:"latest"`
	// RuntimeAbnormal counts its abnormal events outside deployments.
	RuntimeAbnormal int `json:"runtime_abnormal,omitempty"`
	// Error says why the service could not be read (the report still
	// answers for the others).
	Error string `json:"error,omitempty"`
}
