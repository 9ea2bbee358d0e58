package eventsapi

import "github.com/modelarts-notifier/modelarts-notifier/eventsapi/model"

// The API's data types live in package model (pure, for the timeline);
// the client's callers keep reading them here.
type (
	Event         = model.Event
	EventsPage    = model.EventsPage
	Service       = model.Service
	DeploymentRef = model.DeploymentRef
	ServicesPage  = model.ServicesPage
	PodEvent      = model.PodEvent
)

// Event types, service statuses and generations: see package model.
const (
	EventTypeNormal   = model.EventTypeNormal
	EventTypeAbnormal = model.EventTypeAbnormal
	EventTypeWarning  = model.EventTypeWarning

	StatusRunning    = model.StatusRunning
	StatusDeploying  = model.StatusDeploying
	StatusConcerning = model.StatusConcerning
	StatusFailed     = model.StatusFailed
	StatusStopped    = model.StatusStopped
	StatusFinished   = model.StatusFinished
	StatusStopping   = model.StatusStopping
	StatusDeleting   = model.StatusDeleting
	StatusPending    = model.StatusPending
	StatusWaiting    = model.StatusWaiting

	GenerationV1 = model.GenerationV1
	GenerationV2 = model.GenerationV2

	RawStatusError = model.RawStatusError
)
