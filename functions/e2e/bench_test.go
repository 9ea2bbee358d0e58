package e2e

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/modelarts-notifier/modelarts-notifier/eventsapi"
	"github.com/modelarts-notifier/modelarts-notifier/eventsapi/eventsapitest"
)

// initReport is the emulator's log line for a cold start, e.g.
// "INIT REPORT(durationMs: 12.34)" (the format varies a little between
// emulator versions, so any number after "INIT" and "durationMs"/"Duration"
// is accepted).
var initReport = regexp.MustCompile(`INIT REPORT.*?(?:durationMs|Init Duration)[:=]?\s*([0-9.]+)`)

// BenchmarkInitDuration: the poller bootstrap's init duration (cold start)
// under the Lambda Runtime Interface Emulator, as the emulator reports it.
// Each iteration starts a new emulator and invokes the scheduled handler
// once against a fake ModelArts with one service.
func BenchmarkInitDuration(b *testing.B) {
	rie := rieBinary(b)
	root := repoRoot(b)
	poller := buildBootstrap(b, root, "./functions/poller", filepath.Join(b.TempDir(), "poller"))
	fake := eventsapitest.NewServer()
	b.Cleanup(fake.Close)
	fake.AddService("b0000000-0000-4000-8000-000000000001", "svc-bench", eventsapi.StatusRunning)
	fake.DeploySuccess("b0000000-0000-4000-8000-000000000001", "TF 3.0.0", time.Now().Add(-20*time.Minute), 10*time.Second)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) }))
	b.Cleanup(hook.Close)
	var total float64
	for b.Loop() {
		env := []string{
			"MODELARTS_ENDPOINT=" + fake.URL,
			"MODELARTS_PROJECT_ID=" + fake.ProjectID,
			"MODELARTS_TOKEN=" + fake.Token,
			"CHECKPOINT_FILE=" + filepath.Join(b.TempDir(), "checkpoints.json"),
			"WEBHOOK_URLS=" + hook.URL,
			"AWS_REGION=us-east-1",
		}
		total += coldStart(b, rie, poller, env)
	}
	b.ReportMetric(total/float64(b.N), "init-ms")
}

// coldStart starts the emulator, invokes the function once and returns
// the init duration the emulator logged.
func coldStart(b *testing.B, rie, bootstrap string, env []string) float64 {
	b.Helper()
	addr, api := benchFreeAddr(b), benchFreeAddr(b)
	cmd := exec.Command(rie, "--runtime-interface-emulator-address", addr, "--runtime-api-address", api, bootstrap)
	cmd.Env = append(os.Environ(), env...)
	logs := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		b.Fatalf("start %s: %v", rie, err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	url := "http://" + addr + "/2015-03-31/functions/function/invocations"
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, url,
			strings.NewReader(`{"source": "aws.events", "detail-type": "Scheduled Event", "detail": {}}`))
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
			break
		}
		if ctx.Err() != nil {
			b.Fatalf("invoke: %v\n%s", err, logs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	m := initReport.FindStringSubmatch(logs.String())
	if m == nil {
		b.Fatalf("no INIT REPORT in the emulator's log:\n%s", logs.String())
	}
	ms, err := strconv.ParseFloat(m[1], 64)
	if err != nil {
		b.Fatal(err)
	}
	return ms
}

func benchFreeAddr(b *testing.B) string {
	b.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	return fmt.Sprint(l.Addr())
}
