package setup

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"strings"

	"github.com/modelarts-notifier/modelarts-notifier/notifier"
)

// Secret is a configuration value that must never be printed. Its String,
// JSON and slog forms are redacted; Reveal returns the value.
type Secret string

const redacted = "[redacted]"

// Reveal returns the secret value, for the one place that needs it.
func (s Secret) Reveal() string { return string(s) }

// String implements fmt.Stringer.
func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return redacted
}

// GoString implements fmt.GoStringer, so %#v is redacted too.
func (s Secret) GoString() string { return `"` + s.String() + `"` }

// MarshalJSON implements json.Marshaler.
func (s Secret) MarshalJSON() ([]byte, error) { return json.Marshal(s.String()) }

// LogValue implements slog.LogValuer.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }

// DestinationVars are the values of the destination kinds' variables
// (notifier.Registry), by name; unset ones are absent. Their String, Go,
// JSON and slog forms show the non-secret values and redact the secret
// ones (and any name the registry does not know).
type DestinationVars map[string]string

// shown returns the value of name as it may be printed.
func (d DestinationVars) shown(name string) string {
	for _, v := range notifier.RegistryVars() {
		if v.Name == name && !v.Secret {
			return d[name]
		}
	}
	return redacted
}

// names returns the names set, in Registry order, then any others sorted.
func (d DestinationVars) names() []string {
	var out []string
	for _, v := range notifier.RegistryVars() {
		if _, ok := d[v.Name]; ok {
			out = append(out, v.Name)
		}
	}
	var rest []string
	for k := range d {
		if !slices.Contains(out, k) {
			rest = append(rest, k)
		}
	}
	slices.Sort(rest)
	return append(out, rest...)
}

// String implements fmt.Stringer: NAME=value pairs, secrets redacted.
func (d DestinationVars) String() string {
	var b strings.Builder
	for i, k := range d.names() {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(k + "=" + d.shown(k))
	}
	return b.String()
}

// GoString implements fmt.GoStringer, so %#v is redacted too.
func (d DestinationVars) GoString() string {
	var b strings.Builder
	b.WriteString("setup.DestinationVars{")
	for i, k := range d.names() {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%q:%q", k, d.shown(k))
	}
	b.WriteString("}")
	return b.String()
}

// redactedMap is d with the secret values redacted.
func (d DestinationVars) redactedMap() map[string]string {
	out := make(map[string]string, len(d))
	for k := range d {
		out[k] = d.shown(k)
	}
	return out
}

// MarshalJSON implements json.Marshaler.
func (d DestinationVars) MarshalJSON() ([]byte, error) { return json.Marshal(d.redactedMap()) }

// LogValue implements slog.LogValuer: a group of the variables set.
func (d DestinationVars) LogValue() slog.Value {
	var attrs []slog.Attr
	for _, k := range d.names() {
		attrs = append(attrs, slog.String(k, d.shown(k)))
	}
	return slog.GroupValue(attrs...)
}
