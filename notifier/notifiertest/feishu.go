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

// NewFeishu starts a Feishu/Lark custom bot stand-in: the hook token in the
// path is the credential (code 19001); with cfg.Secret every body must carry
// "timestamp" (unix seconds, within an hour of cfg.Now) and "sign", the
// base64 HMAC-SHA256 keyed with timestamp + "\n" + secret of an empty
// message, as Feishu documents (code 19021 otherwise); the body must be an
// interactive card of at most MaxFeishuRequest bytes; a card with <at
// mentions, or lark_md text with links or tags, is refused (code 19002,
// "params error": Feishu documents the limits, not the code it answers
// for each). Accepted: {"code":0,"msg":"success"}. Rate limited, in turn:
// 400 code 9499 "too many request", 200 code 11232, 429 code 99991400 with
// x-ogw-ratelimit-reset: 1; the per-minute limit is 100. Busy: 500 or 503.
// It is closed when t's test ends.
func NewFeishu(t testing.TB, cfg ChatConfig) *ChatServer {
	t.Helper()
	return newChatServer(t, PlatformFeishu, feishuStandIn{}, cfg)
}

type feishuStandIn struct{}

func (feishuStandIn) path(token string) string { return "/open-apis/bot/v2/hook/" + token }

func (feishuStandIn) perMinute() int { return 100 }

func (feishuStandIn) ok() chatAnswer {
	return codeAnswer(http.StatusOK, `{"code":0,"data":{},"msg":"success"}`)
}

func (feishuStandIn) rateLimited(n int) chatAnswer {
	switch n % 3 {
	case 0:
		return codeAnswer(http.StatusBadRequest, `{"code":9499,"msg":"too many request","data":{}}`)
	case 1:
		return codeAnswer(http.StatusOK, `{"code":11232,"msg":"frequency limited","data":{}}`)
	}
	a := codeAnswer(http.StatusTooManyRequests, `{"code":99991400,"msg":"request trigger frequency limit"}`)
	a.header = map[string]string{"x-ogw-ratelimit-reset": "1"}
	return a
}

func (feishuStandIn) busy(n int) chatAnswer {
	return chatAnswer{status: []int{http.StatusInternalServerError, http.StatusServiceUnavailable}[n%2]}
}

// FeishuSignature is Feishu's custom-bot signature, computed here as the
// Feishu documentation writes it (independently of package notifier).
func FeishuSignature(secret string, timestamp int64) string {
	mac := hmac.New(sha256.New, []byte(strconv.FormatInt(timestamp, 10)+"\n"+secret))
	mac.Write(nil)
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

type feishuText struct {
	Tag     string `json:"tag"`
	Content string `json:"content"`
}

type feishuBody struct {
	Timestamp string `json:"timestamp"`
	Sign      string `json:"sign"`
	MsgType   string `json:"msg_type"`
	Card      *struct {
		Header struct {
			Title feishuText `json:"title"`
		} `json:"header"`
		Elements []struct {
			Tag    string      `json:"tag"`
			Text   *feishuText `json:"text"`
			Fields []struct {
				Text feishuText `json:"text"`
			} `json:"fields"`
			Elements []feishuText `json:"elements"`
		} `json:"elements"`
	} `json:"card"`
}

func (feishuStandIn) parse(body []byte) (feishuBody, error) {
	var b feishuBody
	if err := json.Unmarshal(body, &b); err != nil {
		return b, err
	}
	if b.MsgType != "interactive" || b.Card == nil || b.Card.Header.Title.Content == "" {
		return b, fmt.Errorf("not an interactive card")
	}
	return b, nil
}

func (p feishuStandIn) check(s *ChatServer, r *http.Request, body []byte, now time.Time) (string, chatAnswer) {
	bad := func(code int, msg, why string) (string, chatAnswer) {
		status := http.StatusOK
		if code == 19001 || code == 19002 {
			status = http.StatusBadRequest
		}
		return "feishu: " + why, codeAnswer(status, fmt.Sprintf(`{"code":%d,"msg":%q,"data":{}}`, code, msg))
	}
	if r.Method != http.MethodPost || r.URL.Path != p.path(s.token) {
		return bad(19001, "param invalid: incoming webhook access token invalid", "wrong hook token")
	}
	if len(body) > MaxFeishuRequest {
		return bad(19002, "params error", fmt.Sprintf("body of %d bytes", len(body)))
	}
	b, err := p.parse(body)
	if err != nil {
		return bad(19002, "params error, msg_type need", err.Error())
	}
	if s.cfg.Secret != "" {
		ts, err := strconv.ParseInt(b.Timestamp, 10, 64)
		switch {
		case err != nil:
			return bad(19021, "sign match fail or timestamp is not within one hour from current time", "no timestamp")
		case now.Sub(time.Unix(ts, 0)).Abs() > time.Hour:
			return bad(19021, "sign match fail or timestamp is not within one hour from current time",
				fmt.Sprintf("timestamp %d is %s from now", ts, now.Sub(time.Unix(ts, 0))))
		case !hmac.Equal([]byte(b.Sign), []byte(FeishuSignature(s.cfg.Secret, ts))):
			return bad(19021, "sign match fail or timestamp is not within one hour from current time", "bad sign")
		}
	}
	var why string
	_ = jsonStrings(body, func(key, v string) {
		if why == "" && strings.Contains(strings.ToLower(v), "<at") {
			why = fmt.Sprintf("mention markup <at in %s %q", key, v)
		}
	})
	texts := []feishuText{b.Card.Header.Title}
	for _, el := range b.Card.Elements {
		if el.Text != nil {
			texts = append(texts, *el.Text)
		}
		for _, f := range el.Fields {
			texts = append(texts, f.Text)
		}
		texts = append(texts, el.Elements...)
	}
	for _, t := range texts {
		if why != "" || t.Tag != "lark_md" {
			continue
		}
		if l := linkMarkup(t.Content); l != "" {
			why = l + " in lark_md"
		} else if strings.Contains(t.Content, "<") {
			why = fmt.Sprintf("a tag in lark_md %q", t.Content)
		}
	}
	if why != "" {
		return bad(19002, "params error", why)
	}
	return "", chatAnswer{}
}

func (p feishuStandIn) lines(body []byte) ([]string, error) {
	b, err := p.parse(body)
	if err != nil {
		return nil, err
	}
	out := []string{b.Card.Header.Title.Content}
	for _, el := range b.Card.Elements {
		if el.Text != nil {
			out = append(out, el.Text.Content)
		}
		for _, f := range el.Fields {
			// "**Label**\nvalue" reads as "Label: value".
			label, value, _ := strings.Cut(f.Text.Content, "\n")
			out = append(out, strings.ReplaceAll(label, "**", "")+": "+value)
		}
		for _, t := range el.Elements {
			out = append(out, t.Content)
		}
	}
	return out, nil
}
