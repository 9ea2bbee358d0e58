package timeline

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/modelarts-notifier/modelarts-notifier/eventsapi/model"
	"github.com/modelarts-notifier/modelarts-notifier/notifier/domain"
)

// fuzzEvents turns fuzz input into events: one per line of text; the i-th
// byte of steps moves the clock by int8(step) * 7919 ms (so the input may be
// unsorted or tied), its low bit makes the event abnormal and its bit 1 a
// warning. A line "cn:text" is a v2 record with only event_info_cn (id the
// line's number, repeated until (step>>2 & 7) minutes later); a line
// "en|zh" a v2 record with both texts.
func fuzzEvents(text string, steps []byte) []model.Event {
	const maxEvents = 300
	lines := strings.Split(text, "\n")
	if len(lines) > maxEvents {
		lines = lines[:maxEvents]
	}
	evs := make([]model.Event, len(lines))
	t := int64(1_562_597_251_764)
	for i, line := range lines {
		typ := model.EventTypeNormal
		var s byte
		if len(steps) > 0 {
			s = steps[i%len(steps)]
			t += int64(int8(s)) * 7919
			switch {
			case s&1 == 1:
				typ = model.EventTypeAbnormal
			case s&2 == 2:
				typ = model.EventTypeWarning
			}
		}
		e := model.Event{EventType: typ, EventInfo: line, OccurTime: t}
		v2 := func() {
			e.ID, e.Count, e.LastOccurTime = fmt.Sprint(i), 1+int(s>>2&7), t+int64(s>>2&7)*60_000
		}
		if cn, ok := strings.CutPrefix(line, "cn:"); ok {
			e.EventInfo, e.EventInfoCN = "", cn
			v2()
		} else if en, zh, ok := strings.Cut(line, "|"); ok {
			e.EventInfo, e.EventInfoCN = en, zh
			v2()
		}
		evs[i] = e
	}
	return evs
}

func FuzzBuild(f *testing.F) {
	for _, name := range []string{
		"seed.json", "insufficient.json", "runtime_after_success.json", "two_deployments.json",
		"implicit.json", "unknown.json", "ties.json", "unsorted.json",
	} {
		var lines []string
		var steps []byte
		prev := int64(0)
		for i, e := range load(f, name) {
			lines = append(lines, e.EventInfo)
			step := byte(1)
			if i > 0 {
				step = byte(min(max((e.OccurTime-prev)/7919, -128), 127))
			}
			steps = append(steps, step)
			prev = e.OccurTime
		}
		text := strings.Join(lines, "\n")
		for _, status := range []string{"deploying", "running", "failed", "pending", "stopped", ""} {
			f.Add(text, steps, status, int64(60_000))
		}
		f.Add(text, steps, "deploying", int64(3_600_000))
	}
	f.Add("start to deploy service\nbuilding image\nFailed to pull image\n[x] starting model\nService x started.", []byte{0x80, 0x7f, 0, 0xff}, "running", int64(-1<<62))
	f.Add("Service starts to deploy\n\nstart to deploy service", []byte{}, "deploying", int64(1<<62))
	// Every documented phrase, in both languages, as one stream and
	// shuffled into a deployment.
	var doc []string
	for _, p := range documented {
		doc = append(doc, p.text)
	}
	for _, status := range []string{"deploying", "failed", "ERROR", "running"} {
		f.Add(strings.Join(doc, "\n"), []byte{1, 2, 4, 9, 0x80, 3}, status, int64(60_000))
	}
	mixed := "start to deploy service\ncn:构建镜像失败。\n[m] build image success\nPod调度失败 Insufficient nvidia.com/gpu\n" +
		"failed to pull image, retry later|拉取镜像失败，请稍后重试\nBack-off pulling image \"x\"\n[m] pull image success\n" +
		"Readiness probe failed: 连接被拒绝\nOOMKilled 内存不足\nService 服务 started.\n服务部署超时，错误信息：服务部署时间超过20分钟，设置为失败。\n" +
		"部署【x】创建失败。\n\xff\xfe 失\xe8败 \xe5\x0a\nＥＲＲＯＲ　失败\nerror失败errorless"
	for _, status := range []string{"deploying", "failed", "ERROR", "stopped"} {
		f.Add(mixed, []byte{4, 0x85, 2, 0xfe, 7, 0, 1}, status, int64(3_600_000))
	}
	f.Add("部署【x】创建失败。", []byte{1}, "failed", int64(0))
	f.Add("Readiness probe failed\ncn:部署【x】创建失败。\nerrorless", []byte{2, 0x1d}, "ERROR", int64(1))

	th := Thresholds{domain.PhaseImageBuild: time.Minute} // the others default
	f.Fuzz(func(t *testing.T, text string, steps []byte, status string, nowDelta int64) {
		evs := fuzzEvents(text, steps)
		last := int64(0)
		for _, e := range evs {
			last = max(last, e.OccurTime)
		}
		service := model.Service{ServiceID: "s", Status: status, ErrorMsg: text, TransitionAt: last + 1}
		if status == model.RawStatusError {
			service.Status, service.RawStatus = model.StatusConcerning, status
		}
		now := ms(last + nowDelta)
		tl := Build(evs, service, now, th)
		checkTimeline(t, evs, tl)
		for _, e := range evs {
			if h, u := HintFor(e); h == "" && u != "" || h != "" && !IsAbnormal(e) {
				t.Fatalf("HintFor(%+v) = %q, %q", e, h, u)
			}
		}
		for _, d := range tl.Deployments {
			if _, err := json.Marshal(d.Summary("p", service, now)); err != nil {
				t.Fatalf("Summary JSON: %v", err)
			}
		}
		if _, err := json.Marshal(RuntimeSummary("p", service, tl.Runtime)); err != nil {
			t.Fatalf("RuntimeSummary JSON: %v", err)
		}
	})
}

// checkTimeline checks the invariants of every timeline.
func checkTimeline(t *testing.T, in []model.Event, tl Timeline) {
	t.Helper()
	distinct := map[model.Event]bool{}
	for _, e := range in {
		distinct[e] = true
	}
	var abnormal []model.Event
	for _, e := range tl.Runtime {
		if IsAbnormal(e) {
			abnormal = append(abnormal, e)
		}
	}
	if !slices.Equal(abnormal, tl.RuntimeAbnormal) {
		t.Fatalf("RuntimeAbnormal = %v; the abnormal runtime events are %v", tl.RuntimeAbnormal, abnormal)
	}
	n := len(tl.Runtime)
	for i, d := range tl.Deployments {
		where := fmt.Sprintf("deployment %d (start %d)", i, d.Start)
		n += len(d.Events)
		if i > 0 && d.Start < tl.Deployments[i-1].Start {
			t.Fatalf("%s: starts before the previous one", where)
		}
		if d.Latest != (i == len(tl.Deployments)-1) {
			t.Fatalf("%s: Latest = %v", where, d.Latest)
		}
		if d.End != 0 && d.End < d.Start {
			t.Fatalf("%s: End %d < Start", where, d.End)
		}
		last := int64(-1 << 63)
		for _, e := range d.Events {
			last = max(last, e.OccurTime, e.LastOccurTime)
		}
		if len(d.Events) == 0 || d.Events[0].OccurTime != d.Start || d.LastEventAt != last {
			t.Fatalf("%s: Start/LastEventAt do not match its events", where)
		}
		switch {
		case d.Phase == PhaseUnknown:
			if !d.Implied {
				t.Fatalf("%s: phase %s, not implied", where, d.Phase)
			}
		case d.Phase != "" && phaseIndex(d.Phase) < 0:
			t.Fatalf("%s: phase %q", where, d.Phase)
		}
		if d.Implied && (!d.Latest || d.Failure == nil || len(d.Events) != 1 || d.Outcome != domain.OutcomeFailed) {
			t.Fatalf("%s: implied, but latest %v failure %v events %d outcome %s", where, d.Latest, d.Failure, len(d.Events), d.Outcome)
		}
		if d.Hint == "" && d.HelpURL != "" {
			t.Fatalf("%s: a help URL without a hint", where)
		}
		// Never backwards: every phase that began before the last one
		// that did (or failed or stalled waiting for it) succeeded.
		lastPhase := -1
		for i, p := range d.Phases {
			if p.Status != domain.PhasePending {
				lastPhase = i
			}
		}
		for i := 0; i < lastPhase; i++ {
			if st := d.Phases[i].Status; st != domain.PhasePending && st != domain.PhaseSucceeded {
				t.Fatalf("%s: phase %s is %s before the later phase %s (%s)", where, d.Phases[i].Name, st,
					d.Phases[lastPhase].Name, d.Phases[lastPhase].Status)
			}
		}
		switch d.Outcome {
		case domain.OutcomeSucceeded, domain.OutcomeFailed, domain.OutcomeStalled, domain.OutcomeInProgress:
		default:
			t.Fatalf("%s: Outcome %q", where, d.Outcome)
		}
		if d.Outcome == domain.OutcomeFailed && d.Failure == nil && !d.Latest {
			t.Fatalf("%s: failed with no failure event, and not Latest", where)
		}
		prevStart := int64(-1 << 63)
		for _, p := range d.Phases {
			if p.Start != 0 && p.End != 0 && p.Start > p.End {
				t.Fatalf("%s: phase %s Start %d > End %d", where, p.Name, p.Start, p.End)
			}
			if p.Start != 0 {
				if p.Start < prevStart {
					t.Fatalf("%s: phase %s starts at %d, before an earlier phase (%d)", where, p.Name, p.Start, prevStart)
				}
				prevStart = p.Start
			}
		}
		for j := 1; j < len(d.Events); j++ {
			if d.Events[j].OccurTime < d.Events[j-1].OccurTime {
				t.Fatalf("%s: events not ascending", where)
			}
		}
		for _, s := range d.Stalls {
			if s.Until != 0 && s.Until < s.Since {
				t.Fatalf("%s: stall %+v ends before it began", where, s)
			}
		}
	}
	if n != len(distinct) {
		t.Fatalf("timeline holds %d events, input has %d distinct ones", n, len(distinct))
	}
}
