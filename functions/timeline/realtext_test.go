package timeline

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/modelarts-notifier/modelarts-notifier/eventsapi/model"
	"github.com/modelarts-notifier/modelarts-notifier/notifier/domain"
)

// Tests of real ModelArts text (shared/MODELARTS-EVENT-TEXT.md): the
// examples of issue 12, Chinese text, Kubernetes wording, hints, and the v2
// fields.

// A timeout that says "设置为失败" (U2) fails the deployment while the status
// still reads deploying.
func TestBuildChineseTimeoutFails(t *testing.T) {
	seed := load(t, "seed.json")
	const text = "服务部署超时，错误信息：服务部署时间超过20分钟，设置为失败。"
	at := seed[4].OccurTime + 20*60_000
	evs := join(seed[:5], []model.Event{ev("abnormal", text, at)})
	tl := Build(evs, svc(model.StatusDeploying), ms(at+1000), nil)
	want := timelineView{Deployments: []view{{
		Start: seed[0].OccurTime, End: at, Outcome: domain.OutcomeFailed, Phase: domain.PhaseScheduling,
		Phases: phases(ok, ok, fail, pnd, pnd), Model: "TF 3.0.0", Failure: text, Abnormal: []string{text},
		Stalls: []Stall{{Phase: domain.PhaseScheduling, Since: seed[4].OccurTime, Until: at}}, Events: 6, Latest: true,
	}}}
	if diff := cmp.Diff(want, viewTimeline(tl)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	d, _ := tl.Latest()
	if d.Hint != hints[hintTimeout].text || d.HelpURL != urlT11ZH {
		t.Errorf("Hint %q HelpURL %q, want the timeout hint", d.Hint, d.HelpURL)
	}
}

// A failure event outside any deployment, with the service status failed
// (or v2 ERROR), is an implied failed deployment, never a silent runtime
// event.
func TestBuildImpliedFailedDeployment(t *testing.T) {
	const t0 = int64(1_700_000_000_000)
	const created = "部署【x】创建失败。"
	failed := svc(model.StatusFailed)
	failed.ErrorMsg = "deployment x failed"
	v2Error := svc(model.StatusConcerning)
	v2Error.RawStatus, v2Error.Generation = model.RawStatusError, model.GenerationV2
	seed := load(t, "seed.json")
	success := join(seed, []model.Event{ev("normal", "Service service-07085 started.", seed[8].OccurTime+1000)})
	afterSuccess := seed[8].OccurTime + 60_000

	implied := func(phase string, st string, errMsg string, at int64) view {
		return view{Start: at, End: at, Outcome: domain.OutcomeFailed, Phase: phase, Phases: st,
			Failure: created, ErrorMsg: errMsg, Abnormal: []string{created}, Events: 1, Latest: true}
	}
	tests := []struct {
		name   string
		events []model.Event
		svc    model.Service
		want   timelineView
	}{
		{
			name:   "alone, status failed: phase unknown",
			events: []model.Event{ev("abnormal", created, t0)},
			svc:    failed,
			want: timelineView{Deployments: []view{implied(PhaseUnknown, phases(pnd, pnd, pnd, pnd, pnd),
				"deployment x failed", t0)}},
		},
		{
			name:   "alone, v2 status ERROR",
			events: []model.Event{ev("abnormal", created, t0)},
			svc:    v2Error,
			want:   timelineView{Deployments: []view{implied(PhaseUnknown, phases(pnd, pnd, pnd, pnd, pnd), "", t0)}},
		},
		{
			name: "after pod wording that names a phase: the last phase seen",
			events: []model.Event{
				ev("abnormal", "Readiness probe failed: connection refused", t0),
				ev("abnormal", created, t0+1000),
				ev("normal", "Instance 0 stopped.", t0+2000),
			},
			svc: failed,
			want: timelineView{
				Deployments: []view{implied(domain.PhaseModelStartup, phases(pnd, pnd, pnd, pnd, fail), "deployment x failed", t0+1000)},
				Runtime:     []string{"Readiness probe failed: connection refused", "Instance 0 stopped."},
			},
		},
		{
			name:   "after a succeeded deployment",
			events: join(success, []model.Event{ev("abnormal", created, afterSuccess)}),
			svc:    failed,
			want: timelineView{Deployments: []view{
				{Start: seed[0].OccurTime, End: seed[8].OccurTime + 1000, Outcome: domain.OutcomeSucceeded,
					Phase: domain.PhaseModelStartup, Phases: phases(ok, ok, ok, ok, ok), Model: "TF 3.0.0", Events: 10},
				implied(PhaseUnknown, phases(pnd, pnd, pnd, pnd, pnd), "deployment x failed", afterSuccess),
			}},
		},
		{
			name:   "status deploying: a runtime event",
			events: []model.Event{ev("abnormal", created, t0)},
			svc:    svc(model.StatusDeploying),
			want:   timelineView{Runtime: []string{created}},
		},
		{
			name:   "status failed, no failure event: nothing implied",
			events: []model.Event{ev("abnormal", "Instance 0 is unhealthy.", t0)},
			svc:    failed,
			want:   timelineView{Runtime: []string{"Instance 0 is unhealthy."}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tl := Build(tt.events, tt.svc, ms(t0+time.Hour.Milliseconds()), nil)
			if diff := cmp.Diff(tt.want, viewTimeline(tl)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			checkTimeline(t, tt.events, tl)
			if d, ok := tl.Latest(); ok && d.Outcome == domain.OutcomeFailed && (!d.Implied || d.Failure == nil) {
				t.Errorf("Implied %v Failure %v, want an implied deployment failed by its event", d.Implied, d.Failure)
			}
		})
	}

	t.Run("the failure names its phase", func(t *testing.T) {
		const pull = "部署【x】创建失败。拉取镜像失败"
		tl := Build([]model.Event{ev("normal", "instance 0 is healthy", t0), ev("abnormal", pull, t0+1000)}, failed, ms(t0+5000), nil)
		d, _ := tl.Latest()
		if d.Outcome != domain.OutcomeFailed || d.Phase != domain.PhaseImagePull || d.Phases[imagePull].Status != fail {
			t.Errorf("outcome %s phase %s; want failed in image_pull", d.Outcome, d.Phase)
		}
		if d.Hint != hints[hintImagePull].text {
			t.Errorf("Hint %q, want the image pull hint", d.Hint)
		}
	})
	t.Run("the latest deployment failed by an event: nothing implied", func(t *testing.T) {
		evs := join(seed[:7], []model.Event{
			ev("abnormal", "Failed to pull image: manifest unknown", seed[6].OccurTime+1000),
			ev("abnormal", "Failed to stop the service. Error: busy", seed[6].OccurTime+2000),
		})
		tl := Build(evs, failed, ms(seed[6].OccurTime+5000), nil)
		if len(tl.Deployments) != 1 || len(tl.Runtime) != 1 {
			t.Errorf("%d deployments, %d runtime events; want 1 and 1", len(tl.Deployments), len(tl.Runtime))
		}
	})
}

// Failure wording that says it will retry is abnormal while the
// deployment goes on (T2: "failed to pull image, retry later").
func TestBuildRetryIsNotAFailure(t *testing.T) {
	seed := load(t, "seed.json")
	at := func(i int) int64 { return seed[i].OccurTime }
	const retry = "failed to pull image, retry later"
	evs := join(seed[:7], []model.Event{ev("abnormal", retry, at(6)+10_000)}, seed[7:],
		[]model.Event{ev("normal", "Service service-07085 started.", at(8)+20_000)})
	for _, status := range []string{model.StatusDeploying, model.StatusRunning} {
		t.Run(status, func(t *testing.T) {
			tl := Build(evs, svc(status), ms(at(8)+60_000), nil)
			want := timelineView{Deployments: []view{{
				Start: at(0), End: at(8) + 20_000, Outcome: domain.OutcomeSucceeded, Phase: domain.PhaseModelStartup,
				Phases: phases(ok, ok, ok, ok, ok), Model: "TF 3.0.0", Abnormal: []string{retry}, Events: 11, Latest: true,
			}}}
			if diff := cmp.Diff(want, viewTimeline(tl)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			d, _ := tl.Latest()
			if d.Hint != hints[hintImagePull].text {
				t.Errorf("Hint %q, want the image pull hint (its abnormal event's)", d.Hint)
			}
		})
	}
	t.Run("then the status fails it", func(t *testing.T) {
		failed := svc(model.StatusFailed)
		failed.ErrorMsg = "Failed to pull image."
		tl := Build(join(seed[:7], []model.Event{ev("abnormal", retry, at(6)+10_000)}), failed, ms(at(6)+60_000), nil)
		d, _ := tl.Latest()
		if d.Outcome != domain.OutcomeFailed || d.Phase != domain.PhaseImagePull || d.Failure != nil || d.ErrorMsg != failed.ErrorMsg {
			t.Errorf("outcome %s phase %s failure %v error_msg %q; want failed in image_pull by the status", d.Outcome, d.Phase, d.Failure, d.ErrorMsg)
		}
	})
	t.Run("Chinese: 稍后重试", func(t *testing.T) {
		const zh = "资源不足，请稍后重试。"
		tl := Build(join(seed[:5], []model.Event{ev("abnormal", zh, at(4)+1000)}, seed[5:]), svc(model.StatusDeploying), ms(at(8)+1000), nil)
		d, _ := tl.Latest()
		if d.Outcome != domain.OutcomeInProgress || d.Phase != domain.PhaseModelStartup || len(d.Abnormal) != 1 {
			t.Errorf("outcome %s phase %s abnormal %d; want in progress in model_startup, 1 abnormal", d.Outcome, d.Phase, len(d.Abnormal))
		}
		if d.Hint != hints[hintInsufficient].text || d.HelpURL != urlT1EN {
			t.Errorf("Hint %q %q, want the insufficient-resources hint", d.Hint, d.HelpURL)
		}
	})
}

// A Chinese failure fails the phase it names, where a documented phrase
// names one (no documented Chinese phrase names environment).
func TestBuildChineseFailureAtEachPhase(t *testing.T) {
	seed := load(t, "seed.json")
	tests := []struct {
		source, text string
		prefix       int // seed events kept: the phase before the one under test ended
		phase        string
		phases       string
		hint         hintID
	}{
		{"M1", "构建镜像失败。", 1, domain.PhaseImageBuild, phases(fail, pnd, pnd, pnd, pnd), hintImageBuild},
		{"T7", "Pod调度失败", 5, domain.PhaseScheduling, phases(ok, ok, fail, pnd, pnd), hintAffinity},
		{"T9", "拉取镜像失败", 6, domain.PhaseImagePull, phases(ok, ok, ok, fail, pnd), hintImagePull},
		{"T9", "服务启动失败", 8, domain.PhaseModelStartup, phases(ok, ok, ok, ok, fail), hintStartFailed},
		{"T5", "部署【x】创建失败。资源池资源不足", 4, domain.PhaseScheduling, phases(ok, ok, fail, pnd, pnd), hintInsufficient},
	}
	for _, tt := range tests {
		failAt := seed[tt.prefix-1].OccurTime + 1000
		for _, v2 := range []bool{false, true} {
			e := ev("abnormal", tt.text, failAt)
			if v2 { // a v2 record with only its Chinese text
				e = model.Event{EventType: "abnormal", EventInfoCN: tt.text, OccurTime: failAt, ID: "r1", Count: 1, LastOccurTime: failAt}
			}
			tl := Build(join(seed[:tt.prefix], []model.Event{e}), svc(model.StatusDeploying), ms(failAt+1000), nil)
			d, _ := tl.Latest()
			got := view{Outcome: d.Outcome, Phase: d.Phase, Phases: viewOf(d).Phases, End: d.End}
			want := view{Outcome: domain.OutcomeFailed, Phase: tt.phase, Phases: tt.phases, End: failAt}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("%s %q (v2 %v) (-want +got):\n%s", tt.source, tt.text, v2, diff)
			}
			if d.Hint != hints[tt.hint].text {
				t.Errorf("%s %q: Hint %q, want %q", tt.source, tt.text, d.Hint, hints[tt.hint].text)
			}
		}
	}
}

// Kubernetes wording names its phase during a deployment, is abnormal and
// retried (the deployment goes on), and after a deployment it is a runtime
// event; pod wording of model startup begins no implicit deployment.
func TestBuildKubernetesWording(t *testing.T) {
	seed := load(t, "seed.json")
	at := func(i int) int64 { return seed[i].OccurTime }
	t.Run("image pull back-off, then success", func(t *testing.T) {
		evs := join(seed[:7], []model.Event{
			ev("abnormal", `Back-off pulling image "swr.example/m:1"`, at(6)+1000),
			ev("abnormal", "Error: ImagePullBackOff", at(6)+2000),
		}, seed[7:])
		d, _ := Build(evs, svc(model.StatusDeploying), ms(at(8)+1000), nil).Latest()
		if d.Outcome != domain.OutcomeInProgress || d.Phase != domain.PhaseModelStartup || len(d.Abnormal) != 2 {
			t.Errorf("outcome %s phase %s abnormal %d; want in progress in model_startup, 2 abnormal", d.Outcome, d.Phase, len(d.Abnormal))
		}
	})
	t.Run("probe failures during model startup", func(t *testing.T) {
		evs := join(seed, []model.Event{
			ev("abnormal", `Readiness probe failed: Get "http://10.0.0.1:8080/health": connect: connection refused`, at(8)+1000),
			ev("abnormal", "Back-off restarting failed container", at(8)+2000),
		})
		d, _ := Build(evs, svc(model.StatusDeploying), ms(at(8)+3000), nil).Latest()
		if d.Outcome != domain.OutcomeInProgress || d.Phase != domain.PhaseModelStartup || len(d.Abnormal) != 2 {
			t.Errorf("outcome %s phase %s abnormal %d; want in progress", d.Outcome, d.Phase, len(d.Abnormal))
		}
		if d.Hint != hints[hintCrashLoop].text {
			t.Errorf("Hint %q, want the latest abnormal event's (crash loop)", d.Hint)
		}
	})
	t.Run("scheduling waits for GPUs", func(t *testing.T) {
		evs := join(seed[:5], []model.Event{ev("warning", "0/2 nodes are available: 2 Insufficient nvidia.com/gpu.", at(4)+1000)})
		d, _ := Build(evs, svc(model.StatusDeploying), ms(at(4)+2000), nil).Latest()
		if d.Outcome != domain.OutcomeInProgress || d.Phase != domain.PhaseScheduling || len(d.Abnormal) != 1 {
			t.Errorf("outcome %s phase %s abnormal %d; want in progress in scheduling", d.Outcome, d.Phase, len(d.Abnormal))
		}
	})
	t.Run("OOMKilled after a success, and before any deployment: runtime", func(t *testing.T) {
		evs := join([]model.Event{ev("warning", "OOMKilled", at(0)-5000), ev("abnormal", "Liveness probe failed: HTTP probe failed with statuscode: 500", at(0)-4000)},
			seed, []model.Event{ev("normal", "Service service-07085 started.", at(8)+1000), ev("warning", "OOMKilled", at(8)+9000)})
		tl := Build(evs, svc(model.StatusRunning), ms(at(8)+10_000), nil)
		if len(tl.Deployments) != 1 || tl.Deployments[0].Outcome != domain.OutcomeSucceeded || len(tl.Runtime) != 3 {
			t.Fatalf("%d deployments, runtime %d; want one succeeded deployment and 3 runtime events", len(tl.Deployments), len(tl.Runtime))
		}
		for _, e := range tl.Runtime {
			if !IsAbnormal(e) {
				t.Errorf("runtime %q is not abnormal", e.EventInfo)
			}
		}
		if h, u := HintFor(tl.Runtime[2]); h != hints[hintOOM].text || u != hints[hintOOM].url(false) {
			t.Errorf("HintFor(OOMKilled) = %q, %q", h, u)
		}
	})
}

// A v2 record that keeps repeating is activity: no stall while its
// LastOccurTime moves on; events stay ordered by OccurTime.
func TestBuildV2RepeatIsActivity(t *testing.T) {
	seed := load(t, "seed.json")
	base := seed[4].OccurTime
	rec := model.Event{EventType: "abnormal", EventInfo: "Insufficient resources. Wait until idle resources are sufficient.",
		EventInfoCN: "资源不足，请稍后重试。", OccurTime: base + 1000, ID: "rec-1", Count: 1, LastOccurTime: base + 1000}
	now := base + time.Hour.Milliseconds()
	evs := join(seed[:5], []model.Event{rec})
	d, _ := Build(evs, svc(model.StatusDeploying), ms(now), nil).Latest()
	if d.Outcome != domain.OutcomeStalled || d.Phase != domain.PhaseScheduling {
		t.Errorf("one occurrence an hour ago: outcome %s phase %s; want stalled in scheduling", d.Outcome, d.Phase)
	}
	rec.Count, rec.LastOccurTime = 30, now-60_000
	evs = join(seed[:5], []model.Event{rec})
	d, _ = Build(evs, svc(model.StatusDeploying), ms(now), nil).Latest()
	if d.Outcome != domain.OutcomeInProgress || d.LastEventAt != now-60_000 || d.Stalls != nil {
		t.Errorf("repeating until a minute ago: outcome %s LastEventAt %d stalls %v; want in progress, %d, none",
			d.Outcome, d.LastEventAt, d.Stalls, now-60_000)
	}
	if d.Events[5].OccurTime != base+1000 {
		t.Errorf("the record is at %d, want its first occurrence", d.Events[5].OccurTime)
	}
}

// v2's ERROR (normalised to concerning) fails an open deployment: it must
// not end model startup as a success.
func TestBuildRawStatusError(t *testing.T) {
	seed := load(t, "seed.json")
	s := svc(model.StatusConcerning)
	s.RawStatus, s.ErrorMsg = model.RawStatusError, "Insufficient resources."
	s.TransitionAt = seed[8].OccurTime + 5000
	d, _ := Build(seed, s, ms(seed[8].OccurTime+60_000), nil).Latest()
	if d.Outcome != domain.OutcomeFailed || d.Phase != domain.PhaseModelStartup || d.End != s.TransitionAt || d.ErrorMsg != s.ErrorMsg {
		t.Errorf("outcome %s phase %s end %d error_msg %q; want failed in model_startup at %d", d.Outcome, d.Phase, d.End, d.ErrorMsg, s.TransitionAt)
	}
	if d.Hint != hints[hintInsufficient].text {
		t.Errorf("Hint %q, want error_msg's (insufficient resources)", d.Hint)
	}
	if got := RuntimeSummary("p", s, nil).ErrorMsg; got != s.ErrorMsg {
		t.Errorf("RuntimeSummary ErrorMsg %q, want %q", got, s.ErrorMsg)
	}
	s.RawStatus = "RUNNING"
	if d, _ := Build(seed, s, ms(seed[8].OccurTime+60_000), nil).Latest(); d.Outcome != domain.OutcomeSucceeded {
		t.Errorf("concerning without ERROR: outcome %s, want succeeded", d.Outcome)
	}
}

// The hint of a deployment failed by the status is its error_msg's.
func TestBuildHintFromStatus(t *testing.T) {
	evs := load(t, "insufficient.json")
	failed := svc(model.StatusFailed)
	failed.ErrorMsg = "Failed to pull image swr.example/x:1"
	d, _ := Build(evs, failed, ms(evs[len(evs)-1].OccurTime+1000), nil).Latest()
	if d.Hint != hints[hintImagePull].text {
		t.Errorf("Hint %q, want error_msg's (image pull)", d.Hint)
	}
	failed.ErrorMsg = "something"
	d, _ = Build(evs, failed, ms(evs[len(evs)-1].OccurTime+1000), nil).Latest()
	if d.Hint != hints[hintInsufficient].text || d.HelpURL != urlT1EN {
		t.Errorf("Hint %q %q, want the latest abnormal event's (insufficient resources)", d.Hint, d.HelpURL)
	}
	d, _ = Build(load(t, "seed.json"), svc(model.StatusRunning), ms(evs[len(evs)-1].OccurTime), nil).Latest()
	if d.Hint != "" || d.HelpURL != "" {
		t.Errorf("a clean success has Hint %q %q", d.Hint, d.HelpURL)
	}
}

func TestFingerprintV2(t *testing.T) {
	rec := model.Event{EventType: "abnormal", EventInfo: "Insufficient resources.", EventInfoCN: "资源不足", OccurTime: 1000,
		ID: "0b7c3d", Count: 1, LastOccurTime: 1000}
	f := Fingerprint(rec)
	translated := rec
	translated.EventInfo, translated.EventInfoCN, translated.EventType = "Insufficient resources!", "", "warning"
	if Fingerprint(translated) != f {
		t.Error("a v2 record's fingerprint depends on its text or type, want its ID and last occurrence only")
	}
	repeat := rec
	repeat.Count, repeat.LastOccurTime = 2, 5000
	if Fingerprint(repeat) == f {
		t.Error("a repeat (later LastOccurTime) has the same fingerprint")
	}
	other := rec
	other.ID = "0b7c3e"
	if Fingerprint(other) == f {
		t.Error("another record has the same fingerprint")
	}
	v1 := model.Event{EventType: rec.EventType, EventInfo: rec.EventInfo, OccurTime: rec.OccurTime}
	if Fingerprint(v1) == f {
		t.Error("the v1 event of the same text has the v2 record's fingerprint")
	}
	// v1 stays byte-identical: an event with v2-only fields but no ID is v1.
	e := model.Event{EventType: "normal", EventInfo: "start to deploy service", OccurTime: 1562597251764, EventInfoCN: "x", Count: 3}
	if got := Fingerprint(e); got != "6c1ac03fdf2c6e98" {
		t.Errorf("v1 fingerprint %q changed", got)
	}
}
