package setup

import (
	"encoding/json"
	"log/slog"
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

// SecretList is a comma-separated list of secret values (webhook URLs carry
// their credentials in the path).
type SecretList []Secret

// Decode implements envconfig.Decoder.
func (l *SecretList) Decode(v string) error {
	*l = nil
	for _, s := range splitList(v) {
		*l = append(*l, Secret(s))
	}
	return nil
}

// String implements fmt.Stringer.
func (l SecretList) String() string {
	if len(l) == 0 {
		return ""
	}
	return redacted
}

// MarshalJSON implements json.Marshaler.
func (l SecretList) MarshalJSON() ([]byte, error) { return json.Marshal(l.String()) }

// LogValue implements slog.LogValuer.
func (l SecretList) LogValue() slog.Value { return slog.StringValue(l.String()) }
