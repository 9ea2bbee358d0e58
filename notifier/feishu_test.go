package notifier

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

// TestFeishuSignVendorExample: the signature of Feishu's documented example
// timestamp (1599360473), as Feishu's own Python sample computes it
// (hmac.new(f'{timestamp}\n{secret}', b”, sha256), base64) for the
// secret "this is secret".
func TestFeishuSignVendorExample(t *testing.T) {
	if got, want := FeishuSign("this is secret", 1599360473), "/eYKrXQBzTjUZJ3s6NX16VxGbTwmK7AEs8/FnvC1CSw="; got != want {
		t.Errorf("FeishuSign = %q, want %q", got, want)
	}
}

// feishuBot is a stand-in for a Feishu custom bot with signature
// verification: it checks every request as Feishu documents, and answers
// 19021 when the signature or the timestamp is wrong.
func feishuBot(t *testing.T, secret string, now func() time.Time) (*chatRecorder, *[]string) {
	var rejected []string
	rec := newChatRecorder(t, func(w http.ResponseWriter, r *http.Request, body []byte) {
		var m struct {
			Timestamp string          `json:"timestamp"`
			Sign      string          `json:"sign"`
			MsgType   string          `json:"msg_type"`
			Card      json.RawMessage `json:"card"`
		}
		if err := json.Unmarshal(body, &m); err != nil || m.MsgType != "interactive" || len(m.Card) == 0 {
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprint(w, `{"code":19001,"msg":"param invalid"}`)
			return
		}
		ts, err := strconv.ParseInt(m.Timestamp, 10, 64)
		// The documented algorithm, written out again: the key is
		// timestamp + "\n" + secret, the message is empty.
		mac := hmac.New(sha256.New, []byte(m.Timestamp+"\n"+secret))
		want := base64.StdEncoding.EncodeToString(mac.Sum(nil))
		skew := now().Sub(time.Unix(ts, 0))
		if err != nil || m.Sign != want || skew > time.Hour || skew < -time.Hour {
			rejected = append(rejected, fmt.Sprintf("ts %q sign %q", m.Timestamp, m.Sign))
			fmt.Fprint(w, `{"code":19021,"data":{},"msg":"sign match fail or timestamp is not within one hour from current time"}`)
			return
		}
		fmt.Fprint(w, `{"code":0,"data":{},"msg":"success"}`)
	})
	return rec, &rejected
}

func TestFeishuSignedRequests(t *testing.T) {
	clk := newFakeClockAt(time.Unix(1599360473, 0))
	rec, rejected := feishuBot(t, "this is secret", clk.Now)
	f, err := NewFeishu(FeishuConfig{URL: rec.URL + "/open-apis/bot/v2/hook/" + chatToken, Secret: "this is secret", SendConfig: SendConfig{Now: clk.Now, Sleep: clk.Sleep}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range f.Notify(t.Context(), fixtures()[:3]) {
		if r.Err != nil {
			t.Errorf("notification %d: %v", i, r.Err)
		}
	}
	if len(*rejected) != 0 {
		t.Errorf("rejected: %v", *rejected)
	}
	first := rec.Bodies()[0]
	if !strings.Contains(string(first), `"timestamp":"1599360473","sign":"/eYKrXQBzTjUZJ3s6NX16VxGbTwmK7AEs8/FnvC1CSw="`) {
		t.Errorf("first request is not signed with the documented example's signature:\n%.200s", first)
	}

	// Another secret: Feishu refuses it (19021), permanently, at once.
	bad, err := NewFeishu(FeishuConfig{URL: rec.URL + "/open-apis/bot/v2/hook/" + chatToken, Secret: "another secret", SendConfig: SendConfig{Now: clk.Now, Sleep: clk.Sleep}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	rec.hits.Store(0)
	r := bad.Notify(t.Context(), []Notification{fixture(KindFailed)})[0]
	if r.Err == nil || !strings.Contains(r.Err.Error(), "19021") || rec.hits.Load() != 1 {
		t.Errorf("wrong secret: %v after %d tries; want a permanent 19021", r.Err, rec.hits.Load())
	}
	if strings.Contains(r.Err.Error(), "another secret") {
		t.Error("the error shows the secret")
	}
}

func TestFeishuUnsigned(t *testing.T) {
	rec := newChatRecorder(t, answerWith(200, `{"code":0,"msg":"success"}`))
	f, err := NewFeishu(FeishuConfig{URL: rec.URL + "/open-apis/bot/v2/hook/x"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if r := f.Notify(t.Context(), []Notification{fixture(KindSucceeded)})[0]; r.Err != nil {
		t.Fatal(r.Err)
	}
	if body := string(rec.Bodies()[0]); strings.Contains(body, `"sign"`) || strings.Contains(body, `"timestamp"`) {
		t.Errorf("unsigned bot got a signature: %.120s", body)
	}
}

func TestFeishuHosts(t *testing.T) {
	tests := []struct {
		url, secret string
		wantErr     string
	}{
		{"https://open.feishu.cn/open-apis/bot/v2/hook/" + chatToken, "", ""},
		{"https://open.larksuite.com/open-apis/bot/v2/hook/" + chatToken, chatSecret, ""},
		{"https://OPEN.FEISHU.CN/open-apis/bot/v2/hook/" + chatToken, "", ""},
		{"https://open.feishu.cn./open-apis/bot/v2/hook/" + chatToken, "", ""},
		// On the documented hosts, a path that is not a custom bot's is a
		// pasted wrong URL.
		{"https://open.feishu.cn/open-apis/im/v1/" + chatToken, "", "FEISHU_WEBHOOK_URLS: not a custom bot webhook"},
		{"https://open.feishu.cn/open-apis/bot/v2/hook/", "", "FEISHU_WEBHOOK_URLS: not a custom bot webhook"},
		{"https://open.larksuite.com/any/" + chatToken, "", "FEISHU_WEBHOOK_URLS: not a custom bot webhook"},
		{"http://open.feishu.cn/open-apis/bot/v2/hook/" + chatToken, "", "FEISHU_WEBHOOK_URLS: http://"},
		// Loopback (a local stand-in) and other https hosts (a private
		// deployment, a relay): any path.
		{"http://127.0.0.1:8080/open-apis/bot/v2/hook/" + chatToken, "", ""},
		{"http://127.0.0.1:8080/any/" + chatToken, "", ""},
		{"http://localhost:8080/any/" + chatToken, "", ""},
		{"http://[::1]:8080/any/" + chatToken, "", ""},
		{"https://relay.example/any/" + chatToken, "", ""},
		{"https://open.feishu.cn.evil.example/open-apis/bot/v2/hook/" + chatToken, "", ""},
		{"http://relay.example/any/" + chatToken, "", "FEISHU_WEBHOOK_URLS: http://"},
		{"ftp://relay.example/any/" + chatToken, "", "FEISHU_WEBHOOK_URLS: scheme"},
		{"https://open.feishu.cn/open-apis/bot/v2/hook/" + chatToken, "two\nlines", "FEISHU_SECRET: contains a line break"},
	}
	for _, tt := range tests {
		_, err := NewFeishu(FeishuConfig{URL: tt.url, Secret: tt.secret}, nil)
		if (err == nil) != (tt.wantErr == "") || (err != nil && !strings.HasPrefix(err.Error(), tt.wantErr)) {
			t.Errorf("NewFeishu(%s) = %v, want %q", tt.url, err, tt.wantErr)
		}
		if err != nil && (strings.Contains(err.Error(), chatToken) || strings.Contains(err.Error(), "lines")) {
			t.Errorf("error shows the URL or secret: %v", err)
		}
	}
}

// TestFeishuGatewayReset: a 429 from Feishu's gateway says when its limit
// resets (x-ogw-ratelimit-reset, seconds); that is waited like Retry-After.
func TestFeishuGatewayReset(t *testing.T) {
	var first = true
	rec := newChatRecorder(t, func(w http.ResponseWriter, _ *http.Request, _ []byte) {
		if first {
			first = false
			w.Header().Set("x-ogw-ratelimit-reset", "3")
			w.WriteHeader(http.StatusTooManyRequests)
			fmt.Fprint(w, `{"code":99991400,"msg":"request trigger frequency limit"}`)
			return
		}
		fmt.Fprint(w, `{"code":0,"msg":"success"}`)
	})
	clk := newFakeClock()
	f, err := NewFeishu(FeishuConfig{URL: rec.URL + "/hook/x", SendConfig: SendConfig{Now: clk.Now, Sleep: clk.Sleep}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if r := f.Notify(t.Context(), []Notification{fixture(KindFailed)})[0]; r.Err != nil {
		t.Fatal(r.Err)
	}
	if got := fmt.Sprint(clk.Sleeps()); got != "[3s]" {
		t.Errorf("waited %s, want the gateway's 3s", got)
	}
}
