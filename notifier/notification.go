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
	// Thread is, for a notification that only changes a deployment's Slack
	// thread, what it changes: see [ThreadOnly]. Zero for a notification
	// of its own, which every destination tells.
	Thread  ThreadOnly `json:"-"`
	Summary Summary    `json:"data"`
	// Project, when set, is what the notification is (Kind
	// project.report): its JSON is the body's "data" instead of Summary,
	// and every destination renders it as a project report.
	Project *ProjectReport `json:"-"`
}

// ThreadOnly marks a notification that is no event of its own, only a
// change to its deployment's Slack thread (in ThreadTS). Only a destination
// that keeps one parent message per deployment (the Slack bot) delivers
// one; every other acknowledges it without sending anything, as does the
// Slack bot when the deployment has no parent message. It is never part of
// a digest and does not count toward one.
type ThreadOnly uint8

const (
	// NotThreadOnly: a notification of its own.
	NotThreadOnly ThreadOnly = iota
	// ParentUpdate refreshes the parent message of a deployment closed
	// because the service was stopped (Summary.ServiceStatus stopped,
	// stopping, deleting or finished); Kind is the deployment's last
	// notified kind and means nothing here.
	ParentUpdate
	// ThreadReply replies in the thread with abnormal events of a phase
	// whose service.abnormal was already sent (Summary.AbnormalEvents:
	// the new ones): they are no new notification anywhere else.
	ThreadReply
)

// ThreadKeeper is implemented by a destination that keeps one parent
// message per deployment and delivers thread-only notifications (the
// Slack bot; a wrapper forwards its destination's answer). Every other
// destination acknowledges them without sending anything.
type ThreadKeeper interface {
	KeepsThreads() bool
}

// KeepsThreads reports whether n delivers thread-only notifications.
func KeepsThreads(n Notifier) bool {
	k, ok := n.(ThreadKeeper)
	return ok && k.KeepsThreads()
}

// ThreadOnly reports whether n only changes its deployment's Slack thread.
func (n Notification) ThreadOnly() bool { return n.Thread != NotThreadOnly }

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
// then share its outcome. A thread-only notification ([ThreadOnly]) is
// never part of a digest, and a destination with no per-deployment parent
// message acknowledges it (a nil Err) without sending anything.
type Notifier interface {
	Notify(ctx context.Context, ns []Notification) []Result
}
