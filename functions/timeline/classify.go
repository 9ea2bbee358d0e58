package timeline

import (
	"bytes"
	"encoding/hex"
	"strings"

	"github.com/modelarts-notifier/modelarts-notifier/eventsapi"
)

// Phase indexes, in notifier.PhaseNames order.
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
	start        bool // a start marker
	phase        int  // the phase the text names, or -1
	end          bool // it names phase with a success word: that phase ended
	done         bool // model startup ended: the deployment succeeded
	failure      bool // IsFailure
	insufficient bool // "insufficient": abnormal, retried, not a failure
	abnormal     bool // IsAbnormal
}

// marker reports whether the event carries a phase marker (begins or ends a
// phase), which is what lets it begin an implicit deployment.
func (c class) marker() bool { return c.phase >= 0 || c.done }

var (
	startMarkers = needles("start to deploy", "starts to deploy", "start deploying", "starting to deploy",
		"started to deploy", "begin to deploy", "begins to deploy")
	// phaseNouns are checked from the last phase to the first; the first hit wins.
	phaseNouns = [numPhases][][]byte{
		imageBuild:   needles("building image", "build image", "image build", "image starts to create", "image creat"),
		environment:  needles("environment"),
		scheduling:   needles("schedul", "insufficient"),
		imagePull:    needles("pull"),
		modelStartup: needles("starting model", "start model", "model start", "starting the model", "start the model", "start service"),
	}
	abnormalWording = needles("insufficient", "quota exceed", "exceeds the upper limit", "stopped because", "out of memory", "unhealthy")
	insufficient    = []byte("insufficient")
	creat           = []byte("creat")
	image           = []byte("image")
	deploy          = []byte("deploy")
	service         = []byte("service")
	servicePrefix   = []byte("service ")
)

func needles(s ...string) [][]byte {
	out := make([][]byte, len(s))
	for i, x := range s {
		out[i] = []byte(x)
	}
	return out
}

// classifier classifies events, reusing one buffer for their lower-cased text.
type classifier struct{ buf []byte }

func (k *classifier) classify(e eventsapi.Event) class {
	k.buf = appendLower(k.buf[:0], e.EventInfo)
	s := k.buf
	w := scanWords(s)
	c := class{phase: -1}
	c.insufficient = bytes.Contains(s, insufficient)
	c.failure = w.failure && !c.insufficient
	c.abnormal = w.failure || strings.EqualFold(e.EventType, eventsapi.EventTypeAbnormal) ||
		containsAny(s, abnormalWording)
	if containsAny(s, startMarkers) {
		c.start = true
		return c
	}
	for p := numPhases - 1; p >= 0; p-- {
		if containsAny(s, phaseNouns[p]) {
			c.phase = p
			break
		}
	}
	if c.phase < 0 && bytes.Contains(s, creat) && bytes.Contains(s, image) {
		c.phase = imageBuild
	}
	if c.failure {
		return c
	}
	if c.phase >= 0 && !c.insufficient {
		// "... task started successfully" begins the phase it names:
		// the success word qualifies "started".
		c.end = (w.success && !w.started) || (c.phase == imageBuild && w.created)
	}
	// Wording that says the service runs ("started", "is running",
	// "deployed successfully") ends the deployment only when it is about
	// model startup or the service itself: "Image build task started
	// successfully" or "Instance 0 is running" says nothing of the
	// deployment's outcome. A text that begins with "Service" is about the
	// service even when its name holds a phase noun ("Service pull-worker
	// is running.").
	serviceWide := c.phase == modelStartup || bytes.HasPrefix(s, servicePrefix) ||
		c.phase < 0 && (bytes.Contains(s, service) || bytes.Contains(s, deploy))
	c.done = (c.phase == modelStartup && c.end) || serviceWide && (w.running || w.lastStarted ||
		(w.started && w.success) || (w.success && bytes.Contains(s, deploy)))
	if c.done && c.phase != modelStartup {
		// The phase noun was in the service's name.
		c.phase, c.end = -1, false
	}
	return c
}

// classify classifies one event with a buffer of its own.
func classify(e eventsapi.Event) class {
	var k classifier
	return k.classify(e)
}

// IsFailure reports whether e's text says a deployment failed: the whole
// word fail, fails, failed, failing, failure(s) or error(s), or the words
// "timed out", in any case, in a text that is not about insufficient
// resources (ModelArts retries those; see the package documentation).
func IsFailure(e eventsapi.Event) bool { return classify(e).failure }

// IsAbnormal reports whether e is abnormal: its event_type is "abnormal" (in
// any case), or its text has failure wording (as IsFailure, including
// insufficient resources) or other abnormal wording from the ModelArts user
// guide ("insufficient", "quota exceed", "exceeds the upper limit", "stopped
// because", "out of memory", "unhealthy").
func IsAbnormal(e eventsapi.Event) bool { return classify(e).abnormal }

// IsStart reports whether e's text is a deployment start marker.
func IsStart(e eventsapi.Event) bool { return classify(e).start }

// words is what the whole words of a text say.
type words struct {
	failure     bool // fail, failed, ..., error(s), "timed out"
	success     bool // success, succeeded, ..., completed, done, finished
	created     bool // created, built
	started     bool // started
	lastStarted bool // the last word is "started" ("Service xxx started.")
	running     bool // "is running", not followed by "out"
}

// scanWords reads the words of the lower-cased text s in one pass.
func scanWords(s []byte) words {
	var w words
	var prev, last []byte
	for i := 0; i < len(s); {
		for i < len(s) && !isWordByte(s[i]) {
			i++
		}
		j := i
		for j < len(s) && isWordByte(s[j]) {
			j++
		}
		if i == j {
			break
		}
		word := s[i:j]
		i = j
		if string(prev) == "running" && string(last) == "is" {
			w.running = w.running || string(word) != "out"
		}
		switch string(word) {
		case "fail", "fails", "failed", "failing", "failure", "failures", "error", "errors":
			w.failure = true
		case "out":
			w.failure = w.failure || string(prev) == "timed"
		case "success", "succeeded", "successful", "successfully", "succeed", "succeeds",
			"completed", "complete", "done", "finished":
			w.success = true
		case "created", "built":
			w.created = true
		case "started":
			w.started = true
		}
		last, prev = prev, word
	}
	if string(prev) == "running" && string(last) == "is" {
		w.running = true // "is running" at the end
	}
	w.lastStarted = string(prev) == "started"
	return w
}

// Fingerprint returns a short stable hash of e (its type, text and time), 16
// hex digits, for recognising an event already seen. It is FNV-1a (64-bit)
// over the type, a NUL, the text, a NUL and the time's 8 big-endian bytes; it
// must never change, since checkpoints store it.
func Fingerprint(e eventsapi.Event) string {
	const (
		offset = 14695981039346656037
		prime  = 1099511628211
	)
	h := uint64(offset)
	add := func(b byte) { h = (h ^ uint64(b)) * prime }
	for i := 0; i < len(e.EventType); i++ {
		add(e.EventType[i])
	}
	add(0)
	for i := 0; i < len(e.EventInfo); i++ {
		add(e.EventInfo[i])
	}
	add(0)
	for shift := 56; shift >= 0; shift -= 8 {
		add(byte(uint64(e.OccurTime) >> shift))
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

// appendLower appends s to dst with ASCII letters in lower case.
func appendLower(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		dst = append(dst, lower(s[i]))
	}
	return dst
}

func containsAny(s []byte, needles [][]byte) bool {
	for _, n := range needles {
		if bytes.Contains(s, n) {
			return true
		}
	}
	return false
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
