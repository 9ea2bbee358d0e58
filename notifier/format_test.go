package notifier

import (
	"math"
	"strings"
	"testing"
	"time"
)

// TestFormatDuration is the one duration format of every rendering:
// largest unit and the next, rounded half up, a zero smaller unit left out.
func TestFormatDuration(t *testing.T) {
	const (
		sec  = int64(time.Second / time.Millisecond)
		min  = 60 * sec
		hour = 60 * min
		day  = 24 * hour
	)
	tests := []struct {
		ms   int64
		want string
	}{
		{0, "0s"},
		{1, "1ms"},
		{17, "17ms"},
		{850, "850ms"},
		{999, "999ms"},
		{1000, "1s"},
		{1499, "1s"},
		{1500, "2s"},
		{15 * sec, "15s"},
		{20171, "20s"},
		{56642, "57s"},
		{59*sec + 499, "59s"},
		{59*sec + 500, "1m"}, // rounds up into the next unit
		{min, "1m"},
		{81 * sec, "1m21s"},
		{2*min + 15*sec, "2m15s"},
		{2*min + 5*sec, "2m5s"},
		{25 * min, "25m"},
		{25*min + 20194, "25m20s"},
		{59*min + 59*sec + 499, "59m59s"},
		{59*min + 59*sec + 500, "1h"},
		{hour, "1h"},
		{hour + 5*min, "1h5m"},
		{hour + 5*min + 29*sec, "1h5m"},
		{hour + 5*min + 30*sec, "1h6m"},
		{7500000, "2h5m"},
		{23*hour + 59*min + 29*sec, "23h59m"},
		{23*hour + 59*min + 30*sec, "1d"},
		{day, "1d"},
		{36 * hour, "1d12h"},
		{3*day + 4*hour, "3d4h"},
		{3*day + 4*hour + 29*min, "3d4h"},
		{3*day + 4*hour + 30*min, "3d5h"},
		{7 * day, "7d"}, // never "168h0m0s"
		{31 * day, "31d"},
		{-17, "-17ms"},
		{-(2*min + 15*sec), "-2m15s"},
		{math.MaxInt64, "106751991167d7h"},
		{math.MinInt64, "-106751991167d7h"},
	}
	for _, tt := range tests {
		if got := FormatDuration(tt.ms); got != tt.want {
			t.Errorf("FormatDuration(%d) = %q, want %q", tt.ms, got, tt.want)
		}
	}
}

// TestFormatDurationParses: what FormatDuration writes is a duration as
// users write them (days, then Go's units), and reads back to the rounded
// value.
func TestFormatDurationParses(t *testing.T) {
	for _, ms := range []int64{1, 999, 1000, 20171, 81000, 1520194, 7500000, 86399999, 273600000, 604800000} {
		s := FormatDuration(ms)
		var days int64
		rest := s
		if i := strings.IndexByte(s, 'd'); i >= 0 {
			for _, c := range s[:i] {
				days = days*10 + int64(c-'0')
			}
			rest = s[i+1:]
		}
		var d time.Duration
		if rest != "" {
			var err error
			if d, err = time.ParseDuration(rest); err != nil {
				t.Errorf("FormatDuration(%d) = %q: %v", ms, s, err)
				continue
			}
		}
		got := d + time.Duration(days)*24*time.Hour
		if diff := got - time.Duration(ms)*time.Millisecond; diff.Abs() > time.Duration(ms)*time.Millisecond/100+time.Second/2 {
			t.Errorf("FormatDuration(%d) = %q reads back as %v, off by %v", ms, s, got, diff)
		}
	}
}

func TestOutcome(t *testing.T) {
	tests := []struct {
		s    Summary
		want string
	}{
		{Summary{Status: StatusSucceeded, Phase: PhaseModelStartup, DurationMS: ms(135000)}, "succeeded in 2m15s"},
		{Summary{Status: StatusSucceeded, Phase: PhaseModelStartup}, "succeeded"},
		{Summary{Status: StatusFailed, Phase: PhaseScheduling, DurationMS: ms(81000)}, "failed in scheduling"},
		{Summary{Status: StatusStalled, Phase: PhaseImagePull}, "stalled in image_pull"},
		{Summary{Status: StatusRecovered, Phase: PhaseModelStartup}, "recovered, now in model_startup"},
		{Summary{Status: StatusInProgress, Phase: PhaseImagePull}, "in progress, image_pull"},
		{Summary{Status: StatusAbnormal}, "abnormal"},
	}
	for _, tt := range tests {
		if got := outcome(tt.s); got != tt.want {
			t.Errorf("outcome(%s) = %q, want %q", tt.s.Status, got, tt.want)
		}
	}
	// The duration follows an outcome once.
	s := tests[0].s
	if got := afterDuration(s, outcome(s)); got != "" {
		t.Errorf("a success says its duration twice: %q", outcome(s)+got)
	}
	s = tests[2].s
	if got := outcome(s) + afterDuration(s, outcome(s)); got != "failed in scheduling after 1m21s" {
		t.Errorf("failure with duration: %q", got)
	}
}

func TestBetweenPhases(t *testing.T) {
	s := gapSummary()
	gap, ok := betweenPhases(s)
	if !ok || gap != 60000 {
		t.Errorf("betweenPhases = %d, %v; want 60000, true", gap, ok)
	}
	var sum int64
	for _, p := range s.Phases {
		sum += *p.DurationMS
	}
	if sum+gap != *s.DurationMS {
		t.Errorf("phases %d + between %d != total %d", sum, gap, *s.DurationMS)
	}
	for name, s := range map[string]Summary{
		"contiguous":  fixture(KindSucceeded).Summary,
		"no duration": {Phases: s.Phases},
		"no phases":   {DurationMS: ms(1000)},
	} {
		if gap, ok := betweenPhases(s); ok {
			t.Errorf("%s: between phases %d", name, gap)
		}
	}
}
