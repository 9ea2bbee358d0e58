package timeline

import (
	"strings"
	"testing"

	"github.com/modelarts-notifier/modelarts-notifier/eventsapi/model"
	"github.com/modelarts-notifier/modelarts-notifier/notifier/domain"
)

// sourceKeys are the source keys of shared/MODELARTS-EVENT-TEXT.md, plus
// PRODUCT.md and "variant" (console variations the product always
// accepted).
var sourceKeys = map[string]bool{
	"A1": true, "A2": true, "U1": true, "U2": true, "U3": true,
	"T1": true, "T2": true, "T3": true, "T4": true, "T5": true, "T6": true, "T7": true, "T8": true,
	"T9": true, "T10": true, "T11": true, "E1": true, "M1": true,
	"K1": true, "K2": true, "K3": true, "K4": true, "S1": true, "S2": true, "S3": true, "S4": true,
	"PRODUCT.md": true, "variant": true,
}

func checkSources(t *testing.T, what, source string) {
	t.Helper()
	if source == "" {
		t.Errorf("%s: no source", what)
	}
	for _, k := range strings.Fields(source) {
		if !sourceKeys[k] {
			t.Errorf("%s: unknown source key %q", what, k)
		}
	}
}

// Every row fires on the documented phrase it cites (alone, as a table of
// one row), and cites a source.
func TestMarkerRows(t *testing.T) {
	seen := map[string]bool{}
	for _, r := range markers {
		key := r.text
		if r.word {
			key += " (word)"
		}
		if seen[key] {
			t.Errorf("row %q given twice", key)
		}
		seen[key] = true
		checkSources(t, "row "+key, r.source)
		if r.text != strings.ToLower(r.text) {
			t.Errorf("row %q is not lower-case", r.text)
		}
		if r.example == "" {
			t.Errorf("row %q: no example", r.text)
			continue
		}
		one := compile([]marker{r})
		if got := one.scan(r.example); got.kinds == 0 && got.phase == 0 {
			t.Errorf("row %q does not match its example %q", key, r.example)
		}
		if r.kinds&kWeak != 0 && r.phase == noPhase {
			t.Errorf("row %q: weak without a phase", r.text)
		}
		if r.kinds&kPhase != 0 && r.phase == noPhase {
			t.Errorf("row %q: kPhase without a phase", r.text)
		}
	}
}

func TestHints(t *testing.T) {
	used := map[hintID]bool{}
	for _, r := range markers {
		used[r.hint] = true
	}
	for _, h := range phaseHints {
		used[h] = true
	}
	for id := hintNone + 1; id < numHints; id++ {
		h := hints[id]
		if h.text == "" || len(h.text) > 200 {
			t.Errorf("hint %d: text %q (want a short hint)", id, h.text)
		}
		if h.en != "" && !strings.HasPrefix(h.en, "https://support.huaweicloud.com/intl/en-us/") {
			t.Errorf("hint %d: English page %q is not on the international site's en-us pages", id, h.en)
		}
		if h.zh != "" && (!strings.HasPrefix(h.zh, "https://support.huaweicloud.com/") || strings.Contains(h.zh, "/intl/")) {
			t.Errorf("hint %d: Chinese page %q is not on the Chinese site", id, h.zh)
		}
		checkSources(t, "hint "+h.text, h.source)
		if !used[id] {
			t.Errorf("hint %d (%q) is used by no row", id, h.text)
		}
	}
}

// label names what classify says of a text, for the tables below.
func label(c class) string {
	switch {
	case c.start:
		return "start"
	case c.failure:
		return "failure"
	case c.failWord:
		return "retried" // failure wording, but retried: abnormal
	case c.abnormal:
		return "abnormal"
	case c.done:
		return "done"
	case c.end:
		return "end"
	case c.phase >= 0:
		return "begin"
	}
	return "normal"
}

func phaseName(p int) string {
	if p < 0 {
		return ""
	}
	return domain.PhaseNames[p]
}

type phrase struct {
	source, lang, text string
	class, phase       string
	hint               hintID
}

// documented is every phrase of shared/MODELARTS-EVENT-TEXT.md, in its
// order, with what it must be classified as (on its wording alone: the
// event type is normal). Placeholders are the document's own.
var documented = []phrase{
	// The API example (A1) and the legacy console (U1).
	{"A1", "en", "start to deploy service", "start", "", hintNone},
	{"A1", "en", "building image for model [TF 3.0.0]", "begin", domain.PhaseImageBuild, hintNone},
	{"A1", "en", "model (TF 3.0.0) build image success", "end", domain.PhaseImageBuild, hintNone},
	{"A1", "en", "preparing environment", "begin", domain.PhaseEnvironment, hintNone},
	{"A1", "en", "[TF 3.0.0] prepare environment success", "end", domain.PhaseEnvironment, hintNone},
	{"A1", "en", "[TF 3.0.0] schedule resource success", "end", domain.PhaseScheduling, hintNone},
	{"A1", "en", "[TF 3.0.0] pulling model image", "begin", domain.PhaseImagePull, hintNone},
	{"A1", "en", "[TF 3.0.0] pull image success", "end", domain.PhaseImagePull, hintNone},
	{"A1", "en", "[TF 3.0.0] starting model", "begin", domain.PhaseModelStartup, hintNone},
	{"U1", "en", "The service starts to deploy.", "start", "", hintNone},
	{"U1", "en", "Insufficient resources. Wait until idle resources are sufficient.", "abnormal", domain.PhaseScheduling, hintInsufficient},
	{"U1", "en", "Insufficient xxx. The scheduling failed. Supplementary information: xxx", "retried", domain.PhaseScheduling, hintInsufficient},
	{"U1", "en", "The image starts to create.", "begin", domain.PhaseImageBuild, hintNone},
	{"U1", "en", "Failed to create model image xxx. For details, see logs :\nxxx.", "failure", domain.PhaseImageBuild, hintImageBuild},
	{"U1", "en", "Failed to create the image.", "failure", domain.PhaseImageBuild, hintImageBuild},
	{"U1", "en", "The image created.", "end", domain.PhaseImageBuild, hintNone},
	{"U1", "en", "Service xxx failed. Error: xxx", "failure", "", hintNone},
	{"U1", "en", "Failed to update the service. Perform a rollback.", "failure", "", hintNone},
	{"U1", "en", "The service is being updated.", "normal", "", hintNone},
	{"U1", "en", "The service is being started.", "normal", "", hintNone},
	{"U1", "en", "The service is being stopped.", "normal", "", hintNone},
	{"U1", "en", "The service has been stopped.", "normal", "", hintNone},
	{"U1", "en", "Auto stop has been disabled.", "normal", "", hintNone},
	{"U1", "en", "Auto stop has been enabled. The service will stop after 3600s.", "normal", "", hintNone},
	{"U1", "en", "The service stops when the auto stop time expires.", "normal", "", hintNone},
	{"U1", "en", "The service is stopped because the quota exceeds the upper limit.", "abnormal", "", hintQuota},
	{"U1", "en", "Failed to automatically stop the service. Error: xxx", "failure", "", hintNone},
	{"U1", "en", "Service instances deleted from resource pool xxx.", "normal", "", hintNone},
	{"U1", "en", "Service instances stopped in resource pool xxx.", "normal", "", hintNone},
	{"U1", "en", "The batch service failed. Try again later. Error: xxx", "retried", "", hintNone},
	{"U1", "en", "The service has been executed.", "normal", "", hintNone},
	{"U1", "en", "Failed to stop the service. Error: xxx", "failure", "", hintNone},
	{"U1", "en", "The subscription license xxx is to expire.", "normal", "", hintNone},
	{"U1", "en", "Service xxx started.", "done", "", hintNone},
	{"U1", "en", "Failed to start service xxx.", "failure", domain.PhaseModelStartup, hintStartFailed},
	{"U1", "en", "Service deployment timed out. Error: xxx", "failure", "", hintTimeout},
	{"U1", "en", "Failed to update the service. The update has been rolled back.", "failure", "", hintRolledBack},
	{"U1", "en", "Failed to update the service. The rollback failed.", "failure", "", hintRollback},

	// Troubleshooting pages (English).
	{"T1", "en", "Schedule failed due to insufficient resources. Retry later.", "retried", domain.PhaseScheduling, hintInsufficient},
	{"T1", "en", "ModelArts.3976: No resources are available for the selected specification.", "abnormal", domain.PhaseScheduling, hintInsufficient},
	{"T1", "en", "insufficient CPU", "abnormal", domain.PhaseScheduling, hintInsufficient},
	{"T1", "en", "insufficient memory", "abnormal", domain.PhaseScheduling, hintInsufficient},
	{"T1", "en", "x node(s) had taint {node.kubernetes.io/disk-pressure: }", "abnormal", domain.PhaseScheduling, hintInsufficient},
	{"T1", "en", "No space", "abnormal", domain.PhaseScheduling, hintInsufficient},
	{"T2", "en", "failed to pull image, retry later", "retried", domain.PhaseImagePull, hintImagePull},
	{"T3", "en", "Failed to start the pod container in deployment [%s].", "retried", domain.PhaseModelStartup, hintPodStart},
	{"T4", "en", "Service error. There are XXX abnormal instances.", "retried", "", hintAbnormalInstances},
	{"T10", "en", "No Module named XXX", "failure", domain.PhaseModelStartup, hintNoModule},
	{"T10", "en", "ModuleNotFoundError: No module named 'model_service.tfserving_model_service'", "failure", domain.PhaseModelStartup, hintNoModule},
	{"T6", "en", "upgrade rollback failure and insufficient resources", "retried", domain.PhaseScheduling, hintRollback},
	{"T8", "en", "ModelArts.8504: The model warmup file does not exist", "abnormal", domain.PhaseModelStartup, hintWarmup},
	{"T8", "en", "ModelArts.8505: The model warmup task status is not successful", "abnormal", domain.PhaseModelStartup, hintWarmup},
	{"E1", "en", "Insufficient resources. Please try later.", "abnormal", domain.PhaseScheduling, hintInsufficient},

	// New-version console and troubleshooting (Chinese).
	{"U2", "zh", "服务部署失败，%s。", "failure", "", hintNone},
	{"U2", "zh", "服务部署超时，错误信息：服务部署时间超过%s分钟，设置为失败。", "failure", "", hintTimeout},
	{"U2", "zh", "服务删除失败，当前状态：%s，%s。", "failure", "", hintNone},
	{"U2", "zh", "批量服务删除失败，%s。", "failure", "", hintNone},
	{"T5", "zh", "部署【XXX】创建失败。", "failure", "", hintNone},
	{"T5", "zh", "部署【XXX】创建失败。部署时间超过20分钟", "failure", "", hintTimeout},
	{"T5", "zh", "部署【XXX】创建失败。资源池资源不足", "failure", domain.PhaseScheduling, hintInsufficient},
	{"T5", "zh", "部署【XXX】创建失败。DEW凭据不存在", "failure", "", hintDEW},
	{"T5", "zh", "部署【XXX】创建失败。DEW凭据中未解析到AK/SK或者解析到的AK/SK不可用", "failure", "", hintDEW},
	{"T5", "zh", "部署【XXX】创建失败。sfs turbo 不可用", "failure", "", hintStorage},
	{"T4", "zh", "服务异常，不正常的实例数为XXX", "abnormal", "", hintAbnormalInstances},
	{"T6", "zh", "升级回滚失败", "failure", "", hintRollback},
	{"T6", "zh", "资源不足", "abnormal", domain.PhaseScheduling, hintInsufficient},
	{"T7", "zh", "Pod调度失败", "failure", domain.PhaseScheduling, hintAffinity},
	{"T7", "en", "0/3 nodes are available: 3 node(s) didn't match pod affinity rules.", "abnormal", domain.PhaseScheduling, hintInsufficient},
	{"T7", "en", "didn't match pod affinity rules", "abnormal", domain.PhaseScheduling, hintAffinity},
	{"T7", "en", "Insufficient", "abnormal", domain.PhaseScheduling, hintInsufficient},
	{"T9", "zh", "提示拉取镜像失败", "failure", domain.PhaseImagePull, hintImagePull},
	{"T9", "zh", "提示资源不足，服务调度失败", "retried", domain.PhaseScheduling, hintInsufficient},
	{"T9", "zh", "提示内存不足", "abnormal", domain.PhaseModelStartup, hintOOM},
	{"T9", "zh", "服务启动失败", "failure", domain.PhaseModelStartup, hintStartFailed},
	{"E1", "zh", "资源不足，请稍后重试。", "abnormal", domain.PhaseScheduling, hintInsufficient},
	{"M1", "zh", "构建镜像失败。", "failure", domain.PhaseImageBuild, hintImageBuild},
	{"M1", "en", "Failed to build the image.", "failure", domain.PhaseImageBuild, hintImageBuild},
	{"M1", "zh+en", "构建镜像失败。 Failed to build the image.", "failure", domain.PhaseImageBuild, hintImageBuild},

	// Kubernetes (pod level).
	{"K1", "en", `Failed to pull image "swr.cn-north-4.myhuaweicloud.com/x/y:1": rpc error: code = Unknown desc = manifest unknown`, "retried", domain.PhaseImagePull, hintImagePull},
	{"K1", "en", "Error: ErrImagePull", "retried", domain.PhaseImagePull, hintImagePull},
	{"K1", "en", "Error: ImagePullBackOff", "retried", domain.PhaseImagePull, hintImagePull},
	{"K1", "en", `Back-off pulling image "<image>"`, "abnormal", domain.PhaseImagePull, hintImagePull},
	{"K2", "en", "OOMKilled", "abnormal", domain.PhaseModelStartup, hintOOM},
	{"K2", "en", "Out of memory", "abnormal", domain.PhaseModelStartup, hintOOM},
	{"K2", "en", "Back-off restarting failed container", "retried", domain.PhaseModelStartup, hintCrashLoop},
	{"K2", "en", "CrashLoopBackOff", "abnormal", domain.PhaseModelStartup, hintCrashLoop},
	{"K3", "en", "Liveness probe failed: HTTP probe failed with statuscode: 500", "retried", domain.PhaseModelStartup, hintProbe},
	{"K4", "en", "Container app-container failed liveness probe, will be restarted", "retried", domain.PhaseModelStartup, hintProbe},
	{"K4", "en", `Readiness probe failed: Get "http://10.244.1.25:8080/ready": dial tcp 10.244.1.25:8080: connect: connection refused`, "retried", domain.PhaseModelStartup, hintProbe},
	{"K4", "en", "0/2 nodes are available: 1 Insufficient nvidia.com/gpu, 1 node(s) had taint {node-role.kubernetes.io/master: }.", "abnormal", domain.PhaseScheduling, hintInsufficient},
	{"K4", "en", "0/4 nodes are available: 4 Insufficient nvidia.com/gpu.", "abnormal", domain.PhaseScheduling, hintInsufficient},
	{"K4", "en", `Back-off pulling image "flask-app-2-4-pod:latest"`, "abnormal", domain.PhaseImagePull, hintImagePull},
	{"K4", "en", "FailedScheduling", "abnormal", domain.PhaseScheduling, hintInsufficient},
}

func TestDocumentedPhrases(t *testing.T) {
	for _, p := range documented {
		checkSources(t, p.text, p.source)
		for _, v := range []struct {
			how string
			e   model.Event
		}{
			{"event_info", model.Event{EventType: "normal", EventInfo: p.text}},
			// v2: the same text as event_info_cn with no event_info.
			{"event_info_cn", model.Event{EventType: "normal", EventInfoCN: p.text, ID: "x", Count: 1}},
		} {
			c := classify(v.e)
			if got := label(c); got != p.class {
				t.Errorf("%s %s (%s) %q: class %s, want %s", p.source, p.lang, v.how, p.text, got, p.class)
			}
			if got := phaseName(c.phase); got != p.phase {
				t.Errorf("%s %s (%s) %q: phase %q, want %q", p.source, p.lang, v.how, p.text, got, p.phase)
			}
			if c.hint != p.hint {
				t.Errorf("%s %s (%s) %q: hint %d (%q), want %d (%q)", p.source, p.lang, v.how, p.text,
					c.hint, hints[c.hint].text, p.hint, hints[p.hint].text)
			}
			hint, url := HintFor(v.e)
			if hint != hints[p.hint].text || url != hints[p.hint].url(chinese(p.text)) {
				t.Errorf("HintFor(%q) = %q, %q; want hint %d", p.text, hint, url, p.hint)
			}
		}
	}
}

// Both languages of one documented event classify alike, alone and as one
// v2 record (event_info English, event_info_cn Chinese).
func TestBilingualPairs(t *testing.T) {
	pairs := []struct{ source, en, zh string }{
		{"M1", "Failed to build the image.", "构建镜像失败。"},
		{"E1", "Insufficient resources. Please try later.", "资源不足，请稍后重试。"},
		{"T4", "Service error. There are 2 abnormal instances.", "服务异常，不正常的实例数为2"},
		{"T6", "upgrade rollback failure", "升级回滚失败"},
		{"U2 U1", "Service deployment timed out. Error: xxx", "服务部署超时，错误信息：服务部署时间超过20分钟，设置为失败。"},
	}
	for _, p := range pairs {
		en := classify(ev("abnormal", p.en, 1))
		zh := classify(ev("abnormal", p.zh, 1))
		v2 := classify(model.Event{EventType: "abnormal", EventInfo: p.en, EventInfoCN: p.zh, ID: "1"})
		if en.abnormal != zh.abnormal || en.phase != zh.phase || en.hint != zh.hint || en.failure != zh.failure {
			t.Errorf("%s: %q classifies as %+v, %q as %+v", p.source, p.en, en, p.zh, zh)
		}
		if v2 != en {
			t.Errorf("%s: v2 record classifies as %+v, its event_info as %+v", p.source, v2, en)
		}
	}
	// T4's two languages differ in one respect: the English text says
	// "error" (retried: ModelArts replaces the instances), the Chinese one
	// only 异常; both are abnormal, neither a failure.
}

// event_info_cn counts when event_info matches no row.
func TestClassifyChineseFallback(t *testing.T) {
	e := model.Event{EventType: "normal", EventInfo: "Deployment x: see console", EventInfoCN: "部署【x】创建失败。", ID: "1"}
	if !IsFailure(e) {
		t.Errorf("IsFailure(%+v) = false: event_info has no marker, event_info_cn fails", e)
	}
	e = model.Event{EventType: "normal", EventInfo: "[m] pull image success", EventInfoCN: "拉取镜像失败", ID: "1"}
	if c := classify(e); c.failWord || !c.end {
		t.Errorf("classify(%+v): event_info has a marker, so it alone decides; got %+v", e, c)
	}
}

// Chinese matches substrings; English whole words, also next to Chinese
// text; English rows never match inside a longer word.
func TestWordsAndSubstrings(t *testing.T) {
	tests := []struct {
		info    string
		failure bool
	}{
		{"errorless", false},
		{"error", true},
		{"服务Error：超出", true},   // "Error" next to Chinese is a word
		{"服务errorless", false}, // and "errorless" still is not "error"
		{"部署失败了", true},        // substring
		{"失败error", true},
		{"terror 失败", true},
		{"failover; failsafe; timeout; no_error", false},
		{"timed\t\tout", true},
		{"TIMED-OUT", true},
		{"timedout", false},
		{"超时", true},
	}
	for _, tt := range tests {
		if got := IsFailure(ev("normal", tt.info, 1)); got != tt.failure {
			t.Errorf("IsFailure(%q) = %v, want %v", tt.info, got, tt.failure)
		}
	}
	if got := normalize("Pod调度失败 Back-off  X"); got != "pod 调度失败 back off x" {
		t.Errorf("normalize = %q", got)
	}
}

// Warning events (v2) are abnormal, like abnormal ones.
func TestWarningIsAbnormal(t *testing.T) {
	for _, typ := range []string{model.EventTypeWarning, "WARNING", "abnormal"} {
		if !IsAbnormal(ev(typ, "something new", 1)) {
			t.Errorf("IsAbnormal(type %q) = false", typ)
		}
	}
	if IsAbnormal(ev("normal", "something new", 1)) {
		t.Error("a normal event with unknown text is abnormal")
	}
	if h, u := HintFor(ev("normal", "[m] pull image success", 1)); h != "" || u != "" {
		t.Errorf("HintFor(a normal event) = %q, %q; want none", h, u)
	}
}

func TestAutomatonSize(t *testing.T) {
	if n := len(table.out); n > 1<<16 {
		t.Fatalf("%d states", n)
	}
	t.Logf("%d rows, %d states, %d byte classes, %d KiB", len(markers), len(table.out), table.nclass, len(table.delta)*2/1024)
}

// Issue 17: help links opened a Thai page. An English text links the
// en-us page; a Chinese text the Chinese page when there is one.
func TestHintLanguage(t *testing.T) {
	tests := []struct {
		name string
		e    model.Event
		want string
	}{
		{"english, en page", model.Event{EventType: "abnormal", EventInfo: "Failed to start the pod container in deployment [x]."}, urlT3EN},
		{"english, en and zh pages", model.Event{EventType: "abnormal", EventInfo: "Service error. There are 2 abnormal instances."}, urlT4EN},
		{"chinese, zh page", model.Event{EventType: "abnormal", EventInfo: "服务异常，不正常的实例数为2"}, urlT4ZH},
		{"v2 english text with chinese twin", model.Event{EventType: "abnormal", EventInfo: "Service error. There are 2 abnormal instances.", EventInfoCN: "服务异常，不正常的实例数为2"}, urlT4EN},
		{"v2 chinese only", model.Event{EventType: "abnormal", EventInfoCN: "服务异常，不正常的实例数为2"}, urlT4ZH},
		{"english, only a zh page exists", model.Event{EventType: "abnormal", EventInfo: "Failed to start service svc."}, urlT9ZH},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, got := HintFor(tc.e)
			if got != tc.want {
				t.Fatalf("HintFor = %q, want %q", got, tc.want)
			}
		})
	}
	for id := hintNone + 1; id < numHints; id++ {
		for _, zh := range []bool{false, true} {
			if u := hints[id].url(zh); strings.Contains(u, "th-th") || strings.Contains(u, "es-us") {
				t.Errorf("hint %d links %q", id, u)
			}
		}
	}
}
