package notifiertest

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// NewDingTalk starts a DingTalk custom robot stand-in: access_token in the
// query is the credential (errcode 300001); with cfg.Secret the query must
// carry "timestamp" (unix ms, within an hour of cfg.Now) and "sign", the
// base64 HMAC-SHA256 keyed with the secret of timestamp + "\n" + secret, as
// DingTalk documents (errcode 310000 otherwise); with cfg.Keyword the
// message must contain it (errcode 310000, "keywords not in content"); the
// body must be a markdown message whose text is at most MaxDingTalkMarkdown
// bytes (errcode 460101); "@" in the text or title, isAtAll or any
// atMobiles/atUserIds (mentions), or a markdown link other than the
// product's Troubleshooting link are refused (errcode 40035). Accepted:
// {"errcode":0,"errmsg":"ok"}. Rate limited: errcode 130101 "send too
// fast"; the per-minute limit is 20. Busy: errcode -1. It is closed when t's
// test ends.
func NewDingTalk(t testing.TB, cfg ChatConfig) *ChatServer {
	t.Helper()
	return newChatServer(t, PlatformDingTalk, dingtalkStandIn{}, cfg)
}

type dingtalkStandIn struct{}

func (dingtalkStandIn) path(token string) string { return "/robot/send?access_token=" + token }

func (dingtalkStandIn) perMinute() int { return 20 }

func errcode(code int, msg string) chatAnswer {
	return codeAnswer(http.StatusOK, fmt.Sprintf(`{"errcode":%d,"errmsg":%q}`, code, msg))
}

func (dingtalkStandIn) ok() chatAnswer { return errcode(0, "ok") }

func (dingtalkStandIn) rateLimited(int) chatAnswer {
	return errcode(130101, "send too fast, exceed 20 times per minute")
}

func (dingtalkStandIn) busy(int) chatAnswer { return errcode(-1, "系统繁忙") }

// DingTalkSignature is DingTalk's robot signature (before URL encoding),
// computed here as the DingTalk documentation writes it (independently of
// package notifier).
func DingTalkSignature(secret string, timestampMS int64) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(strconv.FormatInt(timestampMS, 10) + "\n" + secret))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

type dingtalkBody struct {
	MsgType  string `json:"msgtype"`
	Markdown *struct {
		Title string `json:"title"`
		Text  string `json:"text"`
	} `json:"markdown"`
	At struct {
		IsAtAll   bool     `json:"isAtAll"`
		AtMobiles []string `json:"atMobiles"`
		AtUserIDs []string `json:"atUserIds"`
	} `json:"at"`
}

func (dingtalkStandIn) parse(body []byte) (dingtalkBody, error) {
	var b dingtalkBody
	if err := json.Unmarshal(body, &b); err != nil {
		return b, err
	}
	if b.MsgType != "markdown" || b.Markdown == nil || b.Markdown.Title == "" || b.Markdown.Text == "" {
		return b, fmt.Errorf("not a markdown message with a title and a text")
	}
	return b, nil
}

func (p dingtalkStandIn) check(s *ChatServer, r *http.Request, body []byte, now time.Time) (string, chatAnswer) {
	bad := func(code int, msg, why string) (string, chatAnswer) { return "dingtalk: " + why, errcode(code, msg) }
	q := r.URL.Query()
	if r.Method != http.MethodPost || r.URL.Path != "/robot/send" || q.Get("access_token") != s.token {
		return bad(300001, "token is not exist", "wrong access_token")
	}
	if s.cfg.Secret != "" {
		ts, err := strconv.ParseInt(q.Get("timestamp"), 10, 64)
		switch {
		case err != nil:
			return bad(310000, "sign not match", "no timestamp")
		case now.Sub(time.UnixMilli(ts)).Abs() > time.Hour:
			return bad(310000, "sign not match", fmt.Sprintf("timestamp %d is %s from now", ts, now.Sub(time.UnixMilli(ts))))
		case !hmac.Equal([]byte(q.Get("sign")), []byte(DingTalkSignature(s.cfg.Secret, ts))):
			return bad(310000, "sign not match", "bad sign")
		}
	}
	b, err := p.parse(body)
	if err != nil {
		return bad(40035, "缺少参数 json", err.Error())
	}
	md := b.Markdown
	if s.cfg.Keyword != "" && !strings.Contains(md.Title, s.cfg.Keyword) && !strings.Contains(md.Text, s.cfg.Keyword) {
		return bad(310000, "keywords not in content", "no keyword")
	}
	if n := len(md.Text); n > MaxDingTalkMarkdown {
		return bad(460101, "message too long", fmt.Sprintf("markdown text of %d bytes", n))
	}
	if b.At.IsAtAll || len(b.At.AtMobiles) > 0 || len(b.At.AtUserIDs) > 0 {
		return bad(40035, "invalid at", "the message mentions people (at)")
	}
	for _, text := range []string{md.Title, md.Text} {
		if why := atMarkup(text); why != "" {
			return bad(40035, "invalid markdown", why)
		}
		if why := linkMarkup(text); why != "" {
			return bad(40035, "invalid markdown", why)
		}
	}
	return "", chatAnswer{}
}

func (p dingtalkStandIn) lines(body []byte) ([]string, error) {
	b, err := p.parse(body)
	if err != nil {
		return nil, err
	}
	// DingTalk breaks lines on blank lines ("\n\n").
	return strings.Split(b.Markdown.Text, "\n\n"), nil
}
