package notifier

// DingTalk (钉钉) custom robots: a webhook posting a markdown message,
// signed when the robot has a signing secret (加签), and carrying a keyword
// when the robot's security is "custom keywords".
//
// Sources:
//   - https://open.dingtalk.com/document/robots/custom-robot-access
//     (https://oapi.dingtalk.com/robot/send?access_token=...; "每个机器人每分钟
//     最多发送20条消息到群里，如果超过20条，会限流10分钟"; merge many alerts into
//     one markdown summary; answers {"errcode":0,"errmsg":"ok"})
//   - https://open.dingtalk.com/document/robots/customize-robot-security-settings
//     (加签: timestamp (ms, within an hour) + "\n" + secret signed with
//     HMAC-SHA256 keyed by the secret, base64, then urlEncode, sent as the
//     "timestamp" and "sign" query parameters; custom keywords: the message
//     must contain one; errcode 310000 for a bad sign, a missing keyword or
//     an IP not allowed)
//   - https://open.dingtalk.com/document/robots/message-types-and-data-format
//     (markdown: {"msgtype":"markdown","markdown":{"title","text"},"at":{...}};
//     only the users listed in "at" are notified)
//   - errcode 130101 "send too fast, exceed 20 times per minute", as users
//     report it (the documents list it among the global error codes).

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// MaxDingTalkText bounds a DingTalk markdown text, in bytes. DingTalk
// documents no exact size; this stays under the 20,000 bytes its
// "message too long" answers name.
const MaxDingTalkText = 18_000

// DingTalkHost is the custom robots' API host.
const DingTalkHost = "oapi.dingtalk.com"

// DingTalkConfig configures a DingTalk custom robot (DINGTALK_WEBHOOK_URLS,
// DINGTALK_SECRET, DINGTALK_KEYWORD).
type DingTalkConfig struct {
	// URL is the robot's webhook,
	// https://oapi.dingtalk.com/robot/send?access_token=...: a secret (the
	// access token), never in errors or logs. Another https host (a relay)
	// or a loopback one is accepted as it is; only on the documented host
	// must the path be /robot/send with an access_token.
	URL string `json:"-"`
	// Secret is the robot's signing secret (SEC...); empty: not signed.
	Secret string `json:"-"`
	// Keyword is one of a keyword-security robot's keywords; every message
	// starts with it. Empty: none.
	Keyword string
	SendConfig
}

// DingTalk posts markdown messages to a DingTalk custom robot: one per
// notification, or one digest when more than a few are due at once or
// more than the robot's 20 a minute allow now. After a 130101 ("too
// fast") answer it waits out the minute before trying again (DingTalk may
// hold the robot for 10 minutes: what a run cannot wait for, the next run
// retries).
type DingTalk struct{ *messenger }

var _ Notifier = (*DingTalk)(nil)

var dingtalkWindows = []rateWindow{{n: 20, per: time.Minute}}

// NewDingTalk checks cfg and returns a DingTalk destination. Errors name
// DINGTALK_WEBHOOK_URLS, DINGTALK_SECRET or DINGTALK_KEYWORD but never show
// the URL or the secret.
func NewDingTalk(cfg DingTalkConfig, logger *slog.Logger) (*DingTalk, error) {
	u, where, err := checkURL("DINGTALK_WEBHOOK_URLS", cfg.URL)
	if err != nil {
		return nil, err
	}
	token := u.Query().Get("access_token")
	if where == hostDocumented {
		if u.Path != "/robot/send" {
			return nil, fmt.Errorf("DINGTALK_WEBHOOK_URLS: not a custom robot webhook (https://%s/robot/send?access_token=...)", DingTalkHost)
		}
		if token == "" {
			return nil, errors.New("DINGTALK_WEBHOOK_URLS: URL has no access_token")
		}
	}
	if strings.ContainsAny(cfg.Secret, "\r\n") {
		return nil, errors.New("DINGTALK_SECRET: contains a line break")
	}
	if strings.IndexFunc(cfg.Keyword, unicode.IsControl) >= 0 || len(cfg.Keyword) > 200 {
		return nil, errors.New("DINGTALK_KEYWORD: must be one line of at most 200 bytes")
	}
	var secrets []string
	if token != "" {
		secrets = append(secrets, token, url.QueryEscape(token))
	}
	if cfg.Secret != "" {
		secrets = append(secrets, cfg.Secret)
	}
	f := dingtalkFormat{target: u, secret: cfg.Secret, flavor: mdFlavor{br: "\n\n", keyword: strings.TrimSpace(cfg.Keyword)}}
	return &DingTalk{newChat("dingtalk", u, f, cfg.SendConfig, time.Minute, dingtalkWindows, secrets, logger)}, nil
}

// DingTalkSign is DingTalk's robot signature for a timestamp (unix
// milliseconds), before URL encoding: base64 of the HMAC-SHA256, keyed
// with the secret, of timestamp + "\n" + secret.
func DingTalkSign(secret string, timestampMS int64) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(strconv.FormatInt(timestampMS, 10) + "\n" + secret))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

type dingtalkFormat struct {
	target *url.URL
	secret string
	flavor mdFlavor
}

// dingtalkMessage is a robot's markdown message; "at" notifies no one.
type dingtalkMessage struct {
	MsgType  string           `json:"msgtype"`
	Markdown dingtalkMarkdown `json:"markdown"`
	At       dingtalkAt       `json:"at"`
}

type dingtalkMarkdown struct {
	Title string `json:"title"`
	Text  string `json:"text"`
}

type dingtalkAt struct {
	IsAtAll bool `json:"isAtAll"`
}

// dingtalkTitleRunes bounds the title shown in the conversation list.
const dingtalkTitleRunes = 100

func (f dingtalkFormat) envelope(title, text string) dingtalkMessage {
	title, _ = truncateRunes(f.flavor.keywordMark()+title, dingtalkTitleRunes)
	return dingtalkMessage{MsgType: "markdown", Markdown: dingtalkMarkdown{Title: title, Text: text}}
}

// message renders a notification as markdown within MaxDingTalkText.
func (f dingtalkFormat) message(n Notification) (any, bool, error) {
	text, cut := markdownWithin(n, f.flavor, MaxDingTalkText)
	return f.envelope(EscapeChat(n.Kind.Title()+": "+serviceName(n.Summary)), text), cut, nil
}

func (f dingtalkFormat) digest(ns []Notification) (any, bool, error) {
	text, cut := digestMarkdownWithin(ns, f.flavor, MaxDingTalkText)
	return f.envelope(fmt.Sprintf("%d ModelArts notifications", len(ns)), text), cut, nil
}

// request adds timestamp and sign to the URL's query when there is a
// secret.
func (f dingtalkFormat) request(now time.Time, msg any) (outbound, error) {
	if f.secret == "" {
		return chatRequest(f.target.String(), msg)
	}
	u := *f.target
	q := u.Query()
	ts := now.UnixMilli()
	q.Set("timestamp", strconv.FormatInt(ts, 10))
	q.Set("sign", DingTalkSign(f.secret, ts)) // Encode url-encodes it
	u.RawQuery = q.Encode()
	return chatRequest(u.String(), msg)
}

type errcodeAnswer struct {
	Errcode *int   `json:"errcode"`
	Errmsg  string `json:"errmsg"`
}

// dingtalkClass: 130101 (send too fast) is rate limiting, -1 (system busy)
// is busy; every other code (310000 bad sign, missing keyword or IP not
// allowed; 300001 bad token; ...) is permanent.
func dingtalkClass(code int) (rateLimited, busy bool) {
	switch code {
	case 130101:
		return true, false
	case -1:
		return false, true
	}
	return false, false
}

func (f dingtalkFormat) answer(status int, raw []byte, h http.Header, now time.Time) error {
	var a errcodeAnswer
	_ = json.Unmarshal(raw, &a)
	return judgeAnswer("dingtalk", status, raw, h, now, codeAnswer{code: a.Errcode, msg: a.Errmsg}, dingtalkClass)
}
