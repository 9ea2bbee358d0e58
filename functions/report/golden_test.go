package main

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
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
