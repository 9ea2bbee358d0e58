package notifier

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// wecomRobot is a stand-in for a WeCom group robot: it checks the key and
// the markdown message, answering 40058 for content over 4,096 bytes as
// WeCom does.
func wecomRobot(t *testing.T) *chatRecorder {
	return newChatRecorder(t, func(w http.ResponseWriter, r *http.Request, body []byte) {
		if r.URL.Query().Get("key") != chatToken {
			fmt.Fprint(w, `{"errcode":93000,"errmsg":"invalid webhook url"}`)
			return
		}
		var m wecomMessage
		if err := json.Unmarshal(body, &m); err != nil || m.MsgType != "markdown" || m.Markdown.Content == "" {
			fmt.Fprint(w, `{"errcode":40008,"errmsg":"invalid message type"}`)
			return
		}
		if len(m.Markdown.Content) > 4096 {
			fmt.Fprint(w, `{"errcode":40058,"errmsg":"markdown.content exceed max length 4096"}`)
			return
		}
		fmt.Fprint(w, `{"errcode":0,"errmsg":"ok"}`)
	})
}

func TestWeComDelivers(t *testing.T) {
	rec := wecomRobot(t)
	d := chatKinds[3].build(t, rec.URL, newFakeClock(), nil, nil, RetryPolicy{})
	ns := append([]Notification{chatHostile()}, v2Fixtures()...)
	for i, r := range d.Notify(t.Context(), ns) {
		if r.Err != nil {
			t.Errorf("notification %d: %v", i, r.Err)
		}
	}
	h := chatHostile()
	h.Summary = h.Summary.Bounded()
	var many []Notification
	for range 30 {
		many = append(many, h)
	}
	if r := d.Notify(t.Context(), many); r[0].Err != nil {
		t.Errorf("digest of 30 hostile notifications: %v", r[0].Err)
	}
}

func TestWeComURLs(t *testing.T) {
	tests := []struct {
		url     string
		wantErr string
	}{
		{"https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=" + chatToken, ""},
		{"https://qyapi.weixin.qq.com/cgi-bin/webhook/send", "WECOM_WEBHOOK_URLS: URL has no key"},
		{"https://qyapi.weixin.qq.com/cgi-bin/other?key=" + chatToken, "WECOM_WEBHOOK_URLS: not a group robot webhook"},
		{"http://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=" + chatToken, "WECOM_WEBHOOK_URLS: http://"},
		// A private deployment, a relay, a local stand-in: any path.
		{"https://qyapi.weixin.qq.com.evil.example/cgi-bin/webhook/send?key=" + chatToken, ""},
		{"https://wecom.corp.example/cgi-bin/webhook/send?key=" + chatToken, ""},
		{"http://localhost:9/cgi-bin/webhook/send?key=" + chatToken, ""},
		{"http://127.0.0.2:9/relay", ""},
		{"http://wecom.corp.example/cgi-bin/webhook/send?key=" + chatToken, "WECOM_WEBHOOK_URLS: http://"},
	}
	for _, tt := range tests {
		_, err := NewWeCom(WeComConfig{URL: tt.url}, nil)
		if (err == nil) != (tt.wantErr == "") || (err != nil && !strings.HasPrefix(err.Error(), tt.wantErr)) {
			t.Errorf("NewWeCom(%s) = %v, want %q", tt.url, err, tt.wantErr)
		}
		if err != nil && strings.Contains(err.Error(), chatToken) {
			t.Errorf("error shows the key: %v", err)
		}
	}
}
