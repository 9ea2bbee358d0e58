package timeline

import (
	"slices"
	"time"

	"github.com/modelarts-notifier/modelarts-notifier/functions/stats"
	"github.com/modelarts-notifier/modelarts-notifier/notifier/domain"
)

// Learning stall thresholds from a service's own history.
const (
	// MaxSamples is how many durations of a phase a service keeps: those
	// of its latest deployments where the phase succeeded.
	MaxSamples = 20
	// MinSamples is how many a learned threshold needs; with fewer, the
	// configured (STALL_THRESHOLDS) one holds.
	MinSamples = 3
	// MinLearned is the smallest learned threshold.
	MinLearned = 3 * time.Minute
)

// History is a service's recent phase durations: per phase name, the
// durations (whole seconds, at least 1) of that phase in the service's
// latest deployments where it succeeded, oldest first, at most MaxSamples.
// It is stored in the checkpoint as it is.
type History map[string][]int64

// Add returns h with the durations of d's succeeded phases appended (the
// oldest dropped beyond MaxSamples). h is not modified.
func (h History) Add(d Deployment) History {
	out := h
	cloned := false
	for _, ph := range d.Phases {
		if ph.Status != domain.PhaseSucceeded || ph.Start == 0 || ph.End < ph.Start {
			continue
		}
		if !cloned {
			out = make(History, len(h)+1)
			for k, v := range h {
				out[k] = slices.Clone(v)
			}
			cloned = true
		}
		secs := max((ph.End-ph.Start+999)/1000, 1)
		s := append(out[ph.Name], secs)
		if len(s) > MaxSamples {
			s = s[len(s)-MaxSamples:]
		}
		out[ph.Name] = s
	}
	return out
}

// Usual is what a service's history says of one phase.
type Usual struct {
	// Samples is how many deployments the history holds the phase of.
	Samples int
	// Median is their median duration (0 with no samples).
	Median time.Duration
	// Threshold is the phase's stall threshold for this service, and
	// Learned says whether it came from the history (MinSamples or more:
	// max(2 × p90, MinLearned)) rather than the configuration.
	Threshold time.Duration
	Learned   bool
}

// Learn returns the stall thresholds of a service with history h: for each
// phase with MinSamples or more samples, max(2 × p90 (nearest rank),
// MinLearned); for the others, t's. usual says per phase name how that was
// set. With learn false, t holds for every phase.
func (t Thresholds) Learn(h History, learn bool) (Thresholds, map[string]Usual) {
	out := make(Thresholds, numPhases)
	usual := make(map[string]Usual, numPhases)
	for i, name := range domain.PhaseNames {
		u := Usual{Samples: len(h[name]), Threshold: t.of(i)}
		if u.Samples > 0 {
			u.Median = time.Duration(stats.Median(h[name])) * time.Second
		}
		if learn && u.Samples >= MinSamples {
			p90 := time.Duration(stats.Percentile(h[name], 90)) * time.Second
			u.Threshold, u.Learned = max(2*p90, MinLearned), true
		}
		out[name] = u.Threshold
		usual[name] = u
	}
	return out, usual
}
