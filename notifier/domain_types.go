package notifier

import "github.com/modelarts-notifier/modelarts-notifier/notifier/domain"

// The summary's types live in package domain (pure, shared with the
// timeline); these names keep the delivery code, and callers that deliver,
// reading as before.
type (
	Kind        = domain.Kind
	Status      = domain.Status
	Outcome     = domain.Outcome
	PhaseStatus = domain.PhaseStatus
	Time        = domain.Time
	Event       = domain.Event
	PodEvent    = domain.PodEvent
	Phase       = domain.Phase
	Summary     = domain.Summary
)

// Kinds, statuses and phases: see package domain.
const (
	KindSucceeded = domain.KindSucceeded
	KindFailed    = domain.KindFailed
	KindStalled   = domain.KindStalled
	KindRecovered = domain.KindRecovered
	KindAbnormal  = domain.KindAbnormal
	KindReport    = domain.KindReport

	StatusSucceeded  = domain.StatusSucceeded
	StatusFailed     = domain.StatusFailed
	StatusStalled    = domain.StatusStalled
	StatusInProgress = domain.StatusInProgress
	StatusRecovered  = domain.StatusRecovered
	StatusAbnormal   = domain.StatusAbnormal

	OutcomeSucceeded  = domain.OutcomeSucceeded
	OutcomeFailed     = domain.OutcomeFailed
	OutcomeStalled    = domain.OutcomeStalled
	OutcomeInProgress = domain.OutcomeInProgress

	PhaseSucceeded = domain.PhaseSucceeded
	PhaseFailed    = domain.PhaseFailed
	PhaseStalled   = domain.PhaseStalled
	PhaseRunning   = domain.PhaseRunning
	PhasePending   = domain.PhasePending

	PhaseImageBuild   = domain.PhaseImageBuild
	PhaseEnvironment  = domain.PhaseEnvironment
	PhaseScheduling   = domain.PhaseScheduling
	PhaseImagePull    = domain.PhaseImagePull
	PhaseModelStartup = domain.PhaseModelStartup

	TimeFormat        = domain.TimeFormat
	MaxPodEvents      = domain.MaxPodEvents
	MaxEventInfoBytes = domain.MaxEventInfoBytes
	eventTypeWarning  = domain.EventTypeWarning
)

// Kinds and PhaseNames: see package domain.
var (
	Kinds      = domain.Kinds
	PhaseNames = domain.PhaseNames
)

// At, FromMillis and TruncateEvent: see package domain.
var (
	At            = domain.At
	FromMillis    = domain.FromMillis
	TruncateEvent = domain.TruncateEvent
)

// podEventTime: see domain.PodEventTime.
func podEventTime(p PodEvent) Time { return domain.PodEventTime(p) }

// cutBytes: see domain.CutBytes.
func cutBytes(s string, limit int) (string, bool) { return domain.CutBytes(s, limit) }
