package eventsapitest

import (
	"fmt"
	"time"

	"github.com/modelarts-notifier/modelarts-notifier/eventsapi"
)

// Deployment phases, in order.
const (
	PhaseImageBuild   = "image_build"
	PhaseEnvironment  = "environment"
	PhaseScheduling   = "scheduling"
	PhaseImagePull    = "image_pull"
	PhaseModelStartup = "model_startup"
)

// Phases lists the deployment phases in order.
var Phases = []string{PhaseImageBuild, PhaseEnvironment, PhaseScheduling, PhaseImagePull, PhaseModelStartup}

// Abnormal texts from the ModelArts user guide.
const (
	TextInsufficientResources = "Insufficient resources. Wait until idle resources are sufficient."
	TextImageCreateFailed     = "Failed to create the image."
)

// The service and events of the API page's example response.
const (
	SeedServiceID   = "35de3ca9-1bca-4ae7-9cb0-914f30fa7d3e"
	SeedServiceName = "service-07085"
)

// SeedEvents returns the nine events of the API page's example response,
// verbatim.
func SeedEvents() []eventsapi.Event {
	n := func(info string, at int64) eventsapi.Event {
		return eventsapi.Event{EventType: eventsapi.EventTypeNormal, EventInfo: info, OccurTime: at}
	}
	return []eventsapi.Event{
		n("start to deploy service", 1562597251764),
		n("building image for model [TF 3.0.0]", 1562597251788),
		n("model (TF 3.0.0) build image success", 1562597251805),
		n("preparing environment", 1562597255744),
		n("[TF 3.0.0] prepare environment success", 1562597275915),
		n("[TF 3.0.0] schedule resource success", 1562597275921),
		n("[TF 3.0.0] pulling model image", 1562597275928),
		n("[TF 3.0.0] pull image success", 1562597332570),
		n("[TF 3.0.0] starting model", 1562597332582),
	}
}

// SuccessTexts are a successful deployment's event texts, in the seed's
// wording, followed by the "is running" event: what DeploySuccess appends.
func SuccessTexts(model, name string) []string {
	return []string{
		"start to deploy service",
		fmt.Sprintf("building image for model [%s]", model),
		fmt.Sprintf("model (%s) build image success", model),
		"preparing environment",
		fmt.Sprintf("[%s] prepare environment success", model),
		fmt.Sprintf("[%s] schedule resource success", model),
		fmt.Sprintf("[%s] pulling model image", model),
		fmt.Sprintf("[%s] pull image success", model),
		fmt.Sprintf("[%s] starting model", model),
		fmt.Sprintf("Service %s is running.", name),
	}
}

// PhaseBegin is the index in SuccessTexts of the event where each phase
// begins (scheduling begins when the environment is ready).
var PhaseBegin = map[string]int{
	PhaseImageBuild:   1,
	PhaseEnvironment:  3,
	PhaseScheduling:   4,
	PhaseImagePull:    6,
	PhaseModelStartup: 8,
}

// failureTexts are the abnormal events and error_msg of a failure in phase.
func failureTexts(phase, model, name string) (events []string, errorMsg string) {
	switch phase {
	case PhaseImageBuild:
		return []string{
			fmt.Sprintf("Failed to create model image %s. The model's dependencies could not be installed.", model),
			TextImageCreateFailed,
		}, TextImageCreateFailed
	case PhaseEnvironment:
		msg := "failed to prepare the environment: the model package could not be downloaded from OBS."
		return []string{fmt.Sprintf("Service %s failed. Error: %s", name, msg)}, msg
	case PhaseScheduling:
		return []string{
			TextInsufficientResources,
			TextInsufficientResources,
			"Insufficient CPU. The scheduling failed. Supplementary information: 0/3 nodes are available: 3 Insufficient cpu.",
			fmt.Sprintf("Service %s failed. Error: Insufficient resources.", name),
		}, "Insufficient resources. The scheduling failed."
	case PhaseImagePull:
		msg := "failed to pull the model image: the image pull timed out."
		return []string{fmt.Sprintf("Service %s failed. Error: %s", name, msg)}, msg
	case PhaseModelStartup:
		return []string{
			fmt.Sprintf("Failed to start service %s.", name),
			fmt.Sprintf("Service %s failed. Error: the model did not pass its health check.", name),
		}, fmt.Sprintf("Failed to start service %s. The model did not pass its health check.", name)
	}
	panic(fmt.Sprintf("eventsapitest: unknown phase %q (want one of %v)", phase, Phases))
}

// stepOf is the first of step, or the server's default.
func (s *Server) stepOf(step []time.Duration) time.Duration {
	if len(step) > 0 && step[0] > 0 {
		return step[0]
	}
	return time.Duration(s.step.Load())
}

// appendScript appends normal events then abnormal ones, step apart from
// start, and sets the status at the last event's time. It returns that
// time.
func (s *Server) appendScript(serviceID string, start time.Time, step time.Duration, normal, abnormal []string, status, errorMsg string) time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	svc := s.serviceLocked(serviceID)
	at := start
	add := func(typ, info string) {
		svc.events = append(svc.events, eventsapi.Event{EventType: typ, EventInfo: info, OccurTime: at.UnixMilli()})
		svc.info.UpdateTime = max(svc.info.UpdateTime, at.UnixMilli())
		at = at.Add(step)
	}
	for _, t := range normal {
		add(eventsapi.EventTypeNormal, t)
	}
	for _, t := range abnormal {
		add(eventsapi.EventTypeAbnormal, t)
	}
	last := at.Add(-step)
	s.setStatusLocked(svc, status, errorMsg, last.UnixMilli())
	if status == eventsapi.StatusDeploying {
		svc.info.Progress = 100 * len(normal) / len(SuccessTexts("", ""))
	}
	return last
}

func (s *Server) nameOf(serviceID string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.serviceLocked(serviceID).info.ServiceName
}

// DeploySuccess appends a successful deployment of model to a service
// (created if unknown): the nine events of the seed's example, worded for
// model, then "Service <name> is running.", step apart (default: the
// server's step) from start. The status becomes running. It returns the
// last event's time.
func (s *Server) DeploySuccess(serviceID, model string, start time.Time, step ...time.Duration) time.Time {
	texts := SuccessTexts(model, s.nameOf(serviceID))
	return s.appendScript(serviceID, start, s.stepOf(step), texts, nil, eventsapi.StatusRunning, "")
}

// DeployFailure appends a deployment that fails in phase (one of Phases;
// anything else panics): the normal events up to the start of that phase,
// then abnormal events in ModelArts' wording (for scheduling: "Insufficient
// resources..." twice, then the scheduling failure; for image_build:
// "Failed to create the image."). The status becomes failed, with an
// error_msg. It returns the last event's time.
func (s *Server) DeployFailure(serviceID, model, phase string, start time.Time, step ...time.Duration) time.Time {
	name := s.nameOf(serviceID)
	abnormal, msg := failureTexts(phase, model, name)
	normal := SuccessTexts(model, name)[:PhaseBegin[phase]+1]
	return s.appendScript(serviceID, start, s.stepOf(step), normal, abnormal, eventsapi.StatusFailed, msg)
}

// DeployStall appends a deployment that stops making progress in phase
// (one of Phases; anything else panics): the normal events up to and
// including the start of that phase. The status becomes deploying. It
// returns the last event's time.
func (s *Server) DeployStall(serviceID, model, phase string, start time.Time, step ...time.Duration) time.Time {
	begin, ok := PhaseBegin[phase]
	if !ok {
		panic(fmt.Sprintf("eventsapitest: unknown phase %q (want one of %v)", phase, Phases))
	}
	normal := SuccessTexts(model, s.nameOf(serviceID))[:begin+1]
	return s.appendScript(serviceID, start, s.stepOf(step), normal, nil, eventsapi.StatusDeploying, "")
}

// RuntimeAbnormal appends one abnormal event with text at the given time,
// leaving the status alone.
func (s *Server) RuntimeAbnormal(serviceID, text string, at time.Time) {
	s.AppendEvents(serviceID, eventsapi.Event{EventType: eventsapi.EventTypeAbnormal, EventInfo: text, OccurTime: at.UnixMilli()})
}
