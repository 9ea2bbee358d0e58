package e2e

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/modelarts-notifier/modelarts-notifier/eventsapi"
	"github.com/modelarts-notifier/modelarts-notifier/eventsapi/eventsapitest"
	"github.com/modelarts-notifier/modelarts-notifier/functions/checkpoint/checkpointtest"
	"github.com/modelarts-notifier/modelarts-notifier/functions/watch"
	"github.com/modelarts-notifier/modelarts-notifier/notifier"
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
//
// The cold sub-benchmarks time the first poll instead (see
// benchmarkColdPoll): a new Poller and an empty store every time, with a
// notification due for every service.
func BenchmarkPoll1000Services(b *testing.B) {
	const services, latency, conc = 1000, 50 * time.Millisecond, 16
	endpoint := checkpointtest.StartDynalite(b)
	ddb := checkpointtest.NewDynamoClient(b, endpoint)
	for _, storeKind := range []string{"file", "dynamodb"} {
		b.Run(storeKind+"/cold", func(b *testing.B) { benchmarkColdPoll(b, storeKind, ddb, services, 20, latency, conc) })
		b.Run(storeKind+"/cold-1000-events", func(b *testing.B) { benchmarkColdPoll(b, storeKind, ddb, services, 1000, latency, conc) })
		for _, change := range []struct {
			name string
			n    int
		}{{"all-changed", services}, {"10-changed", 10}, {"quiet", 0}} {
			b.Run(storeKind+"/"+change.name, func(b *testing.B) {
				clock, srv, ids := healthyServices(b, "b1", services)
				store, d := benchStore(b, storeKind, ddb)
				var units func() (float64, float64)
				if d != nil {
					units = d.Consumed
				}
				api := benchAPI(b, srv)
				p := watch.New(watch.Config{ProjectID: srv.ProjectID, Now: clock.Now, Concurrency: conc, Learn: true}, api, store, nil, nil)
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
				bound := latencyBound(services, latency, conc)
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

// latencyBound is what a poll of services costs in ModelArts latency
// alone: services × latency / concurrency, plus the list calls (one per
// 1,000 services).
func latencyBound(services int, latency time.Duration, conc int) time.Duration {
	return time.Duration(services)*latency/time.Duration(conc) + latency*time.Duration((services+999)/1000)
}

// benchmarkColdPoll times the first poll of a new Poller (a cold Lambda
// container) on an empty store (a new file, a new DynamoDB table), with
// the latency on every ModelArts request. Every service's events are
// fakeStream's "runtime" stream, perService of them (cold: 20, one page
// of 1,000 for cold-1000-events) ending with a successful deployment, so
// every service has a notification due (delivered to the terminal
// destination the built poller always has outside Lambda, writing
// nowhere) and a checkpoint to write after delivery. The store is set up
// outside the timed poll.
func benchmarkColdPoll(b *testing.B, storeKind string, ddb *dynamodb.Client, services, perService int, latency time.Duration, conc int) {
	clock := &simClock{now: time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)}
	srv := eventsapitest.NewServer(eventsapitest.WithClock(clock.Now))
	b.Cleanup(srv.Close)
	events := fakeStream("runtime", perService, clock.Now())
	for i := range services {
		id := fmt.Sprintf("c1000000-0000-4000-8000-%012d", i)
		srv.AddService(id, id[:12], eventsapi.StatusRunning)
		srv.AppendEvents(id, events...)
	}
	srv.SetLatency(latency)
	dests := []notifier.Destination{{Name: "terminal", Notifier: notifier.NewTerminal(io.Discard, false)}}
	var wall time.Duration
	var writes, due int
	var wcu float64
	for b.Loop() {
		b.StopTimer()
		store, d := benchStore(b, storeKind, ddb)
		api := benchAPI(b, srv)
		p := watch.New(watch.Config{ProjectID: srv.ProjectID, Now: clock.Now, Concurrency: conc, Learn: true}, api, store, dests, nil)
		b.StartTimer()
		start := time.Now()
		res := p.Poll(context.Background())
		wall += time.Since(start)
		if res.Err != nil {
			b.Fatal(res.Err)
		}
		if res.Services != services || res.Delivered != services {
			b.Fatalf("cold poll: %d services, %d delivered; want %d of each", res.Services, res.Delivered, services)
		}
		writes += res.CheckpointWrites
		due += res.Due
		if d != nil {
			_, w := d.Consumed()
			wcu += w
		}
	}
	polls := float64(b.N)
	b.ReportMetric(wall.Seconds()/polls, "wall-s/poll")
	b.ReportMetric(wall.Seconds()/polls/latencyBound(services, latency, conc).Seconds(), "ratio-to-bound")
	b.ReportMetric(float64(writes)/polls, "checkpoint-writes/poll")
	b.ReportMetric(float64(due)/polls, "due/poll")
	if storeKind != "file" {
		b.ReportMetric(wcu/polls, "write-units/poll")
	}
	b.ReportMetric(0, "ns/op")
}

// BenchmarkPollRSS: the peak RSS of the built poller (the binary users
// run) for one cold poll, against a fake ModelArts in another process, on
// each store (a new checkpoint file; a new DynamoDB table on dynalite), of
// 1,000 services × 1,000 events and 10,000 services × 200 events, each
// service's events those of TestFakeModelArtsProcess's "runtime" stream.
// 1000x1000-retrying is the "retrying" stream (every event but ten is a
// retried scheduling of one deployment, so every notification's summary
// holds the most events it can); 100x20000 has twenty pages per service
// (MaxEventsPerPoll's default), where what the reads in flight hold
// dominates.
func BenchmarkPollRSS(b *testing.B) {
	root := repoRoot(b)
	bin := filepath.Join(b.TempDir(), "poller")
	build := exec.Command("go", "build", "-o", bin, "./functions/poller")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		b.Fatalf("build poller: %v\n%s", err, out)
	}
	endpoint := checkpointtest.StartDynalite(b)
	ddb := checkpointtest.NewDynamoClient(b, endpoint)
	for _, size := range []struct {
		services, events int
		stream           string
		stores           []string
	}{
		{1000, 1000, "runtime", []string{"file", "dynamodb"}},
		{10000, 200, "runtime", []string{"file", "dynamodb"}},
		{1000, 1000, "retrying", []string{"file"}},
		{100, 20000, "runtime", []string{"file"}},
	} {
		name := fmt.Sprintf("%dx%d", size.services, size.events)
		if size.stream != "runtime" {
			name += "-" + size.stream
		}
		b.Run(name, func(b *testing.B) {
			url, project, token := startFakeProcess(b, size.services, size.events, size.stream)
			for _, storeKind := range size.stores {
				b.Run(storeKind, func(b *testing.B) {
					var peak int64
					var wall time.Duration
					for b.Loop() {
						store := []string{"CHECKPOINT_TABLE=", "CHECKPOINT_FILE=" + filepath.Join(b.TempDir(), "checkpoints.json")}
						if storeKind == "dynamodb" {
							b.StopTimer()
							store = []string{"CHECKPOINT_TABLE=" + checkpointtest.NewTable(b, ddb), "CHECKPOINT_FILE=",
								"AWS_ENDPOINT_URL_DYNAMODB=" + endpoint, "AWS_REGION=us-east-1", "AWS_ACCESS_KEY_ID=rss", "AWS_SECRET_ACCESS_KEY=rss",
								"AWS_CONFIG_FILE=" + os.DevNull, "AWS_SHARED_CREDENTIALS_FILE=" + os.DevNull, "AWS_EC2_METADATA_DISABLED=true"}
							b.StartTimer()
						}
						cmd := exec.Command(bin)
						cmd.Env = append(os.Environ(),
							"MODELARTS_ENDPOINT="+url, "MODELARTS_PROJECT_ID="+project, "MODELARTS_TOKEN="+token,
							"MODELARTS_SERVICE_IDS=", "MODELARTS_API=v1", "SECRETS_ARN=", "LOG_LEVEL=warn",
							"SLACK_WEBHOOK_URL=", "SLACK_BOT_TOKEN=", "SLACK_CHANNEL=", "WEBHOOK_URLS=")
						cmd.Env = append(cmd.Env, store...)
						start := time.Now()
						out, hwm, err := runWatchingRSS(cmd)
						wall += time.Since(start)
						if err != nil {
							b.Fatalf("poller: %v\n%s", err, tail(out))
						}
						peak = max(peak, hwm)
					}
					b.ReportMetric(float64(peak)/1024, "peak-rss-MB")
					b.ReportMetric(wall.Seconds()/float64(b.N), "wall-s/poll")
					b.ReportMetric(0, "ns/op")
				})
			}
		})
	}
}

// runWatchingRSS runs cmd and returns its output and its peak RSS in KiB:
// the child's own VmHWM, read from /proc while it runs (the last reading
// before it exits), where /proc has it. ru_maxrss is not used there: Go
// starts children with vfork, and Linux then starts the child's maxrss at
// the parent's high-water mark, so after a heavier benchmark in the same
// process every child would report that. Elsewhere, ru_maxrss.
func runWatchingRSS(cmd *exec.Cmd) ([]byte, int64, error) {
	var buf bytes.Buffer
	cmd.Stdout, cmd.Stderr = &buf, &buf
	if err := cmd.Start(); err != nil {
		return nil, 0, err
	}
	status := fmt.Sprintf("/proc/%d/status", cmd.Process.Pid)
	var hwm atomic.Int64
	done := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		for {
			if b, err := os.ReadFile(status); err == nil {
				for line := range strings.Lines(string(b)) {
					if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
						if kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64); err == nil {
							hwm.Store(max(hwm.Load(), kb))
						}
					}
				}
			}
			select {
			case <-done:
				return
			case <-time.After(2 * time.Millisecond):
			}
		}
	}()
	err := cmd.Wait()
	close(done)
	<-stopped
	if got := hwm.Load(); got > 0 {
		return buf.Bytes(), got, err
	}
	return buf.Bytes(), cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss, err
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
func startFakeProcess(b *testing.B, services, perService int, stream string) (url, project, token string) {
	b.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestFakeModelArtsProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), fmt.Sprintf("E2E_FAKE=%d,%d,%s", services, perService, stream))
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

// runtimeTexts are the fake's runtime events: normal, in no deployment,
// each with a number (%d) that makes it unique. They are as long as real
// event text, 56 bytes on average (22 to 80): the documented ModelArts
// texts (shared/MODELARTS-EVENT-TEXT.md) average 38 bytes and Kubernetes
// wording runs to 110.
var runtimeTexts = []string{
	"Instance %d is healthy.",
	"The subscription license lic-%04d is to expire.",
	"Auto stop has been disabled (request %d).",
	`Readiness probe succeeded: GET "http://10.244.1.%d:8080/health" answered 200 OK`,
	"Service instances scaled in resource pool pool-gpu-%d: 2 of 2 ready.",
	"Health check of instance %d passed; average latency 12 ms over the last 60 s.",
}

// fakeStream is one service's events for TestFakeModelArtsProcess, n of
// them, spread over the 50 minutes before now, ascending:
//
//   - "runtime": runtime events (runtimeTexts) and, at the end, a
//     successful deployment (ten events);
//   - "retrying": one deployment whose scheduling waited for resources
//     ("Insufficient resources...", abnormal, every few seconds) before it
//     succeeded.
func fakeStream(stream string, n int, now time.Time) []eventsapi.Event {
	deploy := eventsapitest.SuccessTexts("TF 3.0.0", "svc")
	type text struct{ typ, info string }
	var texts []text
	switch stream {
	case "runtime":
		for i := range n - len(deploy) {
			texts = append(texts, text{eventsapi.EventTypeNormal, fmt.Sprintf(runtimeTexts[i%len(runtimeTexts)], i)})
		}
		for _, t := range deploy {
			texts = append(texts, text{eventsapi.EventTypeNormal, t})
		}
	case "retrying":
		// Scheduling begins once the environment is ready (deploy[4]).
		for _, t := range deploy[:5] {
			texts = append(texts, text{eventsapi.EventTypeNormal, t})
		}
		for range n - len(deploy) {
			texts = append(texts, text{eventsapi.EventTypeAbnormal, "Insufficient resources. Wait until idle resources are sufficient."})
		}
		for _, t := range deploy[5:] {
			texts = append(texts, text{eventsapi.EventTypeNormal, t})
		}
	default:
		panic("unknown stream " + stream)
	}
	// 50 minutes: the first poll's hour (FIRST_RUN_LOOKBACK) still holds
	// them all ten minutes after the fake started.
	start := now.Add(-50 * time.Minute)
	gap := 48 * time.Minute / time.Duration(n)
	events := make([]eventsapi.Event, len(texts))
	for i, t := range texts {
		events[i] = eventsapi.Event{EventType: t.typ, EventInfo: t.info, OccurTime: start.Add(time.Duration(i) * gap).UnixMilli()}
	}
	return events
}

// TestFakeModelArtsProcess is not a test: started by startFakeProcess (with
// E2E_FAKE=services,events,stream), it serves a fake ModelArts whose events
// (fakeStream) are within the last hour until killed. Otherwise it returns
// at once.
func TestFakeModelArtsProcess(t *testing.T) {
	spec := os.Getenv("E2E_FAKE")
	if spec == "" {
		return
	}
	parts := strings.Split(spec, ",")
	var services, perService int
	if len(parts) != 3 {
		t.Fatalf("E2E_FAKE=%s: want services,events,stream", spec)
	}
	if _, err := fmt.Sscanf(parts[0]+" "+parts[1], "%d %d", &services, &perService); err != nil {
		t.Fatal(err)
	}
	srv := eventsapitest.NewServer()
	defer srv.Close()
	events := fakeStream(parts[2], perService, time.Now())
	for i := range services {
		id := fmt.Sprintf("rss-%05d-%s", i, strings.Repeat("0", 8))
		srv.AddService(id, id, eventsapi.StatusRunning)
		srv.AppendEvents(id, events...)
	}
	fmt.Printf("FAKE %s %s %s\n", srv.URL, srv.ProjectID, srv.Token)
	select {}
}
