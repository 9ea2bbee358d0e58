package timeline

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/modelarts-notifier/modelarts-notifier/eventsapi/model"
)

func TestIsFailureIsAbnormal(t *testing.T) {
	tests := []struct {
		typ, info         string
		failure, abnormal bool
	}{
		// The user guide's abnormal texts.
		{"abnormal", "Insufficient resources. Wait until idle resources are sufficient.", false, true},
		{"abnormal", "Insufficient xxx. The scheduling failed. Supplementary information: xxx", false, true},
		{"abnormal", "Failed to create model image xxx. Check the model.", true, true},
		{"abnormal", "Failed to create the image.", true, true},
		{"abnormal", "Service xxx failed. Error: xxx", true, true},
		{"abnormal", "Failed to start service xxx.", true, true},
		{"abnormal", "Service deployment timed out. Error: xxx", true, true},
		{"abnormal", "Failed to update the service. The rollback failed.", true, true},
		{"abnormal", "The service is stopped because the quota exceeds the upper limit.", false, true},
		// Wording decides even when the type says normal.
		{"normal", "image pull FAILURE", true, true},
		{"normal", "ERRORS: 3", true, true},
		{"normal", "the request timed\tout", true, true},
		{"normal", "insufficient memory", false, true},
		{"normal", "instance is unhealthy", false, true},
		// Whole words only.
		{"normal", "errorless start; no_error; terror; failover; failsafe; timeout", false, false},
		{"normal", "start to deploy service", false, false},
		{"normal", "[TF 3.0.0] pull image success", false, false},
		{"normal", "", false, false},
		// The type alone.
		{"ABNORMAL", "something happened", false, true},
		{"Abnormal", "", false, true},
	}
	for _, tt := range tests {
		e := ev(tt.typ, tt.info, 1)
		if got := IsFailure(e); got != tt.failure {
			t.Errorf("IsFailure(%q, %q) = %v, want %v", tt.typ, tt.info, got, tt.failure)
		}
		if got := IsAbnormal(e); got != tt.abnormal {
			t.Errorf("IsAbnormal(%q, %q) = %v, want %v", tt.typ, tt.info, got, tt.abnormal)
		}
		if c := classify(e); c.failure != tt.failure || c.abnormal != tt.abnormal {
			t.Errorf("classify(%q, %q): failure %v abnormal %v, want %v %v", tt.typ, tt.info, c.failure, c.abnormal, tt.failure, tt.abnormal)
		}
	}
}

// Console text varies; these are the variations each marker accepts.
func TestClassifyMarkers(t *testing.T) {
	type mark struct {
		Start bool
		Phase int
		End   bool
		Done  bool
	}
	tests := []struct {
		info string
		want mark
	}{
		{"start to deploy service", mark{Start: true, Phase: -1}},
		{"The service starts to deploy.", mark{Start: true, Phase: -1}},
		{"Start deploying service", mark{Start: true, Phase: -1}},
		{"Service starts to deploy", mark{Start: true, Phase: -1}},
		{"START TO DEPLOY SERVICE", mark{Start: true, Phase: -1}},
		{"building image for model [TF 3.0.0]", mark{Phase: imageBuild}},
		{"Image starts to create.", mark{Phase: imageBuild}},
		{"model (TF 3.0.0) build image success", mark{Phase: imageBuild, End: true}},
		{"Image created.", mark{Phase: imageBuild, End: true}},
		{"preparing environment", mark{Phase: environment}},
		{"[TF 3.0.0] prepare environment success", mark{Phase: environment, End: true}},
		{"Scheduling resources.", mark{Phase: scheduling}},
		{"[TF 3.0.0] schedule resource success", mark{Phase: scheduling, End: true}},
		{"Insufficient resources. Wait until idle resources are sufficient.", mark{Phase: scheduling}},
		{"[TF 3.0.0] pulling model image", mark{Phase: imagePull}},
		{"[TF 3.0.0] pull image success", mark{Phase: imagePull, End: true}},
		{"[TF 3.0.0] starting model", mark{Phase: modelStartup}},
		{"Service service-07085 started.", mark{Phase: -1, Done: true}},
		{"Service service-07085 started successfully", mark{Phase: -1, Done: true}},
		{"Service service-07085 is running.", mark{Phase: -1, Done: true}},
		{"Service deployed successfully.", mark{Phase: -1, Done: true}},
		{"[TF 3.0.0] start model success", mark{Phase: modelStartup, End: true, Done: true}},
		// Out of memory names model startup (pod wording, K2), but begins no
		// implicit deployment and ends nothing.
		{"Instance 0 is running out of memory.", mark{Phase: modelStartup}},
		// "started" or "is running" about a part, not the service, neither
		// ends the deployment nor (with a success word) the phase.
		{"Image build task started successfully.", mark{Phase: imageBuild}},
		{"Image build started.", mark{Phase: imageBuild}},
		{"Pulling image task started successfully", mark{Phase: imagePull}},
		{"Environment preparation is running.", mark{Phase: environment}},
		{"Instance 0 is running.", mark{Phase: -1}},
		{"Instance 0 started.", mark{Phase: -1}},
		{"Model started successfully.", mark{Phase: modelStartup, Done: true}},
		{"Service pull-worker is running.", mark{Phase: -1, Done: true}},
		{"Service restarted", mark{Phase: -1}},
		{"Failed to pull image", mark{Phase: imagePull}},
		{"something else entirely", mark{Phase: -1}},
	}
	for _, tt := range tests {
		c := classify(ev("normal", tt.info, 1))
		got := mark{Start: c.start, Phase: c.phase, End: c.end, Done: c.done}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("classify(%q) (-want +got):\n%s", tt.info, diff)
		}
		if got := IsStart(ev("normal", tt.info, 1)); got != tt.want.Start {
			t.Errorf("IsStart(%q) = %v, want %v", tt.info, got, tt.want.Start)
		}
	}
}

func TestParseModel(t *testing.T) {
	tests := map[string]string{
		"building image for model [TF 3.0.0]":    "TF 3.0.0",
		"[TF 3.0.0] prepare environment success": "TF 3.0.0",
		"model (TF 3.0.0) build image success":   "TF 3.0.0",
		"Model ( resnet-50 1.0 ) pulled":         "resnet-50 1.0",
		"building image for model [":             "",
		"[] model () nothing":                    "",
		"no model here":                          "",
	}
	for in, want := range tests {
		if got := parseModel(in); got != want {
			t.Errorf("parseModel(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestFingerprint(t *testing.T) {
	e := model.Event{EventType: "normal", EventInfo: "start to deploy service", OccurTime: 1562597251764}
	// The value is stored in checkpoints: it must never change.
	const want = "6c1ac03fdf2c6e98" // FNV-1a 64, checked with an independent implementation
	if got := Fingerprint(e); got != want {
		t.Errorf("Fingerprint(%v) = %q, want %q", e, got, want)
	}
	variants := []model.Event{
		{EventType: "abnormal", EventInfo: e.EventInfo, OccurTime: e.OccurTime},
		{EventType: e.EventType, EventInfo: e.EventInfo + ".", OccurTime: e.OccurTime},
		{EventType: e.EventType, EventInfo: e.EventInfo, OccurTime: e.OccurTime + 1},
		{EventType: e.EventType + "start", EventInfo: " to deploy service", OccurTime: e.OccurTime},
	}
	for _, v := range variants {
		if Fingerprint(v) == Fingerprint(e) {
			t.Errorf("Fingerprint(%v) equals Fingerprint(%v)", v, e)
		}
	}
	if n := testing.AllocsPerRun(100, func() { Fingerprint(e) }); n > 1 {
		t.Errorf("Fingerprint allocates %v times, want at most 1", n)
	}
}
