package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/modelarts-notifier/modelarts-notifier/eventsapi"
	"github.com/modelarts-notifier/modelarts-notifier/eventsapi/eventsapitest"
	"github.com/modelarts-notifier/modelarts-notifier/functions/setup"
)

var allVars = []string{
	"MODELARTS_REGION", "MODELARTS_ENDPOINT", "MODELARTS_PROJECT_ID", "MODELARTS_SERVICE_IDS", "MODELARTS_TOKEN",
	"HUAWEICLOUD_IAM_ENDPOINT", "HUAWEICLOUD_DOMAIN_NAME", "HUAWEICLOUD_USERNAME", "HUAWEICLOUD_PASSWORD",
	"HUAWEICLOUD_ACCESS_KEY", "HUAWEICLOUD_SECRET_KEY", "HUAWEICLOUD_SECURITY_TOKEN",
	"SECRETS_ARN", "CHECKPOINT_TABLE", "CHECKPOINT_FILE", "SLACK_WEBHOOK_URL", "SLACK_BOT_TOKEN", "SLACK_CHANNEL",
	"SLACK_API_URL", "WEBHOOK_URLS", "WEBHOOK_SECRET", "STALL_THRESHOLDS", "FIRST_RUN_LOOKBACK", "LOG_LEVEL",
	"AWS_LAMBDA_RUNTIME_API",
}

// cleanEnv clears the configuration and runs the test in a fresh folder.
func cleanEnv(t *testing.T) {
	for _, k := range allVars {
		t.Setenv(k, "")
		os.Unsetenv(k)
	}
	t.Chdir(t.TempDir())
}

// The demo: the first run reports a success, a failure, a stall and a
// runtime abnormal event; the second reports nothing new.
func TestDemoTwice(t *testing.T) {
	cleanEnv(t)
	var out, errOut bytes.Buffer
	if err := realMain(context.Background(), []string{"-demo"}, &out, &errOut); err != nil {
		t.Fatalf("first run: %v\n%s", err, errOut.String())
	}
	for _, want := range []string{
		"Deployment succeeded: resnet50-classifier",
		"Deployment failed: bert-ner",
		"failed in scheduling",
		"Deployment stalled: llama2-chat",
		"stalled in image_pull",
		"Abnormal events: yolo-detector",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("first run lacks %q:\n%s", want, out.String())
		}
	}
	out.Reset()
	if err := realMain(context.Background(), []string{"-demo"}, &out, &errOut); err != nil {
		t.Fatalf("second run: %v", err)
	}
	if got := strings.TrimSpace(out.String()); got != "Nothing new: no notification is due." {
		t.Errorf("second run printed %q, want nothing new", got)
	}
}

func TestBadConfigNamesVariable(t *testing.T) {
	cleanEnv(t)
	t.Setenv("MODELARTS_PROJECT_ID", "0123456789abcdef0123456789abcdef")
	t.Setenv("MODELARTS_TOKEN", "tok-s3cr3t")
	t.Setenv("FIRST_RUN_LOOKBACK", "yesterday")
	err := realMain(context.Background(), nil, &bytes.Buffer{}, &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "FIRST_RUN_LOOKBACK") {
		t.Fatalf("err = %v, want it to name FIRST_RUN_LOOKBACK", err)
	}
	if strings.Contains(err.Error(), "s3cr3t") {
		t.Errorf("error leaks the token: %v", err)
	}
}

// An argument the poller does not take is an error, not ignored.
func TestExtraArgumentRefused(t *testing.T) {
	cleanEnv(t)
	err := realMain(context.Background(), []string{"extra-arg"}, &bytes.Buffer{}, &bytes.Buffer{})
	if err == nil || err.Error() != `unexpected argument "extra-arg": poller takes flags only (-h lists them)` {
		t.Fatalf("err = %v, want the argument refused", err)
	}
}

func TestHelpListsVariables(t *testing.T) {
	cleanEnv(t)
	var errOut bytes.Buffer
	if err := realMain(context.Background(), []string{"-h"}, &bytes.Buffer{}, &errOut); err != nil {
		t.Fatal(err)
	}
	for _, v := range []string{"-demo", "MODELARTS_PROJECT_ID", "STALL_THRESHOLDS", "FIRST_RUN_LOOKBACK", "WEBHOOK_SECRET",
		"image_build=30m,environment=10m", ".modelarts-notifier/checkpoints.json (outside Lambda)"} {
		if !strings.Contains(errOut.String(), v) {
			t.Errorf("help lacks %s", v)
		}
	}
}

// The Lambda handler, invoked the way aws-lambda-go's own tests do: it
// returns an error when a due notification was not delivered.
func TestHandlerFailsWhenDeliveryFails(t *testing.T) {
	cleanEnv(t)
	fake := eventsapitest.NewServer()
	t.Cleanup(fake.Close)
	fake.AddService("s1", "svc-one", eventsapi.StatusDeploying)
	fake.DeploySuccess("s1", "TF 3.0.0", time.Now().Add(-10*time.Minute), time.Second)

	t.Setenv("MODELARTS_ENDPOINT", fake.URL)
	t.Setenv("MODELARTS_PROJECT_ID", fake.ProjectID)
	t.Setenv("MODELARTS_TOKEN", fake.Token)
	t.Setenv("WEBHOOK_URLS", "http://127.0.0.1:1/unreachable") // nothing listens
	cfg, err := setup.LoadPoller(false)
	if err != nil {
		t.Fatal(err)
	}
	a, err := newApp(context.Background(), cfg, setup.NewLogger(&bytes.Buffer{}, "error", true), nil)
	if err != nil {
		t.Fatal(err)
	}
	var metrics bytes.Buffer
	a.metrics = &metrics
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	_, err = lambda.NewHandler(a.handle).Invoke(ctx, []byte(`{"detail-type":"Scheduled Event","source":"aws.events","detail":{}}`))
	if err == nil || !strings.Contains(err.Error(), "deliver") {
		t.Fatalf("handler err = %v, want a delivery error", err)
	}
	var emf map[string]any
	if err := json.Unmarshal(metrics.Bytes(), &emf); err != nil || emf["NotificationsFailed"] != 1.0 {
		t.Errorf("EMF record %s (%v), want NotificationsFailed 1", metrics.String(), err)
	}

	// Once the destination works, the same notification goes out and the
	// handler succeeds.
	recv := &recordingServer{}
	srv := recv.start(t)
	t.Setenv("WEBHOOK_URLS", srv.URL)
	cfg, _ = setup.LoadPoller(false)
	a, err = newApp(context.Background(), cfg, setup.NewLogger(&bytes.Buffer{}, "error", true), nil)
	if err != nil {
		t.Fatal(err)
	}
	out, err := lambda.NewHandler(a.handle).Invoke(ctx, []byte(`{}`))
	if err != nil {
		t.Fatalf("handler: %v", err)
	}
	var o Output
	if err := json.Unmarshal(out, &o); err != nil || o.Delivered != 1 || o.Failed != 0 {
		t.Fatalf("output %s (%v), want one delivery", out, err)
	}
	if got := recv.types(); len(got) != 1 || got[0] != "deployment.succeeded" {
		t.Errorf("webhook got %v", got)
	}
}

// recordingServer is a webhook endpoint recording the types it received.
type recordingServer struct {
	mu  sync.Mutex
	got []string
}

func (r *recordingServer) start(t *testing.T) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		var body struct{ Type string }
		_ = json.NewDecoder(req.Body).Decode(&body)
		r.mu.Lock()
		r.got = append(r.got, body.Type)
		r.mu.Unlock()
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func (r *recordingServer) types() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.got...)
}
