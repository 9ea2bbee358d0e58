package e2e

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestRunRIEDemo runs what `make run-rie` runs: each function built as a
// Lambda bootstrap with the demo (build tags lambda.norpc,demo), under the
// Lambda Runtime Interface Emulator with -demo and no configuration at
// all, and invoked as the README shows.
func TestRunRIEDemo(t *testing.T) {
	rie := rieBinary(t)
	root := repoRoot(t)
	bin := t.TempDir()
	work := t.TempDir() // the demo keeps its checkpoints in .modelarts-notifier here
	// Nothing of this shell's configuration reaches the function.
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "MODELARTS_") || strings.HasPrefix(k, "HUAWEICLOUD_") || strings.HasPrefix(k, "SLACK_") ||
			strings.HasPrefix(k, "WEBHOOK_") || k == "CHECKPOINT_TABLE" || k == "CHECKPOINT_FILE" || k == "SECRETS_ARN" {
			env = append(env, k+"=")
		}
	}

	poller := buildBootstrapTags(t, root, "./functions/poller", filepath.Join(bin, "poller"), "lambda.norpc,demo")
	fn := startRIEIn(t, rie, work, poller, []string{"-demo"}, env)
	var out struct {
		Services  int `json:"services"`
		Due       int `json:"notifications_due"`
		Delivered int `json:"deliveries"`
		Failed    int `json:"deliveries_failed"`
	}
	if err := json.Unmarshal(fn.invoke(t, `{}`), &out); err != nil {
		t.Fatal(err)
	}
	if out.Services != 5 || out.Due != 5 || out.Delivered != out.Due || out.Failed != 0 {
		t.Errorf("first invoke: %+v; want every demo service read and each due notification delivered to the terminal", out)
	}
	for _, want := range []string{"succeeded", "failed", "stalled"} {
		if !strings.Contains(fn.log.String(), want) {
			t.Errorf("the emulator's output has no %q summary:\n%s", want, fn.log.String())
		}
	}
	if err := json.Unmarshal(fn.invoke(t, `{}`), &out); err != nil {
		t.Fatal(err)
	}
	if out.Due != 0 {
		t.Errorf("second invoke: %d due; want nothing new", out.Due)
	}

	report := buildBootstrapTags(t, root, "./functions/report", filepath.Join(bin, "report"), "lambda.norpc,demo")
	rf := startRIEIn(t, rie, work, report, []string{"-demo"}, env)
	var rep struct {
		Type        string            `json:"type"`
		ServiceID   string            `json:"service_id"`
		Deployments []json.RawMessage `json:"deployments"`
	}
	if err := json.Unmarshal(rf.invoke(t, `{"service_id": "a1b2c3d4-0002-4000-8000-000000000002", "since": "24h"}`), &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Type != "deployment.report" || len(rep.Deployments) != 1 {
		t.Errorf("report: %+v; want the demo's failed deployment", rep)
	}
	// What make run-rie RIE_FUNCTION=report's curl sends: the project report.
	var proj struct {
		Type   string `json:"type"`
		Totals struct {
			Services int `json:"services"`
			Failed   int `json:"failed"`
			Stalled  int `json:"stalled"`
		} `json:"totals"`
	}
	if err := json.Unmarshal(rf.invoke(t, `{"since": "24h"}`), &proj); err != nil {
		t.Fatal(err)
	}
	if proj.Type != "project.report" || proj.Totals.Services != 5 || proj.Totals.Failed != 1 || proj.Totals.Stalled != 2 {
		t.Errorf("project report: %+v; want the demo's five services", proj)
	}
}

// The production bootstraps hold neither the demo nor the fake ModelArts.
func TestProductionBinariesHoldNoFake(t *testing.T) {
	cmd := exec.Command("go", "list", "-deps", "-tags", "lambda.norpc", "./functions/poller", "./functions/report")
	cmd.Dir = repoRoot(t)
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, pkg := range strings.Fields(string(out)) {
		if strings.HasSuffix(pkg, "/eventsapitest") || strings.HasSuffix(pkg, "/functions/demo") || strings.HasSuffix(pkg, "/notifiertest") {
			t.Errorf("a production bootstrap depends on %s", pkg)
		}
	}
}
