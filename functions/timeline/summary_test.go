package timeline

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/modelarts-notifier/modelarts-notifier/eventsapi/model"
	"github.com/modelarts-notifier/modelarts-notifier/notifier/domain"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// golden compares v's indented JSON with testdata/name.
func golden(t *testing.T, name string, v any) {
	t.Helper()
	got, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s mismatch (-want +got):\n%s", name, diff)
	}
}

func TestSummaryGolden(t *testing.T) {
	seed := load(t, "seed.json")
	last := seed[8].OccurTime
	running := svc(model.StatusRunning)
	running.TransitionAt = last + 30_000
	failed := svc(model.StatusFailed)
	failed.ErrorMsg = "Insufficient resources."
	insufficient := load(t, "insufficient.json")

	tests := []struct {
		name   string
		events []model.Event
		svc    model.Service
		now    int64
	}{
		{"summary_succeeded.json", seed, running, last + 60_000},
		{"summary_in_progress.json", seed, svc(model.StatusDeploying), last + 60_000},
		{"summary_failed.json", insufficient, failed, insufficient[7].OccurTime + 60_000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, ok := Build(tt.events, tt.svc, ms(tt.now), nil).Latest()
			if !ok {
				t.Fatal("no deployment")
			}
			golden(t, tt.name, d.Summary("proj-1", tt.svc, ms(tt.now)))
		})
	}
}

func TestSummaryDurations(t *testing.T) {
	seed := load(t, "seed.json")
	last := seed[8].OccurTime
	now := last + 45_000
	deploying := svc(model.StatusDeploying)
	d, _ := Build(seed[:4], deploying, ms(now), nil).Latest() // environment running

	s := d.Summary("p", deploying, ms(now))
	type dur struct {
		Name   string
		Status domain.PhaseStatus
		MS     *int64
		Ended  bool
	}
	var got []dur
	for _, p := range s.Phases {
		got = append(got, dur{p.Name, p.Status, p.DurationMS, !p.EndedAt.IsZero()})
	}
	i64 := func(v int64) *int64 { return &v }
	want := []dur{
		{domain.PhaseImageBuild, ok, i64(17), true},
		{domain.PhaseEnvironment, run, i64(now - seed[3].OccurTime), false}, // so far
		{domain.PhaseScheduling, pnd, nil, false},
		{domain.PhaseImagePull, pnd, nil, false},
		{domain.PhaseModelStartup, pnd, nil, false},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("phases (-want +got):\n%s", diff)
	}
	if !s.EndedAt.IsZero() || s.DurationMS == nil || *s.DurationMS != now-seed[0].OccurTime {
		t.Errorf("open deployment: ended %v, duration %v; want no end, %d ms so far", s.EndedAt, s.DurationMS, now-seed[0].OccurTime)
	}
	if s.Status != domain.StatusInProgress || s.Phase != domain.PhaseEnvironment || s.ServiceStatus != "deploying" {
		t.Errorf("status %s phase %s service status %s", s.Status, s.Phase, s.ServiceStatus)
	}
}

func TestSummaryCapsEvents(t *testing.T) {
	evs := []model.Event{ev("normal", "start to deploy service", 1000)}
	for i := range 150 {
		evs = append(evs, ev("abnormal", fmt.Sprintf("probe %d returned 503", i), int64(2000+i)))
	}
	d, _ := Build(evs, svc(model.StatusDeploying), ms(5000), nil).Latest()
	if len(d.Events) != 151 || len(d.Abnormal) != 150 {
		t.Fatalf("deployment has %d events, %d abnormal; want 151, 150", len(d.Events), len(d.Abnormal))
	}
	s := d.Summary("p", svc(model.StatusDeploying), ms(5000))
	if len(s.Events) != MaxSummaryEvents || len(s.AbnormalEvents) != MaxSummaryEvents {
		t.Fatalf("summary has %d events, %d abnormal; want %d each", len(s.Events), len(s.AbnormalEvents), MaxSummaryEvents)
	}
	if s.Events[0].EventInfo != "start to deploy service" {
		t.Errorf("first event %q, want the start event", s.Events[0].EventInfo)
	}
	if got, want := s.Events[1].EventInfo, "probe 51 returned 503"; got != want {
		t.Errorf("second event %q, want %q (the most recent 99 follow the start)", got, want)
	}
	if got, want := s.AbnormalEvents[0].EventInfo, "probe 50 returned 503"; got != want {
		t.Errorf("first abnormal event %q, want %q", got, want)
	}
	if got := s.Events[len(s.Events)-1].EventInfo; got != "probe 149 returned 503" {
		t.Errorf("last event %q, want the newest", got)
	}
}

func TestSummaryEmptySlicesAreJSONArrays(t *testing.T) {
	d, _ := Build([]model.Event{ev("normal", "start to deploy service", 1000)}, svc(model.StatusDeploying), ms(2000), nil).Latest()
	b, err := json.Marshal(d.Summary("p", svc(model.StatusDeploying), ms(2000)))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(b, []byte(`"abnormal_events":[]`)) {
		t.Errorf("summary JSON %s: want \"abnormal_events\":[]", b)
	}
	b, err = json.Marshal(RuntimeSummary("p", svc(model.StatusRunning), nil))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"phases":[]`, `"abnormal_events":[]`, `"events":[]`, `"status":"abnormal"`} {
		if !bytes.Contains(b, []byte(want)) {
			t.Errorf("runtime summary JSON %s: want %s", b, want)
		}
	}
}

func TestRuntimeSummary(t *testing.T) {
	rt := load(t, "runtime_after_success.json")
	s := svc(model.StatusRunning)
	tl := Build(rt, s, ms(rt[12].OccurTime), nil)
	var abnormal []model.Event
	for _, e := range tl.Runtime {
		if IsAbnormal(e) {
			abnormal = append(abnormal, e)
		}
	}
	golden(t, "summary_runtime.json", RuntimeSummary("proj-1", s, abnormal))
}
