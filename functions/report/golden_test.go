package main

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// The text report of every demo service, at a fixed clock: what a user
// reads, deployments and runtime events alike (the JSON report shows the
// same things).
func TestDemoReportGolden(t *testing.T) {
	anchor := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	services := map[string]string{
		"a1b2c3d4-0001-4000-8000-000000000001": "succeeded",
		"a1b2c3d4-0002-4000-8000-000000000002": "failed",
		"a1b2c3d4-0003-4000-8000-000000000003": "stalled",
		"a1b2c3d4-0004-4000-8000-000000000004": "runtime",
		"a1b2c3d4-0005-4000-8000-000000000005": "v2-stalled",
	}
	defer func(c func() time.Time) { clock = c }(clock)
	clock = func() time.Time { return anchor.Add(50 * time.Minute) }
	for id, name := range services {
		t.Run(name, func(t *testing.T) {
			cleanEnv(t)
			// The demo keeps the scenario's anchor beside its checkpoints.
			if err := os.MkdirAll(".modelarts-notifier", 0o755); err != nil {
				t.Fatal(err)
			}
			os.WriteFile(filepath.Join(".modelarts-notifier", "demo-scenario.json"), []byte(`{"anchor":"`+anchor.Format(time.RFC3339)+`"}`), 0o644)
			os.WriteFile(filepath.Join(".modelarts-notifier", "demo-checkpoints.json"), []byte("{}\n"), 0o644)
			var out, errOut bytes.Buffer
			if err := realMain(context.Background(), []string{"-demo", "-service", id, "-since", "7d"}, &out, &errOut); err != nil {
				t.Fatalf("%v\n%s", err, errOut.String())
			}
			golden := filepath.Join(testdataDir(t), "report_"+name+".txt")
			if *update {
				if err := os.WriteFile(golden, out.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update to write it)", err)
			}
			if !bytes.Equal(out.Bytes(), want) {
				t.Errorf("report of %s differs from %s:\n%s", name, golden, out.String())
			}
		})
	}
}

var testdata string

func init() {
	wd, _ := os.Getwd()
	testdata = filepath.Join(wd, "testdata")
}

func testdataDir(*testing.T) string { return testdata }

// The demo project's report, in text and JSON, at a fixed clock: what
// `go run -tags demo ./functions/report -demo` prints. The phase bars line
// up: every bar line is as wide as the others up to its durations.
func TestDemoProjectReportGolden(t *testing.T) {
	anchor := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	defer func(c func() time.Time) { clock = c }(clock)
	clock = func() time.Time { return anchor.Add(50 * time.Minute) }
	for format, name := range map[string]string{"text": "project.txt", "json": "project.json"} {
		t.Run(format, func(t *testing.T) {
			cleanEnv(t)
			if err := os.MkdirAll(".modelarts-notifier", 0o755); err != nil {
				t.Fatal(err)
			}
			os.WriteFile(filepath.Join(".modelarts-notifier", "demo-scenario.json"), []byte(`{"anchor":"`+anchor.Format(time.RFC3339)+`"}`), 0o644)
			os.WriteFile(filepath.Join(".modelarts-notifier", "demo-checkpoints.json"), []byte("{}\n"), 0o644)
			var out, errOut bytes.Buffer
			if err := realMain(context.Background(), []string{"-demo", "-format", format}, &out, &errOut); err != nil {
				t.Fatalf("%v\n%s", err, errOut.String())
			}
			if format == "text" {
				checkBarsLineUp(t, out.String())
			}
			golden := filepath.Join(testdataDir(t), name)
			if *update {
				if err := os.WriteFile(golden, out.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update to write it)", err)
			}
			if !bytes.Equal(out.Bytes(), want) {
				t.Errorf("the demo project's report differs from %s:\n%s", golden, out.String())
			}
		})
	}
}

// checkBarsLineUp checks the phase-duration lines of a text project
// report: one per phase, each bar made of block elements (U+2580–U+259F)
// and spaces, starting and ending in the same column on every line.
func checkBarsLineUp(t *testing.T, text string) {
	t.Helper()
	lines := strings.Split(text, "\n")
	start := slices.IndexFunc(lines, func(l string) bool { return strings.HasPrefix(l, "Phase durations") })
	if start < 0 {
		t.Fatalf("no phase durations in:\n%s", text)
	}
	var bars []string
	for _, l := range lines[start+1:] {
		if l == "" {
			break
		}
		bars = append(bars, l)
	}
	if len(bars) == 0 {
		t.Fatalf("no bars in:\n%s", text)
	}
	col := func(l string) int {
		return slices.IndexFunc([]rune(l), func(r rune) bool { return r >= 0x2580 && r <= 0x259F })
	}
	from0 := col(bars[0])
	width := -1
	for _, l := range bars {
		from := col(l)
		if from != from0 {
			t.Errorf("bar starts in column %d, not %d: %q", from, from0, l)
		}
		rs := []rune(l)
		end := from
		for end < len(rs) && (rs[end] >= 0x2580 && rs[end] <= 0x259F || rs[end] == ' ') {
			end++
		}
		// end is now at the median's first character; right-aligned
		// medians make it vary, so compare the width of bar plus median.
		median := strings.Fields(string(rs[end:]))[0]
		w := end + len([]rune(median))
		if width < 0 {
			width = w
		}
		if w != width {
			t.Errorf("bar and median end in column %d, not %d: %q", w, width, l)
		}
	}
}
