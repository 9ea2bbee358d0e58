package notifier

// WeCom (企业微信) group robots: a webhook posting a markdown message.
//
// Sources:
//   - https://developer.work.weixin.qq.com/document/path/91770 (群机器人配置说明:
//     https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=...;
//     {"msgtype":"markdown","markdown":{"content"}}, content "最长不超过4096个
//     字节，必须是utf8编码"; <@userid> mentions in text and markdown;
//     <font color="info|comment|warning">; "每个机器人发送的消息不能超过20条/分钟")
//   - https://developer.work.weixin.qq.com/document/path/90313 (global error
//     codes: -1 system busy, 45009 "api freq out of limit", 93000 invalid
//     webhook URL, 40058 invalid parameter, e.g. markdown.content exceeding
//     4096)

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"time"
)

// MaxWeComContent bounds a WeCom markdown content, in bytes (documented).
const MaxWeComContent = 4096

// WeComHost is the group robots' API host.
const WeComHost = "qyapi.weixin.qq.com"

// WeComConfig configures a WeCom group robot (WECOM_WEBHOOK_URLS).
type WeComConfig struct {
	// URL is the robot's webhook,
	// https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=...: a secret
	// (the key), never in errors or logs. Another https host (a private
	// deployment, a relay) or a loopback one is accepted as it is; only on
	// the documented host must the path be /cgi-bin/webhook/send with a key.
	URL string `json:"-"`
	SendConfig
}

// WeCom posts markdown messages to a WeCom group robot: one per
// notification, or one digest when more than a few are due at once or
// more than the robot's 20 a minute allow now; each within 4,096 bytes.
// After a 45009 (frequency) answer it waits out the minute before trying
// again.
type WeCom struct{ *messenger }

var _ Notifier = (*WeCom)(nil)

var wecomWindows = []rateWindow{{n: 20, per: time.Minute}}

// NewWeCom checks cfg and returns a WeCom destination. Errors name
// WECOM_WEBHOOK_URLS but never show the URL.
func NewWeCom(cfg WeComConfig, logger *slog.Logger) (*WeCom, error) {
	u, where, err := checkURL("WECOM_WEBHOOK_URLS", cfg.URL)
	if err != nil {
		return nil, err
	}
	key := u.Query().Get("key")
	if where == hostDocumented {
		if u.Path != "/cgi-bin/webhook/send" {
			return nil, fmt.Errorf("WECOM_WEBHOOK_URLS: not a group robot webhook (https://%s/cgi-bin/webhook/send?key=...)", WeComHost)
		}
		if key == "" {
			return nil, errors.New("WECOM_WEBHOOK_URLS: URL has no key")
		}
	}
	var secrets []string
	if key != "" {
		secrets = append(secrets, key, url.QueryEscape(key))
	}
	f := wecomFormat{target: u.String()}
	return &WeCom{newChat("wecom", u, f, cfg.SendConfig, time.Minute, wecomWindows, secrets, logger)}, nil
}

// wecomFlavor: WeCom breaks lines on "\n" and greys text with
// <font color="comment">.
var wecomFlavor = mdFlavor{br: "\n", subtle: func(s string) string { return `<font color="comment">` + s + `</font>` }}

type wecomFormat struct{ target string }

type wecomMessage struct {
	MsgType  string        `json:"msgtype"`
	Markdown wecomMarkdown `json:"markdown"`
}

type wecomMarkdown struct {
	Content string `json:"content"`
}

func (f wecomFormat) message(n Notification) (any, bool, error) {
	text, cut := markdownWithin(n, wecomFlavor, MaxWeComContent)
	return wecomMessage{MsgType: "markdown", Markdown: wecomMarkdown{Content: text}}, cut, nil
}

func (f wecomFormat) digest(ns []Notification) (any, bool, error) {
	text, cut := digestMarkdownWithin(ns, wecomFlavor, MaxWeComContent)
	return wecomMessage{MsgType: "markdown", Markdown: wecomMarkdown{Content: text}}, cut, nil
}

func (f wecomFormat) request(_ time.Time, msg any) (outbound, error) {
	return chatRequest(f.target, msg)
}

// wecomClass: 45009 (api freq out of limit) is rate limiting, -1 (system
// busy) is busy; every other code is permanent.
func wecomClass(code int) (rateLimited, busy bool) {
	switch code {
	case 45009:
		return true, false
	case -1:
		return false, true
	}
	return false, false
}

func (f wecomFormat) answer(status int, raw []byte, h http.Header, now time.Time) error {
	var a errcodeAnswer
	_ = json.Unmarshal(raw, &a)
	return judgeAnswer("wecom", status, raw, h, now, codeAnswer{code: a.Errcode, msg: a.Errmsg}, wecomClass)
}
