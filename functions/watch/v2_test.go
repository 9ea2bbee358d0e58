package watch

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/modelarts-notifier/modelarts-notifier/eventsapi"
	"github.com/modelarts-notifier/modelarts-notifier/eventsapi/eventsapitest"
	"github.com/modelarts-notifier/modelarts-notifier/notifier"
)

// Whole polls of v2 (new-version inference) services over HTTP: the real
// client against the fake's v2 API, a real webhook destination.

const (
	v2Svc = "7c2e9f40-5b1a-4d3e-8f6a-2b9c0d1e3f4a"
	v1Svc = "1a2b3c4d-0001-4000-8000-00000000aaaa"
)

func newV2Harness(t *testing.T, ids ...string) *httpHarness {
	h := newHTTPHarness(t)
	h.cfg.ServiceIDs = ids
	return h
}

func (h *httpHarness) pollOK() []webhookBody {
	h.t.Helper()
	if res := h.poll(); res.Err != nil {
		h.t.Fatal(res.Err)
	}
	got, _ := h.hook.take(h.t)
	return got
}

func TestV2Success(t *testing.T) {
	h := newV2Harness(t, v2Svc)
	h.srv.AddServiceV2(v2Svc, "qwen-chat", "DEPLOYING")
	end := h.srv.DeploySuccessV2(v2Svc, "Qwen 2.5", t0, 10*time.Second)
	h.now = end.Add(time.Minute)
	got := h.pollOK()
	if len(got) != 1 || got[0].Type != string(notifier.KindSucceeded) {
		t.Fatalf("got %v, want one deployment.succeeded", types(got))
	}
	if d := got[0].Data; d.Generation != eventsapi.GenerationV2 || d.ServiceStatusRaw != "RUNNING" || d.ServiceStatus != eventsapi.StatusRunning {
		t.Errorf("generation %q raw status %q status %q; want v2, RUNNING, running", d.Generation, d.ServiceStatusRaw, d.ServiceStatus)
	}
	for _, e := range got[0].Data.Events {
		if e.ID == "" {
			t.Errorf("event %q has no v2 id", e.EventInfo)
		}
	}
	if cp := h.checkpoint(v2Svc); cp.Generation != eventsapi.GenerationV2 {
		t.Errorf("checkpoint generation %q, want v2", cp.Generation)
	}
	h.now = h.now.Add(time.Minute)
	if got := h.pollOK(); len(got) != 0 {
		t.Fatalf("second poll sent %v", types(got))
	}
}

// A v2 failure whose only text is Chinese (event_info empty): classified
// from event_info_cn, shown verbatim.
func TestV2FailureChineseText(t *testing.T) {
	h := newV2Harness(t, v2Svc)
	h.srv.AddServiceV2(v2Svc, "glm-chat", "DEPLOYING")
	at := func(s int) int64 { return t0.Add(time.Duration(s) * time.Second).UnixMilli() }
	h.srv.AppendV2Events(v2Svc,
		eventsapi.Event{EventType: "normal", EventInfoCN: "服务开始部署。", OccurTime: at(0)},
		eventsapi.Event{EventType: "abnormal", EventInfoCN: "部署【glm-chat】创建失败。", OccurTime: at(30)})
	h.srv.SetStatusV2(v2Svc, "FAILED", "部署创建失败")
	h.now = t0.Add(5 * time.Minute)
	got := h.pollOK()
	if len(got) != 1 || got[0].Type != string(notifier.KindFailed) {
		t.Fatalf("got %v, want one deployment.failed", types(got))
	}
	found := false
	for _, e := range got[0].Data.AbnormalEvents {
		found = found || e.EventInfoCN == "部署【glm-chat】创建失败。"
	}
	if !found || got[0].Data.ErrorMsg != "部署创建失败" {
		t.Errorf("abnormal events %+v, error_msg %q; want the Chinese text and failure_reason verbatim", got[0].Data.AbnormalEvents, got[0].Data.ErrorMsg)
	}
}

// A record repeating "Insufficient resources" across polls: one
// service.abnormal, no stall while it keeps updating, then the success.
func TestV2RepeatingInsufficientResources(t *testing.T) {
	h := newV2Harness(t, v2Svc)
	h.srv.AddServiceV2(v2Svc, "llama-70b", "DEPLOYING")
	texts := eventsapitest.SuccessTexts("Llama 70B", "llama-70b")
	at := t0
	for _, text := range texts[:eventsapitest.PhaseBegin[eventsapitest.PhaseScheduling]+1] {
		h.srv.AppendV2Events(v2Svc, eventsapi.Event{EventType: "normal", EventInfo: text, OccurTime: at.UnixMilli()})
		at = at.Add(10 * time.Second)
	}
	const insufficient = "Insufficient resources. Wait until idle resources are sufficient."
	var abnormal int
	for i := range 40 { // 40 minutes, longer than scheduling's 15-minute threshold
		h.now = at.Add(time.Duration(i) * time.Minute)
		h.srv.AppendV2Events(v2Svc, eventsapi.Event{EventType: "abnormal", EventInfo: insufficient, OccurTime: h.now.Add(-5 * time.Second).UnixMilli()})
		for _, b := range h.pollOK() {
			switch b.Type {
			case string(notifier.KindAbnormal):
				abnormal++
			default:
				t.Fatalf("minute %d: %s %s while the record keeps repeating", i, b.Type, b.Data.Phase)
			}
		}
	}
	if abnormal != 1 {
		t.Errorf("%d service.abnormal notifications, want 1", abnormal)
	}
	recs := h.srv.EventsV2(v2Svc)
	if last := recs[len(recs)-1]; last.Count < 40 {
		t.Errorf("the fake merged the repeats into a record of count %d, want ≥ 40", last.Count)
	}
	at = h.now
	for _, text := range texts[eventsapitest.PhaseBegin[eventsapitest.PhaseScheduling]+1:] {
		at = at.Add(10 * time.Second)
		h.srv.AppendV2Events(v2Svc, eventsapi.Event{EventType: "normal", EventInfo: text, OccurTime: at.UnixMilli()})
	}
	h.srv.SetStatusV2(v2Svc, "RUNNING", "")
	h.now = at.Add(time.Minute)
	if got := h.pollOK(); len(got) != 1 || got[0].Type != string(notifier.KindSucceeded) {
		t.Fatalf("got %v, want the success", types(got))
	}
}

// 1,200 records are read in pages of 500, each once.
func TestV2ManyRecordsPaged(t *testing.T) {
	h := newV2Harness(t, v2Svc)
	h.srv.AddServiceV2(v2Svc, "busy", "RUNNING")
	end := h.srv.DeploySuccessV2(v2Svc, "M", t0.Add(-2*time.Hour), time.Second)
	h.now = end.Add(time.Minute)
	h.pollOK()
	base := h.now
	for i := range 1200 {
		h.srv.AppendV2Events(v2Svc, eventsapi.Event{EventType: "normal", EventInfo: fmt.Sprintf("instance %d health check passed", i),
			OccurTime: base.Add(time.Duration(i) * time.Second).UnixMilli()})
	}
	h.srv.RuntimeAbnormalV2(v2Svc, "Instance busy-1 restarted unexpectedly.", base.Add(1201*time.Second))
	h.now = base.Add(1300 * time.Second)
	h.srv.ResetRequests()
	res := h.poll()
	if res.Err != nil {
		t.Fatal(res.Err)
	}
	if res.EventsRead != 1201 {
		t.Errorf("read %d new records, want 1201", res.EventsRead)
	}
	if n := h.srv.EventsRequestsV2(v2Svc); n != 3 {
		t.Errorf("%d v2 events requests, want 3 (pages of 500)", n)
	}
	if got, _ := h.hook.take(t); len(got) != 1 || got[0].Type != string(notifier.KindAbnormal) {
		t.Errorf("got %v, want the one runtime abnormal record", types(got))
	}
}

// Discovery lists both generations; a 403 on the v2 list (a token with v1
// rights only) leaves v2 out with a warning, never a failed poll.
func TestV2MixedDiscovery(t *testing.T) {
	for _, forbidden := range []bool{false, true} {
		t.Run(fmt.Sprintf("v2 list forbidden=%v", forbidden), func(t *testing.T) {
			h := newV2Harness(t)
			h.srv.AddService(v1Svc, "old-svc", eventsapi.StatusDeploying)
			h.srv.DeployFailure(v1Svc, "TF 3.0.0", eventsapitest.PhaseImagePull, t0)
			h.srv.AddServiceV2(v2Svc, "new-svc", "DEPLOYING")
			h.srv.DeployFailureV2(v2Svc, "Qwen 2.5", eventsapitest.PhaseScheduling, t0)
			h.srv.SetV2ListForbidden(forbidden)
			h.now = t0.Add(10 * time.Minute)
			got := map[string]string{}
			for _, b := range h.pollOK() {
				got[b.Data.ServiceID] = b.Type + " " + b.Data.Phase
			}
			want := map[string]string{v1Svc: "deployment.failed image_pull", v2Svc: "deployment.failed scheduling"}
			if forbidden {
				delete(want, v2Svc)
			}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("got %v, want %v", got, want)
			}
		})
	}
}

// A configured id is looked up as v2 first and then as v1; the generation
// is remembered, so later polls read v1 services without asking v2.
func TestV2GenerationLookup(t *testing.T) {
	for _, code := range []int{400, 403, 404} {
		t.Run(fmt.Sprint(code), func(t *testing.T) {
			h := newV2Harness(t, v1Svc, v2Svc)
			h.srv.SetV2UnknownStatus(code)
			h.srv.AddService(v1Svc, "old-svc", eventsapi.StatusRunning)
			h.srv.DeploySuccess(v1Svc, "TF 3.0.0", t0)
			h.srv.AddServiceV2(v2Svc, "new-svc", "DEPLOYING")
			h.srv.DeploySuccessV2(v2Svc, "Qwen 2.5", t0)
			h.now = t0.Add(10 * time.Minute)
			if got := h.pollOK(); len(got) != 2 {
				t.Fatalf("got %v, want both successes", types(got))
			}
			if g1, g2 := h.checkpoint(v1Svc).Generation, h.checkpoint(v2Svc).Generation; g1 != "v1" || g2 != "v2" {
				t.Fatalf("generations %q %q, want v1 v2", g1, g2)
			}
			h.srv.ResetRequests()
			h.now = h.now.Add(time.Minute)
			h.pollOK()
			for _, r := range h.srv.Requests() {
				if strings.Contains(r.Path, "/v2/") && strings.Contains(r.Path, v1Svc) {
					t.Errorf("v1 service asked through v2 again: %s", r.Path)
				}
			}
		})
	}
}

// A stalled v2 deployment's summary carries its Warning pod events (one
// request), and when ModelArts itself fails it; a failed pod-events request
// never holds the notification back.
func TestV2StallWithPodEvents(t *testing.T) {
	for _, podsFail := range []bool{false, true} {
		t.Run(fmt.Sprintf("pod events fail=%v", podsFail), func(t *testing.T) {
			h := newV2Harness(t, v2Svc)
			h.srv.AddServiceV2(v2Svc, "sd-xl", "DEPLOYING")
			h.srv.SetDeployTimeout(v2Svc, 60)
			h.srv.DeployStallV2(v2Svc, "SDXL 1.0", eventsapitest.PhaseScheduling, t0, 10*time.Second)
			if podsFail {
				h.srv.Fail(10, eventsapitest.Fault{Path: "/pods/", Status: 500})
			}
			h.now = t0.Add(30 * time.Minute)
			h.srv.ResetRequests()
			got := h.pollOK()
			if len(got) != 1 || got[0].Type != string(notifier.KindStalled) || got[0].Data.Phase != eventsapitest.PhaseScheduling {
				t.Fatalf("got %v, want the stall at scheduling", types(got))
			}
			d := got[0].Data
			if podsFail {
				if d.PodEventsError == "" || len(d.PodEvents) != 0 {
					t.Errorf("pod_events %v pod_events_error %q; want the error said", d.PodEvents, d.PodEventsError)
				}
			} else if len(d.PodEvents) != 1 || d.PodEvents[0].Reason != eventsapitest.PodReasonFailedScheduling ||
				!strings.Contains(d.PodEvents[0].Message, "nvidia.com/gpu") {
				t.Errorf("pod events %+v; want the FailedScheduling warning", d.PodEvents)
			}
			if want := notifier.FromMillis(t0.Add(60 * time.Minute).UnixMilli()).Format(notifier.TimeFormat); d.FailsAt != want {
				t.Errorf("fails_at %q, want %q (start + deploy timeout)", d.FailsAt, want)
			}
			pods := 0
			for _, r := range h.srv.Requests() {
				if strings.Contains(r.Path, "/pods/") {
					pods++
				}
			}
			if !podsFail && pods != 1 {
				t.Errorf("%d pod-events requests, want 1", pods)
			}
		})
	}
}
