package timeline

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/kelseyhightower/envconfig"
)

func TestParseThresholds(t *testing.T) {
	defaults := DefaultThresholds()
	with := func(phase string, d time.Duration) Thresholds {
		t := DefaultThresholds()
		t[phase] = d
		return t
	}
	tests := []struct {
		name    string
		in      string
		want    Thresholds
		wantErr string // a substring of the error; "" for none
	}{
		{name: "empty is the defaults", in: "", want: defaults},
		{name: "blank is the defaults", in: "  ", want: defaults},
		{name: "all five", in: "image_build=30m,environment=10m,scheduling=15m,image_pull=20m,model_startup=20m", want: defaults},
		{name: "merged over the defaults", in: "scheduling=1h", want: with("scheduling", time.Hour)},
		{name: "spaces", in: " image_pull = 90s ", want: with("image_pull", 90*time.Second)},
		{name: "unknown phase", in: "image_build=30m,deploy=5m", wantErr: `item "deploy=5m": unknown phase "deploy"`},
		{name: "duplicate", in: "environment=1m,environment=2m", wantErr: `item "environment=2m": phase environment given twice`},
		{name: "missing =", in: "environment 10m", wantErr: `item "environment 10m": want phase=duration`},
		{name: "empty item", in: "environment=10m,", wantErr: `item "": want phase=duration`},
		{name: "bad duration", in: "environment=10", wantErr: `item "environment=10": bad duration "10"`},
		{name: "zero duration", in: "environment=0s", wantErr: `item "environment=0s": duration must be positive`},
		{name: "negative duration", in: "environment=-1m", wantErr: `item "environment=-1m": duration must be positive`},
		{name: "case matters", in: "Environment=1m", wantErr: `unknown phase "Environment"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseThresholds(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParseThresholds(%q) error = %v, want one containing %q", tt.in, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseThresholds(%q): %v", tt.in, err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ParseThresholds(%q) (-want +got):\n%s", tt.in, diff)
			}
		})
	}
}

func TestThresholdsString(t *testing.T) {
	tests := []struct {
		in   Thresholds
		want string
	}{
		{DefaultThresholds(), "image_build=30m,environment=10m,scheduling=15m,image_pull=20m,model_startup=20m"},
		{Thresholds{"scheduling": time.Hour, "image_pull": 90 * time.Second}, "scheduling=1h,image_pull=1m30s"},
		{Thresholds{"model_startup": 2*time.Hour + 30*time.Minute, "other": time.Second}, "model_startup=2h30m"},
		{nil, ""},
	}
	for _, tt := range tests {
		got := tt.in.String()
		if got != tt.want {
			t.Errorf("String() = %q, want %q", got, tt.want)
		}
		back, err := ParseThresholds(got)
		if err != nil {
			t.Fatalf("ParseThresholds(%q): %v", got, err)
		}
		for name, d := range tt.in {
			if phaseIndex(name) >= 0 && back[name] != d {
				t.Errorf("round trip of %q: %s = %v, want %v", got, name, back[name], d)
			}
		}
	}
}

func TestThresholdsFor(t *testing.T) {
	var none Thresholds
	if got := none.For("image_build"); got != 30*time.Minute {
		t.Errorf("nil.For(image_build) = %v, want the default 30m", got)
	}
	th := Thresholds{"image_build": time.Minute, "environment": -time.Second}
	if got := th.For("image_build"); got != time.Minute {
		t.Errorf("For(image_build) = %v, want 1m", got)
	}
	if got := th.For("environment"); got != 10*time.Minute {
		t.Errorf("For(environment) with a non-positive value = %v, want the default 10m", got)
	}
	if got := th.For("nope"); got != 0 {
		t.Errorf("For(nope) = %v, want 0", got)
	}
}

func TestThresholdsEnvconfig(t *testing.T) {
	type config struct {
		StallThresholds Thresholds `envconfig:"STALL_THRESHOLDS"`
	}
	t.Setenv("STALL_THRESHOLDS", "environment=5m")
	var c config
	if err := envconfig.Process("", &c); err != nil {
		t.Fatal(err)
	}
	want := DefaultThresholds()
	want["environment"] = 5 * time.Minute
	if diff := cmp.Diff(want, c.StallThresholds); diff != "" {
		t.Errorf("decoded (-want +got):\n%s", diff)
	}

	t.Setenv("STALL_THRESHOLDS", "environment=soon")
	err := envconfig.Process("", &c)
	if err == nil || !strings.Contains(err.Error(), "STALL_THRESHOLDS") || !strings.Contains(err.Error(), `"environment=soon"`) {
		t.Errorf("bad value: error %v, want one naming STALL_THRESHOLDS and the item", err)
	}
}

func FuzzParseThresholds(f *testing.F) {
	for _, s := range []string{
		"", "image_build=30m,environment=10m,scheduling=15m,image_pull=20m,model_startup=20m",
		"scheduling=1h", "environment=0s", "x=1m", "a", ",", "image_pull=1m30s,image_pull=2m", "model_startup=9223372036854775807ns",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		th, err := ParseThresholds(s)
		if err != nil {
			return
		}
		if len(th) != numPhases {
			t.Fatalf("ParseThresholds(%q) has %d phases, want %d", s, len(th), numPhases)
		}
		for name, d := range th {
			if phaseIndex(name) < 0 || d <= 0 {
				t.Fatalf("ParseThresholds(%q): %s=%v", s, name, d)
			}
		}
		back, err := ParseThresholds(th.String())
		if err != nil {
			t.Fatalf("ParseThresholds(%q.String() = %q): %v", s, th.String(), err)
		}
		if diff := cmp.Diff(th, back); diff != "" {
			t.Fatalf("round trip of %q (-first +second):\n%s", s, diff)
		}
	})
}
