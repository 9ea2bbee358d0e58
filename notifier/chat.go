package notifier

// What the chat destinations (Microsoft Teams, Feishu/Lark, DingTalk and
// WeCom) share besides the send stage (send.go): how one is built, and how
// a message is rendered at the first budget that fits the platform's size
// limit. Their view of a summary is view.go's, their errors
// platformerror.go's, their rate limits ratelimit.go's, their escaping
// escape.go's.

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"time"
)

// chatFormat is a chat platform's format: it renders digests too.
type chatFormat interface {
	format
	digester
}

// newChat is a chat destination: f's messages, sent through the send
// stage within the platform's rate windows; pauseFor is how long a "too
// fast" answer stops it. secrets are what, besides the URL's own, no
// error or log line may show.
func newChat(platform string, u *url.URL, f chatFormat, cfg SendConfig, pauseFor time.Duration, windows []rateWindow, secrets []string, logger *slog.Logger) *messenger {
	s := newSender(platform, cfg, logger, "host", u.Hostname()).paced(pauseFor, windows...)
	s.secrets = append(urlSecrets(u), secrets...)
	return newMessenger(s, f)
}

// chatRequest is the POST of a chat message as JSON.
func chatRequest(target string, msg any) (outbound, error) {
	body, err := json.Marshal(msg)
	if err != nil {
		return outbound{}, err
	}
	return outbound{url: target, header: http.Header{"Content-Type": {"application/json; charset=utf-8"}}, body: body}, nil
}

// Budgets of a chat message, from generous to tight: a message is rendered
// at the first that fits the platform's size limit.
var chatBudgets = []viewBudget{
	{events: 10, eventRunes: 500, pods: 10, errorRunes: 1500},
	{events: 5, eventRunes: 300, pods: 5, errorRunes: 800},
	{events: 3, eventRunes: 200, pods: 3, errorRunes: 400},
	{events: 1, eventRunes: 120, pods: 1, errorRunes: 200},
	{events: 0, eventRunes: 0, pods: 0, errorRunes: 120},
}

// chatKindIcon marks a kind in titles and digests.
func chatKindIcon(k Kind) string {
	switch k {
	case KindSucceeded:
		return "✅"
	case KindFailed:
		return "❌"
	case KindStalled:
		return "⏳"
	case KindRecovered:
		return "▶️"
	case KindAbnormal:
		return "⚠️"
	case KindReport:
		return "📋"
	}
	return "🔔"
}

// chatPhaseIcon marks a phase status in the timeline.
func chatPhaseIcon(s PhaseStatus) string {
	switch s {
	case PhaseSucceeded:
		return "✅"
	case PhaseFailed:
		return "❌"
	case PhaseStalled:
		return "⏳"
	case PhaseRunning:
		return "🔄"
	}
	return "⚪"
}

// Digest budgets of a chat message, from generous to tight.
var chatDigestBudgets = []digestBudget{
	{items: 20, eventRunes: 300, lineRunes: chatLineRunes},
	{items: 20, eventRunes: 120, lineRunes: chatLineRunes},
	{items: 10, eventRunes: 80, lineRunes: chatLineRunes},
	{items: 5, eventRunes: 0, lineRunes: chatLineRunes},
	{items: 1, eventRunes: 0, lineRunes: chatLineRunes},
}

// chatLineRunes bounds a digest item's first line in a chat message.
const chatLineRunes = 300

// chatFact is one label and value (not escaped).
type chatFact struct{ Label, Value string }

// chatFacts are the facts a chat message lists, in its order: service,
// status, phase, model, duration, ModelArts status, service id; the
// unknown ones left out.
func chatFacts(v summaryView) []chatFact {
	var facts []chatFact
	for _, f := range []chatFact{
		{"Service", v.Service()},
		{"Status", v.Outcome},
		{"Phase", v.Phase},
		{"Model", v.Model},
		{"Duration", v.Duration},
		{"ModelArts status", v.ModelArts},
		{"Service ID", v.ServiceID},
	} {
		if f.Value != "" {
			facts = append(facts, f)
		}
	}
	return facts
}

// chatDigestTitle is "🔔 7 ModelArts notifications".
func chatDigestTitle(d digestView) string {
	return fmt.Sprintf("🔔 %d ModelArts notifications", d.Count)
}

// chatTimes is a chat message's closing line.
func chatTimes(v summaryView) string { return v.timesLine(func(p string) string { return p }) }

// boundAll is ns with every summary Bounded (a copy), so that a digest,
// rendered at several budgets, bounds each summary once.
func boundAll(ns []Notification) []Notification {
	out := make([]Notification, len(ns))
	for i, n := range ns {
		n.Summary = n.Summary.Bounded()
		out[i] = n
	}
	return out
}

// fitChat renders at the first budget whose message's measured size is
// within limit bytes and reports whether anything was cut. When none fits,
// it returns the last rendering and ok false.
func fitChat[T any](levels int, render func(level int) (msg T, cut bool), size func(any) int, limit int) (msg T, cut, ok bool) {
	for level := range levels {
		msg, cut = render(level)
		if size(msg) <= limit {
			return msg, cut || level > 0, true
		}
	}
	return msg, true, false
}
