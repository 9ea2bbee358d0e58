package e2e

import (
	"encoding/json"
	"path/filepath"
	"testing"
	"time"

	"github.com/modelarts-notifier/modelarts-notifier/eventsapi"
	"github.com/modelarts-notifier/modelarts-notifier/eventsapi/eventsapitest"
	"github.com/modelarts-notifier/modelarts-notifier/notifier"
	"github.com/modelarts-notifier/modelarts-notifier/notifier/notifiertest"
)

// TestProjectReportUnderRIE runs the real report bootstrap under the
// Lambda Runtime Interface Emulator: a payload without service_id answers
// the project report; with notify it posts one project.report to a
// receiver that verifies its Standard Webhooks signature, and a second
// invoke in the same hour posts it under the same webhook-id (what a
// retried scheduled run does: receivers deduplicate).
func TestProjectReportUnderRIE(t *testing.T) {
	rie := rieBinary(t)
	root := repoRoot(t)
	report := buildBootstrap(t, root, "./functions/report", filepath.Join(t.TempDir(), "report"))

	fake := eventsapitest.NewServer()
	t.Cleanup(fake.Close)
	now := time.Now()
	step := 10 * time.Second
	ids := []string{"e2e00000-0000-4000-8000-0000000000a1", "e2e00000-0000-4000-8000-0000000000a2", "e2e00000-0000-4000-8000-0000000000a3"}
	fake.AddService(ids[0], "svc-success", eventsapi.StatusDeploying)
	fake.DeploySuccess(ids[0], "TF 3.0.0", now.Add(-3*time.Hour), step)
	fake.AddService(ids[1], "svc-failure", eventsapi.StatusDeploying)
	fake.DeployFailure(ids[1], "TF 3.0.0", eventsapitest.PhaseScheduling, now.Add(-2*time.Hour), step)
	fake.AddServiceV2(ids[2], "svc-v2", "DEPLOYING")
	fake.DeployStallV2(ids[2], "Qwen 1.0", eventsapitest.PhaseImagePull, now.Add(-26*time.Hour), step) // before the window

	receiver := notifiertest.NewWebhookReceiver(t, webhookSecret)
	fn := startRIE(t, rie, report, []string{
		"MODELARTS_ENDPOINT=" + fake.URL,
		"MODELARTS_PROJECT_ID=" + fake.ProjectID,
		"MODELARTS_TOKEN=" + fake.Token,
		"WEBHOOK_URLS=" + receiver.URL,
		"WEBHOOK_SECRET=" + webhookSecret,
		"AWS_LAMBDA_FUNCTION_TIMEOUT=60",
		"LOG_LEVEL=debug",
	})

	type answer struct {
		Type   string    `json:"type"`
		Since  string    `json:"since"`
		To     time.Time `json:"to"`
		Totals struct {
			Services    int `json:"services"`
			Deployments int `json:"deployments"`
			Succeeded   int `json:"succeeded"`
			Failed      int `json:"failed"`
		} `json:"totals"`
		Services []struct {
			ServiceName string          `json:"service_name"`
			Latest      json.RawMessage `json:"latest"`
		} `json:"services"`
		Delivered []string `json:"delivered_to"`
	}
	invoke := func(payload string) answer {
		t.Helper()
		out := fn.invoke(t, payload)
		var a answer
		if err := json.Unmarshal(out, &a); err != nil {
			t.Fatalf("report output %s: %v", out, err)
		}
		return a
	}

	// Printed (answered): the window ends now; nothing is posted.
	before := time.Now()
	a := invoke(`{"since": "24h"}`)
	if a.Type != "project.report" || a.Since != "24h" || a.Totals.Services != 3 || a.Totals.Deployments != 2 ||
		a.Totals.Succeeded != 1 || a.Totals.Failed != 1 || len(a.Delivered) != 0 {
		t.Fatalf("project report: %+v", a)
	}
	if a.To.Before(before.Add(-time.Second)) || a.Services[0].ServiceName != "svc-failure" {
		t.Errorf("project report window ends %v (want now), services %+v (want the failure first)", a.To, a.Services)
	}
	if got := receiver.Take(); len(got) != 0 {
		t.Fatalf("a report without notify posted %d webhooks", len(got))
	}

	// Posted twice in one hour: one project.report each time, the same
	// webhook-id. (Should the two invokes straddle the hour, the pair is
	// taken again: the next pair falls in one hour.)
	for attempt := 0; ; attempt++ {
		first := invoke(`{"since": "24h", "notify": true}`)
		second := invoke(`{"since": "24h", "notify": true}`)
		got := receiver.Take()
		if len(got) != 2 {
			t.Fatalf("two notify invokes posted %d webhooks (rejected: %v), want one each", len(got), receiver.Rejected())
		}
		if !first.To.Equal(second.To) && attempt == 0 {
			continue
		}
		if hour := first.To.Truncate(time.Hour); !first.To.Equal(hour) || first.To.After(time.Now()) {
			t.Errorf("a posted report's window ends at %v, want the start of the current hour", first.To)
		}
		if len(first.Delivered) != 1 {
			t.Errorf("delivered_to %v, want the webhook", first.Delivered)
		}
		for _, d := range got {
			if d.Kind != notifier.KindProjectReport {
				t.Errorf("webhook type %s, want project.report", d.Kind)
			}
			var body struct {
				Data struct {
					ProjectID string    `json:"project_id"`
					To        time.Time `json:"to"`
					Totals    struct {
						Services int `json:"services"`
					} `json:"totals"`
					Services []json.RawMessage `json:"services"`
				} `json:"data"`
			}
			if err := json.Unmarshal(d.Body, &body); err != nil || body.Data.ProjectID != fake.ProjectID ||
				body.Data.Totals.Services != 3 || len(body.Data.Services) != 3 || !body.Data.To.Equal(first.To) {
				t.Errorf("webhook body %s (%v)", d.Body, err)
			}
		}
		if got[0].ID == "" || got[0].ID != got[1].ID {
			t.Errorf("webhook-ids %q and %q: a report posted again in the same hour must carry the same id", got[0].ID, got[1].ID)
		}
		break
	}
	if r := receiver.Rejected(); len(r) > 0 {
		t.Errorf("the receiver rejected: %v", r)
	}
	if checkLogLines(t, fn.log.String()) == 0 {
		t.Error("no JSON log line in the function's output")
	}
}
