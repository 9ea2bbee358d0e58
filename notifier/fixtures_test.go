package notifier

import (
	"fmt"
	"time"
)

// t0 is when the fixture deployments start.
var t0 = time.Date(2026, 11, 28, 11, 58, 0, 0, time.UTC)

func ms(d int64) *int64 { return &d }

func at(offsetMS int64) Time { return At(t0.Add(time.Duration(offsetMS) * time.Millisecond)) }

func ev(typ string, offsetMS int64, info string) Event {
	return Event{EventType: typ, EventInfo: info, OccurTime: t0.UnixMilli() + offsetMS}
}

// phases builds a timeline from durations (ms) of the phases that ended,
// then the status of the next one (which ran for lastMS so far), then
// pending phases.
func phases(done []int64, next PhaseStatus, lastMS int64) []Phase {
	var ps []Phase
	var clock int64
	for i, name := range PhaseNames {
		switch {
		case i < len(done):
			ps = append(ps, Phase{Name: name, Status: PhaseSucceeded, StartedAt: at(clock), EndedAt: at(clock + done[i]), DurationMS: ms(done[i])})
			clock += done[i]
		case i == len(done) && next != "":
			p := Phase{Name: name, Status: next, StartedAt: at(clock), DurationMS: ms(lastMS)}
			if next == PhaseFailed {
				p.EndedAt = at(clock + lastMS)
			}
			ps = append(ps, p)
		default:
			ps = append(ps, Phase{Name: name, Status: PhasePending})
		}
	}
	return ps
}

// The realistic timeline: image_build 17 ms, environment 20171 ms,
// scheduling 6 ms, image_pull 56642 ms.
var realistic = []int64{17, 20171, 6, 56642}

func deployEvents() []Event {
	return []Event{
		ev("normal", 0, "start to deploy service"),
		ev("normal", 1, "building image for model TF 3.0.0"),
		ev("normal", 17, "build image success"),
		ev("normal", 18, "preparing environment"),
		ev("normal", 20188, "prepare environment success"),
		ev("normal", 20194, "schedule resource success"),
		ev("normal", 20195, "pulling model image"),
		ev("normal", 76836, "pull image success"),
		ev("normal", 76837, "starting model"),
	}
}

func baseSummary() Summary {
	return Summary{
		ProjectID:   "0a1b2c3d4e5f60718293a4b5c6d7e8f9",
		ServiceID:   "f2a7c1d8-63a4-4b1e-9c35-3f1e8d07085a",
		ServiceName: "service-07085",
		Model:       "TF 3.0.0",
		StartedAt:   at(0),
		Events:      deployEvents(),
	}
}

// fixtures returns one realistic notification per kind, in [Kinds] order.
func fixtures() []Notification {
	notified := At(t0.Add(30 * time.Minute))
	key := "f2a7c1d8-63a4-4b1e-9c35-3f1e8d07085a/1795867080000"

	succeeded := baseSummary()
	succeeded.Status = StatusSucceeded
	succeeded.ServiceStatus = "running"
	succeeded.Phases = phases(append(append([]int64{}, realistic...), 31250), "", 0)
	succeeded.EndedAt = at(108086)
	succeeded.DurationMS = ms(108086)
	succeeded.Events = append(succeeded.Events, ev("normal", 108086, "Service service-07085 started."))

	failed := baseSummary()
	failed.Status = StatusFailed
	failed.Phase = PhaseScheduling
	failed.ServiceStatus = "failed"
	failed.ErrorMsg = "Insufficient GPU. The scheduling failed. Supplementary information: 0/4 nodes are available."
	failed.Phases = phases(realistic[:2], PhaseFailed, 60812)
	failed.EndedAt = at(81000)
	failed.DurationMS = ms(81000)
	failed.AbnormalEvents = []Event{
		ev("abnormal", 40000, "Insufficient resources. Wait until idle resources are sufficient."),
		ev("abnormal", 81000, "Insufficient GPU. The scheduling failed. Supplementary information: 0/4 nodes are available."),
	}
	failed.Events = append(failed.Events[:5:5], failed.AbnormalEvents...)

	stalled := baseSummary()
	stalled.Status = StatusStalled
	stalled.Phase = PhaseImagePull
	stalled.ServiceStatus = "deploying"
	stalled.Phases = phases(realistic[:3], PhaseStalled, 1500000)
	stalled.DurationMS = ms(20194 + 1500000)
	stalled.Events = stalled.Events[:7]

	recovered := baseSummary()
	recovered.Status = StatusRecovered
	recovered.Phase = PhaseModelStartup
	recovered.ServiceStatus = "deploying"
	recovered.Phases = phases(realistic, PhaseRunning, 1200)
	recovered.DurationMS = ms(78037)

	abnormal := baseSummary()
	abnormal.Status = StatusAbnormal
	abnormal.ServiceStatus = "running"
	abnormal.Model = ""
	abnormal.Phases = nil
	abnormal.StartedAt = Time{}
	abnormal.AbnormalEvents = []Event{ev("abnormal", 600000, "Service service-07085 failed. Error: the container restarted 3 times (OOMKilled).")}
	abnormal.Events = abnormal.AbnormalEvents

	report := baseSummary()
	report.Status = StatusInProgress
	report.Phase = PhaseImagePull
	report.ServiceStatus = "deploying"
	report.Phases = phases(realistic[:3], PhaseRunning, 30000)
	report.DurationMS = ms(50194)
	report.AbnormalEvents = []Event{ev("abnormal", 10000, "Insufficient resources. Wait until idle resources are sufficient.")}

	sums := map[Kind]Summary{
		KindSucceeded: succeeded, KindFailed: failed, KindStalled: stalled,
		KindRecovered: recovered, KindAbnormal: abnormal, KindReport: report,
	}
	var ns []Notification
	for i, k := range Kinds {
		n := Notification{
			ID:            fmt.Sprintf("msg_%02d_%s", i, k),
			Kind:          k,
			Timestamp:     notified,
			DeploymentKey: key,
			Summary:       sums[k],
		}
		if k == KindAbnormal {
			n.DeploymentKey = ""
		}
		ns = append(ns, n)
	}
	return ns
}

// fixture returns the fixture of one kind.
func fixture(k Kind) Notification {
	for _, n := range fixtures() {
		if n.Kind == k {
			return n
		}
	}
	panic("no fixture for " + k)
}

// stoppedFixture is the parent update of a stalled deployment whose
// service was then stopped.
func stoppedFixture() Notification {
	n := withThread(fixture(KindStalled), "1795867000.000100")
	n.ID = "msg_stopped"
	n.Thread = ParentUpdate
	n.Summary.ServiceStatus = "stopped"
	n.Summary.EndedAt = at(1600000)
	return n
}

// v2ev is a v2 event: identity, both texts, a count and the last occurrence.
func v2ev(id, typ string, offsetMS int64, info, infoCN string, count int, lastOffsetMS int64) Event {
	e := ev(typ, offsetMS, info)
	e.ID, e.EventInfoCN, e.EventCount = id, infoCN, count
	if lastOffsetMS != 0 {
		e.LastOccurTime = t0.UnixMilli() + lastOffsetMS
	}
	return e
}

// v2Base is a v2 (new-version inference) service's summary.
func v2Base() Summary {
	s := baseSummary()
	s.ServiceID = "3c1f9e2a-7b4d-4e8a-a1c6-5d2b0f9e7c31"
	s.ServiceName = "qwen-chat-v2"
	s.Generation = "v2"
	s.Model = ""
	s.Events = []Event{
		v2ev("e-0001", "normal", 0, "start to deploy service", "开始部署服务", 0, 0),
		v2ev("e-0002", "normal", 18, "preparing environment", "准备环境", 0, 0),
		v2ev("e-0003", "normal", 20188, "prepare environment success", "准备环境成功", 0, 0),
	}
	return s
}

// v2Fixtures returns the v2 notifications: a stall with pod events and
// the deadline ModelArts gives it, a failure whose only text is Chinese,
// and a warning event seen many times.
func v2Fixtures() []Notification {
	notified := At(t0.Add(30 * time.Minute))
	key := "3c1f9e2a-7b4d-4e8a-a1c6-5d2b0f9e7c31/1795867080000"

	stalled := v2Base()
	stalled.Status = StatusStalled
	stalled.Phase = PhaseScheduling
	stalled.ServiceStatus = "deploying"
	stalled.ServiceStatusRaw = "UPGRADING"
	stalled.DeployTimeoutMinutes = 40
	stalled.FailsAt = at(40 * 60 * 1000)
	stalled.Phases = phases(realistic[:2], PhaseStalled, 1500000)
	stalled.DurationMS = ms(20188 + 1500000)
	insufficient := v2ev("e-0004", "abnormal", 20200, "Insufficient resources. Wait until idle resources are sufficient.", "资源不足，请等待资源空闲。", 14, 1200000)
	stalled.AbnormalEvents = []Event{insufficient}
	stalled.Events = append(stalled.Events, insufficient)
	stalled.PodEvents = []PodEvent{
		{Type: "Warning", Reason: "FailedScheduling", Message: "0/4 nodes are available: 4 Insufficient nvidia.com/gpu. preemption: 0/4 nodes are available: 4 No preemption victims found for incoming pod.", Count: 14, FirstTimestamp: at(20300), LastTimestamp: at(1200000)},
		{Type: "Warning", Reason: "NotTriggerScaleUp", Message: "pod didn't trigger scale-up: 1 max node group size reached", Count: 1, FirstTimestamp: at(25000), LastTimestamp: at(25000)},
	}

	failed := v2Base()
	failed.Status = StatusFailed
	failed.Phase = PhaseModelStartup
	failed.ServiceStatus = "failed"
	failed.ServiceStatusRaw = "FAILED"
	failed.DeployTimeoutMinutes = 20
	failed.ErrorMsg = "服务部署超时，错误信息：服务部署时间超过20分钟，设置为失败。"
	failed.Phases = phases(realistic, PhaseFailed, 1123163)
	failed.EndedAt = at(1200000)
	failed.DurationMS = ms(1200000)
	timeout := v2ev("e-0009", "abnormal", 1200000, "", "服务部署超时，错误信息：服务部署时间超过20分钟，设置为失败。", 1, 1200000)
	failed.AbnormalEvents = []Event{timeout}
	failed.Events = append(failed.Events, timeout)
	failed.PodEventsError = "eventsapi: list pod events of qwen-chat-v2: 403 ModelArts.0203: no permission"

	warning := v2Base()
	warning.Status = StatusAbnormal
	warning.ServiceStatus = "concerning"
	warning.ServiceStatusRaw = "ERROR"
	warning.StartedAt = Time{}
	warning.Phases = nil
	warned := v2ev("e-0042", "warning", 600000, "Service error. There are 1 abnormal instances.", "服务异常，不正常的实例数为1", 7, 1500000)
	warning.AbnormalEvents = []Event{warned}
	warning.Events = []Event{warned}

	return []Notification{
		{ID: "msg_v2_stalled", Kind: KindStalled, Timestamp: notified, DeploymentKey: key, Summary: stalled},
		{ID: "msg_v2_failed", Kind: KindFailed, Timestamp: notified, DeploymentKey: key, Summary: failed},
		{ID: "msg_v2_warning", Kind: KindAbnormal, Timestamp: notified, Summary: warning},
	}
}

// v2Fixture returns the v2 fixture with that ID.
func v2Fixture(id string) Notification {
	for _, n := range v2Fixtures() {
		if n.ID == id {
			return n
		}
	}
	panic("no v2 fixture " + id)
}

// span is a phase that ran from start to end (ms after t0).
type span struct{ start, end int64 }

// phasesAt builds a succeeded timeline from spans, one per phase in
// order; the time between spans belongs to no phase.
func phasesAt(spans []span) []Phase {
	ps := make([]Phase, len(spans))
	for i, sp := range spans {
		ps[i] = Phase{Name: PhaseNames[i], Status: PhaseSucceeded, StartedAt: at(sp.start), EndedAt: at(sp.end), DurationMS: ms(sp.end - sp.start)}
	}
	return ps
}

// waitSpans are the demo's success: five phases of 15 s, a minute of
// waiting between them, 2m15s in all.
var waitSpans = []span{{15000, 30000}, {45000, 60000}, {60000, 75000}, {90000, 105000}, {120000, 135000}}

// gapSummary is a succeeded deployment whose phases (75 s) leave 60 s of
// waiting between them (2m15s in all), as real deployments do.
func gapSummary() Summary {
	s := baseSummary()
	s.Status = StatusSucceeded
	s.Phase = PhaseModelStartup
	s.ServiceStatus = "running"
	s.Phases = phasesAt(waitSpans)
	s.EndedAt = at(135000)
	s.DurationMS = ms(135000)
	s.Events = []Event{
		ev("normal", 0, "start to deploy service"),
		ev("normal", 15000, "building image for model [TF 3.0.0]"),
		ev("normal", 30000, "model (TF 3.0.0) build image success"),
		ev("normal", 45000, "preparing environment"),
		ev("normal", 60000, "[TF 3.0.0] prepare environment success"),
		ev("normal", 75000, "[TF 3.0.0] schedule resource success"),
		ev("normal", 90000, "[TF 3.0.0] pulling model image"),
		ev("normal", 105000, "[TF 3.0.0] pull image success"),
		ev("normal", 120000, "[TF 3.0.0] starting model"),
		ev("normal", 135000, "Service service-07085 is running."),
	}
	return s
}

// gapFixture is the success notification of gapSummary.
func gapFixture() Notification {
	return Notification{
		ID:            "msg_succeeded_waits",
		Kind:          KindSucceeded,
		Timestamp:     At(t0.Add(30 * time.Minute)),
		DeploymentKey: "f2a7c1d8-63a4-4b1e-9c35-3f1e8d07085a/1795867080000",
		Summary:       gapSummary(),
	}
}

// reportFixture is the report of the v2 service of v2Fixtures over the
// last 24 h: a deployment that succeeded three hours before (its phases
// leaving time between them), a runtime abnormal event (and a normal
// one) after it, then the stall with pod events.
func reportFixture() ReportView {
	const earlier = -3 * 60 * 60 * 1000 // the first deployment, ms after t0
	done := v2Base()
	done.Status = StatusSucceeded
	done.Phase = PhaseModelStartup
	// A report's summaries carry the service's status when it was made.
	done.ServiceStatus = "deploying"
	done.ServiceStatusRaw = "UPGRADING"
	var spans []span
	for _, sp := range waitSpans {
		spans = append(spans, span{earlier + sp.start, earlier + sp.end})
	}
	done.Phases = phasesAt(spans)
	done.StartedAt = at(earlier)
	done.EndedAt = at(earlier + 135000)
	done.DurationMS = ms(135000)
	done.Events = []Event{
		v2ev("e-0101", "normal", earlier, "start to deploy service", "开始部署服务", 0, 0),
		v2ev("e-0102", "normal", earlier+135000, "Service qwen-chat-v2 is running.", "服务qwen-chat-v2运行中。", 0, 0),
	}
	done.AbnormalEvents = []Event{}

	stalled := v2Fixture("msg_v2_stalled").Summary
	generated := At(t0.Add(30 * time.Minute))
	return ReportView{
		ProjectID:     stalled.ProjectID,
		ServiceID:     stalled.ServiceID,
		ServiceName:   stalled.ServiceName,
		ServiceStatus: "deploying",
		Since:         "24h",
		From:          At(generated.Add(-24 * time.Hour)),
		GeneratedAt:   generated,
		EventsRead:    len(done.Events) + len(stalled.Events) + 2,
		Deployments:   []Summary{done, stalled},
		RuntimeEvents: []Event{
			v2ev("e-0201", "normal", -2*60*60*1000, "Service qwen-chat-v2 scaled to 2 instances.", "服务qwen-chat-v2扩容到2个实例。", 0, 0),
			v2ev("e-0202", "abnormal", -60*60*1000, "Instance qwen-chat-v2-7f9c restarted: the model process exited (out of memory).", "实例qwen-chat-v2-7f9c重启：模型进程退出（内存不足）。", 3, -50*60*1000),
		},
	}
}
