package timeline

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/modelarts-notifier/modelarts-notifier/functions/duration"
	"github.com/modelarts-notifier/modelarts-notifier/notifier/domain"
)

// Thresholds maps a phase name (domain.PhaseNames) to how long that phase
// may go without an event before it has stalled. Phases missing from the map
// (or with a non-positive value) use DefaultThresholds. The zero value (nil)
// is the defaults.
//
// It is the STALL_THRESHOLDS setting; *Thresholds implements envconfig's
// Decoder, so it can be a configuration field directly.
type Thresholds map[string]time.Duration

// defaultThresholds is in domain.PhaseNames order.
var defaultThresholds = [numPhases]time.Duration{
	30 * time.Minute, // image_build
	10 * time.Minute, // environment
	15 * time.Minute, // scheduling
	20 * time.Minute, // image_pull
	20 * time.Minute, // model_startup
}

// DefaultThresholds returns the default stall thresholds: image_build 30m,
// environment 10m, scheduling 15m, image_pull 20m, model_startup 20m.
func DefaultThresholds() Thresholds {
	t := make(Thresholds, numPhases)
	for i, name := range domain.PhaseNames {
		t[name] = defaultThresholds[i]
	}
	return t
}

// For returns the threshold of phase: t's value when positive, else the
// default (0 for an unknown phase).
func (t Thresholds) For(phase string) time.Duration {
	if d := t[phase]; d > 0 {
		return d
	}
	if i := phaseIndex(phase); i >= 0 {
		return defaultThresholds[i]
	}
	return 0
}

// of is For by phase index, for the hot path.
func (t Thresholds) of(p int) time.Duration {
	if d := t[domain.PhaseNames[p]]; d > 0 {
		return d
	}
	return defaultThresholds[p]
}

// ParseThresholds parses the STALL_THRESHOLDS format, comma-separated
// phase=duration items such as "image_build=30m,environment=10m", merged over
// DefaultThresholds. Spaces around items, names and durations are ignored; an
// empty (or blank) string is the defaults. An unknown phase, a phase given
// twice, an item without '=', an empty item, or a duration that does not
// parse (time.ParseDuration) or is not positive is an error quoting the item.
func ParseThresholds(s string) (Thresholds, error) {
	t := DefaultThresholds()
	if strings.TrimSpace(s) == "" {
		return t, nil
	}
	var seen [numPhases]bool
	for item := range strings.SplitSeq(s, ",") {
		name, value, ok := strings.Cut(item, "=")
		if !ok {
			return nil, fmt.Errorf("stall thresholds: item %q: want phase=duration", item)
		}
		name, value = strings.TrimSpace(name), strings.TrimSpace(value)
		p := phaseIndex(name)
		if p < 0 {
			return nil, fmt.Errorf("stall thresholds: item %q: unknown phase %q (want one of %s)",
				item, name, strings.Join(domain.PhaseNames, ", "))
		}
		if seen[p] {
			return nil, fmt.Errorf("stall thresholds: item %q: phase %s given twice", item, name)
		}
		seen[p] = true
		d, err := duration.Parse(value)
		if err != nil {
			return nil, fmt.Errorf("stall thresholds: item %q: bad duration %q", item, value)
		}
		if d <= 0 {
			return nil, fmt.Errorf("stall thresholds: item %q: duration must be positive", item)
		}
		t[name] = d
	}
	return t, nil
}

// Decode implements envconfig.Decoder: it sets *t to ParseThresholds(value).
// On error *t is unchanged.
func (t *Thresholds) Decode(value string) error {
	parsed, err := ParseThresholds(value)
	if err != nil {
		return err
	}
	*t = parsed
	return nil
}

// String formats t in the STALL_THRESHOLDS format, in phase order, with
// short durations ("30m", "1h", "1m30s"); ParseThresholds reads it back.
// Names that are not phases are left out.
func (t Thresholds) String() string {
	var b strings.Builder
	for _, name := range domain.PhaseNames {
		d, ok := t[name]
		if !ok {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(name)
		b.WriteByte('=')
		b.WriteString(duration.Format(d))
	}
	return b.String()
}

// phaseIndex returns name's index in domain.PhaseNames, or -1.
func phaseIndex(name string) int {
	return slices.Index(domain.PhaseNames, name)
}
