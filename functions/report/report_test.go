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
)

func cleanEnv(t *testing.T) {
	for _, k := range []string{"MODELARTS_REGION", "MODELARTS_ENDPOINT", "MODELARTS_PROJECT_ID", "MODELARTS_SERVICE_IDS",
		"MODELARTS_TOKEN", "HUAWEICLOUD_DOMAIN_NAME", "HUAWEICLOUD_USERNAME", "HUAWEICLOUD_PASSWORD",
		"HUAWEICLOUD_ACCESS_KEY", "HUAWEICLOUD_SECRET_KEY", "SECRETS_ARN", "SLACK_WEBHOOK_URL", "SLACK_BOT_TOKEN",
		"SLACK_CHANNEL", "WEBHOOK_URLS", "WEBHOOK_SECRET", "STALL_THRESHOLDS", "LOG_LEVEL", "AWS_LAMBDA_RUNTIME_API"} {
		t.Setenv(k, "")
		os.Unsetenv(k)
	}
	t.Chdir(t.TempDir())
}

func TestDemoReportText(t *testing.T) {
	cleanEnv(t)
	var out, errOut bytes.Buffer
	if err := realMain(context.Background(), []string{"-demo", "-since", "24h"}, &out, &errOut); err != nil {
		t.Fatalf("%v\n%s", err, errOut.String())
	}
	for _, want := range []string{"resnet50-classifier", "image_build", "environment", "scheduling", "image_pull", "model_startup"} {
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
	if _, err := h.Invoke(context.Background(), []byte(`{"since": "24h"}`)); err == nil || !strings.Contains(err.Error(), "service_id") {
		t.Errorf("err = %v, want it to name service_id", err)
	}
	if _, err := h.Invoke(context.Background(), []byte(`{"service_id": "s1", "notify": true}`)); err == nil || !strings.Contains(err.Error(), "no destination") {
		t.Errorf("notify without destinations: err = %v", err)
	}
	if _, err := h.Invoke(context.Background(), []byte(`{"service_id": "nope"}`)); err == nil || !strings.Contains(err.Error(), "nope") {
		t.Errorf("unknown service: err = %v", err)
	}
}
