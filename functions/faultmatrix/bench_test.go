package faultmatrix

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/modelarts-notifier/modelarts-notifier/eventsapi"
	"github.com/modelarts-notifier/modelarts-notifier/eventsapi/eventsapitest"
	"github.com/modelarts-notifier/modelarts-notifier/functions/checkpoint"
	"github.com/modelarts-notifier/modelarts-notifier/functions/watch"
)

// benchWorld is a fake ModelArts with n services and a client for it.
type benchWorld struct {
	clock *simClock
	srv   *eventsapitest.Server
	api   *eventsapi.Client
	ids   []string
}

// newBenchWorld starts a fake whose services each hold perService events:
// a successful deployment half an hour ago, preceded by older runtime
// events spread over the two days before.
func newBenchWorld(b *testing.B, services, perService int) *benchWorld {
	b.Helper()
	w := &benchWorld{clock: &simClock{now: base}}
	w.srv = eventsapitest.NewServer(eventsapitest.WithClock(w.clock.Now))
	b.Cleanup(w.srv.Close)
	api, err := eventsapi.New(eventsapi.Config{
		Endpoint: w.srv.URL, ProjectID: w.srv.ProjectID, Auth: eventsapi.StaticToken(w.srv.Token),
		HTTPClient: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256}, Timeout: time.Minute},
	})
	if err != nil {
		b.Fatal(err)
	}
	w.api = api
	deploy := eventsapitest.SuccessTexts("TF 3.0.0", "svc")
	older := perService - len(deploy)
	history := make([]eventsapi.Event, 0, perService)
	for i := range older {
		at := base.Add(-48 * time.Hour).Add(time.Duration(i) * (47 * time.Hour / time.Duration(max(older, 1))))
		history = append(history, normal(at, fmt.Sprintf("Instance %d is healthy.", i)))
	}
	for i, text := range deploy {
		history = append(history, normal(base.Add(-30*time.Minute+time.Duration(i)*10*time.Second), text))
	}
	for i := range services {
		id := fmt.Sprintf("bench-%04d", i)
		w.ids = append(w.ids, id)
		w.srv.AddService(id, id, eventsapi.StatusRunning)
		w.srv.AppendEvents(id, history...)
	}
	return w
}

func (w *benchWorld) eventsRequests() int {
	n := 0
	for _, id := range w.ids {
		n += w.srv.EventsRequests(id)
	}
	return n
}

// BenchmarkSteadyStateRequests: events requests per service per quiet poll
// (after the first) against 2,500 events per service, beside a naive poller
// that re-reads every service's full event list each run (pages of 1,000).
func BenchmarkSteadyStateRequests(b *testing.B) {
	const services, perService = 20, 2500
	w := newBenchWorld(b, services, perService)
	store := checkpoint.NewMemory()
	p := watch.New(watch.Config{ProjectID: w.srv.ProjectID, Now: w.clock.Now}, w.api, store, nil, nil)
	if res := p.Poll(context.Background()); res.Err != nil {
		b.Fatal(res.Err)
	}
	w.srv.ResetRequests()
	polls := 0
	b.ResetTimer()
	for b.Loop() {
		w.clock.set(w.clock.Now().Add(time.Minute))
		if res := p.Poll(context.Background()); res.Err != nil {
			b.Fatal(res.Err)
		}
		polls++
	}
	b.StopTimer()
	ours := float64(w.eventsRequests()) / float64(services*polls)

	w.srv.ResetRequests()
	const naivePolls = 3
	for range naivePolls {
		for _, id := range w.ids {
			n := 0
			for _, err := range w.api.Events(context.Background(), id, eventsapi.EventsQuery{Limit: 1000}) {
				if err != nil {
					b.Fatal(err)
				}
				n++
			}
			if n != perService {
				b.Fatalf("naive read %d events, want %d", n, perService)
			}
		}
	}
	naive := float64(w.eventsRequests()) / float64(services*naivePolls)
	b.ReportMetric(ours, "events-req/service/poll")
	b.ReportMetric(naive, "naive-events-req/service/poll")
}

// BenchmarkPoll1000Services: one poll (a first poll: every service is read)
// of 1,000 services at 50 ms of API latency, beside the bound services x
// latency / concurrency. Sub-benchmarks vary watch.Config.Concurrency.
func BenchmarkPoll1000Services(b *testing.B) {
	const services, latency = 1000, 50 * time.Millisecond
	w := newBenchWorld(b, services, 10)
	w.srv.SetLatency(latency)
	for _, conc := range []int{0, 32, 64} {
		name := fmt.Sprintf("concurrency=%d", conc)
		if conc == 0 {
			name = "concurrency=default"
		}
		b.Run(name, func(b *testing.B) {
			cfg := watch.Config{ProjectID: w.srv.ProjectID, Now: w.clock.Now, Concurrency: conc}
			effective := conc
			if effective == 0 {
				effective = 16 // watch's default
			}
			var wall time.Duration
			for b.Loop() {
				p := watch.New(cfg, w.api, checkpoint.NewMemory(), nil, nil)
				start := time.Now()
				res := p.Poll(context.Background())
				wall += time.Since(start)
				if res.Err != nil || res.Services != services {
					b.Fatalf("poll: %d services, err %v", res.Services, res.Err)
				}
			}
			// The bound: the list call, then services x latency / concurrency.
			bound := latency + time.Duration(services)*latency/time.Duration(effective)
			perPoll := wall / time.Duration(b.N)
			b.ReportMetric(perPoll.Seconds(), "wall-s")
			b.ReportMetric(bound.Seconds(), "bound-s")
			b.ReportMetric(perPoll.Seconds()/bound.Seconds(), "ratio")
		})
	}
}

// BenchmarkPollMemory1000x1000: the peak heap of one poll of 1,000 services
// with 1,000 events each in the read window, sampled every millisecond
// (runtime.ReadMemStats, HeapInuse) above the heap in use before the poll.
// The fake ModelArts runs in a child process (this test binary, see
// TestFakeModelArtsProcess), so only the poller's memory is measured.
func BenchmarkPollMemory1000x1000(b *testing.B) {
	const services, perService = 1000, 1000
	url, project, token := startFakeProcess(b, services, perService)
	api, err := eventsapi.New(eventsapi.Config{Endpoint: url, ProjectID: project, Auth: eventsapi.StaticToken(token),
		HTTPClient: &http.Client{Timeout: time.Minute}})
	if err != nil {
		b.Fatal(err)
	}
	now := func() time.Time { return base }
	var peak, sys uint64
	for b.Loop() {
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		baseline := ms.HeapInuse
		var top atomic.Uint64
		stop := make(chan struct{})
		var wg sync.WaitGroup
		wg.Go(func() {
			t := time.NewTicker(time.Millisecond)
			defer t.Stop()
			for {
				var m runtime.MemStats
				runtime.ReadMemStats(&m)
				if m.HeapInuse > top.Load() {
					top.Store(m.HeapInuse)
				}
				select {
				case <-stop:
					return
				case <-t.C:
				}
			}
		})
		p := watch.New(watch.Config{ProjectID: project, Now: now}, api, checkpoint.NewMemory(), nil, nil)
		res := p.Poll(context.Background())
		close(stop)
		wg.Wait()
		if res.Err != nil || res.EventsRead != services*perService {
			b.Fatalf("poll read %d events, err %v", res.EventsRead, res.Err)
		}
		peak = max(peak, top.Load()-min(baseline, top.Load()))
		runtime.ReadMemStats(&ms)
		sys = max(sys, ms.Sys)
	}
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MB")
	b.ReportMetric(float64(sys)/(1<<20), "sys-MB")
}

// startFakeProcess runs TestFakeModelArtsProcess in a child process and
// returns the fake's URL, project and token.
func startFakeProcess(b *testing.B, services, perService int) (url, project, token string) {
	b.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestFakeModelArtsProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), fmt.Sprintf("FAULTMATRIX_FAKE=%d,%d", services, perService))
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
// FAULTMATRIX_FAKE=services,events), it serves a fake ModelArts until
// killed. Otherwise it returns at once.
func TestFakeModelArtsProcess(t *testing.T) {
	spec := os.Getenv("FAULTMATRIX_FAKE")
	if spec == "" {
		return
	}
	var services, perService int
	if _, err := fmt.Sscanf(spec, "%d,%d", &services, &perService); err != nil {
		t.Fatal(err)
	}
	srv := eventsapitest.NewServer(eventsapitest.WithClock(func() time.Time { return base }))
	defer srv.Close()
	deploy := eventsapitest.SuccessTexts("TF 3.0.0", "svc")
	events := make([]eventsapi.Event, 0, perService)
	start := base.Add(-59 * time.Minute)
	gap := 58 * time.Minute / time.Duration(perService)
	for i := range perService - len(deploy) {
		events = append(events, normal(start.Add(time.Duration(i)*gap), fmt.Sprintf("Instance %d is healthy.", i)))
	}
	for _, text := range deploy {
		events = append(events, normal(start.Add(time.Duration(len(events))*gap), text))
	}
	for i := range services {
		id := fmt.Sprintf("mem-%04d", i)
		srv.AddService(id, id, eventsapi.StatusRunning)
		srv.AppendEvents(id, events...)
	}
	fmt.Printf("FAKE %s %s %s\n", srv.URL, srv.ProjectID, srv.Token)
	select {}
}

// BenchmarkBootstrapSize: the size of the arm64 Lambda bootstrap of the
// poller, built as `make build-PollerFunction` builds it.
func BenchmarkBootstrapSize(b *testing.B) {
	root, err := filepath.Abs("../..")
	if err != nil {
		b.Fatal(err)
	}
	out := filepath.Join(b.TempDir(), "bootstrap")
	var size int64
	for b.Loop() {
		cmd := exec.Command("go", "build", "-tags", "lambda.norpc", "-trimpath", "-ldflags", "-s -w -buildid=", "-o", out, "./functions/poller")
		cmd.Dir = root
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=arm64")
		if msg, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("go build: %v\n%s", err, msg)
		}
		fi, err := os.Stat(out)
		if err != nil {
			b.Fatal(err)
		}
		size = fi.Size()
	}
	b.ReportMetric(float64(size)/(1<<20), "bootstrap-MB")
}
