package notifier

// Microsoft Teams through a Workflows webhook ("When a Teams webhook request
// is received"), posting an Adaptive Card. The retired Office 365 connector
// format (MessageCard, *.webhook.office.com URLs) is refused.
//
// Sources:
//   - https://learn.microsoft.com/en-us/microsoftteams/platform/webhooks-and-connectors/how-to/add-incoming-webhook
//     (message size limit 28 KB; more than four requests a second are
//     throttled; 429 with retry and backoff)
//   - https://learn.microsoft.com/en-us/connectors/teams/ (Workflows: a
//     posted message is limited to about 28 KB, else "Request Entity Too
//     Large")
//   - https://learn.microsoft.com/en-us/microsoftteams/platform/task-modules-and-cards/cards/cards-reference
//     (the message body: {"type":"message","attachments":[{"contentType":
//     "application/vnd.microsoft.card.adaptive","content":{AdaptiveCard}}]})
//   - https://adaptivecards.io/explorer/ (TextBlock, FactSet, RichTextBlock,
//     TextRun: a TextRun is never parsed as markdown)

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// MaxTeamsBody bounds a Teams request body, in bytes: a margin under the
// documented ~28 KB message limit, which counts the rendered message.
const MaxTeamsBody = 24 << 10

// TeamsConfig configures a Microsoft Teams Workflows webhook
// (TEAMS_WEBHOOK_URLS).
type TeamsConfig struct {
	// URL is the Workflows webhook URL (it carries its credential, sig=...):
	// a secret, never in errors or logs.
	URL string `json:"-"`
	SendConfig
}

// Teams posts Adaptive Cards to a Teams Workflows webhook: one card per
// notification, or one digest when more than a few are due at once; at
// most four messages a second.
type Teams struct{ *messenger }

var _ Notifier = (*Teams)(nil)

// teamsWindows: Teams throttles more than four requests a second.
var teamsWindows = []rateWindow{{n: 4, per: time.Second}}

// NewTeams checks cfg and returns a Teams destination. Errors name
// TEAMS_WEBHOOK_URLS but never show the URL.
func NewTeams(cfg TeamsConfig, logger *slog.Logger) (*Teams, error) {
	u, _, err := checkURL("TEAMS_WEBHOOK_URLS", cfg.URL)
	if err != nil {
		return nil, err
	}
	host := strings.ToLower(u.Hostname())
	if strings.HasSuffix(host, ".webhook.office.com") || host == "outlook.office.com" || host == "outlook.office365.com" {
		return nil, errors.New("TEAMS_WEBHOOK_URLS: an Office 365 connector URL; connectors are retired: create a Workflows webhook (\"When a Teams webhook request is received\")")
	}
	var secrets []string
	if sig := u.Query().Get("sig"); sig != "" {
		secrets = append(secrets, sig, url.QueryEscape(sig))
	}
	return &Teams{newChat("teams", u, teamsFormat{target: u.String()}, cfg.SendConfig, time.Second, teamsWindows, secrets, logger)}, nil
}

type teamsFormat struct{ target string }

// teamsMessage is the body a Workflows webhook takes.
type teamsMessage struct {
	Type        string            `json:"type"`
	Attachments []teamsAttachment `json:"attachments"`
}

type teamsAttachment struct {
	ContentType string       `json:"contentType"`
	ContentURL  *string      `json:"contentUrl"`
	Content     adaptiveCard `json:"content"`
}

type adaptiveCard struct {
	Schema  string            `json:"$schema"`
	Type    string            `json:"type"`
	Version string            `json:"version"`
	MSTeams map[string]string `json:"msteams,omitempty"`
	Body    []acElement       `json:"body"`
	Actions []acAction        `json:"actions,omitempty"`
}

type acElement struct {
	Type      string      `json:"type"`
	Text      string      `json:"text,omitempty"`
	Size      string      `json:"size,omitempty"`
	Weight    string      `json:"weight,omitempty"`
	Color     string      `json:"color,omitempty"`
	IsSubtle  bool        `json:"isSubtle,omitempty"`
	Wrap      bool        `json:"wrap,omitempty"`
	FontType  string      `json:"fontType,omitempty"`
	Spacing   string      `json:"spacing,omitempty"`
	Separator bool        `json:"separator,omitempty"`
	Facts     []acFact    `json:"facts,omitempty"`
	Inlines   []acTextRun `json:"inlines,omitempty"`
}

type acFact struct {
	Title string `json:"title"`
	Value string `json:"value"`
}

type acTextRun struct {
	Type     string `json:"type"`
	Text     string `json:"text"`
	IsSubtle bool   `json:"isSubtle,omitempty"`
	Weight   string `json:"weight,omitempty"`
	Color    string `json:"color,omitempty"`
}

type acAction struct {
	Type  string `json:"type"`
	Title string `json:"title"`
	URL   string `json:"url"`
}

// teamsColor is a kind's title colour.
func teamsColor(k Kind) string {
	switch k {
	case KindSucceeded, KindRecovered:
		return "Good"
	case KindFailed:
		return "Attention"
	case KindStalled, KindAbnormal:
		return "Warning"
	}
	return "Accent"
}

func teamsEnvelope(body []acElement, actions []acAction) teamsMessage {
	return teamsMessage{Type: "message", Attachments: []teamsAttachment{{
		ContentType: "application/vnd.microsoft.card.adaptive",
		Content: adaptiveCard{
			Schema:  "http://adaptivecards.io/schemas/adaptive-card.json",
			Type:    "AdaptiveCard",
			Version: "1.4",
			MSTeams: map[string]string{"width": "Full"},
			Body:    body,
			Actions: actions,
		},
	}}}
}

func textBlock(text string) acElement { return acElement{Type: "TextBlock", Text: text, Wrap: true} }

func heading(text string) acElement {
	return acElement{Type: "TextBlock", Text: text, Weight: "Bolder", Wrap: true, Spacing: "Medium"}
}

// runs is a RichTextBlock: its TextRuns are shown as they are, never parsed
// as markdown.
func runs(rs ...acTextRun) acElement {
	var keep []acTextRun
	for _, r := range rs {
		if r.Text != "" {
			r.Type = "TextRun"
			keep = append(keep, r)
		}
	}
	return acElement{Type: "RichTextBlock", Inlines: keep, Spacing: "Small"}
}

// teamsCard renders a notification as the Adaptive Card message a Teams
// Workflows webhook takes: a title with the outcome and service, the facts
// (service, status, phase, model, duration, ModelArts status, service id),
// when ModelArts will fail the deployment, the phase table, the error, the
// hint (and a Troubleshooting button), the abnormal and warning events
// (both languages), the pod events (or why they could not be read) and
// the times. Every ModelArts text is escaped with [EscapeChat] and every
// event is cut as [TruncateEvent] cuts it; the body stays within
// [MaxTeamsBody] (fewer and shorter events first); cut reports whether
// something was cut or left out (the card says so where it was).
func teamsCard(n Notification) (msg teamsMessage, cut bool, err error) {
	if n.Project != nil {
		return projectTeams(n.Project)
	}
	n.Summary = n.Summary.Bounded()
	msg, cut, ok := fitChat(len(chatBudgets), func(level int) (teamsMessage, bool) {
		v := newView(n, chatBudgets[level])
		return teamsView(v), v.cut
	}, jsonSize, MaxTeamsBody)
	if !ok {
		return msg, true, errors.New("teams: card does not fit even without events")
	}
	return msg, cut, nil
}

func jsonSize(v any) int {
	b, err := json.Marshal(v)
	if err != nil {
		return 1 << 30
	}
	return len(b)
}

func teamsView(v summaryView) teamsMessage {
	e := EscapeChat
	body := []acElement{{Type: "TextBlock", Text: chatKindIcon(v.Kind) + " " + e(v.Title), Size: "Large", Weight: "Bolder", Color: teamsColor(v.Kind), Wrap: true}}
	var facts []acFact
	for _, f := range chatFacts(v) {
		facts = append(facts, acFact{Title: f.Label, Value: e(f.Value)})
	}
	if len(facts) > 0 {
		body = append(body, acElement{Type: "FactSet", Facts: facts})
	}
	if v.Deadline != "" {
		body = append(body, acElement{Type: "TextBlock", Text: "⏰ " + e(v.Deadline), Color: "Warning", Wrap: true})
	}
	if v.Usual != "" {
		body = append(body, textBlock("📏 "+e(v.Usual)))
	}
	if len(v.Phases) > 0 {
		body = append(body, heading("Timeline"))
		var rows []acFact
		for _, p := range v.Phases {
			rows = append(rows, acFact{Title: chatPhaseIcon(p.Status) + " " + e(p.Name), Value: p.Duration + " · " + e(p.State)})
		}
		body = append(body, acElement{Type: "FactSet", Facts: rows, Spacing: "Small"})
	}
	if v.Error != "" {
		body = append(body, heading("Error"), runs(acTextRun{Text: e(v.Error), Color: "Attention"}))
	}
	if v.Hint != "" {
		body = append(body, runs(acTextRun{Text: "💡 " + e(v.Hint)}))
	}
	for _, l := range []eventList{v.Events, v.Pods} {
		if l.Total == 0 {
			continue
		}
		body = append(body, heading(e(l.Heading())))
		for _, line := range l.Lines {
			body = append(body, teamsLine(line)...)
		}
	}
	if v.PodError != "" {
		body = append(body, runs(acTextRun{Text: e(v.PodError), IsSubtle: true}))
	}
	body = append(body, acElement{Type: "TextBlock", Text: e(chatTimes(v)), Size: "Small", IsSubtle: true, Wrap: true, Separator: true})
	var actions []acAction
	if v.Console != "" {
		actions = append(actions, acAction{Type: "Action.OpenUrl", Title: "ModelArts console", URL: v.Console})
	}
	if v.HelpURL != "" {
		actions = append(actions, acAction{Type: "Action.OpenUrl", Title: "Troubleshooting", URL: v.HelpURL})
	}
	return teamsEnvelope(body, actions)
}

// teamsLine is one event: time, label, text and count, then its second
// text under it.
func teamsLine(l eventLine) []acElement {
	e := EscapeChat
	label := ""
	if l.Label != "" {
		label = l.Label + " "
	}
	out := []acElement{runs(
		acTextRun{Text: e(l.When) + " ", IsSubtle: true},
		acTextRun{Text: label, Weight: "Bolder", Color: "Warning"},
		acTextRun{Text: e(l.Text) + l.Count},
	)}
	if l.Text2 != "" {
		out = append(out, runs(acTextRun{Text: e(l.Text2)}))
	}
	return out
}

// teamsDigest renders many notifications as one card: a title with the
// count, then one entry per notification (the first 20; the rest are
// counted), within [MaxTeamsBody].
func teamsDigest(ns []Notification) (msg teamsMessage, cut bool, err error) {
	ns = boundAll(ns)
	msg, cut, ok := fitChat(len(chatDigestBudgets), func(level int) (teamsMessage, bool) {
		d := newDigestView(ns, chatDigestBudgets[level])
		return teamsDigestView(d), d.cut
	}, jsonSize, MaxTeamsBody)
	if !ok {
		return msg, true, errors.New("teams: digest does not fit")
	}
	return msg, cut, nil
}

func teamsDigestView(d digestView) teamsMessage {
	e := EscapeChat
	body := []acElement{
		{Type: "TextBlock", Text: chatDigestTitle(d), Size: "Large", Weight: "Bolder", Wrap: true},
		{Type: "TextBlock", Text: d.Counts, IsSubtle: true, Wrap: true, Spacing: "None"},
	}
	for _, it := range d.Items {
		body = append(body, acElement{Type: "TextBlock", Text: chatKindIcon(it.Kind) + " " + e(it.Line), Wrap: true, Separator: true})
		for _, q := range []string{it.EventQuote(), it.PodQuote()} {
			if q != "" {
				body = append(body, runs(acTextRun{Text: e(q), IsSubtle: true}))
			}
		}
	}
	if d.More > 0 {
		body = append(body, acElement{Type: "TextBlock", Text: "… and " + strconv.Itoa(d.More) + " more", IsSubtle: true, Wrap: true})
	}
	return teamsEnvelope(body, nil)
}

func (f teamsFormat) message(n Notification) (any, bool, error) { return teamsCard(n) }

func (f teamsFormat) digest(ns []Notification) (any, bool, error) { return teamsDigest(ns) }

func (f teamsFormat) request(_ time.Time, msg any) (outbound, error) {
	return chatRequest(f.target, msg)
}

// answer: Workflows answers 202 Accepted with no body; anything but a 2xx
// is decided by [Classify].
func (f teamsFormat) answer(status int, raw []byte, h http.Header, now time.Time) error {
	if Classify(status) == Delivered {
		return nil
	}
	return judgeAnswer("teams", status, raw, h, now, codeAnswer{}, func(int) (bool, bool) { return false, false })
}
