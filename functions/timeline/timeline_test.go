package timeline

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/modelarts-notifier/modelarts-notifier/eventsapi/model"
	"github.com/modelarts-notifier/modelarts-notifier/notifier/domain"
)

// load reads testdata/name, an events page in the API's shape.
func load(t testing.TB, name string) []model.Event {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	var page model.EventsPage
	if err := json.Unmarshal(b, &page); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return page.Events
}

func ms(t int64) time.Time { return time.UnixMilli(t) }

func svc(status string) model.Service {
	return model.Service{ServiceID: "35de3ca9-1bca-4ae7-9cb0-914f30fa7d3e", ServiceName: "service-07085", Status: status}
}

func ev(typ, info string, t int64) model.Event {
	return model.Event{EventType: typ, EventInfo: info, OccurTime: t}
}

// join returns a new slice of the events of each part, in order.
func join(parts ...[]model.Event) []model.Event {
	var out []model.Event
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

func phases(st ...domain.PhaseStatus) string {
	s := make([]string, len(st))
	for i, x := range st {
		s[i] = string(x)
	}
	return strings.Join(s, " ")
}

// Shorthands for phase statuses.
const (
	ok   = domain.PhaseSucceeded
	fail = domain.PhaseFailed
	stl  = domain.PhaseStalled
	run  = domain.PhaseRunning
	pnd  = domain.PhasePending
)

// view is the part of a Deployment most tests compare.
type view struct {
	Start, End int64
	Outcome    domain.Outcome
	Phase      string
	Phases     string // phase statuses in order
	Model      string
	Failure    string
	ErrorMsg   string
	Abnormal   []string
	Stalls     []Stall
	Events     int
	Latest     bool
}

func viewOf(d Deployment) view {
	v := view{
		Start: d.Start, End: d.End, Outcome: d.Outcome, Phase: d.Phase, Model: d.Model,
		ErrorMsg: d.ErrorMsg, Stalls: d.Stalls, Events: len(d.Events), Latest: d.Latest,
	}
	st := make([]domain.PhaseStatus, len(d.Phases))
	for i, p := range d.Phases {
		st[i] = p.Status
	}
	v.Phases = phases(st...)
	if d.Failure != nil {
		v.Failure = d.Failure.EventInfo
	}
	for _, e := range d.Abnormal {
		v.Abnormal = append(v.Abnormal, e.EventInfo)
	}
	return v
}

type timelineView struct {
	Deployments []view
	Runtime     []string
}

func viewTimeline(tl Timeline) timelineView {
	var v timelineView
	for _, d := range tl.Deployments {
		v.Deployments = append(v.Deployments, viewOf(d))
	}
	for _, e := range tl.Runtime {
		v.Runtime = append(v.Runtime, e.EventInfo)
	}
	return v
}

func succeeded(start, end int64) PhaseSpan {
	return PhaseSpan{Status: ok, Start: start, End: end}
}

// named fills in the phase names.
func named(spans ...PhaseSpan) [numPhases]PhaseSpan {
	var out [numPhases]PhaseSpan
	for i := range out {
		out[i] = spans[i]
		out[i].Name = domain.PhaseNames[i]
	}
	return out
}

func TestBuildSeed(t *testing.T) {
	seed := load(t, "seed.json")
	at := func(i int) int64 { return seed[i].OccurTime }
	last := at(8)
	running := svc(model.StatusRunning)
	running.TransitionAt = last + 30_000

	tests := []struct {
		name string
		svc  model.Service
		want Deployment
	}{
		{
			name: "deploying: in progress in model_startup",
			svc:  svc(model.StatusDeploying),
			want: Deployment{
				Start: at(0), Outcome: domain.OutcomeInProgress, Phase: domain.PhaseModelStartup,
				Phases: named(
					succeeded(at(1), at(2)), succeeded(at(3), at(4)), succeeded(at(4), at(5)),
					succeeded(at(6), at(7)), PhaseSpan{Status: run, Start: at(8)},
				),
				Model: "TF 3.0.0", Events: seed, LastEventAt: last, Latest: true,
			},
		},
		{
			name: "running: succeeded at the status transition",
			svc:  running,
			want: Deployment{
				Start: at(0), End: last + 30_000, Outcome: domain.OutcomeSucceeded, Phase: domain.PhaseModelStartup,
				Phases: named(
					succeeded(at(1), at(2)), succeeded(at(3), at(4)), succeeded(at(4), at(5)),
					succeeded(at(6), at(7)), succeeded(at(8), last+30_000),
				),
				Model: "TF 3.0.0", Events: seed, LastEventAt: last, Latest: true, ByStatus: true,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tl := Build(seed, tt.svc, ms(last+time.Minute.Milliseconds()), nil)
			want := Timeline{Deployments: []Deployment{tt.want}}
			if diff := cmp.Diff(want, tl); diff != "" {
				t.Errorf("Build() mismatch (-want +got):\n%s", diff)
			}
		})
	}

	t.Run("running: phase durations", func(t *testing.T) {
		tl := Build(seed, running, ms(last+time.Minute.Milliseconds()), nil)
		d, _ := tl.Latest()
		got := map[string]int64{}
		for _, p := range d.Summary("p", running, ms(last)).Phases {
			got[p.Name] = *p.DurationMS
		}
		want := map[string]int64{
			domain.PhaseImageBuild: 17, domain.PhaseEnvironment: 20171, domain.PhaseScheduling: 6,
			domain.PhaseImagePull: 56642, domain.PhaseModelStartup: 30_000,
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("phase durations (-want +got):\n%s", diff)
		}
	})
}

// The failure texts are from the ModelArts user guide (PRODUCT.md).
func TestBuildFailureAtEachPhase(t *testing.T) {
	seed := load(t, "seed.json")
	last := seed[8].OccurTime
	failed := svc(model.StatusFailed)
	failed.ErrorMsg = "deployment failed"
	tests := []struct {
		name    string
		prefix  int // seed events kept: the deployment is in the phase under test
		failure string
		phase   string
		phases  string
	}{
		{"image_build", 2, "Failed to create the image.", domain.PhaseImageBuild, phases(fail, pnd, pnd, pnd, pnd)},
		{"environment", 4, "Service service-07085 failed. Error: environment variable too long", domain.PhaseEnvironment, phases(ok, fail, pnd, pnd, pnd)},
		{"scheduling", 5, "Service deployment timed out. Error: no resources", domain.PhaseScheduling, phases(ok, ok, fail, pnd, pnd)},
		{"image_pull", 7, "Failed to pull image: manifest unknown", domain.PhaseImagePull, phases(ok, ok, ok, fail, pnd)},
		{"model_startup", 9, "Failed to start service service-07085.", domain.PhaseModelStartup, phases(ok, ok, ok, ok, fail)},
	}
	for _, tt := range tests {
		failAt := seed[tt.prefix-1].OccurTime + 1000
		failure := ev("abnormal", tt.failure, failAt)
		t.Run("event/"+tt.name, func(t *testing.T) {
			evs := join(seed[:tt.prefix], []model.Event{failure})
			tl := Build(evs, svc(model.StatusDeploying), ms(failAt+1000), nil)
			want := timelineView{Deployments: []view{{
				Start: seed[0].OccurTime, End: failAt, Outcome: domain.OutcomeFailed, Phase: tt.phase,
				Phases: tt.phases, Model: "TF 3.0.0", Failure: tt.failure, Abnormal: []string{tt.failure},
				Events: tt.prefix + 1, Latest: true,
			}}}
			if diff := cmp.Diff(want, viewTimeline(tl)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			d, _ := tl.Latest()
			if got := d.Phases[phaseIndex(tt.phase)].End; got != failAt {
				t.Errorf("failed phase End = %d, want %d", got, failAt)
			}
		})
		t.Run("status/"+tt.name, func(t *testing.T) {
			evs := seed[:tt.prefix]
			if tt.prefix == 2 { // image_build began, not ended
				evs = seed[:2]
			}
			// The status time is after the last event.
			s := failed
			s.TransitionAt = last + 5000
			tl := Build(evs, s, ms(last+60_000), nil)
			wantEnd := s.TransitionAt
			want := timelineView{Deployments: []view{{
				Start: seed[0].OccurTime, End: wantEnd, Outcome: domain.OutcomeFailed, Phase: tt.phase,
				Phases: tt.phases, Model: "TF 3.0.0", ErrorMsg: "deployment failed",
				Events: len(evs), Latest: true,
			}}}
			if diff := cmp.Diff(want, viewTimeline(tl)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestBuildInsufficientResources(t *testing.T) {
	evs := load(t, "insufficient.json")
	last := evs[len(evs)-1].OccurTime
	abnormal := []string{evs[5].EventInfo, evs[6].EventInfo, evs[7].EventInfo}
	failed := svc(model.StatusFailed)
	failed.ErrorMsg = "Insufficient resources."
	tests := []struct {
		name string
		svc  model.Service
		want view
	}{
		{
			name: "deploying: abnormal, not failed",
			svc:  svc(model.StatusDeploying),
			want: view{
				Start: evs[0].OccurTime, Outcome: domain.OutcomeInProgress, Phase: domain.PhaseScheduling,
				Phases: phases(ok, ok, run, pnd, pnd), Model: "resnet 1.2", Abnormal: abnormal,
				Events: len(evs), Latest: true,
			},
		},
		{
			name: "then failed: failed in scheduling",
			svc:  failed,
			want: view{
				Start: evs[0].OccurTime, End: last, Outcome: domain.OutcomeFailed, Phase: domain.PhaseScheduling,
				Phases: phases(ok, ok, fail, pnd, pnd), Model: "resnet 1.2", Abnormal: abnormal,
				ErrorMsg: "Insufficient resources.", Events: len(evs), Latest: true,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tl := Build(evs, tt.svc, ms(last+60_000), nil)
			if diff := cmp.Diff(timelineView{Deployments: []view{tt.want}}, viewTimeline(tl)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// TestBuildStartedOnlyEndsAtModelStartup: "started" or "is running"
// wording about an earlier phase or a part of the service does not end the
// deployment; said of the service or of model startup, it does.
func TestBuildStartedOnlyEndsAtModelStartup(t *testing.T) {
	const t0 = 1_700_000_000_000
	deploying := view{Start: t0, Outcome: domain.OutcomeInProgress, Events: 2, Latest: true}
	tests := []struct {
		info string
		want view
	}{
		{"Image build task started successfully.", with(deploying, domain.PhaseImageBuild, run, pnd, pnd, pnd, pnd)},
		{"Image build started.", with(deploying, domain.PhaseImageBuild, run, pnd, pnd, pnd, pnd)},
		{"Pulling image task started successfully", with(deploying, domain.PhaseImagePull, pnd, pnd, pnd, run, pnd)},
		{"Instance 0 is running.", with(deploying, "", pnd, pnd, pnd, pnd, pnd)},
		{"Instance 0 started.", with(deploying, "", pnd, pnd, pnd, pnd, pnd)},
		{"Service service-07085 started successfully", view{Start: t0, End: t0 + 1000, Outcome: domain.OutcomeSucceeded,
			Phase: domain.PhaseModelStartup, Phases: phases(pnd, pnd, pnd, pnd, ok), Events: 2, Latest: true}},
		{"Service pull-worker is running.", view{Start: t0, End: t0 + 1000, Outcome: domain.OutcomeSucceeded,
			Phase: domain.PhaseModelStartup, Phases: phases(pnd, pnd, pnd, pnd, ok), Events: 2, Latest: true}},
		{"[TF 3.0.0] Model started successfully.", view{Start: t0, End: t0 + 1000, Outcome: domain.OutcomeSucceeded,
			Phase: domain.PhaseModelStartup, Phases: phases(pnd, pnd, pnd, pnd, ok), Model: "TF 3.0.0", Events: 2, Latest: true}},
	}
	for _, tt := range tests {
		t.Run(tt.info, func(t *testing.T) {
			evs := []model.Event{ev("normal", "start to deploy service", t0), ev("normal", tt.info, t0+1000)}
			tl := Build(evs, svc(model.StatusDeploying), ms(t0+2000), nil)
			if diff := cmp.Diff(timelineView{Deployments: []view{tt.want}}, viewTimeline(tl)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// with returns v in phase with the phase statuses st.
func with(v view, phase string, st ...domain.PhaseStatus) view {
	v.Phase, v.Phases = phase, phases(st...)
	return v
}

func TestBuildStallAndRecovery(t *testing.T) {
	seed := load(t, "seed.json")
	th, err := ParseThresholds("image_build=1m,environment=2m,scheduling=3m,image_pull=4m,model_startup=5m")
	if err != nil {
		t.Fatal(err)
	}
	// next is a later event of the phase (or the one that ends it).
	tests := []struct {
		phase    string
		prefix   int // seed events kept: the phase is running after them
		stalled  string
		next     model.Event
		after    string // phase statuses after recovery
		afterCur string
	}{
		{domain.PhaseImageBuild, 2, phases(stl, pnd, pnd, pnd, pnd),
			ev("normal", "model (TF 3.0.0) build image success", 0), phases(ok, pnd, pnd, pnd, pnd), domain.PhaseImageBuild},
		{domain.PhaseEnvironment, 4, phases(ok, stl, pnd, pnd, pnd),
			ev("normal", "[TF 3.0.0] prepare environment success", 0), phases(ok, ok, run, pnd, pnd), domain.PhaseScheduling},
		{domain.PhaseScheduling, 5, phases(ok, ok, stl, pnd, pnd),
			ev("normal", "[TF 3.0.0] schedule resource success", 0), phases(ok, ok, ok, pnd, pnd), domain.PhaseScheduling},
		{domain.PhaseImagePull, 7, phases(ok, ok, ok, stl, pnd),
			ev("normal", "[TF 3.0.0] pull image success", 0), phases(ok, ok, ok, ok, pnd), domain.PhaseImagePull},
		{domain.PhaseModelStartup, 9, phases(ok, ok, ok, ok, stl),
			ev("normal", "some progress while the model loads", 0), phases(ok, ok, ok, ok, run), domain.PhaseModelStartup},
	}
	deploying := svc(model.StatusDeploying)
	for _, tt := range tests {
		evs := seed[:tt.prefix]
		lastAt := evs[len(evs)-1].OccurTime
		limit := th.For(tt.phase).Milliseconds()
		t.Run(tt.phase+"/within threshold", func(t *testing.T) {
			d, _ := Build(evs, deploying, ms(lastAt+limit), th).Latest()
			if d.Outcome != domain.OutcomeInProgress || d.Stalls != nil {
				t.Errorf("at the threshold: Outcome %s, Stalls %v; want in_progress, none", d.Outcome, d.Stalls)
			}
		})
		t.Run(tt.phase+"/stalled", func(t *testing.T) {
			tl := Build(evs, deploying, ms(lastAt+limit+1), th)
			want := view{
				Start: seed[0].OccurTime, Outcome: domain.OutcomeStalled, Phase: tt.phase, Phases: tt.stalled,
				Model: "TF 3.0.0", Stalls: []Stall{{Phase: tt.phase, Since: lastAt}}, Events: len(evs), Latest: true,
			}
			if diff := cmp.Diff(timelineView{Deployments: []view{want}}, viewTimeline(tl)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
		t.Run(tt.phase+"/recovered", func(t *testing.T) {
			next := tt.next
			next.OccurTime = lastAt + limit + 10_000
			recovered := join(evs, []model.Event{next})
			tl := Build(recovered, deploying, ms(next.OccurTime+1000), th)
			want := view{
				Start: seed[0].OccurTime, Outcome: domain.OutcomeInProgress, Phase: tt.afterCur, Phases: tt.after,
				Model: "TF 3.0.0", Stalls: []Stall{{Phase: tt.phase, Since: lastAt, Until: next.OccurTime}},
				Events: len(recovered), Latest: true,
			}
			if diff := cmp.Diff(timelineView{Deployments: []view{want}}, viewTimeline(tl)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
	t.Run("between phases: waiting for the next", func(t *testing.T) {
		evs := seed[:3] // image built, environment not begun
		lastAt := evs[2].OccurTime
		d, _ := Build(evs, svc(model.StatusPending), ms(lastAt+th.For(domain.PhaseEnvironment).Milliseconds()+1), th).Latest()
		want := view{
			Start: seed[0].OccurTime, Outcome: domain.OutcomeStalled, Phase: domain.PhaseEnvironment,
			Phases: phases(ok, stl, pnd, pnd, pnd), Model: "TF 3.0.0",
			Stalls: []Stall{{Phase: domain.PhaseEnvironment, Since: lastAt}}, Events: 3, Latest: true,
		}
		if diff := cmp.Diff(want, viewOf(d)); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
	})
	t.Run("not deploying: no stall", func(t *testing.T) {
		for _, status := range []string{model.StatusStopped, model.StatusDeleting, ""} {
			d, _ := Build(seed[:2], svc(status), ms(seed[1].OccurTime+time.Hour.Milliseconds()), th).Latest()
			if d.Outcome != domain.OutcomeInProgress {
				t.Errorf("status %q: Outcome %s, want in_progress", status, d.Outcome)
			}
		}
	})
}

func TestBuildScenarios(t *testing.T) {
	runtime := load(t, "runtime_after_success.json")
	two := load(t, "two_deployments.json")
	implicit := load(t, "implicit.json")
	unknown := load(t, "unknown.json")
	ties := load(t, "ties.json")
	unsorted := load(t, "unsorted.json")
	seed := load(t, "seed.json")
	deploying := svc(model.StatusDeploying)

	tests := []struct {
		name   string
		events []model.Event
		svc    model.Service
		now    int64
		want   timelineView
	}{
		{
			name:   "runtime abnormal events after a success",
			events: runtime,
			svc:    svc(model.StatusRunning),
			now:    runtime[12].OccurTime + 1000,
			want: timelineView{
				Deployments: []view{{
					Start: runtime[0].OccurTime, End: runtime[9].OccurTime, Outcome: domain.OutcomeSucceeded,
					Phase: domain.PhaseModelStartup, Phases: phases(ok, ok, ok, ok, ok), Model: "TF 3.0.0",
					Events: 10, Latest: true,
				}},
				Runtime: []string{
					"instance 1 health check passed",
					"Instance 1 restarted unexpectedly.",
					"The service is stopped because the quota exceeds the upper limit.",
				},
			},
		},
		{
			name:   "two deployments: the first superseded, the second failed",
			events: two,
			svc:    svc(model.StatusFailed),
			now:    two[8].OccurTime + 1000,
			want: timelineView{Deployments: []view{
				{
					Start: two[0].OccurTime, End: two[6].OccurTime, Outcome: domain.OutcomeInProgress,
					Phase: domain.PhaseImagePull, Phases: phases(ok, ok, ok, run, pnd), Model: "TF 3.0.0", Events: 6,
				},
				{
					Start: two[6].OccurTime, End: two[8].OccurTime, Outcome: domain.OutcomeFailed,
					Phase: domain.PhaseImageBuild, Phases: phases(fail, pnd, pnd, pnd, pnd), Model: "TF 3.1.0",
					Failure: two[8].EventInfo, Abnormal: []string{two[8].EventInfo}, Events: 3, Latest: true,
				},
			}},
		},
		{
			name:   "implicit deployment: the window begins mid-deployment",
			events: implicit,
			svc:    svc(model.StatusRunning),
			now:    implicit[6].OccurTime + 1000,
			want: timelineView{
				Deployments: []view{{
					Start: implicit[1].OccurTime, End: implicit[5].OccurTime, Outcome: domain.OutcomeSucceeded,
					Phase: domain.PhaseModelStartup, Phases: phases(pnd, pnd, ok, ok, ok), Model: "TF 3.0.0",
					Events: 5, Latest: true,
				}},
				Runtime: []string{"instance 0 is healthy", "Instance 0 is running out of memory."},
			},
		},
		{
			name:   "unknown text is kept verbatim",
			events: unknown,
			svc:    deploying,
			now:    unknown[7].OccurTime + 1000,
			want: timelineView{Deployments: []view{{
				Start: unknown[0].OccurTime, Outcome: domain.OutcomeInProgress, Phase: domain.PhaseEnvironment,
				Phases: phases(ok, run, pnd, pnd, pnd), Events: 8, Latest: true,
			}}},
		},
		{
			name:   "unsorted input is sorted",
			events: unsorted,
			svc:    deploying,
			now:    seed[8].OccurTime + 1000,
			want: timelineView{Deployments: []view{{
				Start: seed[0].OccurTime, Outcome: domain.OutcomeInProgress, Phase: domain.PhaseModelStartup,
				Phases: phases(ok, ok, ok, ok, run), Model: "TF 3.0.0", Events: 9, Latest: true,
			}}},
		},
		{
			name:   "ties at one millisecond keep their order; duplicates count once",
			events: ties,
			svc:    deploying,
			now:    ties[8].OccurTime + 1000,
			want: timelineView{Deployments: []view{{
				Start: ties[0].OccurTime, Outcome: domain.OutcomeInProgress, Phase: domain.PhaseImagePull,
				Phases: phases(ok, ok, ok, run, pnd), Model: "TF 3.0.0", Events: 7, Latest: true,
			}}},
		},
		{
			name:   "failed by status before any phase: the phase error_msg names",
			events: seed[:1],
			svc:    model.Service{Status: model.StatusFailed, ErrorMsg: "Failed to pull image swr.example/x:1"},
			now:    seed[0].OccurTime + 1000,
			want: timelineView{Deployments: []view{{
				Start: seed[0].OccurTime, End: seed[0].OccurTime, Outcome: domain.OutcomeFailed, Phase: domain.PhaseImagePull,
				Phases: phases(pnd, pnd, pnd, fail, pnd), ErrorMsg: "Failed to pull image swr.example/x:1", Events: 1, Latest: true,
			}}},
		},
		{
			name:   "stuck right after the start marker: stalled waiting for image_build",
			events: seed[:1],
			svc:    deploying,
			now:    seed[0].OccurTime + (30 * time.Minute).Milliseconds() + 1,
			want: timelineView{Deployments: []view{{
				Start: seed[0].OccurTime, Outcome: domain.OutcomeStalled, Phase: domain.PhaseImageBuild,
				Phases: phases(stl, pnd, pnd, pnd, pnd), Stalls: []Stall{{Phase: domain.PhaseImageBuild, Since: seed[0].OccurTime}},
				Events: 1, Latest: true,
			}}},
		},
		{
			name:   "concerning counts as running",
			events: seed,
			svc:    svc(model.StatusConcerning),
			now:    seed[8].OccurTime + 1000,
			want: timelineView{Deployments: []view{{
				Start: seed[0].OccurTime, End: seed[8].OccurTime, Outcome: domain.OutcomeSucceeded, Phase: domain.PhaseModelStartup,
				Phases: phases(ok, ok, ok, ok, ok), Model: "TF 3.0.0", Events: 9, Latest: true,
			}}},
		},
		{
			name:   "no events",
			events: nil,
			svc:    deploying,
			want:   timelineView{},
		},
		{
			name:   "only runtime events",
			events: runtime[10:],
			svc:    svc(model.StatusRunning),
			now:    runtime[12].OccurTime,
			want:   timelineView{Runtime: []string{runtime[10].EventInfo, runtime[11].EventInfo, runtime[12].EventInfo}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tl := Build(tt.events, tt.svc, ms(tt.now), nil)
			if diff := cmp.Diff(tt.want, viewTimeline(tl)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}

	t.Run("unknown text: events verbatim", func(t *testing.T) {
		d, _ := Build(unknown, deploying, ms(unknown[7].OccurTime), nil).Latest()
		if diff := cmp.Diff(unknown, d.Events); diff != "" {
			t.Errorf("Events (-want +got):\n%s", diff)
		}
	})
	t.Run("unsorted: input unchanged, same timeline as sorted", func(t *testing.T) {
		before := fmt.Sprint(unsorted)
		got := Build(unsorted, deploying, ms(seed[8].OccurTime), nil)
		if fmt.Sprint(unsorted) != before {
			t.Error("Build modified its input")
		}
		want := Build(seed, deploying, ms(seed[8].OccurTime), nil)
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("(-sorted +unsorted):\n%s", diff)
		}
	})
	t.Run("ties: phase times", func(t *testing.T) {
		d, _ := Build(ties, deploying, ms(ties[8].OccurTime), nil).Latest()
		x := ties[0].OccurTime
		want := named(succeeded(x, x+5), succeeded(x+5, x+9), succeeded(x+9, x+9),
			PhaseSpan{Status: run, Start: x + 9}, PhaseSpan{Status: pnd})
		if diff := cmp.Diff(want, d.Phases); diff != "" {
			t.Errorf("Phases (-want +got):\n%s", diff)
		}
	})
}

// A stop closes the open deployment at the status time, keeping its outcome
// and never failing it; a stop after a finished deployment changes nothing.
func TestBuildStoppedClosesOpenDeployment(t *testing.T) {
	const t0 = int64(1_700_000_000_000)
	open := []model.Event{
		ev("normal", "start to deploy service", t0),
		ev("normal", "building image for model [TF 3.0.0]", t0+1000),
	}
	done := append(append([]model.Event(nil), open...), ev("normal", "[TF 3.0.0] model (TF 3.0.0) build image success", t0+2000),
		ev("normal", "Service service-07085 started.", t0+3000))
	for _, status := range []string{model.StatusStopped, model.StatusStopping, model.StatusDeleting, model.StatusFinished} {
		t.Run(status, func(t *testing.T) {
			s := svc(status)
			s.UpdateTime = t0 + 5000
			tl := Build(open, s, ms(t0+60_000), nil)
			d, ok := tl.Latest()
			if !ok {
				t.Fatal("no deployment")
			}
			if !d.Stopped || d.End != t0+5000 || d.Outcome != domain.OutcomeInProgress || d.Failure != nil {
				t.Errorf("got stopped=%v end=%d outcome=%s failure=%v; want stopped at %d, in progress", d.Stopped, d.End, d.Outcome, d.Failure, t0+5000)
			}
			// Long after the last event, a stopped deployment is not stalled.
			tl = Build(open, s, ms(t0+48*3600_000), nil)
			if d, _ := tl.Latest(); d.Outcome != domain.OutcomeInProgress || !d.Stopped {
				t.Errorf("a day later: outcome %s stopped %v; want in progress, stopped", d.Outcome, d.Stopped)
			}
			tl = Build(done, s, ms(t0+60_000), nil)
			if d, _ := tl.Latest(); d.Stopped || d.Outcome != domain.OutcomeSucceeded {
				t.Errorf("finished deployment: outcome %s stopped %v; want succeeded, not stopped", d.Outcome, d.Stopped)
			}
		})
	}
}

// Issue 17: a summary says succeeded only when the deployment reached the
// end of model startup; abnormal events alone never make a success.
func TestBuildNoSuccessWithoutModelStartup(t *testing.T) {
	const t0 = int64(1_700_000_000_000)
	podFail := "Failed to start the pod container in deployment [svc-x-6f4b8]."
	tests := []struct {
		name        string
		status      string
		events      []model.Event
		deployments int
		outcome     domain.Outcome
		unconfirmed bool
		runtime     int
	}{
		{"abnormal pod events alone, concerning", model.StatusConcerning,
			[]model.Event{ev("abnormal", podFail, t0), ev("abnormal", podFail, t0+60_000)}, 0, "", false, 2},
		{"abnormal pod events alone, running", model.StatusRunning,
			[]model.Event{ev("abnormal", podFail, t0)}, 0, "", false, 1},
		{"started, environment only, then running", model.StatusRunning,
			[]model.Event{ev("normal", "start to deploy service", t0), ev("normal", "preparing environment", t0+1000),
				ev("abnormal", podFail, t0+2000)}, 1, domain.OutcomeInProgress, true, 0},
		{"image pulled, then running", model.StatusRunning,
			[]model.Event{ev("normal", "start to deploy service", t0), ev("normal", "[TF 3.0.0] pull image success", t0+1000)},
			1, domain.OutcomeSucceeded, false, 0},
		{"starting model, then concerning", model.StatusConcerning,
			[]model.Event{ev("normal", "start to deploy service", t0), ev("normal", "[TF 3.0.0] starting model", t0+1000)},
			1, domain.OutcomeSucceeded, false, 0},
		{"started event", model.StatusDeploying,
			[]model.Event{ev("normal", "start to deploy service", t0), ev("normal", "Service svc started.", t0+1000)},
			1, domain.OutcomeSucceeded, false, 0},
		{"implicit from a failure still fails", model.StatusConcerning,
			[]model.Event{ev("abnormal", "Failed to start service svc.", t0)}, 1, domain.OutcomeFailed, false, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tl := Build(tc.events, svc(tc.status), ms(t0+3600_000), nil)
			if len(tl.Deployments) != tc.deployments || len(tl.Runtime) != tc.runtime {
				t.Fatalf("got %d deployments, %d runtime events; want %d, %d", len(tl.Deployments), len(tl.Runtime), tc.deployments, tc.runtime)
			}
			if tc.deployments == 0 {
				return
			}
			d, _ := tl.Latest()
			if d.Outcome != tc.outcome || d.Unconfirmed != tc.unconfirmed {
				t.Fatalf("outcome %s unconfirmed %v; want %s %v", d.Outcome, d.Unconfirmed, tc.outcome, tc.unconfirmed)
			}
			if d.Unconfirmed && d.End == 0 {
				t.Fatal("an unconfirmed deployment is closed: End must be set")
			}
		})
	}
}

// Issue 17 (the fault matrix's status-end-keeps-later-events): events
// after a deployment the status ended never join it once a read marked
// where it ended.
func TestBuildStatusEndedDeploymentTakesNoLaterEvents(t *testing.T) {
	const t0 = int64(1_700_000_000_000)
	dep := []model.Event{
		ev("normal", "start to deploy service", t0),
		ev("normal", "preparing environment", t0+1000),
		ev("normal", "[TF 3.0.0] prepare environment success", t0+2000),
	}
	warning := model.Event{EventType: "WARNING", EventInfo: "Service error. There are 3 abnormal instances.", OccurTime: t0 + 70_000}
	restarted := ev("abnormal", "Instance 1: out of memory (#2)", t0+80_000)
	insufficient := ev("abnormal", "Insufficient resources. Wait until idle resources are sufficient.", t0+60_000)
	stopped := svc(model.StatusStopped)
	stopped.UpdateTime = t0 + 90_000
	tests := []struct {
		name    string
		events  []model.Event
		end     StatusEnd
		own     int // events left in the deployment
		runtime int
	}{
		{"unmarked: a warning joins", join(dep, []model.Event{warning}), StatusEnd{}, 4, 0},
		{"marked: a warning after the stop", join(dep, []model.Event{warning}), StatusEnd{Start: t0, Through: t0 + 2000}, 3, 1},
		{"marked: a restart after the stop", join(dep, []model.Event{restarted}), StatusEnd{Start: t0, Through: t0 + 2000}, 3, 1},
		{"marked: its own phase's event too", join(dep, []model.Event{insufficient}), StatusEnd{Start: t0, Through: t0 + 2000}, 3, 1},
		{"marked through it: it stays", join(dep, []model.Event{insufficient}), StatusEnd{Start: t0, Through: t0 + 60_000}, 4, 0},
		{"a mark of another deployment changes nothing", join(dep, []model.Event{insufficient}), StatusEnd{Start: t0 - 1, Through: t0}, 4, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tl := BuildAfter(tc.events, stopped, ms(t0+120_000), nil, tc.end)
			d, ok := tl.Latest()
			if !ok || !d.Stopped || !d.ByStatus {
				t.Fatalf("latest %+v: want a deployment stopped by the status", d)
			}
			if len(d.Events) != tc.own || len(tl.Runtime) != tc.runtime {
				t.Fatalf("deployment has %d events, runtime %d; want %d, %d", len(d.Events), len(tl.Runtime), tc.own, tc.runtime)
			}
			for _, e := range tl.Runtime {
				if slices.Contains(d.Abnormal, e) {
					t.Fatalf("%q is both runtime and the deployment's", e.EventInfo)
				}
			}
		})
	}
}
