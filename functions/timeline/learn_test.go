package timeline

import (
	"testing"
	"time"

	"github.com/modelarts-notifier/modelarts-notifier/eventsapi/model"
	"github.com/modelarts-notifier/modelarts-notifier/notifier/domain"
)

func TestHistoryAddAndLearn(t *testing.T) {
	const t0 = int64(1_700_000_000_000)
	deploy := func(start int64, pull time.Duration) Deployment {
		evs := []model.Event{
			ev("normal", "start to deploy service", start),
			ev("normal", "[m] pulling model image", start+1000),
			ev("normal", "[m] pull image success", start+1000+pull.Milliseconds()),
			ev("normal", "Service svc started.", start+2000+pull.Milliseconds()),
		}
		d, _ := Build(evs, svc(model.StatusRunning), ms(start+3600_000), nil).Latest()
		return d
	}
	var h History
	for i := range 25 {
		h = h.Add(deploy(t0+int64(i)*3600_000, time.Duration(100+i)*time.Second))
	}
	if got := h[domain.PhaseImagePull]; len(got) != MaxSamples || got[0] != 105 || got[MaxSamples-1] != 124 {
		t.Fatalf("image_pull history %v: want the last 20 (105..124)", got)
	}
	th, usual := DefaultThresholds().Learn(h, true)
	u := usual[domain.PhaseImagePull]
	// p90 of 105..124 by nearest rank is the 18th: 122s; 2 × 122s = 244s.
	if !u.Learned || u.Samples != 20 || u.Threshold != 244*time.Second || th.For(domain.PhaseImagePull) != 244*time.Second || u.Median != 114*time.Second {
		t.Fatalf("image_pull: %+v, threshold %v", u, th.For(domain.PhaseImagePull))
	}
	// A phase with no samples keeps the configured threshold.
	if u := usual[domain.PhaseImageBuild]; u.Learned || u.Threshold != 30*time.Minute {
		t.Fatalf("image_build: %+v", u)
	}
	// Learning off: the configuration alone.
	if _, usual := DefaultThresholds().Learn(h, false); usual[domain.PhaseImagePull].Learned || usual[domain.PhaseImagePull].Threshold != 20*time.Minute {
		t.Fatalf("off: %+v", usual[domain.PhaseImagePull])
	}
	// Short phases: never below 3 minutes.
	var short History
	for i := range 5 {
		short = short.Add(deploy(t0+int64(i)*3600_000, 10*time.Second))
	}
	if _, usual := DefaultThresholds().Learn(short, true); usual[domain.PhaseImagePull].Threshold != MinLearned {
		t.Fatalf("short: %+v", usual[domain.PhaseImagePull])
	}
	// Two samples: the configured threshold.
	two := History{domain.PhaseImagePull: {60, 60}}
	if _, usual := DefaultThresholds().Learn(two, true); usual[domain.PhaseImagePull].Learned {
		t.Fatalf("two samples learned: %+v", usual[domain.PhaseImagePull])
	}
	// Add does not modify its receiver.
	before := len(two[domain.PhaseImagePull])
	two.Add(deploy(t0, time.Minute))
	if len(two[domain.PhaseImagePull]) != before {
		t.Fatal("Add modified its receiver")
	}
}
