package watch

import (
	"fmt"
	"testing"
	"time"

	"github.com/modelarts-notifier/modelarts-notifier/eventsapi"
	"github.com/modelarts-notifier/modelarts-notifier/eventsapi/eventsapitest"
	"github.com/modelarts-notifier/modelarts-notifier/notifier"
)

// Real ModelArts text through the whole poll (the client against the
// fake over HTTP): the three examples of the bilingual-classification
// issue and a Chinese failure at each phase a documented phrase names.

// seedPrefix appends the first n texts of a successful v1 deployment from
// start, one every 10 s, and returns the time after the last.
func seedPrefix(h *httpHarness, n int, start time.Time) time.Time {
	at := start
	for _, text := range eventsapitest.SuccessTexts("TF 3.0.0", "svc")[:n] {
		h.srv.AppendEvents(hostileSvc, eventsapi.Event{EventType: "normal", EventInfo: text, OccurTime: at.UnixMilli()})
		at = at.Add(10 * time.Second)
	}
	return at
}

func TestRealTextChineseTimeoutWhileDeploying(t *testing.T) {
	h := newHTTPHarness(t)
	h.srv.AddService(hostileSvc, "svc", eventsapi.StatusDeploying)
	at := seedPrefix(h, 7, t0)
	h.srv.AppendEvents(hostileSvc, eventsapi.Event{EventType: "abnormal",
		EventInfo: "服务部署超时，错误信息：服务部署时间超过20分钟，设置为失败。", OccurTime: at.UnixMilli()})
	h.srv.SetStatus(hostileSvc, eventsapi.StatusDeploying, "") // the status has not caught up
	h.now = at.Add(time.Minute)
	got := h.pollOK()
	if len(got) != 1 || got[0].Type != string(notifier.KindFailed) {
		t.Fatalf("got %v, want one deployment.failed (not a mere service.abnormal)", types(got))
	}
}

func TestRealTextLoneChineseFailureWithFailedStatus(t *testing.T) {
	h := newHTTPHarness(t)
	h.srv.AddService(hostileSvc, "svc", eventsapi.StatusRunning)
	h.now = t0
	h.pollOK() // watching: no deployment in the window
	h.srv.AppendEvents(hostileSvc, eventsapi.Event{EventType: "abnormal", EventInfo: "部署【x】创建失败。", OccurTime: t0.Add(time.Minute).UnixMilli()})
	h.srv.SetStatus(hostileSvc, eventsapi.StatusFailed, "")
	h.now = t0.Add(2 * time.Minute)
	got := h.pollOK()
	if len(got) != 1 || got[0].Type != string(notifier.KindFailed) {
		t.Fatalf("got %v, want an implied deployment.failed", types(got))
	}
	h.now = h.now.Add(time.Minute)
	if got := h.pollOK(); len(got) != 0 {
		t.Fatalf("sent again: %v", types(got))
	}
}

func TestRealTextRetryIsNotAFailure(t *testing.T) {
	h := newHTTPHarness(t)
	h.srv.AddService(hostileSvc, "svc", eventsapi.StatusDeploying)
	at := seedPrefix(h, 7, t0) // pulling the image
	h.srv.AppendEvents(hostileSvc, eventsapi.Event{EventType: "abnormal", EventInfo: "failed to pull image, retry later", OccurTime: at.UnixMilli()})
	h.now = at.Add(30 * time.Second)
	got := h.pollOK()
	if len(got) != 1 || got[0].Type != string(notifier.KindAbnormal) {
		t.Fatalf("got %v, want one service.abnormal while ModelArts retries", types(got))
	}
	texts := eventsapitest.SuccessTexts("TF 3.0.0", "svc")
	at = at.Add(time.Minute)
	for _, text := range texts[7:] {
		h.srv.AppendEvents(hostileSvc, eventsapi.Event{EventType: "normal", EventInfo: text, OccurTime: at.UnixMilli()})
		at = at.Add(10 * time.Second)
	}
	h.srv.AppendEvents(hostileSvc, eventsapi.Event{EventType: "normal", EventInfo: "Service svc started.", OccurTime: at.UnixMilli()})
	h.now = at.Add(time.Minute)
	got = h.pollOK()
	if len(got) != 1 || got[0].Type != string(notifier.KindSucceeded) {
		t.Fatalf("got %v, want the success that followed", types(got))
	}
}

func TestRealTextChineseFailureAtEachPhase(t *testing.T) {
	tests := []struct {
		text   string
		prefix int // seed texts before it: the phase under test has begun
		phase  string
	}{
		{"构建镜像失败。", 2, eventsapitest.PhaseImageBuild},
		{"Pod调度失败", 5, eventsapitest.PhaseScheduling},
		{"拉取镜像失败", 7, eventsapitest.PhaseImagePull},
		{"服务启动失败", 9, eventsapitest.PhaseModelStartup},
	}
	for _, tt := range tests {
		for _, v2 := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s v2=%v", tt.phase, v2), func(t *testing.T) {
				h := newHTTPHarness(t)
				texts := eventsapitest.SuccessTexts("TF 3.0.0", "svc")[:tt.prefix]
				at := t0
				if v2 {
					h.cfg.ServiceIDs = []string{v2Svc}
					h.srv.AddServiceV2(v2Svc, "svc", "DEPLOYING")
					for _, text := range texts {
						h.srv.AppendV2Events(v2Svc, eventsapi.Event{EventType: "normal", EventInfo: text, OccurTime: at.UnixMilli()})
						at = at.Add(10 * time.Second)
					}
					h.srv.AppendV2Events(v2Svc, eventsapi.Event{EventType: "abnormal", EventInfoCN: tt.text, OccurTime: at.UnixMilli()})
				} else {
					h.srv.AddService(hostileSvc, "svc", eventsapi.StatusDeploying)
					at = seedPrefix(h, tt.prefix, t0)
					h.srv.AppendEvents(hostileSvc, eventsapi.Event{EventType: "abnormal", EventInfo: tt.text, OccurTime: at.UnixMilli()})
				}
				h.now = at.Add(time.Minute)
				got := h.pollOK()
				if len(got) != 1 || got[0].Type != string(notifier.KindFailed) || got[0].Data.Phase != tt.phase {
					t.Fatalf("%q: got %v, want deployment.failed in %s", tt.text, types(got), tt.phase)
				}
			})
		}
	}
}
