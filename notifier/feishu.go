package notifier

// Feishu (飞书) and Lark custom bots: a webhook posting an interactive card,
// signed when the bot has a signing secret.
//
// Sources:
//   - https://open.feishu.cn/document/client-docs/bot-v3/add-custom-bot
//     (Chinese: https://open.larkoffice.com/document/ukTMukTMukTM/ucTM5YjL3ETO24yNxkjN):
//     rate limit "100 次/分钟，5 次/秒" per bot, the 11232 rate-limit error at
//     busy times, a request body of at most 20 KB; signature: timestamp (s,
//     within an hour) + "\n" + secret as the HMAC-SHA256 key of an empty
//     message, base64, sent as "timestamp" and "sign" in the body; code 19021
//     "sign match fail or timestamp is not within one hour", 19022 IP not
//     allowed, 19024 "Key Words Not Found"; success {"code":0,"msg":"success"}
//     (older answers {"StatusCode":0,...})
//   - https://open.feishu.cn/document/server-docs/api-call-guide/frequency-control
//     (429 with x-ogw-ratelimit-reset; code 99991400 "request trigger
//     frequency limit")
//   - https://open.larkoffice.com/document/ukTMukTMukTM/uADOwUjLwgDM14CM4ATN
//     (card markdown: <at id=all>, links; plain_text is shown as it is)
//   - code 9499 "too many request", answered with HTTP 400, is reported by
//     users (ccfos/nightingale#1437).

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// MaxFeishuBody bounds a Feishu request body, in bytes (documented: 20 KB).
const MaxFeishuBody = 20_000

// Feishu's documented custom-bot hosts: Feishu (China) and Lark.
const (
	FeishuHost = "open.feishu.cn"
	LarkHost   = "open.larksuite.com"
)

// FeishuConfig configures a Feishu or Lark custom bot (FEISHU_WEBHOOK_URLS,
// FEISHU_SECRET).
type FeishuConfig struct {
	// URL is the bot's webhook, https://open.feishu.cn/open-apis/bot/v2/hook/...
	// or https://open.larksuite.com/open-apis/bot/v2/hook/...: a secret (its
	// path is the credential), never in errors or logs. Another https host
	// (a private deployment, a relay) or a loopback one is accepted as it
	// is; only on the documented hosts must the path be a custom bot's.
	URL string `json:"-"`
	// Secret is the bot's signing secret; empty: requests are not signed.
	Secret string `json:"-"`
	SendConfig
}

// Feishu posts interactive cards to a Feishu or Lark custom bot: one card
// per notification, or one digest when more than a few are due at once (or
// more than the bot's rate limit lets through now); at most 5 messages a
// second and 100 a minute.
type Feishu struct{ *messenger }

var _ Notifier = (*Feishu)(nil)

var feishuWindows = []rateWindow{{n: 5, per: time.Second}, {n: 100, per: time.Minute}}

// NewFeishu checks cfg and returns a Feishu destination. Errors name
// FEISHU_WEBHOOK_URLS or FEISHU_SECRET but never show their values.
func NewFeishu(cfg FeishuConfig, logger *slog.Logger) (*Feishu, error) {
	u, where, err := checkURL("FEISHU_WEBHOOK_URLS", cfg.URL)
	if err != nil {
		return nil, err
	}
	if where == hostDocumented {
		if !strings.HasPrefix(u.Path, "/open-apis/bot/v2/hook/") || len(u.Path) == len("/open-apis/bot/v2/hook/") {
			return nil, errors.New("FEISHU_WEBHOOK_URLS: not a custom bot webhook (/open-apis/bot/v2/hook/...)")
		}
	}
	if strings.ContainsAny(cfg.Secret, "\r\n") {
		return nil, errors.New("FEISHU_SECRET: contains a line break")
	}
	var secrets []string
	if cfg.Secret != "" {
		secrets = append(secrets, cfg.Secret)
	}
	f := feishuFormat{target: u.String(), secret: cfg.Secret}
	return &Feishu{newChat("feishu", u, f, cfg.SendConfig, time.Second, feishuWindows, secrets, logger)}, nil
}

// FeishuSign is Feishu's custom-bot signature for a timestamp (unix
// seconds): base64 of the HMAC-SHA256, keyed with timestamp + "\n" +
// secret, of an empty message.
func FeishuSign(secret string, timestamp int64) string {
	mac := hmac.New(sha256.New, []byte(strconv.FormatInt(timestamp, 10)+"\n"+secret))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

type feishuFormat struct {
	target string
	secret string
}

// feishuMessage is a custom bot's interactive message.
type feishuMessage struct {
	Timestamp string     `json:"timestamp,omitempty"`
	Sign      string     `json:"sign,omitempty"`
	MsgType   string     `json:"msg_type"`
	Card      feishuCard `json:"card"`
}

type feishuCard struct {
	Config   feishuCardConfig `json:"config"`
	Header   feishuHeader     `json:"header"`
	Elements []feishuElement  `json:"elements"`
}

type feishuCardConfig struct {
	WideScreenMode bool `json:"wide_screen_mode"`
}

type feishuHeader struct {
	Title    feishuText `json:"title"`
	Template string     `json:"template"`
}

// feishuText is a card text: "plain_text" is shown as it is, "lark_md" is
// markdown (only this package's own labels, and escaped text, go there).
type feishuText struct {
	Tag     string `json:"tag"`
	Content string `json:"content"`
}

type feishuField struct {
	IsShort bool       `json:"is_short"`
	Text    feishuText `json:"text"`
}

type feishuElement struct {
	Tag      string         `json:"tag"`
	Text     *feishuText    `json:"text,omitempty"`
	Fields   []feishuField  `json:"fields,omitempty"`
	Elements []feishuText   `json:"elements,omitempty"`
	Actions  []feishuButton `json:"actions,omitempty"`
}

type feishuButton struct {
	Tag  string     `json:"tag"`
	Text feishuText `json:"text"`
	Type string     `json:"type"`
	URL  string     `json:"url"`
}

func plain(s string) *feishuText  { return &feishuText{Tag: "plain_text", Content: s} }
func larkMD(s string) *feishuText { return &feishuText{Tag: "lark_md", Content: s} }

func feishuDiv(t *feishuText) feishuElement { return feishuElement{Tag: "div", Text: t} }

// feishuTemplate is a kind's header colour.
func feishuTemplate(k Kind) string {
	switch k {
	case KindSucceeded, KindRecovered:
		return "green"
	case KindFailed:
		return "red"
	case KindStalled:
		return "orange"
	case KindAbnormal:
		return "yellow"
	}
	return "blue"
}

// feishuSignReserve is room kept in MaxFeishuBody for the timestamp and
// sign fields.
const feishuSignReserve = 96

// feishuCardMessage renders a notification as a Feishu interactive card:
// a coloured header with the outcome and service, the facts, when
// ModelArts will fail the deployment, the phase table, the error, the hint
// (and a Troubleshooting button), the abnormal and warning events (both
// languages), the pod events (or why they could not be read) and the
// times. ModelArts text is escaped with [EscapeChat] and, where it is more
// than a value, shown as plain_text. The body stays within MaxFeishuBody.
func feishuCardMessage(n Notification) (feishuMessage, bool, error) {
	if n.Project != nil {
		return projectFeishu(n.Project)
	}
	n.Summary = n.Summary.Bounded()
	msg, cut, ok := fitChat(len(chatBudgets), func(level int) (feishuMessage, bool) {
		v := newView(n, chatBudgets[level])
		return feishuView(v), v.cut
	}, jsonSize, MaxFeishuBody-feishuSignReserve)
	if !ok {
		return msg, true, errors.New("feishu: card does not fit even without events")
	}
	return msg, cut, nil
}

func feishuView(v summaryView) feishuMessage {
	e := EscapeChat
	var els []feishuElement
	var fields []feishuField
	for _, f := range chatFacts(v) {
		fields = append(fields, feishuField{IsShort: true, Text: feishuText{Tag: "lark_md", Content: "**" + f.Label + "**\n" + e(f.Value)}})
	}
	if len(fields) > 0 {
		els = append(els, feishuElement{Tag: "div", Fields: fields})
	}
	if v.Deadline != "" {
		els = append(els, feishuDiv(plain("⏰ "+e(v.Deadline))))
	}
	if v.Usual != "" {
		els = append(els, feishuDiv(plain("📏 "+e(v.Usual))))
	}
	if len(v.Phases) > 0 {
		var sb strings.Builder
		for i, p := range v.Phases {
			if i > 0 {
				sb.WriteByte('\n')
			}
			fmt.Fprintf(&sb, "%s %s · %s · %s", chatPhaseIcon(p.Status), e(p.Name), p.Duration, e(p.State))
		}
		els = append(els, feishuElement{Tag: "hr"}, feishuDiv(larkMD("**Timeline**")), feishuDiv(plain(sb.String())))
	}
	if v.Error != "" {
		els = append(els, feishuDiv(larkMD("**Error**")), feishuDiv(plain(e(v.Error))))
	}
	if v.Hint != "" {
		els = append(els, feishuDiv(plain("💡 "+e(v.Hint))))
	}
	var buttons []feishuButton
	if v.Console != "" {
		buttons = append(buttons, feishuButton{Tag: "button", Text: feishuText{Tag: "plain_text", Content: "ModelArts console"}, Type: "primary", URL: v.Console})
	}
	if v.HelpURL != "" {
		buttons = append(buttons, feishuButton{Tag: "button", Text: feishuText{Tag: "plain_text", Content: "Troubleshooting"}, Type: "default", URL: v.HelpURL})
	}
	if len(buttons) > 0 {
		els = append(els, feishuElement{Tag: "action", Actions: buttons})
	}
	for _, l := range []eventList{v.Events, v.Pods} {
		if l.Total == 0 {
			continue
		}
		els = append(els, feishuDiv(larkMD("**"+e(l.Heading())+"**")))
		if len(l.Lines) > 0 {
			els = append(els, feishuDiv(plain(feishuLines(l.Lines))))
		}
	}
	if v.PodError != "" {
		els = append(els, feishuDiv(plain(e(v.PodError))))
	}
	els = append(els, feishuElement{Tag: "hr"}, feishuElement{Tag: "note", Elements: []feishuText{{Tag: "plain_text", Content: e(chatTimes(v))}}})
	return feishuMessage{MsgType: "interactive", Card: feishuCard{
		Config:   feishuCardConfig{WideScreenMode: true},
		Header:   feishuHeader{Title: feishuText{Tag: "plain_text", Content: chatKindIcon(v.Kind) + " " + e(v.Title)}, Template: feishuTemplate(v.Kind)},
		Elements: els,
	}}
}

// feishuLines writes events one a line, "time  warning · text ×N", a
// second text indented under its event.
func feishuLines(ls []eventLine) string {
	var sb strings.Builder
	for i, l := range ls {
		if i > 0 {
			sb.WriteByte('\n')
		}
		if l.When != "" {
			sb.WriteString(l.When + "  ")
		}
		if l.Label != "" {
			sb.WriteString(l.Label + " · ")
		}
		sb.WriteString(EscapeChat(l.Text) + l.Count)
		if l.Text2 != "" {
			sb.WriteString("\n    " + EscapeChat(l.Text2))
		}
	}
	return sb.String()
}

// feishuDigest renders many notifications as one card.
func feishuDigest(ns []Notification) (feishuMessage, bool, error) {
	ns = boundAll(ns)
	msg, cut, ok := fitChat(len(chatDigestBudgets), func(level int) (feishuMessage, bool) {
		d := newDigestView(ns, chatDigestBudgets[level])
		return feishuDigestView(d), d.cut
	}, jsonSize, MaxFeishuBody-feishuSignReserve)
	if !ok {
		return msg, true, errors.New("feishu: digest does not fit")
	}
	return msg, cut, nil
}

func feishuDigestView(d digestView) feishuMessage {
	e := EscapeChat
	els := []feishuElement{feishuDiv(plain(d.Counts))}
	for _, it := range d.Items {
		text := chatKindIcon(it.Kind) + " " + e(it.Line)
		for _, q := range []string{it.EventQuote(), it.PodQuote()} {
			if q != "" {
				text += "\n    " + e(q)
			}
		}
		els = append(els, feishuElement{Tag: "hr"}, feishuDiv(plain(text)))
	}
	if d.More > 0 {
		els = append(els, feishuElement{Tag: "note", Elements: []feishuText{{Tag: "plain_text", Content: fmt.Sprintf("… and %d more", d.More)}}})
	}
	return feishuMessage{MsgType: "interactive", Card: feishuCard{
		Config:   feishuCardConfig{WideScreenMode: true},
		Header:   feishuHeader{Title: feishuText{Tag: "plain_text", Content: chatDigestTitle(d)}, Template: "blue"},
		Elements: els,
	}}
}

func (f feishuFormat) message(n Notification) (any, bool, error) { return feishuCardMessage(n) }

func (f feishuFormat) digest(ns []Notification) (any, bool, error) { return feishuDigest(ns) }

// request signs the message, when there is a secret, with now's timestamp.
func (f feishuFormat) request(now time.Time, msg any) (outbound, error) {
	m, ok := msg.(feishuMessage)
	if !ok {
		return outbound{}, fmt.Errorf("feishu: unexpected message %T", msg)
	}
	if f.secret != "" {
		ts := now.Unix()
		m.Timestamp = strconv.FormatInt(ts, 10)
		m.Sign = FeishuSign(f.secret, ts)
	}
	return chatRequest(f.target, m)
}

// feishuAnswer is Feishu's answer body; old bots answer StatusCode and
// StatusMessage instead of code and msg.
type feishuAnswer struct {
	Code          *int   `json:"code"`
	Msg           string `json:"msg"`
	StatusCode    *int   `json:"StatusCode"`
	StatusMessage string `json:"StatusMessage"`
}

// feishuClass: 9499 (too many requests), 11232 (rate limited at busy
// times) and 99991400 (frequency limit) are rate limiting; every other
// code is permanent.
func feishuClass(code int) (rateLimited, busy bool) {
	switch code {
	case 9499, 11232, 99991400:
		return true, false
	}
	return false, false
}

func (f feishuFormat) answer(status int, raw []byte, h http.Header, now time.Time) error {
	if reset := h.Get("x-ogw-ratelimit-reset"); reset != "" && h.Get("Retry-After") == "" {
		// Feishu's gateway says when its limit resets in seconds.
		h = h.Clone()
		h.Set("Retry-After", reset)
	}
	var a feishuAnswer
	var ca codeAnswer
	if json.Unmarshal(raw, &a) == nil {
		switch {
		case a.Code != nil:
			ca = codeAnswer{code: a.Code, msg: a.Msg}
		case a.StatusCode != nil:
			ca = codeAnswer{code: a.StatusCode, msg: a.StatusMessage}
		}
	}
	return judgeAnswer("feishu", status, raw, h, now, ca, feishuClass)
}
