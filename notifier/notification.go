package notifier

import (
	"context"
	"encoding/json"
)

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
	// Project, when set, is what the notification is (Kind
	// project.report): its JSON is the body's "data" instead of Summary,
	// and every destination renders it as a project report.
	Project *ProjectReport `json:"-"`
}

// MarshalJSON writes the webhook body: type, timestamp and data (the
// summary, or the project report).
func (n Notification) MarshalJSON() ([]byte, error) {
	if n.Project != nil {
		return json.Marshal(struct {
			Kind      Kind           `json:"type"`
			Timestamp Time           `json:"timestamp"`
			Data      *ProjectReport `json:"data"`
		}{n.Kind, n.Timestamp, n.Project})
	}
	type plain Notification // no methods: no recursion
	return json.Marshal(plain(n))
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
