package faultmatrix

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
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
