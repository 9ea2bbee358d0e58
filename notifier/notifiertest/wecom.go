package notifiertest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// NewWeCom starts a WeCom group robot stand-in: key in the query is the
// credential (errcode 93000); the body must be a markdown message whose
// content is valid UTF-8 of at most MaxWeComMarkdown bytes (errcode 40058);
// "@" (<@userid>, @all), a tag other than <font color="info|comment|
// warning">, or a markdown link other than the product's Troubleshooting
// link are refused (errcode 40058). Accepted: {"errcode":0,"errmsg":"ok"}.
// Rate limited: errcode 45009 "api freq out of limit"; the per-minute limit
// is 20. Busy: errcode -1. It is closed when t's test ends.
func NewWeCom(t testing.TB, cfg ChatConfig) *ChatServer {
	t.Helper()
	return newChatServer(t, PlatformWeCom, wecomStandIn{}, cfg)
}

type wecomStandIn struct{}

func (wecomStandIn) path(token string) string { return "/cgi-bin/webhook/send?key=" + token }

func (wecomStandIn) perMinute() int { return 20 }

func (wecomStandIn) ok() chatAnswer { return errcode(0, "ok") }

func (wecomStandIn) rateLimited(int) chatAnswer { return errcode(45009, "api freq out of limit") }

func (wecomStandIn) busy(int) chatAnswer { return errcode(-1, "system busy") }

type wecomBody struct {
	MsgType  string `json:"msgtype"`
	Markdown *struct {
		Content string `json:"content"`
	} `json:"markdown"`
}

func (wecomStandIn) parse(body []byte) (wecomBody, error) {
	var b wecomBody
	if err := json.Unmarshal(body, &b); err != nil {
		return b, err
	}
	if b.MsgType != "markdown" || b.Markdown == nil || b.Markdown.Content == "" {
		return b, fmt.Errorf("not a markdown message")
	}
	return b, nil
}

// wecomTags are the tags WeCom's markdown takes that the product writes.
var wecomTags = regexp.MustCompile(`<font color="(?:info|comment|warning)">|</font>`)

func (p wecomStandIn) check(s *ChatServer, r *http.Request, body []byte, _ time.Time) (string, chatAnswer) {
	bad := func(code int, msg, why string) (string, chatAnswer) { return "wecom: " + why, errcode(code, msg) }
	if r.Method != http.MethodPost || r.URL.Path != "/cgi-bin/webhook/send" || r.URL.Query().Get("key") != s.token {
		return bad(93000, "invalid webhook url", "wrong key")
	}
	b, err := p.parse(body)
	if err != nil {
		return bad(40058, "invalid parameter", err.Error())
	}
	c := b.Markdown.Content
	switch {
	case !utf8.ValidString(c):
		return bad(40058, "markdown.content must be utf8", "invalid UTF-8")
	case len(c) > MaxWeComMarkdown:
		return bad(40058, "markdown.content exceed max length 4096", fmt.Sprintf("markdown content of %d bytes", len(c)))
	}
	if why := atMarkup(c); why != "" {
		return bad(40058, "invalid markdown", why)
	}
	if rest := wecomTags.ReplaceAllString(c, ""); strings.Contains(rest, "<") {
		i := strings.Index(rest, "<")
		return bad(40058, "invalid markdown", fmt.Sprintf("a tag in %q", rest[i:min(len(rest), i+30)]))
	}
	if why := linkMarkup(c); why != "" {
		return bad(40058, "invalid markdown", why)
	}
	return "", chatAnswer{}
}

func (p wecomStandIn) lines(body []byte) ([]string, error) {
	b, err := p.parse(body)
	if err != nil {
		return nil, err
	}
	return strings.Split(b.Markdown.Content, "\n"), nil
}
