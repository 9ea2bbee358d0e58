package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/modelarts-notifier/modelarts-notifier/eventsapi"
	"github.com/modelarts-notifier/modelarts-notifier/eventsapi/eventsapitest"
	"github.com/modelarts-notifier/modelarts-notifier/functions/checkpoint/checkpointtest"
	"github.com/modelarts-notifier/modelarts-notifier/notifier/notifiertest"
)

const webhookSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

// TestPollerAndReportUnderRIE runs the real bootstraps under the Lambda
// Runtime Interface Emulator against a fake ModelArts, DynamoDB (dynalite),
// a Slack stand-in and a verifying webhook receiver.
func TestPollerAndReportUnderRIE(t *testing.T) {
	rie := rieBinary(t)
	root := repoRoot(t)
	bin := t.TempDir()
	poller := buildBootstrap(t, root, "./functions/poller", filepath.Join(bin, "poller"))
	report := buildBootstrap(t, root, "./functions/report", filepath.Join(bin, "report"))

	ddbEndpoint := checkpointtest.StartDynalite(t)
	ddb := checkpointtest.NewDynamoClient(t, ddbEndpoint)
	table := checkpointtest.NewTable(t, ddb)

	fake := eventsapitest.NewServer()
	t.Cleanup(fake.Close)
	now := time.Now()
	ids := map[string]string{
		"success": "e2e00000-0000-4000-8000-000000000001",
		"failure": "e2e00000-0000-4000-8000-000000000002",
		"stall":   "e2e00000-0000-4000-8000-000000000003",
		"runtime": "e2e00000-0000-4000-8000-000000000004",
	}
	for name, id := range ids {
		fake.AddService(id, "svc-"+name, eventsapi.StatusDeploying)
	}
	step := 10 * time.Second
	fake.DeploySuccess(ids["success"], "TF 3.0.0", now.Add(-40*time.Minute), step)
	fake.DeployFailure(ids["failure"], "TF 3.0.0", eventsapitest.PhaseScheduling, now.Add(-35*time.Minute), step)
	fake.DeployStall(ids["stall"], "TF 3.0.0", eventsapitest.PhaseImagePull, now.Add(-50*time.Minute), step)
	fake.DeploySuccess(ids["runtime"], "TF 3.0.0", now.Add(-6*time.Hour), step)
	fake.RuntimeAbnormal(ids["runtime"], "Instance restarted: out of memory <!channel>", now.Add(-10*time.Minute))

	slackAPI := notifiertest.NewSlackAPI(t, "xoxb-e2e-token")
	receiver := notifiertest.NewWebhookReceiver(t, webhookSecret)

	env := []string{
		"MODELARTS_ENDPOINT=" + fake.URL,
		"MODELARTS_PROJECT_ID=" + fake.ProjectID,
		"MODELARTS_TOKEN=" + fake.Token,
		"CHECKPOINT_TABLE=" + table,
		"AWS_ENDPOINT_URL_DYNAMODB=" + ddbEndpoint,
		"AWS_REGION=us-east-1",
		"AWS_ACCESS_KEY_ID=e2e",
		"AWS_SECRET_ACCESS_KEY=e2e",
		"SLACK_BOT_TOKEN=xoxb-e2e-token",
		"SLACK_CHANNEL=C0E2E",
		"SLACK_API_URL=" + slackAPI.URL + "/",
		"WEBHOOK_URLS=" + receiver.URL,
		"WEBHOOK_SECRET=" + webhookSecret,
		"AWS_LAMBDA_FUNCTION_TIMEOUT=120",
		"LOG_LEVEL=debug", // every log line is checked for duplicate keys
	}
	pollerFn := startRIE(t, rie, poller, env)

	scheduled := `{"version":"0","id":"e2e","detail-type":"Scheduled Event","source":"aws.events","account":"123456789012","time":"2026-11-28T12:00:00Z","region":"us-east-1","resources":["arn:aws:events:us-east-1:123456789012:rule/poll"],"detail":{}}`
	out := pollerFn.invoke(t, scheduled)
	var first struct {
		Services  int `json:"services"`
		Due       int `json:"notifications_due"`
		Delivered int `json:"deliveries"`
		Failed    int `json:"deliveries_failed"`
	}
	if err := json.Unmarshal(out, &first); err != nil {
		t.Fatalf("poller output %s: %v", out, err)
	}
	if first.Services != 4 || first.Failed != 0 {
		t.Fatalf("first invocation: %s", out)
	}

	got := receiver.Take()
	var types []string
	for _, r := range got {
		types = append(types, string(r.Kind))
		if r.Data.ProjectID != fake.ProjectID {
			t.Errorf("%s: project_id = %v", r.Kind, r.Data.ProjectID)
		}
	}
	sort.Strings(types)
	want := []string{"deployment.failed", "deployment.stalled", "deployment.succeeded", "service.abnormal"}
	if !slices.Equal(types, want) {
		t.Fatalf("webhook got %v, want %v", types, want)
	}
	calls := slackAPI.Take()
	if len(calls) < 4 {
		t.Fatalf("slack got %d calls, want at least one message per notification: %+v", len(calls), calls)
	}
	for _, c := range calls {
		if c.Channel != "C0E2E" {
			t.Errorf("slack %s to channel %q", c.Method, c.Channel)
		}
		if strings.Contains(c.Text, "<!channel>") || strings.Contains(c.Blocks, "<!channel>") {
			t.Errorf("ModelArts text reached Slack unescaped: %s", c.Text)
		}
	}

	// Checkpoints are in DynamoDB, one item per service.
	for name, id := range ids {
		item, err := ddb.GetItem(context.Background(), &dynamodb.GetItemInput{
			TableName: aws.String(table), ConsistentRead: aws.Bool(true),
			Key: map[string]ddbAttr{"service_id": &ddbString{Value: id}},
		})
		if err != nil || len(item.Item) == 0 {
			t.Errorf("no checkpoint in DynamoDB for %s (%s): %v", name, id, err)
		}
	}

	// The second scheduled run: nothing new, nothing delivered.
	out = pollerFn.invoke(t, scheduled)
	if err := json.Unmarshal(out, &first); err != nil || first.Due != 0 {
		t.Fatalf("second invocation: %s (%v), want nothing due", out, err)
	}
	if got := receiver.Take(); len(got) != 0 {
		t.Errorf("second run delivered %d webhooks, want 0", len(got))
	}
	if got := slackAPI.Take(); len(got) != 0 {
		t.Errorf("second run made %d Slack calls, want 0", len(got))
	}

	// The report function returns the five phases.
	reportFn := startRIE(t, rie, report, env)
	out = reportFn.invoke(t, fmt.Sprintf(`{"service_id": %q, "since": "24h"}`, ids["success"]))
	var rep struct {
		ServiceID   string `json:"service_id"`
		Deployments []struct {
			Status string `json:"status"`
			Phases []struct {
				Name   string `json:"name"`
				Status string `json:"status"`
			} `json:"phases"`
		} `json:"deployments"`
	}
	if err := json.Unmarshal(out, &rep); err != nil {
		t.Fatalf("report output %s: %v", out, err)
	}
	if rep.ServiceID != ids["success"] || len(rep.Deployments) != 1 {
		t.Fatalf("report: %s", out)
	}
	var phases []string
	for _, p := range rep.Deployments[0].Phases {
		phases = append(phases, p.Name+"="+p.Status)
	}
	wantPhases := []string{"image_build=succeeded", "environment=succeeded", "scheduling=succeeded", "image_pull=succeeded", "model_startup=succeeded"}
	if !slices.Equal(phases, wantPhases) || rep.Deployments[0].Status != "succeeded" {
		t.Fatalf("report phases %v (status %s), want %v", phases, rep.Deployments[0].Status, wantPhases)
	}

	// A bad request is an error the caller sees in the body. (A payload
	// without service_id is the project report: project_rie_test.go.)
	out = reportFn.invokeRaw(t, `{"since": "forever"}`)
	if !bytes.Contains(out, []byte("errorMessage")) || !bytes.Contains(out, []byte("forever")) {
		t.Fatalf("report with since forever answered %s, want an error naming the value", out)
	}

	// Every JSON log line of both functions carries each key once.
	if n := checkLogLines(t, pollerFn.log.String()) + checkLogLines(t, reportFn.log.String()); n == 0 {
		t.Error("no JSON log line in the functions' output")
	}
}

// rieFunction is one function running under the emulator.
type rieFunction struct {
	url string
	log *syncBuffer
}

// startRIE starts the emulator with bootstrap on a free loopback port.
func startRIE(t *testing.T, rie, bootstrap string, env []string) *rieFunction {
	return startRIEIn(t, rie, "", bootstrap, nil, env)
}

// startRIEIn starts the emulator in dir (the bootstrap's working directory;
// "" is the test's) with bootstrap and its arguments args.
func startRIEIn(t *testing.T, rie, dir, bootstrap string, args, env []string) *rieFunction {
	t.Helper()
	addr := freeAddr(t)
	// Each emulator gets its own Runtime API port too (the default, 9001,
	// would be shared).
	cmd := exec.Command(rie, append([]string{"--runtime-interface-emulator-address", addr, "--runtime-api-address", freeAddr(t), bootstrap}, args...)...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	logs := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", rie, err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("emulator output for %s:\n%s", filepath.Base(filepath.Dir(bootstrap)), logs.String())
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the emulator did not listen on %s: %v\n%s", addr, err, logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	return &rieFunction{url: "http://" + addr + "/2015-03-31/functions/function/invocations", log: logs}
}

// invoke calls the function and fails the test if the handler returned an
// error (the emulator answers 200 either way: the body tells).
func (f *rieFunction) invoke(t *testing.T, payload string) []byte {
	t.Helper()
	out := f.invokeRaw(t, payload)
	if bytes.Contains(out, []byte(`"errorMessage"`)) {
		t.Fatalf("handler failed: %s\n%s", out, f.log.String())
	}
	return out
}

func (f *rieFunction) invokeRaw(t *testing.T, payload string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, f.url, strings.NewReader(payload))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("invoke: %v\n%s", err, f.log.String())
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("invoke: HTTP %d: %s", resp.StatusCode, out)
	}
	return out
}

type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}
