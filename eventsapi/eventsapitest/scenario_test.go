package eventsapitest_test

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/modelarts-notifier/modelarts-notifier/eventsapi"
	"github.com/modelarts-notifier/modelarts-notifier/eventsapi/eventsapitest"
)

// phaseBeginMarker is the case-insensitive marker of the event where each
// phase begins (PRODUCT.md).
var phaseBeginMarker = map[string]string{
	eventsapitest.PhaseImageBuild:   "building image",
	eventsapitest.PhaseEnvironment:  "preparing environment",
	eventsapitest.PhaseScheduling:   "prepare environment success",
	eventsapitest.PhaseImagePull:    "pulling model image",
	eventsapitest.PhaseModelStartup: "starting model",
}

var t0 = time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)

func infos(evs []eventsapi.Event) []string {
	out := make([]string, len(evs))
	for i, e := range evs {
		out[i] = e.EventType + ": " + e.EventInfo
	}
	return out
}

func TestDeploySuccess(t *testing.T) {
	srv := newServer(t)
	srv.AddService("svc", "fraud-detector", eventsapi.StatusDeploying)
	last := srv.DeploySuccess("svc", "TF 3.0.0", t0, 10*time.Second)

	want := []string{
		"normal: start to deploy service",
		"normal: building image for model [TF 3.0.0]",
		"normal: model (TF 3.0.0) build image success",
		"normal: preparing environment",
		"normal: [TF 3.0.0] prepare environment success",
		"normal: [TF 3.0.0] schedule resource success",
		"normal: [TF 3.0.0] pulling model image",
		"normal: [TF 3.0.0] pull image success",
		"normal: [TF 3.0.0] starting model",
		"normal: Service fraud-detector is running.",
	}
	evs := srv.Events("svc")
	if d := cmp.Diff(want, infos(evs)); d != "" {
		t.Errorf("events (-want +got):\n%s", d)
	}
	for i, e := range evs {
		if e.OccurTime != t0.Add(time.Duration(i)*10*time.Second).UnixMilli() {
			t.Errorf("event %d at %d", i, e.OccurTime)
		}
	}
	if !last.Equal(t0.Add(90 * time.Second)) {
		t.Errorf("last = %v", last)
	}
	if s, _ := srv.Service("svc"); s.Status != eventsapi.StatusRunning || s.ErrorMsg != "" || s.Progress != 100 {
		t.Errorf("service %+v", s)
	}
	// The seed's nine events are the first nine, modulo times.
	seed := eventsapitest.SeedEvents()
	if d := cmp.Diff(infos(seed), infos(evs[:9])); d != "" {
		t.Errorf("differs from the seed (-seed +got):\n%s", d)
	}
}

func TestDeployFailure(t *testing.T) {
	for _, phase := range eventsapitest.Phases {
		t.Run(phase, func(t *testing.T) {
			srv := newServer(t, eventsapitest.WithStep(time.Second))
			srv.AddService("svc", "svc-name", eventsapi.StatusDeploying)
			last := srv.DeployFailure("svc", "m1", phase, t0)
			evs := srv.Events("svc")
			if got := evs[len(evs)-1].OccurTime; got != last.UnixMilli() {
				t.Errorf("last %v, final event at %d", last, got)
			}
			// Normal events up to the start of the phase, then abnormal ones.
			i := 0
			for i < len(evs) && evs[i].EventType == eventsapi.EventTypeNormal {
				i++
			}
			if i == 0 || !strings.Contains(strings.ToLower(evs[i-1].EventInfo), phaseBeginMarker[phase]) {
				t.Errorf("last normal event %q does not begin %s", evs[i-1].EventInfo, phase)
			}
			abnormal := infos(evs[i:])
			if len(abnormal) == 0 {
				t.Fatal("no abnormal event")
			}
			for _, a := range abnormal {
				if !strings.HasPrefix(a, "abnormal: ") {
					t.Errorf("after the abnormal events: %q", a)
				}
			}
			text := strings.ToLower(strings.Join(abnormal, "\n"))
			if !strings.Contains(text, "fail") {
				t.Errorf("no failure text: %s", text)
			}
			switch phase {
			case eventsapitest.PhaseScheduling:
				if !strings.Contains(text, "insufficient resources") {
					t.Errorf("scheduling failure without insufficient resources: %s", text)
				}
			case eventsapitest.PhaseImageBuild:
				if !strings.Contains(text, "failed to create the image.") {
					t.Errorf("image build failure: %s", text)
				}
			}
			s, _ := srv.Service("svc")
			if s.Status != eventsapi.StatusFailed || s.ErrorMsg == "" || s.TransitionAt != last.UnixMilli() {
				t.Errorf("service %+v", s)
			}
		})
	}
}

func TestDeployStall(t *testing.T) {
	for _, phase := range eventsapitest.Phases {
		t.Run(phase, func(t *testing.T) {
			srv := newServer(t)
			last := srv.DeployStall("svc", "m1", phase, t0, time.Minute)
			evs := srv.Events("svc")
			final := evs[len(evs)-1]
			if !strings.Contains(strings.ToLower(final.EventInfo), phaseBeginMarker[phase]) || final.OccurTime != last.UnixMilli() {
				t.Errorf("final event %+v, last %v", final, last)
			}
			for _, e := range evs {
				if e.EventType != eventsapi.EventTypeNormal {
					t.Errorf("stall has abnormal event %+v", e)
				}
			}
			if s, _ := srv.Service("svc"); s.Status != eventsapi.StatusDeploying {
				t.Errorf("status %q", s.Status)
			}
		})
	}
}

func TestRuntimeAbnormalAndUnknownPhase(t *testing.T) {
	srv := newServer(t)
	srv.DeploySuccess("svc", "m", t0)
	srv.RuntimeAbnormal("svc", eventsapitest.TextInsufficientResources, t0.Add(time.Hour))
	evs := srv.Events("svc")
	if got := evs[len(evs)-1]; got.EventType != "abnormal" || got.EventInfo != eventsapitest.TextInsufficientResources || got.OccurTime != t0.Add(time.Hour).UnixMilli() {
		t.Errorf("runtime event %+v", got)
	}
	if s, _ := srv.Service("svc"); s.Status != eventsapi.StatusRunning {
		t.Errorf("status %q changed", s.Status)
	}
	for _, f := range []func(){
		func() { srv.DeployFailure("svc", "m", "compile", t0) },
		func() { srv.DeployStall("svc", "m", "", t0) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Error("unknown phase did not panic")
				}
			}()
			f()
		}()
	}
}

// TestScenarioThroughClient: what the helpers script is what the client
// reads.
func TestScenarioThroughClient(t *testing.T) {
	srv := newServer(t)
	srv.AddService("ok", "ok", eventsapi.StatusDeploying)
	srv.AddService("bad", "bad", eventsapi.StatusDeploying)
	srv.DeploySuccess("ok", "m", t0)
	srv.DeployFailure("bad", "m", eventsapitest.PhaseScheduling, t0)
	c, err := eventsapi.New(eventsapi.Config{Endpoint: srv.URL, ProjectID: srv.ProjectID, Auth: eventsapi.StaticToken(srv.Token)})
	if err != nil {
		t.Fatal(err)
	}
	var got []eventsapi.Event
	for ev, err := range c.Events(t.Context(), "bad", eventsapi.EventsQuery{EventType: eventsapi.EventTypeAbnormal}) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, ev)
	}
	if len(got) != 4 || got[0].EventInfo != eventsapitest.TextInsufficientResources {
		t.Errorf("abnormal events %+v", got)
	}
	s, err := c.GetService(t.Context(), "bad")
	if err != nil || s.Status != eventsapi.StatusFailed {
		t.Errorf("service %+v, %v", s, err)
	}
	var ids []string
	for s, err := range c.Services(t.Context()) {
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, s.ServiceID+"="+s.Status)
	}
	if d := cmp.Diff([]string{"ok=running", "bad=failed"}, ids); d != "" {
		t.Errorf("services (-want +got):\n%s", d)
	}
}
