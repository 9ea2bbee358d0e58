package duration

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Day is 24 hours (ModelArts and the notifier know no calendar days).
const Day = 24 * time.Hour

// Parse reads a duration: a Go duration, optionally preceded by a number
// of days ("7d", "1d12h", "36h", "90m"). Negative values are refused where
// the caller checks; Parse itself accepts "-1h" as Go does, but not "-1d".
func Parse(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, fmt.Errorf("empty duration")
	}
	var days time.Duration
	if i := strings.IndexByte(s, 'd'); i > 0 {
		n, err := strconv.ParseInt(s[:i], 10, 64)
		if err != nil || n < 0 || n > int64(math.MaxInt64/Day) {
			return 0, fmt.Errorf("%q is not a duration such as 90m, 24h or 7d", s)
		}
		days = time.Duration(n) * Day
		s = s[i+1:]
		if s == "" {
			return days, nil
		}
	}
	d, err := time.ParseDuration(s)
	if err != nil || days > 0 && (d < 0 || d > math.MaxInt64-days) {
		return 0, fmt.Errorf("%q is not a duration such as 90m, 24h or 7d", s)
	}
	return days + d, nil
}

// Format writes d as users write it: "7d", "1d12h", "1h30m", "2m15s",
// "850ms", "0s" — days, then Go's own notation without trailing zero units.
// It is exact (Parse reads it back to the same value); round d first for
// display.
func Format(d time.Duration) string {
	if d < 0 {
		return "-" + Format(-d)
	}
	if d == 0 {
		return "0s"
	}
	var b strings.Builder
	if days := d / Day; days > 0 {
		b.WriteString(strconv.FormatInt(int64(days), 10))
		b.WriteString("d")
		d -= days * Day
	}
	if d > 0 {
		s := d.String()
		if strings.HasSuffix(s, "m0s") {
			s = s[:len(s)-2]
		}
		if strings.HasSuffix(s, "h0m") {
			s = s[:len(s)-2]
		}
		b.WriteString(s)
	}
	return b.String()
}

// Value is a duration configuration value (envconfig decodes it): days are
// accepted, and it prints as users write it.
type Value time.Duration

// Decode implements envconfig.Decoder.
func (v *Value) Decode(s string) error {
	d, err := Parse(s)
	if err != nil {
		return err
	}
	*v = Value(d)
	return nil
}

// String implements fmt.Stringer.
func (v Value) String() string { return Format(time.Duration(v)) }

// D returns v as a time.Duration.
func (v Value) D() time.Duration { return time.Duration(v) }
