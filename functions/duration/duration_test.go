package duration

import (
	"testing"
	"time"
)

func TestParse(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"7d", 7 * Day, true},
		{"1d12h", 36 * time.Hour, true},
		{"90m", 90 * time.Minute, true},
		{"1h30m", 90 * time.Minute, true},
		{"24h", Day, true},
		{" 2d ", 2 * Day, true},
		{"0s", 0, true},
		{"", 0, false},
		{"d", 0, false},
		{"7", 0, false},
		{"-1d", 0, false},
		{"1d-1h", 0, false},
		{"soon", 0, false},
		{"1.5d", 0, false},
		{"99999999d", 0, false},
		{"106751d23h47m16.854775807s", 1<<63 - 1, true},
	}
	for _, tt := range tests {
		got, err := Parse(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("Parse(%q) = %v, %v; want %v, ok=%v", tt.in, got, err, tt.want, tt.ok)
		}
	}
}

func TestFormat(t *testing.T) {
	tests := map[time.Duration]string{
		0:                                    "0s",
		850 * time.Millisecond:               "850ms",
		time.Second:                          "1s",
		15 * time.Second:                     "15s",
		135 * time.Second:                    "2m15s",
		time.Hour + 5*time.Minute:            "1h5m",
		7 * Day:                              "7d",
		36 * time.Hour:                       "1d12h",
		31 * Day:                             "31d",
		2*time.Minute + 500*time.Millisecond: "2m0.5s",
		1<<63 - 1:                            "106751d23h47m16.854775807s",
	}
	for d, want := range tests {
		if got := Format(d); got != want {
			t.Errorf("Format(%v) = %q, want %q", d, got, want)
		}
		{
			if back, err := Parse(want); err != nil || back != d {
				t.Errorf("Parse(Format(%v)) = %v, %v", d, back, err)
			}
		}
	}
}
