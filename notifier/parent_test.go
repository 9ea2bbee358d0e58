package notifier

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestSlackBotParentUpdate: a stopped deployment's parent message is
// updated in place to say so; nothing is posted, in the thread or out.
func TestSlackBotParentUpdate(t *testing.T) {
	const parent = "1795867000.000100"
	gone := func(code string) func(slackCall, int) slackAnswer {
		return func(c slackCall, _ int) slackAnswer {
			if c.Method == "chat.update" {
				return slackAnswer{Body: `{"ok":false,"error":"` + code + `"}`}
			}
			return slackAnswer{}
		}
	}
	noThread := stoppedFixture()
	noThread.ThreadTS = ""
	tests := []struct {
		name    string
		n       Notification
		script  func(slackCall, int) slackAnswer
		want    []slackCall
		wantTS  string
		wantErr string
	}{
		{
			name:   "the parent is updated, nothing posted",
			n:      stoppedFixture(),
			want:   []slackCall{{Method: "chat.update", Channel: "C0DEPLOYS", TS: parent}},
			wantTS: parent,
		},
		{
			name: "no parent: acknowledged without a call",
			n:    noThread,
		},
		{
			name:   "parent gone: acknowledged, no new parent",
			n:      stoppedFixture(),
			script: gone("message_not_found"),
			want:   []slackCall{{Method: "chat.update", Channel: "C0DEPLOYS", TS: parent}},
			wantTS: parent,
		},
		{
			name:   "parent not updatable: acknowledged, no new parent",
			n:      stoppedFixture(),
			script: gone("cant_update_message"),
			want:   []slackCall{{Method: "chat.update", Channel: "C0DEPLOYS", TS: parent}},
			wantTS: parent,
		},
		{
			name:    "another error fails it",
			n:       stoppedFixture(),
			script:  gone("channel_not_found"),
			want:    []slackCall{{Method: "chat.update", Channel: "C0DEPLOYS", TS: parent}},
			wantTS:  parent,
			wantErr: `slack error "channel_not_found"`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newFakeSlack(t, tt.script)
			r := newTestBot(t, srv.URL, newFakeClock()).Notify(t.Context(), []Notification{tt.n})
			if len(r) != 1 || r[0].ID != tt.n.ID || r[0].ThreadTS != tt.wantTS {
				t.Errorf("results = %+v", r)
			}
			if tt.wantErr == "" && r[0].Err != nil || tt.wantErr != "" && (r[0].Err == nil || !strings.Contains(r[0].Err.Error(), tt.wantErr)) {
				t.Errorf("err = %v, want %q", r[0].Err, tt.wantErr)
			}
			calls := srv.Calls()
			if diff := cmp.Diff(tt.want, summarize(calls)); diff != "" {
				t.Errorf("calls (-want +got):\n%s", diff)
			}
			for _, c := range calls {
				checkBlocks(t, c.Blocks)
				blocks, text, _ := slackStoppedBlocks(tt.n)
				if c.Blocks != mustJSON(t, blocks) || c.Text != text {
					t.Errorf("chat.update sent text %q, want the stopped parent %q", c.Text, text)
				}
				for _, want := range []string{"Deployment stopped", "The service was stopped (status `stopped`) at 2026-11-28 12:24:40 UTC before the deployment finished."} {
					if !strings.Contains(c.Blocks, want) {
						t.Errorf("parent lacks %q", want)
					}
				}
			}
		})
	}
}

// TestSlackBotParentUpdateAfterNewParent: a parent posted earlier in the
// same call is the one a parent update updates.
func TestSlackBotParentUpdateAfterNewParent(t *testing.T) {
	srv := newFakeSlack(t, nil)
	stopped := stoppedFixture()
	stopped.ThreadTS = ""
	ns := []Notification{fixture(KindStalled), stopped}
	r := newTestBot(t, srv.URL, newFakeClock()).Notify(t.Context(), ns)
	want := []slackCall{
		{Method: "chat.postMessage", Channel: "C0DEPLOYS"},
		{Method: "chat.update", Channel: "C0DEPLOYS", TS: "1795867200.000001"},
	}
	if diff := cmp.Diff(want, summarize(srv.Calls())); diff != "" {
		t.Errorf("calls (-want +got):\n%s", diff)
	}
	for i, res := range r {
		if res.Err != nil || res.ID != ns[i].ID || res.ThreadTS != "1795867200.000001" {
			t.Errorf("result %d = %+v", i, res)
		}
	}
}

// TestSlackBotDigestLeavesParentUpdatesOut: parent updates neither join a
// digest nor count toward its threshold; results keep the call's order.
func TestSlackBotDigestLeavesParentUpdatesOut(t *testing.T) {
	stopped := func(i int) Notification {
		n := stoppedFixture()
		n.ID = fmt.Sprintf("stop-%d", i)
		n.DeploymentKey = fmt.Sprintf("svc/%d", i)
		n.ThreadTS = fmt.Sprintf("1795867000.%06d", i)
		return n
	}
	t.Run("five and two updates: no digest", func(t *testing.T) {
		srv := newFakeSlack(t, nil)
		rt := runtimeBatch(5)
		ns := []Notification{rt[0], stopped(1), rt[1], rt[2], stopped(2), rt[3], rt[4]}
		results := newTestBot(t, srv.URL, newFakeClock()).Notify(t.Context(), ns)
		var want []slackCall
		for _, n := range ns {
			if n.ThreadOnly() {
				want = append(want, slackCall{Method: "chat.update", Channel: "C0DEPLOYS", TS: n.ThreadTS})
			} else {
				want = append(want, slackCall{Method: "chat.postMessage", Channel: "C0DEPLOYS"})
			}
		}
		if diff := cmp.Diff(want, summarize(srv.Calls())); diff != "" {
			t.Errorf("calls (-want +got):\n%s", diff)
		}
		checkOrder(t, ns, results)
	})
	t.Run("six and three updates: a digest of six, then the updates", func(t *testing.T) {
		srv := newFakeSlack(t, nil)
		rt := runtimeBatch(6)
		ns := []Notification{stopped(1), rt[0], rt[1], stopped(2), rt[2], rt[3], rt[4], rt[5], stopped(3)}
		results := newTestBot(t, srv.URL, newFakeClock()).Notify(t.Context(), ns)
		calls := srv.Calls()
		want := []slackCall{{Method: "chat.postMessage", Channel: "C0DEPLOYS"}}
		for range 6 {
			want = append(want, slackCall{Method: "chat.postMessage", Channel: "C0DEPLOYS", ThreadTS: "1795867200.000001"})
		}
		for _, i := range []int{1, 2, 3} {
			want = append(want, slackCall{Method: "chat.update", Channel: "C0DEPLOYS", TS: stopped(i).ThreadTS})
		}
		if diff := cmp.Diff(want, summarize(calls)); diff != "" {
			t.Errorf("calls (-want +got):\n%s", diff)
		}
		if !strings.HasPrefix(calls[0].Text, "6 ModelArts notifications") {
			t.Errorf("digest text = %q, want 6 notifications", calls[0].Text)
		}
		if strings.Contains(calls[0].Blocks, "stopped") {
			t.Error("a parent update is listed in the digest")
		}
		checkOrder(t, ns, results)
	})
	t.Run("digest fails with Slack down: the updates are not attempted", func(t *testing.T) {
		srv := newFakeSlack(t, func(slackCall, int) slackAnswer { return slackAnswer{Status: 503} })
		rt := runtimeBatch(6)
		ns := append([]Notification{stopped(1)}, rt...)
		results := newTestBot(t, srv.URL, newFakeClock()).Notify(t.Context(), ns)
		for _, c := range srv.Calls() {
			if c.Method != "chat.postMessage" || c.ThreadTS != "" {
				t.Errorf("call %+v after the digest failed", summarize([]slackCall{c}))
			}
		}
		for i, r := range results {
			if r.ID != ns[i].ID || r.Err == nil {
				t.Errorf("result %d = %+v, want an error", i, r)
			}
		}
	})
}

func checkOrder(t *testing.T, ns []Notification, results []Result) {
	t.Helper()
	if len(results) != len(ns) {
		t.Fatalf("%d results for %d notifications", len(results), len(ns))
	}
	for i, r := range results {
		if r.ID != ns[i].ID || r.Err != nil {
			t.Errorf("result %d = %+v, want %s delivered", i, r, ns[i].ID)
		}
		if ns[i].ThreadOnly() && r.ThreadTS != ns[i].ThreadTS {
			t.Errorf("result %d: ThreadTS %q, want %q", i, r.ThreadTS, ns[i].ThreadTS)
		}
	}
}

// TestParentUpdateSendsNothingElsewhere: the webhook, the Slack incoming
// webhook and the terminal have no parent message: they acknowledge a
// parent update without sending, and it does not count toward a digest.
func TestParentUpdateSendsNothingElsewhere(t *testing.T) {
	stopped := stoppedFixture()
	only := []Notification{stopped}
	mixed := func() []Notification {
		ns := fixtures()[:5]
		return []Notification{ns[0], stopped, ns[1], ns[2], ns[3], ns[4]}
	}
	wantOK := func(t *testing.T, ns []Notification, results []Result) {
		t.Helper()
		var want []Result
		for _, n := range ns {
			want = append(want, Result{ID: n.ID})
		}
		if diff := cmp.Diff(want, results); diff != "" {
			t.Errorf("results (-want +got):\n%s", diff)
		}
	}

	t.Run("webhook", func(t *testing.T) {
		srv := newRecorder(t, nil)
		w := newTestWebhook(t, srv.URL, testSecret, newFakeClock())
		wantOK(t, only, w.Notify(t.Context(), only))
		if n := len(srv.Requests()); n != 0 {
			t.Fatalf("%d requests for a parent update", n)
		}
		ns := mixed()
		wantOK(t, ns, w.Notify(t.Context(), ns))
		for _, r := range srv.Requests() {
			if r.Header.Get("webhook-id") == stopped.ID {
				t.Error("the parent update was posted")
			}
		}
		if n := len(srv.Requests()); n != 5 {
			t.Errorf("%d requests, want 5", n)
		}
	})
	t.Run("slack webhook", func(t *testing.T) {
		srv := newRecorder(t, nil)
		clk := newFakeClock()
		s := newTestSlackWebhook(t, srv.URL, clk)
		wantOK(t, only, s.Notify(t.Context(), only))
		if n := len(srv.Requests()); n != 0 {
			t.Fatalf("%d messages for a parent update", n)
		}
		// Five and the update: five messages, no digest of six.
		ns := mixed()
		wantOK(t, ns, s.Notify(t.Context(), ns))
		reqs := srv.Requests()
		if len(reqs) != 5 {
			t.Fatalf("%d messages, want 5 (no digest)", len(reqs))
		}
		for _, r := range reqs {
			if bytes.Contains(r.Body, []byte("ModelArts notifications")) || bytes.Contains(r.Body, []byte("Deployment stopped")) {
				t.Errorf("unexpected message %.100s", r.Body)
			}
		}
		if len(clk.Sleeps()) != 4 {
			t.Errorf("pacing %v", clk.Sleeps())
		}
	})
	t.Run("terminal", func(t *testing.T) {
		var buf bytes.Buffer
		term := NewTerminal(&buf, false)
		wantOK(t, only, term.Notify(t.Context(), only))
		if buf.Len() != 0 {
			t.Fatalf("printed %q for a parent update", buf.String())
		}
		ns := mixed()
		wantOK(t, ns, term.Notify(t.Context(), ns))
		var want bytes.Buffer
		NewTerminal(&want, false).Notify(t.Context(), fixtures()[:5])
		if diff := cmp.Diff(want.String(), buf.String()); diff != "" {
			t.Errorf("output (-without the update +with it):\n%s", diff)
		}
	})
	t.Run("deliver", func(t *testing.T) {
		srv := newRecorder(t, nil)
		dests := []Destination{{Name: "webhook", Notifier: newTestWebhook(t, srv.URL, "", newFakeClock())}}
		ds := Deliver(t.Context(), dests, only, nil)
		if len(ds) != 1 || ds[0].Err != nil || ds[0].ID != stopped.ID || len(srv.Requests()) != 0 {
			t.Errorf("deliveries %+v, %d requests", ds, len(srv.Requests()))
		}
	})
}

// TestSlackBotThreadReply: later abnormal events of a phase already told
// are one reply in the deployment's thread: no parent update, no new
// parent; without a parent, nothing is sent. Other destinations
// acknowledge it without a request (as a parent update).
func TestSlackBotThreadReply(t *testing.T) {
	const parent = "1795867000.000100"
	reply := withThread(fixture(KindAbnormal), parent)
	reply.ID, reply.Thread = "msg_reply", ThreadReply
	reply.Summary.AbnormalEvents = []Event{ev("abnormal", 90000, "Error: ImagePullBackOff <!channel>")}

	srv := newFakeSlack(t, nil)
	r := newTestBot(t, srv.URL, newFakeClock()).Notify(t.Context(), []Notification{reply})
	if len(r) != 1 || r[0].Err != nil || r[0].ThreadTS != parent {
		t.Fatalf("results = %+v", r)
	}
	calls := srv.Calls()
	if diff := cmp.Diff([]slackCall{{Method: "chat.postMessage", Channel: "C0DEPLOYS", ThreadTS: parent}}, summarize(calls)); diff != "" {
		t.Fatalf("calls (-want +got):\n%s", diff)
	}
	checkBlocks(t, calls[0].Blocks)
	if !strings.Contains(calls[0].Blocks, "ImagePullBackOff") || strings.Contains(calls[0].Blocks, "<!channel>") {
		t.Errorf("the reply shows %s, want the event, escaped", calls[0].Blocks)
	}

	noParent := reply
	noParent.ThreadTS = ""
	srv = newFakeSlack(t, nil)
	if r := newTestBot(t, srv.URL, newFakeClock()).Notify(t.Context(), []Notification{noParent}); len(r) != 1 || r[0].Err != nil {
		t.Fatalf("results = %+v", r)
	}
	if n := len(srv.Calls()); n != 0 {
		t.Errorf("%d calls for a reply with no thread", n)
	}

	hook := newRecorder(t, nil)
	w := newTestWebhook(t, hook.URL, testSecret, newFakeClock())
	if r := w.Notify(t.Context(), []Notification{reply}); len(r) != 1 || r[0].Err != nil {
		t.Fatalf("webhook results = %+v", r)
	}
	if n := len(hook.Requests()); n != 0 {
		t.Errorf("the webhook sent %d requests for a thread reply", n)
	}
}
