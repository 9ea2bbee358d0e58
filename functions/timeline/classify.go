package timeline

import (
	"encoding/hex"
	"strings"
	"unicode"

	"github.com/modelarts-notifier/modelarts-notifier/eventsapi/model"
)

// Phase indexes, in domain.PhaseNames order.
const (
	imageBuild = iota
	environment
	scheduling
	imagePull
	modelStartup
	numPhases
)

// class is what an event's text says, computed once per event.
type class struct {
	start        bool   // a start marker
	phase        int    // the phase the text names, or -1
	marker       bool   // it may begin an implicit deployment (a phase marker, or done)
	end          bool   // it names phase with a success word: that phase ended
	done         bool   // model startup ended: the deployment succeeded
	failWord     bool   // failure wording, retried or not
	failure      bool   // IsFailure: failure wording that is not retried, or final
	retry        bool   // retry wording (or a condition ModelArts or Kubernetes retries)
	insufficient bool   // insufficient resources: abnormal, retried, not a failure
	abnormal     bool   // IsAbnormal
	hint         hintID // HintFor; hintNone unless abnormal
}

// classify classifies one event.
func classify(e model.Event) class {
	// event_info is classified; event_info_cn (v2's Chinese text) when
	// event_info is empty or matches no row.
	r := table.scan(e.EventInfo)
	if r.kinds&^kStructure == 0 && r.phase == 0 && e.EventInfoCN != "" {
		r = table.scan(e.EventInfoCN)
	}
	return classOf(r, e.EventType)
}

// classOf applies the rules to what a text matched.
func classOf(r scanned, eventType string) class {
	c := class{phase: int(r.phase) - 1}
	has := func(k kind) bool { return r.kinds&k != 0 }
	c.insufficient = has(kInsufficient)
	c.retry = has(kRetry)
	c.failWord = has(kFailure)
	c.failure = c.failWord && (has(kTerminal) || !c.insufficient && !c.retry)
	c.abnormal = c.failWord || has(kAbnormal|kRetry|kInsufficient) ||
		strings.EqualFold(eventType, model.EventTypeAbnormal) ||
		strings.EqualFold(eventType, model.EventTypeWarning)
	if c.abnormal {
		c.hint = r.hint
		if c.hint == hintNone && c.phase >= 0 {
			c.hint = phaseHints[c.phase]
		}
	}
	if has(kStart) {
		c.start, c.phase = true, -1
		return c
	}
	strong := has(kPhase)
	if c.phase < 0 && has(kCreat) && has(kImage) {
		c.phase, strong = imageBuild, true
	}
	c.marker = c.phase >= 0 && strong
	if has(kFailure | kRetry | kInsufficient | kAbnormal) {
		// Trouble ends nothing ("The model warmup task status is not
		// successful").
		return c
	}
	started := has(kStarted)
	success := has(kSuccess)
	if strong {
		// "... task started successfully" begins the phase it names:
		// the success word qualifies "started".
		c.end = (success && !started) || (c.phase == imageBuild && has(kCreated))
	}
	// Wording that says the service runs ("started", "is running",
	// "deployed successfully") ends the deployment only when it is about
	// model startup or the service itself: "Image build task started
	// successfully" or "Instance 0 is running" says nothing of the
	// deployment's outcome. A text that begins with "Service" is about the
	// service even when its name holds a phase noun ("Service pull-worker
	// is running."). "The service is being started." has started nothing.
	running := has(kRunning) && !has(kRunningOut)
	lastStarted := r.lastStarted && !has(kBeing)
	serviceWide := c.phase == modelStartup && strong || r.servicePrefix ||
		c.phase < 0 && has(kService|kDeploy)
	c.done = (c.phase == modelStartup && c.end) || serviceWide && (running || lastStarted ||
		(started && success) || (success && has(kDeploy)))
	if c.done && c.phase != modelStartup {
		// The phase noun was in the service's name.
		c.phase, c.end = -1, false
	}
	c.marker = c.marker || c.done
	return c
}

// IsFailure reports whether e's text says a deployment failed: failure
// wording (the whole words fail, fails, failed, failing, failure(s),
// error(s), "timed out"; Chinese 失败, 超时) that is not about insufficient
// resources and does not say it is retried ("retry later", "稍后重试",
// "Back-off", "will be restarted", Kubernetes' own retried conditions),
// or final wording whatever else the text says ("deployment timed out",
// 设置为失败, 创建失败, 服务部署失败, 服务部署超时, 部署时间超过). The rows
// are in markers.go; see the package documentation.
func IsFailure(e model.Event) bool { return classify(e).failure }

// IsAbnormal reports whether e is abnormal: its event_type is "abnormal" or
// "warning" (in any case), or its text has failure wording (retried or
// not), retry wording, insufficient-resource wording or other abnormal
// wording of the marker table (markers.go).
func IsAbnormal(e model.Event) bool { return classify(e).abnormal }

// IsStart reports whether e's text is a deployment start marker.
func IsStart(e model.Event) bool { return classify(e).start }

// HintFor returns what to do about an abnormal event e: a short hint and,
// where Huawei documents one, a troubleshooting page: the English (en-us)
// page, or the Chinese (zh-cn) one when the text shown (event_info, else
// event_info_cn) is Chinese; a page in the other language when that is
// the only one. Both are empty for an event that is not abnormal or whose
// text no hint row (or phase) of the marker table covers.
func HintFor(e model.Event) (hint, helpURL string) {
	h := hintRef{classify(e).hint, chinese(textOf(e))}
	return h.text(), h.url()
}

// chinese reports whether s holds Chinese (Han) characters.
func chinese(s string) bool {
	for _, r := range s {
		if r >= 0x80 && unicode.Is(unicode.Han, r) {
			return true
		}
	}
	return false
}

// Fingerprint returns a short stable hash of e, 16 hex digits, for
// recognising an event already seen; checkpoints store it, so it must never
// change. For a v1 event (ID empty) it is FNV-1a (64-bit) over the type, a
// NUL, the text, a NUL and the time's 8 big-endian bytes. For a v2 record
// (ID set) it is FNV-1a over the byte 0xff (which no v1 type begins with), the
// ID, a NUL and LastOccurTime's 8 big-endian bytes: the record's identity
// and its last occurrence, so a repeat of it (a later update_at) is a
// changed record, and a translation of its text changes nothing.
func Fingerprint(e model.Event) string {
	const (
		offset = 14695981039346656037
		prime  = 1099511628211
	)
	h := uint64(offset)
	add := func(b byte) { h = (h ^ uint64(b)) * prime }
	addString := func(s string) {
		for i := 0; i < len(s); i++ {
			add(s[i])
		}
		add(0)
	}
	addTime := func(t int64) {
		for shift := 56; shift >= 0; shift -= 8 {
			add(byte(uint64(t) >> shift))
		}
	}
	if e.ID != "" {
		add(0xff)
		addString(e.ID)
		addTime(e.LastOccurTime)
	} else {
		addString(e.EventType)
		addString(e.EventInfo)
		addTime(e.OccurTime)
	}
	var raw [8]byte
	for i := range raw {
		raw[i] = byte(h >> (56 - 8*i))
	}
	var out [16]byte
	hex.Encode(out[:], raw[:])
	return string(out[:])
}

// parseModel finds the model name in a text: "[TF 3.0.0] ...", "... for
// model [TF 3.0.0]" or "model (TF 3.0.0) ...". It returns "" when there is
// none (or it is implausibly long).
func parseModel(s string) string {
	const maxLen = 128
	if i := strings.IndexByte(s, '['); i >= 0 {
		if j := strings.IndexByte(s[i+1:], ']'); j > 0 {
			if m := strings.TrimSpace(s[i+1 : i+1+j]); m != "" && len(m) <= maxLen {
				return m
			}
		}
	}
	if i := indexFold(s, "model ("); i >= 0 {
		rest := s[i+len("model ("):]
		if j := strings.IndexByte(rest, ')'); j > 0 {
			if m := strings.TrimSpace(rest[:j]); m != "" && len(m) <= maxLen {
				return m
			}
		}
	}
	return ""
}

// The matching helpers below fold ASCII case only and do not allocate.

func lower(b byte) byte {
	if 'A' <= b && b <= 'Z' {
		return b + 'a' - 'A'
	}
	return b
}

// indexFold returns the index of the lower-case needle in s, ignoring ASCII
// case, or -1.
func indexFold(s, needle string) int {
	n := len(needle)
	if n == 0 {
		return 0
	}
	first := needle[0]
	for i := 0; i+n <= len(s); i++ {
		if lower(s[i]) != first {
			continue
		}
		j := 1
		for j < n && lower(s[i+j]) == needle[j] {
			j++
		}
		if j == n {
			return i
		}
	}
	return -1
}

// isWordByte reports whether the lower-cased byte b belongs to a word: ASCII
// letters, digits and '_', and any byte of a multi-byte UTF-8 character.
func isWordByte(b byte) bool {
	return 'a' <= b && b <= 'z' || '0' <= b && b <= '9' || b == '_' || b >= 0x80
}
