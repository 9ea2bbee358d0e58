package eventsapitest

import (
	"fmt"
	"time"

	"github.com/modelarts-notifier/modelarts-notifier/eventsapi"
)

// v2 scenarios script whole deployments of v2 services with the v1
// scenarios' texts (no public v2 response with real text exists, and the
// v2 API documents event_info as English). event_info_cn is given only
// where MODELARTS-EVENT-TEXT.md documents a Chinese rendering of the
// whole text; it documents none for the phase markers, so those records
// have an empty event_info_cn.

// TextDeployFailedInsufficientCN is the Chinese of "Service xxx failed.
// Error: Insufficient resources.": the new console's template
// "服务部署失败，%s。" (U2) with "资源不足" (insufficient resources, T6/E1).
const TextDeployFailedInsufficientCN = "服务部署失败，资源不足。"

// chineseOf returns the documented Chinese rendering of a scenario text
// of service name, or "".
func chineseOf(en, name string) string {
	if en == fmt.Sprintf("Service %s failed. Error: Insufficient resources.", name) {
		return TextDeployFailedInsufficientCN
	}
	return ""
}

// Pod event texts of the v2 scenarios (Kubernetes wording, K4/K1 of
// MODELARTS-EVENT-TEXT.md).
const (
	PodReasonFailedScheduling = "FailedScheduling"
	PodReasonImagePullBackOff = "ImagePullBackOff"
	PodReasonUnhealthy        = "Unhealthy"
	// PodTextInsufficientGPU is the scheduler's message of a stall in
	// scheduling.
	PodTextInsufficientGPU = "0/3 nodes are available: 3 Insufficient nvidia.com/gpu."
	// PodTextInsufficientCPU is the scheduler's message of a failure in
	// scheduling (the cause the failure's events quote).
	PodTextInsufficientCPU = "0/3 nodes are available: 3 Insufficient cpu."
)

// ModelImage is the image a scenario deploys model from.
func ModelImage(model string) string {
	return "swr.cn-north-4.myhuaweicloud.com/modelarts-infer/" + slug(model) + ":latest"
}

// PodEventsFor returns the pod events that say why a deployment of model
// stopped in phase, all at at: for scheduling a Warning FailedScheduling
// from default-scheduler (PodTextInsufficientGPU when stalled, else
// PodTextInsufficientCPU); for image_pull a Normal Pulling and a Warning
// ImagePullBackOff ("Back-off pulling image ...") from kubelet; for
// model_startup a Normal Started and a Warning Unhealthy ("Readiness probe
// failed: ...") from kubelet. image_build and environment come before any
// pod exists: none. An unknown phase panics.
func PodEventsFor(phase, model string, at time.Time, stalled bool) []eventsapi.PodEvent {
	ev := func(typ, reason, msg, component string) eventsapi.PodEvent {
		return eventsapi.PodEvent{Type: typ, Reason: reason, Message: msg, ReportingComponent: component,
			Count: 1, FirstTimestamp: at.UTC(), LastTimestamp: at.UTC()}
	}
	img := ModelImage(model)
	switch phase {
	case PhaseImageBuild, PhaseEnvironment:
		return nil
	case PhaseScheduling:
		msg := PodTextInsufficientCPU
		if stalled {
			msg = PodTextInsufficientGPU
		}
		return []eventsapi.PodEvent{ev("Warning", PodReasonFailedScheduling, msg, "default-scheduler")}
	case PhaseImagePull:
		return []eventsapi.PodEvent{
			ev("Normal", "Pulling", fmt.Sprintf("Pulling image %q", img), "kubelet"),
			ev("Warning", PodReasonImagePullBackOff, fmt.Sprintf("Back-off pulling image %q", img), "kubelet"),
		}
	case PhaseModelStartup:
		return []eventsapi.PodEvent{
			ev("Normal", "Started", "Started container "+slug(model), "kubelet"),
			ev("Warning", PodReasonUnhealthy, `Readiness probe failed: Get "http://172.16.0.12:8080/health": dial tcp 172.16.0.12:8080: connect: connection refused`, "kubelet"),
		}
	}
	panic(fmt.Sprintf("eventsapitest: unknown phase %q (want one of %v)", phase, Phases))
}

func (s *Server) nameOfV2(serviceID string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.serviceV2Locked(serviceID).name
}

// appendScriptV2 starts a deployment of a v2 service at start (a new
// version and instance group, status DEPLOYING), adds the normal then the
// abnormal texts as records step apart (repeats merge), sets the raw
// status and failure reason at the last text's time, and adds pods' pod
// events. It returns that time.
func (s *Server) appendScriptV2(serviceID string, start time.Time, step time.Duration, normal, abnormal []string, rawStatus, failureReason string, pods func(last time.Time) []eventsapi.PodEvent) time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	svc := s.serviceV2Locked(serviceID)
	s.newVersionLocked(svc)
	s.addDeploymentLocked(svc, "", start.UnixMilli())
	s.setStatusV2Locked(svc, "DEPLOYING", "", start.UnixMilli())
	at := start
	add := func(typ, info string) {
		s.appendV2Locked(svc, eventsapi.Event{EventType: typ, EventInfo: info, EventInfoCN: chineseOf(info, svc.name), OccurTime: at.UnixMilli()})
		at = at.Add(step)
	}
	for _, t := range normal {
		add(eventsapi.EventTypeNormal, t)
	}
	for _, t := range abnormal {
		add(eventsapi.EventTypeAbnormal, t)
	}
	last := at.Add(-step)
	s.setStatusV2Locked(svc, rawStatus, failureReason, last.UnixMilli())
	if pods != nil {
		if evs := pods(last); len(evs) > 0 {
			s.addPodEventsLocked(svc, evs...)
		}
	}
	return last
}

// DeploySuccessV2 is DeploySuccess for a v2 service (created if unknown,
// named after its id): a new deployment (version and instance group)
// whose records are the texts of SuccessTexts, NORMAL, step apart
// (default: the server's step) from start. The status becomes RUNNING. It
// returns the last record's time.
func (s *Server) DeploySuccessV2(serviceID, model string, start time.Time, step ...time.Duration) time.Time {
	texts := SuccessTexts(model, s.nameOfV2(serviceID))
	return s.appendScriptV2(serviceID, start, s.stepOf(step), texts, nil, "RUNNING", "", nil)
}

// DeployFailureV2 is DeployFailure for a v2 service (created if unknown):
// a new deployment with the normal records up to the start of phase (one
// of Phases; anything else panics), then the ABNORMAL records of the v1
// scenario. Repeats merge as ModelArts merges them: for scheduling, the
// two "Insufficient resources..." events are one record with
// event_count 2; its "Service xxx failed. Error: Insufficient resources."
// has event_info_cn TextDeployFailedInsufficientCN. The status becomes
// FAILED with the v1 scenario's error_msg as failure_reason, and the
// deployment gets PodEventsFor(phase, model, last, false). It returns the
// last record's time.
func (s *Server) DeployFailureV2(serviceID, model, phase string, start time.Time, step ...time.Duration) time.Time {
	name := s.nameOfV2(serviceID)
	abnormal, msg := failureTexts(phase, model, name)
	normal := SuccessTexts(model, name)[:PhaseBegin[phase]+1]
	return s.appendScriptV2(serviceID, start, s.stepOf(step), normal, abnormal, "FAILED", msg,
		func(last time.Time) []eventsapi.PodEvent { return PodEventsFor(phase, model, last, false) })
}

// DeployStallV2 is DeployStall for a v2 service (created if unknown): a
// new deployment with the normal records up to and including the start
// of phase (one of Phases; anything else panics), status DEPLOYING, and
// pod events that say why it does not move on: PodEventsFor(phase, model,
// last, true) (FailedScheduling for lack of GPUs, ImagePullBackOff, a
// failing readiness probe; none before pods exist). It returns the last
// record's time.
func (s *Server) DeployStallV2(serviceID, model, phase string, start time.Time, step ...time.Duration) time.Time {
	begin, ok := PhaseBegin[phase]
	if !ok {
		panic(fmt.Sprintf("eventsapitest: unknown phase %q (want one of %v)", phase, Phases))
	}
	normal := SuccessTexts(model, s.nameOfV2(serviceID))[:begin+1]
	return s.appendScriptV2(serviceID, start, s.stepOf(step), normal, nil, "DEPLOYING", "",
		func(last time.Time) []eventsapi.PodEvent { return PodEventsFor(phase, model, last, true) })
}

// RuntimeAbnormalV2 adds one ABNORMAL record with text at the given time
// (a repeat of an existing one merges into it), leaving the status alone.
func (s *Server) RuntimeAbnormalV2(serviceID, text string, at time.Time) {
	s.AppendV2Events(serviceID, eventsapi.Event{EventType: eventsapi.EventTypeAbnormal, EventInfo: text,
		EventInfoCN: chineseOf(text, s.nameOfV2(serviceID)), OccurTime: at.UnixMilli()})
}
