package e2e

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
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
// The cold first poll is BenchmarkColdPoll's.
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

// BenchmarkPollRSS: the peak RSS of the built poller (the binary users
// run) for one cold poll, against a fake ModelArts in another process, on
// each store (a new checkpoint file; a new DynamoDB table on dynalite), of
// 1,000 services × 1,000 events and 10,000 services × 200 events, each
// service's events those of TestFakeModelArtsProcess's "runtime" stream.
// 1000x200-retrying and 1000x1000-retrying are the "retrying" stream
// (every event but ten is a retried scheduling of one deployment, so
// every notification's summary holds the most events it can, and all
// 1,000 are held until delivery); 100x20000 has twenty pages per service
// (MaxEventsPerPoll's default), where what the reads in flight hold
// dominates.
func BenchmarkPollRSS(b *testing.B) {
	bin := builtPoller(b)
	endpoint := checkpointtest.StartDynalite(b)
	ddb := checkpointtest.NewDynamoClient(b, endpoint)
	for _, size := range []struct {
		services, events int
		stream           string
		stores           []string
	}{
		{1000, 1000, "runtime", []string{"file", "dynamodb"}},
		{10000, 200, "runtime", []string{"file", "dynamodb"}},
		{1000, 200, "retrying", []string{"file"}},
		{1000, 1000, "retrying", []string{"file"}},
		{100, 20000, "runtime", []string{"file"}},
	} {
		name := fmt.Sprintf("%dx%d", size.services, size.events)
		if size.stream != "runtime" {
			name += "-" + size.stream
		}
		b.Run(name, func(b *testing.B) {
			fake := startFakeProcess(b, fakeSpec{services: size.services, events: size.events, stream: size.stream})
			for _, storeKind := range size.stores {
				b.Run(storeKind, func(b *testing.B) {
					var peak int64
					var wall time.Duration
					for b.Loop() {
						r := runBuiltPoller(b, bin, fake, storeKind, endpoint, ddb)
						wall += r.wall
						peak = max(peak, r.peakKB)
					}
					b.ReportMetric(float64(peak)/1024, "peak-rss-MB")
					b.ReportMetric(wall.Seconds()/float64(b.N), "wall-s/poll")
					b.ReportMetric(0, "ns/op")
				})
			}
		})
	}
}

// BenchmarkColdPoll: the first poll of the built poller (the binary users
// run, as a cold Lambda container runs it: a new process, an empty store,
// learned thresholds on, concurrency 16) of 1,000 services, against a fake
// ModelArts in another process that answers every request after 50 ms,
// on each store (a new checkpoint file; a new DynamoDB table on dynalite).
// Every service's events are fakeStream's "runtime" stream, 20 of them
// (cold) or one full page of 1,000 (cold-1000-events), ending with a
// successful deployment, so every service has a notification due
// (delivered to the terminal destination the poller always has outside
// Lambda) and a checkpoint to write after delivery. It reports the poll's
// duration as the poller logs it ("poll done" duration_ms: from the
// service list to the last checkpoint write), its ratio to latencyBound,
// and the process's wall time and peak RSS.
func BenchmarkColdPoll(b *testing.B) {
	const services, latency, conc = 1000, 50 * time.Millisecond, 16
	bin := builtPoller(b)
	endpoint := checkpointtest.StartDynalite(b)
	ddb := checkpointtest.NewDynamoClient(b, endpoint)
	warmDynalite(b, ddb)
	for _, shape := range []struct {
		name   string
		events int
	}{{"cold", 20}, {"cold-1000-events", 1000}} {
		b.Run(shape.name, func(b *testing.B) {
			fake := startFakeProcess(b, fakeSpec{services: services, events: shape.events, stream: "runtime", latency: latency})
			for _, storeKind := range []string{"file", "dynamodb"} {
				b.Run(storeKind, func(b *testing.B) {
					var poll, wall time.Duration
					var peak int64
					for b.Loop() {
						r := runBuiltPoller(b, bin, fake, storeKind, endpoint, ddb, "LOG_LEVEL=info")
						d, done := pollDone(r.out)
						if done["services"] != services || done["deliveries"] != services || done["checkpoint_writes"] != services {
							b.Fatalf("cold poll: want %d services, deliveries and checkpoint writes; the poller logged %v", services, done)
						}
						poll += d
						wall += r.wall
						peak = max(peak, r.peakKB)
					}
					polls := float64(b.N)
					b.ReportMetric(poll.Seconds()/polls, "poll-s")
					b.ReportMetric(poll.Seconds()/polls/latencyBound(services, latency, conc).Seconds(), "ratio-to-bound")
					b.ReportMetric(wall.Seconds()/polls, "wall-s/process")
					b.ReportMetric(float64(peak)/1024, "peak-rss-MB")
					b.ReportMetric(0, "ns/op")
				})
			}
		})
	}
}

// warmDynalite has a new dynalite take a few thousand conditional puts,
// untimed: its JavaScript is compiled as it runs, and its first thousand
// puts take about twice as long as later ones (0.7 s against 0.38 s), a
// cost of the stand-in DynamoDB has not.
func warmDynalite(b *testing.B, ddb *dynamodb.Client) {
	b.Helper()
	store := checkpoint.NewDynamoDB(ddb, checkpointtest.NewTable(b, ddb))
	for round := range 3 {
		cps := make([]*checkpoint.Checkpoint, 1000)
		for i := range cps {
			cps[i] = &checkpoint.Checkpoint{ServiceID: fmt.Sprintf("warm-%d-%04d", round, i), ReadThrough: time.Now().UnixMilli()}
		}
		if err := errors.Join(store.SaveMany(b.Context(), cps)...); err != nil {
			b.Fatal(err)
		}
	}
}

// pollDoneLine is the poller's log line at the end of a poll.
var pollDoneLine = regexp.MustCompile(`msg="poll done"(.*)`)

// pollDone returns the duration and the counts of the last "poll done"
// line in a poller's output (zero when there is none).
func pollDone(out []byte) (time.Duration, map[string]int) {
	counts := map[string]int{}
	m := pollDoneLine.FindAllSubmatch(out, -1)
	if len(m) == 0 {
		return 0, counts
	}
	for _, f := range strings.Fields(string(m[len(m)-1][1])) {
		k, v, ok := strings.Cut(f, "=")
		if n, err := strconv.Atoi(v); ok && err == nil {
			counts[k] = n
		}
	}
	return time.Duration(counts["duration_ms"]) * time.Millisecond, counts
}

// builtPoller builds the poller binary (as users run it outside Lambda)
// into a temporary directory.
func builtPoller(b *testing.B) string {
	b.Helper()
	bin := filepath.Join(b.TempDir(), "poller")
	build := exec.Command("go", "build", "-o", bin, "./functions/poller")
	build.Dir = repoRoot(b)
	if out, err := build.CombinedOutput(); err != nil {
		b.Fatalf("build poller: %v\n%s", err, out)
	}
	return bin
}

// polled is one run of the built poller.
type polled struct {
	out    []byte
	peakKB int64 // its peak RSS
	wall   time.Duration
}

// runBuiltPoller runs the built poller once (one poll, outside Lambda)
// against fake, on a new store of storeKind (a new file; a new table on
// the dynalite at endpoint, created outside the timer), with extra
// variables after the others.
func runBuiltPoller(b *testing.B, bin string, fake fakeProcess, storeKind, endpoint string, ddb *dynamodb.Client, extra ...string) polled {
	b.Helper()
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
		"MODELARTS_ENDPOINT="+fake.url, "MODELARTS_PROJECT_ID="+fake.project, "MODELARTS_TOKEN="+fake.token,
		"MODELARTS_SERVICE_IDS=", "MODELARTS_API=v1", "SECRETS_ARN=", "LOG_LEVEL=warn",
		"SLACK_WEBHOOK_URL=", "SLACK_BOT_TOKEN=", "SLACK_CHANNEL=", "WEBHOOK_URLS=")
	cmd.Env = append(append(cmd.Env, store...), extra...)
	start := time.Now()
	out, hwm, err := runWatchingRSS(cmd)
	wall := time.Since(start)
	if err != nil {
		b.Fatalf("poller: %v\n%s", err, tail(out))
	}
	return polled{out: out, peakKB: hwm, wall: wall}
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

// fakeSpec is what TestFakeModelArtsProcess serves: services services,
// each with events events of fakeStream's stream, every answer after
// latency.
type fakeSpec struct {
	services, events int
	stream           string
	latency          time.Duration
}

// fakeProcess is a fake ModelArts running in another process.
type fakeProcess struct{ url, project, token string }

// startFakeProcess runs TestFakeModelArtsProcess in a child process (its
// heap and its JSON encoding are not the poller's, as a real ModelArts's
// are not) until the benchmark ends.
func startFakeProcess(b *testing.B, spec fakeSpec) fakeProcess {
	b.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestFakeModelArtsProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), fmt.Sprintf("E2E_FAKE=%d,%d,%s,%d", spec.services, spec.events, spec.stream, spec.latency.Milliseconds()))
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
		var f fakeProcess
		if _, err := fmt.Sscanf(sc.Text(), "FAKE %s %s %s", &f.url, &f.project, &f.token); err == nil {
			go func() { _, _ = io.Copy(io.Discard, out) }()
			return f
		}
	}
	b.Fatalf("the fake ModelArts process did not start: %v", sc.Err())
	return fakeProcess{}
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
// E2E_FAKE=services,events,stream,latency-ms), it serves a fake ModelArts whose events
// (fakeStream) are within the last hour until killed. Otherwise it returns
// at once.
func TestFakeModelArtsProcess(t *testing.T) {
	spec := os.Getenv("E2E_FAKE")
	if spec == "" {
		return
	}
	parts := strings.Split(spec, ",")
	var services, perService, latencyMS int
	if len(parts) != 4 {
		t.Fatalf("E2E_FAKE=%s: want services,events,stream,latency-ms", spec)
	}
	if _, err := fmt.Sscanf(parts[0]+" "+parts[1]+" "+parts[3], "%d %d %d", &services, &perService, &latencyMS); err != nil {
		t.Fatal(err)
	}
	srv := eventsapitest.NewServer()
	srv.SetLatency(time.Duration(latencyMS) * time.Millisecond)
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
