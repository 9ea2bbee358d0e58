package notifier

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestDingTalkSignVendorExample: the signature DingTalk's own Python 3.8
// sample computes (hmac.new(secret, f'{timestamp}\n{secret}', sha256),
// base64, then urllib.parse.quote_plus) for its example secret "this is
// secret" at timestamp 1599360473000 ms.
func TestDingTalkSignVendorExample(t *testing.T) {
	const want = "hXZTWifRGHclNuZSKxoXc//sh51SWfVfRIhcdeKs63I="
	if got := DingTalkSign("this is secret", 1599360473000); got != want {
		t.Errorf("DingTalkSign = %q, want %q", got, want)
	}
	f := dingtalkFormat{target: must(url.Parse("https://oapi.dingtalk.com/robot/send?access_token=" + chatToken)), secret: "this is secret"}
	req, err := f.request(time.UnixMilli(1599360473000), dingtalkMessage{})
	if err != nil {
		t.Fatal(err)
	}
	target := req.url
	// quote_plus's encoding of the signature, as the URL carries it.
	if !strings.Contains(target, "sign=hXZTWifRGHclNuZSKxoXc%2F%2Fsh51SWfVfRIhcdeKs63I%3D") || !strings.Contains(target, "timestamp=1599360473000") ||
		!strings.Contains(target, "access_token="+chatToken) {
		t.Errorf("signed URL lacks the query parameters: %s", target)
	}
}

// dingtalkRobot is a stand-in for a DingTalk custom robot with 加签 and
// custom keywords: it checks the access token, the timestamp and the sign
// as DingTalk documents them, and that the message carries the keyword,
// answering 310000 otherwise.
func dingtalkRobot(t *testing.T, secret, keyword string, now func() time.Time) (*chatRecorder, *[]string) {
	var rejected []string
	reject := func(w http.ResponseWriter, why string) {
		rejected = append(rejected, why)
		fmt.Fprintf(w, `{"errcode":310000,"errmsg":%q}`, why)
	}
	rec := newChatRecorder(t, func(w http.ResponseWriter, r *http.Request, body []byte) {
		q := r.URL.Query()
		if q.Get("access_token") != chatToken {
			fmt.Fprint(w, `{"errcode":300001,"errmsg":"token is not exist"}`)
			return
		}
		ts := q.Get("timestamp")
		ms, err := strconv.ParseInt(ts, 10, 64)
		// The documented algorithm, written out again.
		mac := hmac.New(sha256.New, []byte(secret))
		mac.Write([]byte(ts + "\n" + secret))
		want := base64.StdEncoding.EncodeToString(mac.Sum(nil))
		skew := now().Sub(time.UnixMilli(ms))
		if err != nil || q.Get("sign") != want || skew > time.Hour || skew < -time.Hour {
			reject(w, "sign not match")
			return
		}
		var m dingtalkMessage
		if err := json.Unmarshal(body, &m); err != nil || m.MsgType != "markdown" || m.Markdown.Text == "" || m.Markdown.Title == "" {
			fmt.Fprint(w, `{"errcode":40035,"errmsg":"缺少参数 json"}`)
			return
		}
		if !strings.Contains(m.Markdown.Text, keyword) {
			reject(w, "keywords not in content")
			return
		}
		fmt.Fprint(w, `{"errcode":0,"errmsg":"ok"}`)
	})
	return rec, &rejected
}

func TestDingTalkSignedRequestsWithKeyword(t *testing.T) {
	clk := newFakeClockAt(time.UnixMilli(1599360473000))
	rec, rejected := dingtalkRobot(t, "this is secret", "告警", clk.Now)
	d, err := NewDingTalk(DingTalkConfig{URL: rec.URL + "/robot/send?access_token=" + chatToken, Secret: "this is secret", Keyword: "告警", SendConfig: SendConfig{Now: clk.Now, Sleep: clk.Sleep}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ns := append(fixtures()[:2], v2Fixture("msg_v2_failed"))
	for i, r := range d.Notify(t.Context(), ns) {
		if r.Err != nil {
			t.Errorf("notification %d: %v", i, r.Err)
		}
	}
	if len(*rejected) != 0 {
		t.Errorf("rejected: %v", *rejected)
	}
	// A digest carries the keyword too.
	if rs := d.Notify(t.Context(), runtimeBatch(8)); rs[0].Err != nil || len(*rejected) != 0 {
		t.Errorf("digest: %v, rejected %v", rs[0].Err, *rejected)
	}
	// Without the keyword the robot refuses: permanent, one try.
	noKW, _ := NewDingTalk(DingTalkConfig{URL: rec.URL + "/robot/send?access_token=" + chatToken, Secret: "this is secret", SendConfig: SendConfig{Now: clk.Now, Sleep: clk.Sleep}}, nil)
	rec.hits.Store(0)
	r := noKW.Notify(t.Context(), []Notification{fixture(KindFailed)})[0]
	if r.Err == nil || !strings.Contains(r.Err.Error(), "310000") || rec.hits.Load() != 1 {
		t.Errorf("no keyword: %v after %d tries; want a permanent 310000", r.Err, rec.hits.Load())
	}
	// Without the secret too.
	unsigned, _ := NewDingTalk(DingTalkConfig{URL: rec.URL + "/robot/send?access_token=" + chatToken, Keyword: "告警", SendConfig: SendConfig{Now: clk.Now, Sleep: clk.Sleep}}, nil)
	if r := unsigned.Notify(t.Context(), []Notification{fixture(KindFailed)})[0]; r.Err == nil || !strings.Contains(r.Err.Error(), "sign not match") {
		t.Errorf("unsigned: %v; want sign not match", r.Err)
	}
}

func TestDingTalkURLs(t *testing.T) {
	tests := []struct {
		url, secret, keyword string
		wantErr              string
	}{
		{"https://oapi.dingtalk.com/robot/send?access_token=" + chatToken, chatSecret, "告警", ""},
		{"https://oapi.dingtalk.com/robot/send", "", "", "DINGTALK_WEBHOOK_URLS: URL has no access_token"},
		{"https://oapi.dingtalk.com/other?access_token=" + chatToken, "", "", "DINGTALK_WEBHOOK_URLS: not a custom robot webhook"},
		{"http://oapi.dingtalk.com/robot/send?access_token=" + chatToken, "", "", "DINGTALK_WEBHOOK_URLS: http://"},
		// Other https hosts (relays) and loopback: any path, the token may
		// be the relay's to add.
		{"https://relay.example/robot/send?access_token=" + chatToken, "", "", ""},
		{"https://relay.example/dingtalk/" + chatToken, "", "", ""},
		{"http://127.0.0.1/robot/send?access_token=" + chatToken, "", "", ""},
		{"http://127.0.0.1/anything", "", "", ""},
		{"http://relay.example/robot/send?access_token=" + chatToken, "", "", "DINGTALK_WEBHOOK_URLS: http://"},
		{"https://oapi.dingtalk.com/robot/send?access_token=" + chatToken, "a\nb", "", "DINGTALK_SECRET:"},
		{"https://oapi.dingtalk.com/robot/send?access_token=" + chatToken, "", "two\nlines", "DINGTALK_KEYWORD:"},
	}
	for _, tt := range tests {
		_, err := NewDingTalk(DingTalkConfig{URL: tt.url, Secret: tt.secret, Keyword: tt.keyword}, nil)
		if (err == nil) != (tt.wantErr == "") || (err != nil && !strings.HasPrefix(err.Error(), tt.wantErr)) {
			t.Errorf("NewDingTalk(%s) = %v, want %q", tt.url, err, tt.wantErr)
		}
		if err != nil && strings.Contains(err.Error(), chatToken) {
			t.Errorf("error shows the token: %v", err)
		}
	}
}

// TestDingTalkTwentyAMinute: 25 notifications, one Notify call each (as
// successive runs of a warm Lambda make them), reach the robot at no more
// than 20 in any minute; a batch bigger than what is left goes as one
// digest at once.
func TestDingTalkTwentyAMinute(t *testing.T) {
	clk := newFakeClock()
	start := clk.Now()
	var times []time.Duration
	rec := newChatRecorder(t, func(w http.ResponseWriter, _ *http.Request, _ []byte) {
		times = append(times, clk.Now().Sub(start))
		fmt.Fprint(w, `{"errcode":0,"errmsg":"ok"}`)
	})
	d, err := NewDingTalk(DingTalkConfig{URL: rec.URL + "/robot/send?access_token=" + chatToken, SendConfig: SendConfig{Now: clk.Now, Sleep: clk.Sleep}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 25 {
		n := fixture(KindAbnormal)
		n.ID = fmt.Sprintf("n%d", i)
		if r := d.Notify(t.Context(), []Notification{n})[0]; r.Err != nil {
			t.Fatal(r.Err)
		}
	}
	for i := range times {
		in := 0
		for _, u := range times[:i+1] {
			if times[i]-u < time.Minute {
				in++
			}
		}
		if in > 20 {
			t.Fatalf("message %d: %d messages within a minute (%v)", i, in, times)
		}
	}
	if times[20] != time.Minute {
		t.Errorf("message 21 went at +%s, want +1m", times[20])
	}
	// 5 sent in this minute: room for 15. Four at once go one by one,
	// without waiting.
	rec.hits.Store(0)
	before := clk.Now()
	for i, r := range d.Notify(t.Context(), runtimeBatch(4)) {
		if r.Err != nil {
			t.Errorf("batch of 4, result %d: %v", i, r.Err)
		}
	}
	if got := rec.hits.Load(); got != 4 || clk.Now() != before {
		t.Errorf("4 with room for 15: %d messages, waited %s", got, clk.Now().Sub(before))
	}
	for i := range 10 {
		n := fixture(KindAbnormal)
		n.ID = fmt.Sprintf("m%d", i)
		d.Notify(t.Context(), []Notification{n})
	}
	// Room for 1: two notifications make one digest.
	rec.hits.Store(0)
	for i, r := range d.Notify(t.Context(), runtimeBatch(2)) {
		if r.Err != nil {
			t.Errorf("batch of 2, result %d: %v", i, r.Err)
		}
	}
	if got := rec.hits.Load(); got != 1 {
		t.Errorf("2 with room for 1: %d messages, want 1 digest", got)
	}
}
