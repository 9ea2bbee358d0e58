package e2e

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/modelarts-notifier/modelarts-notifier/eventsapi"
	"github.com/modelarts-notifier/modelarts-notifier/eventsapi/eventsapitest"
	"github.com/modelarts-notifier/modelarts-notifier/functions/checkpoint"
	"github.com/modelarts-notifier/modelarts-notifier/functions/checkpoint/checkpointtest"
	"github.com/modelarts-notifier/modelarts-notifier/functions/watch"
)

// DynamoDB on-demand prices (per million request units) and a month of
// polls every minute, for the cost figures.
const (
	usdPerMillionReads  = 0.25
	usdPerMillionWrites = 1.25
	pollsPerMonth       = 60 * 24 * 30
)

// simClock is a clock the benchmarks move by hand.
type simClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *simClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *simClock) add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// BenchmarkPoll1000Services: one poll of 1,000 services, discovered from
// the service list, with 50 ms of latency on every ModelArts request and
// one warm Poller (a warm Lambda container) across polls, on the real
// stores (a checkpoint file; DynamoDB on dynalite) and the real HTTP
// client. Each poll follows one minute in which every service, 10 of
// them, or none got one new event. It reports the wall time of a poll,
// its ratio to the bound (services × latency / concurrency, plus the list
// call), the checkpoints written and, for DynamoDB, the read and write
// units a poll consumed and what a month of polls every minute costs.
func BenchmarkPoll1000Services(b *testing.B) {
	const services, latency, conc = 1000, 50 * time.Millisecond, 16
	endpoint := checkpointtest.StartDynalite(b)
	ddb := checkpointtest.NewDynamoClient(b, endpoint)
	for _, storeKind := range []string{"file", "dynamodb"} {
		for _, change := range []struct {
			name string
			n    int
		}{{"all-changed", services}, {"10-changed", 10}, {"quiet", 0}} {
			b.Run(storeKind+"/"+change.name, func(b *testing.B) {
				clock := &simClock{now: time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)}
				srv := eventsapitest.NewServer(eventsapitest.WithClock(clock.Now))
				b.Cleanup(srv.Close)
				ids := make([]string, services)
				for i := range ids {
					ids[i] = fmt.Sprintf("b1000000-0000-4000-8000-%012d", i)
					srv.AddService(ids[i], ids[i][:12], eventsapi.StatusRunning)
					srv.AppendEvents(ids[i], eventsapi.Event{EventType: "normal", EventInfo: "instance 0 health check passed", OccurTime: clock.Now().Add(-10 * time.Minute).UnixMilli()})
				}
				var store checkpoint.Store
				var units func() (float64, float64)
				if storeKind == "file" {
					f, err := checkpoint.NewFile(filepath.Join(b.TempDir(), "checkpoints.json"))
					if err != nil {
						b.Fatal(err)
					}
					store = f
				} else {
					d := checkpoint.NewDynamoDB(ddb, checkpointtest.NewTable(b, ddb))
					store, units = d, d.Consumed
				}
				api, err := eventsapi.New(eventsapi.Config{Endpoint: srv.URL, ProjectID: srv.ProjectID, Auth: eventsapi.StaticToken(srv.Token),
					HTTPClient: &http.Client{Timeout: time.Minute, Transport: &http.Transport{MaxIdleConnsPerHost: 64}}})
				if err != nil {
					b.Fatal(err)
				}
				p := watch.New(watch.Config{ProjectID: srv.ProjectID, Now: clock.Now, Concurrency: conc}, api, store, nil, nil)
				if res := p.Poll(context.Background()); res.Err != nil { // the cold first poll
					b.Fatal(res.Err)
				}
				srv.SetLatency(latency)
				var wall time.Duration
				var writes int
				var r0, w0 float64
				if units != nil {
					r0, w0 = units()
				}
				k := 0
				for b.Loop() {
					b.StopTimer()
					clock.add(time.Minute)
					for i := range change.n {
						id := ids[(k*change.n+i)%services]
						srv.AppendEvents(id, eventsapi.Event{EventType: "normal", EventInfo: fmt.Sprintf("instance %d health check passed", k+1),
							OccurTime: clock.Now().Add(-30 * time.Second).UnixMilli()})
					}
					k++
					b.StartTimer()
					start := time.Now()
					res := p.Poll(context.Background())
					wall += time.Since(start)
					if res.Err != nil {
						b.Fatal(res.Err)
					}
					writes += res.CheckpointWrites
				}
				polls := float64(b.N)
				bound := time.Duration(services)*latency/conc + latency*time.Duration((services+999)/1000)
				b.ReportMetric(wall.Seconds()/polls, "wall-s/poll")
				b.ReportMetric(wall.Seconds()/polls/bound.Seconds(), "ratio-to-bound")
				b.ReportMetric(float64(writes)/polls, "checkpoint-writes/poll")
				if units != nil {
					r1, w1 := units()
					rcu, wcu := (r1-r0)/polls, (w1-w0)/polls
					b.ReportMetric(rcu, "read-units/poll")
					b.ReportMetric(wcu, "write-units/poll")
					b.ReportMetric((rcu*usdPerMillionReads+wcu*usdPerMillionWrites)/1e6*pollsPerMonth, "usd/month")
				}
				b.ReportMetric(0, "ns/op")
			})
		}
	}
}

// BenchmarkPollRSS: the peak RSS of the built poller (the binary users
// run) for one cold poll, against a fake ModelArts in another process, of
// 1,000 services × 1,000 events and 10,000 services × 200 events.
func BenchmarkPollRSS(b *testing.B) {
	root := repoRoot(b)
	bin := filepath.Join(b.TempDir(), "poller")
	build := exec.Command("go", "build", "-o", bin, "./functions/poller")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		b.Fatalf("build poller: %v\n%s", err, out)
	}
	for _, size := range []struct{ services, events int }{{1000, 1000}, {10000, 200}} {
		b.Run(fmt.Sprintf("%dx%d", size.services, size.events), func(b *testing.B) {
			url, project, token := startFakeProcess(b, size.services, size.events)
			var peak int64
			var wall time.Duration
			for b.Loop() {
				cmd := exec.Command(bin)
				cmd.Env = append(os.Environ(),
					"MODELARTS_ENDPOINT="+url, "MODELARTS_PROJECT_ID="+project, "MODELARTS_TOKEN="+token,
					"MODELARTS_SERVICE_IDS=", "MODELARTS_API=v1", "CHECKPOINT_TABLE=", "SECRETS_ARN=",
					"CHECKPOINT_FILE="+filepath.Join(b.TempDir(), "checkpoints.json"), "LOG_LEVEL=warn",
					"SLACK_WEBHOOK_URL=", "SLACK_BOT_TOKEN=", "SLACK_CHANNEL=", "WEBHOOK_URLS=")
				start := time.Now()
				out, err := cmd.CombinedOutput()
				wall += time.Since(start)
				if err != nil {
					b.Fatalf("poller: %v\n%s", err, tail(out))
				}
				peak = max(peak, cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss)
			}
			b.ReportMetric(float64(peak)/1024, "peak-rss-MB")
			b.ReportMetric(wall.Seconds()/float64(b.N), "wall-s/poll")
			b.ReportMetric(0, "ns/op")
		})
	}
}

func tail(b []byte) string {
	s := string(b)
	if len(s) > 2000 {
		s = s[len(s)-2000:]
	}
	return s
}

// startFakeProcess runs TestFakeModelArtsProcess in a child process and
// returns the fake's URL, project and token.
func startFakeProcess(b *testing.B, services, perService int) (url, project, token string) {
	b.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestFakeModelArtsProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), fmt.Sprintf("E2E_FAKE=%d,%d", services, perService))
	out, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		if _, err := fmt.Sscanf(sc.Text(), "FAKE %s %s %s", &url, &project, &token); err == nil {
			go func() { _, _ = io.Copy(io.Discard, out) }()
			return url, project, token
		}
	}
	b.Fatalf("the fake ModelArts process did not start: %v", sc.Err())
	return
}

// TestFakeModelArtsProcess is not a test: started by startFakeProcess (with
// E2E_FAKE=services,events), it serves a fake ModelArts whose events are
// within the last hour until killed. Otherwise it returns at once.
func TestFakeModelArtsProcess(t *testing.T) {
	spec := os.Getenv("E2E_FAKE")
	if spec == "" {
		return
	}
	var services, perService int
	if _, err := fmt.Sscanf(spec, "%d,%d", &services, &perService); err != nil {
		t.Fatal(err)
	}
	srv := eventsapitest.NewServer()
	defer srv.Close()
	base := time.Now()
	deploy := eventsapitest.SuccessTexts("TF 3.0.0", "svc")
	events := make([]eventsapi.Event, 0, perService)
	start := base.Add(-59 * time.Minute)
	gap := 58 * time.Minute / time.Duration(perService)
	for i := range perService - len(deploy) {
		events = append(events, eventsapi.Event{EventType: "normal", EventInfo: fmt.Sprintf("Instance %d is healthy.", i), OccurTime: start.Add(time.Duration(i) * gap).UnixMilli()})
	}
	for _, text := range deploy {
		events = append(events, eventsapi.Event{EventType: "normal", EventInfo: text, OccurTime: start.Add(time.Duration(len(events)) * gap).UnixMilli()})
	}
	for i := range services {
		id := fmt.Sprintf("rss-%05d-%s", i, strings.Repeat("0", 8))
		srv.AddService(id, id, eventsapi.StatusRunning)
		srv.AppendEvents(id, events...)
	}
	fmt.Printf("FAKE %s %s %s\n", srv.URL, srv.ProjectID, srv.Token)
	select {}
}
