package timeline

import (
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

var startMarkers = []string{
	"start to deploy", "starts to deploy", "start deploying", "starting to deploy",
	"started to deploy", "begin to deploy", "begins to deploy",
}

// phaseNouns are checked from the last phase to the first; the first hit wins.
var phaseNouns = [numPhases][]string{
	imageBuild:   {"building image", "build image", "image build", "image starts to create", "image creat"},
	environment:  {"environment"},
	scheduling:   {"schedul", "insufficient"},
	imagePull:    {"pull"},
	modelStartup: {"starting model", "start model", "model start", "starting the model", "start the model", "start service"},
}

var successWords = []string{
	"success", "succeeded", "successful", "successfully", "succeed", "succeeds",
	"completed", "complete", "done", "finished",
}

var failureWords = []string{"fail", "fails", "failed", "failing", "failure", "failures", "error", "errors"}

var abnormalWording = []string{"insufficient", "quota exceed", "exceeds the upper limit", "stopped because", "out of memory", "unhealthy"}

func classify(e eventsapi.Event) class {
	s := e.EventInfo
	c := class{phase: -1}
	c.insufficient = containsFold(s, "insufficient")
	failureWording := hasFailureWording(s)
	c.failure = failureWording && !c.insufficient
	c.abnormal = failureWording || strings.EqualFold(e.EventType, eventsapi.EventTypeAbnormal) ||
		containsAnyFold(s, abnormalWording)
	if containsAnyFold(s, startMarkers) {
		c.start = true
		return c
	}
	for p := numPhases - 1; p >= 0; p-- {
		if containsAnyFold(s, phaseNouns[p]) {
			c.phase = p
			break
		}
	}
	if c.phase < 0 && containsFold(s, "creat") && containsFold(s, "image") {
		c.phase = imageBuild
	}
	if c.failure {
		return c
	}
	success := hasWordFold(s, successWords...)
	if c.phase >= 0 && !c.insufficient {
		c.end = success || (c.phase == imageBuild && hasWordFold(s, "created", "built"))
	}
	c.done = (c.phase == modelStartup && c.end) ||
		isRunning(s) ||
		lastWordFold(s, "started") ||
		(hasWordFold(s, "started") && success) ||
		(containsFold(s, "deploy") && success)
	return c
}

// IsFailure reports whether e's text says a deployment failed: the whole
// word fail, fails, failed, failing, failure(s) or error(s), or the words
// "timed out", in any case, in a text that is not about insufficient
// resources (ModelArts retries those; see the package documentation).
func IsFailure(e eventsapi.Event) bool {
	return !containsFold(e.EventInfo, "insufficient") && hasFailureWording(e.EventInfo)
}

// IsAbnormal reports whether e is abnormal: its event_type is "abnormal" (in
// any case), or its text has failure wording (as IsFailure, including
// insufficient resources) or other abnormal wording from the ModelArts user
// guide ("insufficient", "quota exceed", "exceeds the upper limit", "stopped
// because", "out of memory", "unhealthy").
func IsAbnormal(e eventsapi.Event) bool {
	return strings.EqualFold(e.EventType, eventsapi.EventTypeAbnormal) ||
		hasFailureWording(e.EventInfo) || containsAnyFold(e.EventInfo, abnormalWording)
}

// IsStart reports whether e's text is a deployment start marker.
func IsStart(e eventsapi.Event) bool { return containsAnyFold(e.EventInfo, startMarkers) }

func hasFailureWording(s string) bool {
	return hasWordFold(s, failureWords...) || hasWordPairFold(s, "timed", "out")
}

// isRunning reports whether s has the words "is running" not followed by
// "out" ("is running out of memory" is not a success).
func isRunning(s string) bool {
	prev := ""
	for w, i := nextWord(s, 0); w != ""; w, i = nextWord(s, i) {
		if strings.EqualFold(prev, "is") && strings.EqualFold(w, "running") {
			if next, _ := nextWord(s, i); !strings.EqualFold(next, "out") {
				return true
			}
		}
		prev = w
	}
	return false
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

// The matching helpers below fold ASCII case only and do not allocate; the
// needles are lower-case ASCII.

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

func containsFold(s, needle string) bool { return indexFold(s, needle) >= 0 }

func containsAnyFold(s string, needles []string) bool {
	for _, n := range needles {
		if indexFold(s, n) >= 0 {
			return true
		}
	}
	return false
}

// isWordByte reports whether b belongs to a word: ASCII letters, digits and
// '_', and any byte of a multi-byte UTF-8 character.
func isWordByte(b byte) bool {
	return 'a' <= lower(b) && lower(b) <= 'z' || '0' <= b && b <= '9' || b == '_' || b >= 0x80
}

// nextWord returns the next word of s at or after i and the index after it;
// w is "" at the end.
func nextWord(s string, i int) (w string, next int) {
	for i < len(s) && !isWordByte(s[i]) {
		i++
	}
	j := i
	for j < len(s) && isWordByte(s[j]) {
		j++
	}
	return s[i:j], j
}

// hasWordFold reports whether any of words is a whole word of s.
func hasWordFold(s string, words ...string) bool {
	for w, i := nextWord(s, 0); w != ""; w, i = nextWord(s, i) {
		for _, want := range words {
			if strings.EqualFold(w, want) {
				return true
			}
		}
	}
	return false
}

// hasWordPairFold reports whether the word a is directly followed by the word
// b in s (whatever separates them).
func hasWordPairFold(s, a, b string) bool {
	prev := false
	for w, i := nextWord(s, 0); w != ""; w, i = nextWord(s, i) {
		if prev && strings.EqualFold(w, b) {
			return true
		}
		prev = strings.EqualFold(w, a)
	}
	return false
}

// lastWordFold reports whether the last word of s is word.
func lastWordFold(s, word string) bool {
	j := len(s)
	for j > 0 && !isWordByte(s[j-1]) {
		j--
	}
	i := j
	for i > 0 && isWordByte(s[i-1]) {
		i--
	}
	return strings.EqualFold(s[i:j], word)
}
