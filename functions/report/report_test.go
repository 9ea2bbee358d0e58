package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/modelarts-notifier/modelarts-notifier/eventsapi"
	"github.com/modelarts-notifier/modelarts-notifier/eventsapi/eventsapitest"
	"github.com/modelarts-notifier/modelarts-notifier/functions/setup"
	"github.com/modelarts-notifier/modelarts-notifier/notifier"
	"github.com/modelarts-notifier/modelarts-notifier/notifier/notifiertest"
)

func cleanEnv(t *testing.T) {
	for _, k := range []string{"MODELARTS_REGION", "MODELARTS_ENDPOINT", "MODELARTS_PROJECT_ID", "MODELARTS_SERVICE_IDS",
		"MODELARTS_TOKEN", "HUAWEICLOUD_DOMAIN_NAME", "HUAWEICLOUD_USERNAME", "HUAWEICLOUD_PASSWORD",
		"HUAWEICLOUD_ACCESS_KEY", "HUAWEICLOUD_SECRET_KEY", "SECRETS_ARN", "SLACK_WEBHOOK_URL", "SLACK_BOT_TOKEN",
		"SLACK_CHANNEL", "WEBHOOK_URLS", "WEBHOOK_SECRET", "STALL_THRESHOLDS", "LOG_LEVEL", "AWS_LAMBDA_RUNTIME_API",
		"ROUTES", "MODELARTS_API", "MODELARTS_CONCURRENCY", "TEAMS_WEBHOOK_URLS", "FEISHU_WEBHOOK_URLS", "DINGTALK_WEBHOOK_URLS",
		"WECOM_WEBHOOK_URLS"} {
		t.Setenv(k, "")
		os.Unsetenv(k)
	}
	t.Chdir(t.TempDir())
}

// Without -service, the demo prints its project's report: every service,
// the phase durations as bars.
func TestDemoReportText(t *testing.T) {
	cleanEnv(t)
	var out, errOut bytes.Buffer
	if err := realMain(context.Background(), []string{"-demo", "-since", "24h"}, &out, &errOut); err != nil {
		t.Fatalf("%v\n%s", err, errOut.String())
	}
	for _, want := range []string{"Project report: ", "resnet50-classifier", "bert-ner", "llama2-chat", "yolo-detector", "qwen-72b-chat",
		"image_build", "environment", "scheduling", "image_pull", "model_startup", "█", "1 failed, 2 stalled"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, out.String())
		}
	}
}

func TestDemoReportJSON(t *testing.T) {
	cleanEnv(t)
	var out, errOut bytes.Buffer
	if err := realMain(context.Background(), []string{"-demo", "-service", "a1b2c3d4-0002-4000-8000-000000000002", "-format", "json"}, &out, &errOut); err != nil {
		t.Fatalf("%v\n%s", err, errOut.String())
	}
	var r struct {
		Type        string `json:"type"`
		ServiceName string `json:"service_name"`
		Deployments []struct {
			Status string `json:"status"`
			Phase  string `json:"phase"`
			Phases []struct{ Name string }
		} `json:"deployments"`
	}
	if err := json.Unmarshal(out.Bytes(), &r); err != nil {
		t.Fatalf("%v: %s", err, out.String())
	}
	if r.Type != "deployment.report" || r.ServiceName != "bert-ner" || len(r.Deployments) != 1 ||
		r.Deployments[0].Status != "failed" || r.Deployments[0].Phase != "scheduling" || len(r.Deployments[0].Phases) != 5 {
		t.Fatalf("report %s", out.String())
	}
}

func TestBadFlags(t *testing.T) {
	cleanEnv(t)
	for _, args := range [][]string{
		{"-demo", "-format", "xml"},
		{"-demo", "-since", "forever"},
		{"-demo", "-since", "400d"},
	} {
		err := realMain(context.Background(), args, &bytes.Buffer{}, &bytes.Buffer{})
		if err == nil {
			t.Errorf("%v: no error", args)
		}
	}
}

// The Lambda handler answers the documented payload with the report, and a
// request without service_id with an error naming it.
func TestHandler(t *testing.T) {
	cleanEnv(t)
	fake := eventsapitest.NewServer()
	t.Cleanup(fake.Close)
	fake.AddService("s1", "svc-one", eventsapi.StatusDeploying)
	fake.DeploySuccess("s1", "TF 3.0.0", time.Now().Add(-3*time.Hour), time.Second)
	fake.DeployStall("s1", "TF 3.0.0", eventsapitest.PhaseImagePull, time.Now().Add(-time.Hour), time.Second)
	t.Setenv("MODELARTS_ENDPOINT", fake.URL)
	t.Setenv("MODELARTS_PROJECT_ID", fake.ProjectID)
	t.Setenv("MODELARTS_TOKEN", fake.Token)
	cfg, err := setup.LoadReport()
	if err != nil {
		t.Fatal(err)
	}
	a, err := newApp(cfg, setup.NewLogger(&bytes.Buffer{}, "error", true))
	if err != nil {
		t.Fatal(err)
	}
	h := lambda.NewHandler(a.handle)
	out, err := h.Invoke(context.Background(), []byte(`{"service_id": "s1", "since": "24h", "notify": false}`))
	if err != nil {
		t.Fatal(err)
	}
	var r struct {
		Deployments []struct{ Status string } `json:"deployments"`
	}
	if err := json.Unmarshal(out, &r); err != nil || len(r.Deployments) != 2 ||
		r.Deployments[0].Status != "succeeded" || r.Deployments[1].Status != "stalled" {
		t.Fatalf("report %s (%v)", out, err)
	}
	// Without service_id: the project report.
	out, err = h.Invoke(context.Background(), []byte(`{"since": "24h"}`))
	var p struct {
		Type   string `json:"type"`
		Totals struct {
			Services, Deployments, Succeeded, Stalled int
		} `json:"totals"`
		Services []struct {
			ServiceName string `json:"service_name"`
		} `json:"services"`
	}
	if err != nil || json.Unmarshal(out, &p) != nil || p.Type != "project.report" || p.Totals.Services != 1 ||
		p.Totals.Deployments != 2 || p.Totals.Succeeded != 1 || p.Totals.Stalled != 1 || p.Services[0].ServiceName != "svc-one" {
		t.Errorf("project report %s (%v)", out, err)
	}
	if _, err := h.Invoke(context.Background(), []byte(`{"since": "forever"}`)); err == nil || !strings.Contains(err.Error(), "forever") {
		t.Errorf("bad since: err = %v", err)
	}
	if _, err := h.Invoke(context.Background(), []byte(`{"service_id": "s1", "notify": true}`)); err == nil || !strings.Contains(err.Error(), "no destination") {
		t.Errorf("notify without destinations: err = %v", err)
	}
	if _, err := h.Invoke(context.Background(), []byte(`{"service_id": "nope"}`)); err == nil || !strings.Contains(err.Error(), "nope") {
		t.Errorf("unknown service: err = %v", err)
	}
}

// projectEnv points the report at a fake ModelArts with three services,
// two of which share a name.
func projectEnv(t *testing.T) *eventsapitest.Server {
	t.Helper()
	cleanEnv(t)
	fake := eventsapitest.NewServer()
	t.Cleanup(fake.Close)
	now := time.Now()
	fake.AddService("0d000000-0000-4000-8000-000000000001", "bert-ner", eventsapi.StatusDeploying)
	fake.DeployFailure("0d000000-0000-4000-8000-000000000001", "BERT 2.0", eventsapitest.PhaseScheduling, now.Add(-2*time.Hour), time.Second)
	fake.AddService("0d000000-0000-4000-8000-000000000002", "resnet", eventsapi.StatusDeploying)
	fake.DeploySuccess("0d000000-0000-4000-8000-000000000002", "ResNet 1.0", now.Add(-time.Hour), time.Second)
	fake.AddServiceV2("0d000000-0000-4000-8000-000000000003", "resnet", "RUNNING")
	t.Setenv("MODELARTS_ENDPOINT", fake.URL)
	t.Setenv("MODELARTS_PROJECT_ID", fake.ProjectID)
	t.Setenv("MODELARTS_TOKEN", fake.Token)
	return fake
}

// -service takes an id or an exact name: both print the same report; a
// name two services share is an error listing their ids; an unknown name
// says so and suggests the closest.
func TestServiceByName(t *testing.T) {
	projectEnv(t)
	defer func(c func() time.Time) { clock = c }(clock)
	now := time.Now()
	clock = func() time.Time { return now }
	report := func(service string) (string, error) {
		var out, errOut bytes.Buffer
		err := realMain(context.Background(), []string{"-service", service, "-format", "json"}, &out, &errOut)
		return out.String(), err
	}
	byName, err := report("bert-ner")
	if err != nil {
		t.Fatal(err)
	}
	byID, err := report("0d000000-0000-4000-8000-000000000001")
	if err != nil {
		t.Fatal(err)
	}
	if byName != byID || !strings.Contains(byName, `"status": "failed"`) {
		t.Errorf("by name:\n%s\nby id:\n%s", byName, byID)
	}
	_, err = report("resnet")
	if err == nil || !strings.Contains(err.Error(), "0d000000-0000-4000-8000-000000000002") || !strings.Contains(err.Error(), "0d000000-0000-4000-8000-000000000003") {
		t.Errorf("a shared name: err = %v, want both ids", err)
	}
	_, err = report("bert-nre")
	if err == nil || !strings.Contains(err.Error(), `no service is named "bert-nre"`) || !strings.Contains(err.Error(), `"bert-ner"`) {
		t.Errorf("an unknown name: err = %v, want it to suggest bert-ner", err)
	}
}

// -notify posts the project report as one project.report notification;
// posted twice in the same hour, it carries the same webhook-id, and its
// window ends at the start of the hour.
func TestNotifyProjectReport(t *testing.T) {
	fake := projectEnv(t)
	const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	receiver := notifiertest.NewWebhookReceiver(t, secret)
	t.Setenv("WEBHOOK_URLS", receiver.URL)
	t.Setenv("WEBHOOK_SECRET", secret)
	defer func(c func() time.Time) { clock = c }(clock)
	hour := time.Now().UTC().Truncate(time.Hour)
	for _, at := range []time.Duration{10 * time.Minute, 40 * time.Minute} {
		clock = func() time.Time { return hour.Add(at) }
		var out, errOut bytes.Buffer
		if err := realMain(context.Background(), []string{"-notify", "-format", "json"}, &out, &errOut); err != nil {
			t.Fatalf("%v\n%s", err, errOut.String())
		}
		var resp struct {
			To        time.Time `json:"to"`
			Delivered []string  `json:"delivered_to"`
		}
		if err := json.Unmarshal(out.Bytes(), &resp); err != nil || !resp.To.Equal(hour) || len(resp.Delivered) != 1 {
			t.Errorf("answer %s (%v): want the window to end at %v, delivered to the webhook", out.String(), err, hour)
		}
	}
	got := receiver.Take()
	if len(got) != 2 || got[0].Kind != notifier.KindProjectReport || got[0].ID == "" || got[0].ID != got[1].ID {
		t.Fatalf("webhook got %+v, want the same project.report twice", got)
	}
	var body struct {
		Data struct {
			ProjectID string `json:"project_id"`
			Totals    struct{ Services, Failed int }
		} `json:"data"`
	}
	if err := json.Unmarshal(got[0].Body, &body); err != nil || body.Data.ProjectID != fake.ProjectID || body.Data.Totals.Services != 3 {
		t.Errorf("body %s (%v)", got[0].Body, err)
	}
	if r := receiver.Rejected(); len(r) > 0 {
		t.Errorf("rejected: %v", r)
	}

	// The next hour's report is another notification.
	clock = func() time.Time { return hour.Add(70 * time.Minute) }
	if err := realMain(context.Background(), []string{"-notify"}, &bytes.Buffer{}, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	if next := receiver.Take(); len(next) != 1 || next[0].ID == got[0].ID {
		t.Errorf("the next hour's report: %+v", next)
	}
}

// ROUTES routes a project report by its type: a route or mute that
// filters on the service never matches it; one on its type does.
func TestProjectReportRoutes(t *testing.T) {
	projectEnv(t)
	const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	team := notifiertest.NewWebhookReceiver(t, secret)
	ops := notifiertest.NewWebhookReceiver(t, secret)
	t.Setenv("WEBHOOK_URLS", "team="+team.URL+",ops="+ops.URL)
	t.Setenv("WEBHOOK_SECRET", secret)
	run := func(routes string) ProjectResponse {
		t.Helper()
		t.Setenv("ROUTES", routes)
		var out, errOut bytes.Buffer
		if err := realMain(context.Background(), []string{"-notify", "-format", "json"}, &out, &errOut); err != nil {
			t.Fatalf("%v\n%s", err, errOut.String())
		}
		var resp ProjectResponse
		if err := json.Unmarshal(out.Bytes(), &resp); err != nil {
			t.Fatal(err)
		}
		return resp
	}
	// A service route and a service mute do not apply; the type route does.
	resp := run(`
routes:
  - match: {service: ["*"]}
    to: [team]
  - match: {type: [project.report]}
    to: [ops]
mute:
  - service: ["*"]
`)
	if len(team.Take()) != 0 || len(ops.Take()) != 1 || resp.Muted || len(resp.Delivered) != 1 {
		t.Errorf("routed by type: %+v", resp)
	}
	// A mute by type silences it.
	resp = run(`
mute:
  - type: [project.report]
`)
	if len(team.Take())+len(ops.Take()) != 0 || !resp.Muted {
		t.Errorf("muted by type: %+v", resp)
	}
	// No route matches: default.
	resp = run(`
routes:
  - match: {generation: v2}
    to: [ops]
default: [team]
`)
	if len(team.Take()) != 1 || len(ops.Take()) != 0 {
		t.Errorf("default: %+v", resp)
	}
}
