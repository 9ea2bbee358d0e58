package timeline

import (
	"fmt"
	"testing"
	"time"

	"github.com/modelarts-notifier/modelarts-notifier/eventsapi/model"
)

// realisticStream returns n events of one service, ascending: deployments
// that succeed, fail in image_pull, or wait on insufficient resources before
// failing, each followed by runtime events (probes, restarts, throttling).
func realisticStream(n int) []model.Event {
	evs := make([]model.Event, 0, n+32)
	t := int64(1_562_597_251_764)
	add := func(typ, info string, step time.Duration) {
		t += step.Milliseconds()
		evs = append(evs, model.Event{EventType: typ, EventInfo: info, OccurTime: t})
	}
	for k := 0; len(evs) < n; k++ {
		model := fmt.Sprintf("[TF 3.%d.0]", k)
		add("normal", "start to deploy service", time.Minute)
		add("normal", "building image for model "+model, 24*time.Millisecond)
		add("normal", model+" build image success", 90*time.Second)
		add("normal", "preparing environment", 4*time.Second)
		add("normal", model+" prepare environment success", 20*time.Second)
		switch k % 3 {
		case 0: // success
			add("normal", model+" schedule resource success", 6*time.Millisecond)
			add("normal", model+" pulling model image", 7*time.Millisecond)
			add("normal", model+" pull image success", 56*time.Second)
			add("normal", model+" starting model", 12*time.Millisecond)
			add("normal", "Service service-07085 started.", 40*time.Second)
		case 1: // image pull fails
			add("normal", model+" schedule resource success", 6*time.Millisecond)
			add("normal", model+" pulling model image", 7*time.Millisecond)
			add("abnormal", "Failed to pull image: manifest unknown", 3*time.Minute)
		case 2: // insufficient resources, retried, then a failure
			for range 6 {
				add("abnormal", "Insufficient resources. Wait until idle resources are sufficient.", 2*time.Minute)
			}
			add("abnormal", "Service deployment timed out. Error: scheduling did not finish", 2*time.Minute)
		}
		for i := range 8 {
			add("normal", fmt.Sprintf("instance %d health probe passed", i%2), 5*time.Minute)
		}
		add("abnormal", "Instance 1 restarted unexpectedly.", time.Minute)
	}
	return evs[:n]
}

func BenchmarkBuild(b *testing.B) {
	const n = 1000
	evs := realisticStream(n)
	svc := model.Service{ServiceID: "s", Status: model.StatusDeploying}
	now := time.UnixMilli(evs[n-1].OccurTime + 60_000)
	th := DefaultThresholds()
	b.ReportAllocs()
	for b.Loop() {
		Build(evs, svc, now, th)
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "events/s")
}

func TestRealisticStream(t *testing.T) {
	evs := realisticStream(1000)
	tl := Build(evs, model.Service{Status: model.StatusDeploying}, time.UnixMilli(evs[999].OccurTime), nil)
	checkTimeline(t, evs, tl)
	var outcomes = map[string]int{}
	for _, d := range tl.Deployments {
		outcomes[string(d.Outcome)]++
	}
	if outcomes["succeeded"] == 0 || outcomes["failed"] == 0 || len(tl.Runtime) == 0 {
		t.Errorf("stream is not varied: outcomes %v, %d runtime events", outcomes, len(tl.Runtime))
	}
}
