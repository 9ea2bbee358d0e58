package watch

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/modelarts-notifier/modelarts-notifier/eventsapi"
	"github.com/modelarts-notifier/modelarts-notifier/eventsapi/eventsapitest"
	"github.com/modelarts-notifier/modelarts-notifier/functions/checkpoint"
	"github.com/modelarts-notifier/modelarts-notifier/notifier"
	"github.com/modelarts-notifier/modelarts-notifier/notifier/notifiertest"
)

// One problem is one message (PRODUCT.md, "Notifications"): whole polls
// against eventsapitest, every destination hearing everything (no ROUTES):
// three webhooks and a Slack bot.

// pullFailureTexts are the four messages a failing image pull writes
// (MODELARTS-EVENT-TEXT.md, K1): the issue saw four notifications for them.
var pullFailureTexts = []string{
	`Failed to pull image "swr.cn-north-4.myhuaweicloud.com/team/bert:1.2": rpc error: code = Unknown desc = failed to pull and unpack image: not found`,
	"Error: ErrImagePull",
	`Back-off pulling image "swr.cn-north-4.myhuaweicloud.com/team/bert:1.2"`,
	"Error: ImagePullBackOff",
}

// manifest is a new message in the failing pull's phase.
const manifest = `Failed to pull image "swr.cn-north-4.myhuaweicloud.com/team/bert:1.2": rpc error: code = NotFound desc = manifest unknown`

// listed is the event texts a webhook body lists as abnormal events.
func listed(b webhookBody) []string {
	var out []string
	for _, e := range b.Data.AbnormalEvents {
		out = append(out, e.EventInfo)
	}
	return out
}

// abnormalBodies are the service.abnormal bodies of bs.
func abnormalBodies(bs []webhookBody) []webhookBody {
	return slices.DeleteFunc(slices.Clone(bs), func(b webhookBody) bool { return b.Type != string(notifier.KindAbnormal) })
}

// The pull failure: four messages in one poll are one
// service.abnormal (phase image_pull) listing them, to every destination.
// Later abnormal events of the phase are no new notification: a new
// message is a reply in the Slack bot's thread, repeats are nothing, and
// the failure that ends the deployment lists them all.
func TestHTTPPullFailureIsOneNotification(t *testing.T) {
	w := newRoutedWorld(t)
	w.doc = ""
	start := w.now.Add(-5 * time.Minute)
	last := w.srv.DeployStall(w.bert, "BERT 1", eventsapitest.PhaseImagePull, start, 10*time.Second)
	for i, text := range pullFailureTexts {
		w.srv.RuntimeAbnormal(w.bert, text, last.Add(time.Duration(i+1)*10*time.Second))
	}
	w.now = last.Add(time.Minute)
	if res := w.poll(); res.Err != nil {
		t.Fatal(res.Err)
	}
	for _, r := range []*hookRecorder{w.pager, w.nlp, w.vision} {
		got, _ := r.take(t)
		if len(got) != 1 || got[0].Type != string(notifier.KindAbnormal) || got[0].Data.Phase != "image_pull" {
			t.Fatalf("got %v, want one service.abnormal in image_pull", types(got))
		}
		if !slices.Equal(listed(got[0]), pullFailureTexts) {
			t.Errorf("it lists %q, want the four messages", listed(got[0]))
		}
	}
	calls := w.slack.Take()
	if len(calls) != 1 || calls[0].Method != "chat.postMessage" || calls[0].ThreadTS != "" {
		t.Fatalf("slack: %+v, want one parent message", calls)
	}

	// The back-off goes on (repeats), and a new message comes.
	w.srv.RuntimeAbnormal(w.bert, pullFailureTexts[2], w.now.Add(10*time.Second))
	w.srv.RuntimeAbnormal(w.bert, pullFailureTexts[3], w.now.Add(20*time.Second))
	w.srv.RuntimeAbnormal(w.bert, manifest, w.now.Add(30*time.Second))
	w.now = w.now.Add(time.Minute)
	if res := w.poll(); res.Err != nil {
		t.Fatal(res.Err)
	}
	for _, r := range []*hookRecorder{w.pager, w.nlp, w.vision} {
		if got, _ := r.take(t); len(got) != 0 {
			t.Errorf("later abnormal events of the phase: %v, want no notification", types(got))
		}
	}
	calls = w.slack.Take()
	if len(calls) != 1 || calls[0].Method != "chat.postMessage" || calls[0].ThreadTS == "" {
		t.Fatalf("slack: %+v, want one reply in the deployment's thread", calls)
	}
	if !strings.Contains(calls[0].Blocks, "manifest unknown") || strings.Contains(calls[0].Blocks, "ImagePullBackOff") {
		t.Errorf("the reply shows %s, want the new message and not the repeats", calls[0].Blocks)
	}

	// A quiet poll tells nothing; the failure lists every abnormal event.
	w.now = w.now.Add(time.Minute)
	if res := w.poll(); res.Err != nil {
		t.Fatal(res.Err)
	}
	if calls := w.slack.Take(); len(calls) != 0 {
		t.Errorf("quiet poll: slack %+v", calls)
	}
	w.srv.AppendEvents(w.bert, eventsapi.Event{EventType: eventsapi.EventTypeAbnormal, OccurTime: w.now.Add(-10 * time.Second).UnixMilli(),
		EventInfo: "Service bert-ner failed. Error: failed to pull image, the image does not exist."})
	w.srv.SetStatus(w.bert, eventsapi.StatusFailed, "image pull failed")
	w.now = w.now.Add(time.Minute)
	if res := w.poll(); res.Err != nil {
		t.Fatal(res.Err)
	}
	got, _ := w.pager.take(t)
	if len(got) != 1 || got[0].Type != string(notifier.KindFailed) {
		t.Fatalf("got %v, want the failure", types(got))
	}
	if n := len(got[0].Data.AbnormalEvents); n != len(pullFailureTexts)+4 {
		t.Errorf("the failure lists %d abnormal events, want %d", n, len(pullFailureTexts)+4)
	}
}

// A runtime burst of five abnormal events in one poll is one notification
// listing the five; the next poll's new ones are one more.
func TestHTTPRuntimeBurstIsOneNotification(t *testing.T) {
	w := newRoutedWorld(t)
	w.doc = ""
	end := w.srv.DeploySuccess(w.yolo, "YOLO 8", w.now.Add(-20*time.Minute), 10*time.Second)
	w.now = end.Add(time.Minute)
	if res := w.poll(); res.Err != nil {
		t.Fatal(res.Err)
	}
	w.pager.take(t)
	w.slack.Take()
	burst := func(from, n int) []string {
		var texts []string
		for i := range n {
			text := fmt.Sprintf("Instance yolo-det-%d restarted: the model process exited (out of memory).", from+i)
			texts = append(texts, text)
			w.srv.RuntimeAbnormal(w.yolo, text, w.now.Add(time.Duration(i+1)*5*time.Second))
		}
		w.now = w.now.Add(time.Minute)
		return texts
	}
	for poll, n := range []int{5, 2} {
		texts := burst(10*poll, n)
		if res := w.poll(); res.Err != nil {
			t.Fatal(res.Err)
		}
		got, _ := w.pager.take(t)
		if len(got) != 1 || got[0].Type != string(notifier.KindAbnormal) || !slices.Equal(listed(got[0]), texts) {
			t.Fatalf("poll %d: got %v, want one service.abnormal listing %d events", poll, types(got), n)
		}
		if calls := w.slack.Take(); len(calls) != 1 {
			t.Errorf("poll %d: %d slack messages, want 1", poll, len(calls))
		}
	}
}

// failingSaves is a store whose saves fail while fail is set: a crash
// after delivery, before the checkpoint is written.
type failingSaves struct {
	checkpoint.Store
	fail bool
}

var errSaveCrash = errors.New("crash before the checkpoint write")

func (s *failingSaves) Save(ctx context.Context, cp *checkpoint.Checkpoint) error {
	if s.fail {
		return errSaveCrash
	}
	return s.Store.Save(ctx, cp)
}

func (s *failingSaves) SaveMany(ctx context.Context, cps []*checkpoint.Checkpoint) []error {
	if s.fail {
		errs := make([]error, len(cps))
		for i := range errs {
			errs[i] = errSaveCrash
		}
		return errs
	}
	return s.Store.SaveMany(ctx, cps)
}

// Group IDs are stable: a group re-derived after a crash has the same
// webhook-id; a destination that missed a group gets that same group (the
// same ID, the same events) and the news apart, never what it had.
func TestHTTPGroupIDsStable(t *testing.T) {
	w := newRoutedWorld(t)
	w.doc = ""
	store := &failingSaves{Store: w.store}
	w.store = store
	end := w.srv.DeploySuccess(w.yolo, "YOLO 8", w.now.Add(-20*time.Minute), 10*time.Second)
	w.now = end.Add(time.Minute)
	if res := w.poll(); res.Err != nil {
		t.Fatal(res.Err)
	}
	w.pager.take(t)
	w.nlp.take(t)
	for i := range 3 {
		w.srv.RuntimeAbnormal(w.yolo, fmt.Sprintf("Instance yolo-det-%d restarted unexpectedly.", i), w.now.Add(time.Duration(i+1)*5*time.Second))
	}
	w.now = w.now.Add(time.Minute)

	// Delivered, then the checkpoint write fails: the next poll derives
	// the same group, with the same ID.
	store.fail = true
	if res := w.poll(); res.Err == nil {
		t.Fatal("the poll reported no error for a failed checkpoint write")
	}
	first := w.pager.takeIDs()
	store.fail = false
	if res := w.poll(); res.Err != nil {
		t.Fatal(res.Err)
	}
	again := w.pager.takeIDs()
	if len(first) != 1 || !slices.Equal(first, again) {
		t.Fatalf("webhook-ids %v then %v: want one group, the same ID after the crash", first, again)
	}
	w.nlp.take(t)

	// The pager is down for one group, then a new event comes.
	for i := range 2 {
		w.srv.RuntimeAbnormal(w.yolo, fmt.Sprintf("Instance yolo-det-%d restarted unexpectedly.", 10+i), w.now.Add(time.Duration(i+1)*5*time.Second))
	}
	w.now = w.now.Add(time.Minute)
	w.pager.setDown(true)
	if res := w.poll(); res.Err == nil {
		t.Fatal("a poll with the pager down reported no error")
	}
	missed := w.nlp.takeIDs()
	w.pager.setDown(false)
	w.srv.RuntimeAbnormal(w.yolo, "Instance yolo-det-20 restarted unexpectedly.", w.now.Add(5*time.Second))
	w.now = w.now.Add(time.Minute)
	if res := w.poll(); res.Err != nil {
		t.Fatal(res.Err)
	}
	pagerIDs := slices.Clone(w.pager.ids)
	pager, _ := w.pager.take(t)
	nlp, _ := w.nlp.take(t)
	if len(nlp) != 1 || !slices.Equal(listed(nlp[0]), []string{"Instance yolo-det-20 restarted unexpectedly."}) {
		t.Fatalf("nlp-alerts got %d notifications, want the news alone", len(nlp))
	}
	if len(pager) != 2 || len(missed) != 1 {
		t.Fatalf("pager got %d notifications (nlp had %d before), want the missed group and the news", len(pager), len(missed))
	}
	if want := []string{"Instance yolo-det-10 restarted unexpectedly.", "Instance yolo-det-11 restarted unexpectedly."}; !slices.Equal(listed(pager[0]), want) || pagerIDs[0] != missed[0] {
		t.Errorf("the missed group lists %q under %s, want %q under %s (what the others got)", listed(pager[0]), pagerIDs[0], want, missed[0])
	}
	if !slices.Equal(listed(pager[1]), listed(nlp[0])) {
		t.Errorf("the pager's news lists %q, want %q", listed(pager[1]), listed(nlp[0]))
	}
}

// pullWorld is a routed world with bert stalled in image_pull and the
// four pull-failure messages in its events, polled at w.now.
func pullWorld(t *testing.T, doc string) *routedWorld {
	w := newRoutedWorld(t)
	w.doc = doc
	last := w.srv.DeployStall(w.bert, "BERT 1", eventsapitest.PhaseImagePull, w.now.Add(-5*time.Minute), 10*time.Second)
	for i, text := range pullFailureTexts {
		w.srv.RuntimeAbnormal(w.bert, text, last.Add(time.Duration(i+1)*10*time.Second))
	}
	w.now = last.Add(time.Minute)
	return w
}

// toldPullWorld is pullWorld after its first poll told the pull failure,
// what the destinations got taken.
func toldPullWorld(t *testing.T) *routedWorld {
	w := pullWorld(t, "")
	if res := w.poll(); res.Err != nil {
		t.Fatal(res.Err)
	}
	w.pager.take(t)
	w.slack.Take()
	return w
}

// A destination that missed the phase's notification gets it next, and
// no thread reply repeating its events (the review's finding 5).
func TestHTTPPhaseGroupRetriedWithoutReply(t *testing.T) {
	w := pullWorld(t, "")
	w.slack.Fail(1, notifiertest.ServerError)
	if res := w.poll(); res.Err == nil {
		t.Fatal("poll 1: no error with Slack failing")
	}
	if got, _ := w.pager.take(t); len(got) != 1 {
		t.Fatalf("pager got %d notifications, want the phase's", len(got))
	}
	w.slack.Take()
	w.now = w.now.Add(time.Minute)
	if res := w.poll(); res.Err != nil {
		t.Fatal(res.Err)
	}
	calls := w.slack.Take()
	if len(calls) != 1 || calls[0].ThreadTS != "" {
		t.Fatalf("slack: %+v, want the phase's notification alone (a parent message)", calls)
	}
	if got, _ := w.pager.take(t); len(got) != 0 {
		t.Errorf("pager got %v again", types(got))
	}
}

// A phase's notification muted: once the mute is over, the phase's news
// is a notification of its own, never lost (the review's finding 2).
func TestHTTPPhaseGroupMutedThenNews(t *testing.T) {
	w := pullWorld(t, `
mute:
  - type: [service.abnormal]
    until: 2030-01-01T00:20:00Z
`)
	if res := w.poll(); res.Err != nil || res.Muted != 1 {
		t.Fatalf("poll 1: err %v, muted %d; want the phase's notification muted", res.Err, res.Muted)
	}
	if got, _ := w.pager.take(t); len(got) != 0 {
		t.Fatalf("pager got %v while muted", types(got))
	}
	w.now = time.Date(2030, 1, 1, 0, 24, 0, 0, time.UTC)
	w.srv.RuntimeAbnormal(w.bert, pullFailureTexts[1], w.now.Add(-20*time.Second)) // a repeat: nothing new
	w.srv.RuntimeAbnormal(w.bert, manifest, w.now.Add(-10*time.Second))
	if res := w.poll(); res.Err != nil {
		t.Fatal(res.Err)
	}
	got, _ := w.pager.take(t)
	if len(got) != 1 || got[0].Type != string(notifier.KindAbnormal) || got[0].Data.Phase != "image_pull" {
		t.Fatalf("pager got %v, want one service.abnormal in image_pull", types(got))
	}
	if want := []string{pullFailureTexts[1], manifest}; !slices.Equal(listed(got[0]), want) {
		t.Errorf("it lists %q, want %q", listed(got[0]), want)
	}
}

// A deployment stopped after a thread reply has no next summary: the
// destinations without threads get what only the reply told, once (the
// review's finding 3); the Slack bot gets the stop on its parent alone.
func TestHTTPStoppedDeploymentOwesRepliedEvents(t *testing.T) {
	w := toldPullWorld(t)
	w.srv.RuntimeAbnormal(w.bert, manifest, w.now.Add(10*time.Second))
	w.now = w.now.Add(time.Minute)
	if res := w.poll(); res.Err != nil {
		t.Fatal(res.Err)
	}
	if got, _ := w.pager.take(t); len(got) != 0 {
		t.Fatalf("pager got %v, want nothing before the stop", types(got))
	}
	if calls := w.slack.Take(); len(calls) != 1 || calls[0].ThreadTS == "" {
		t.Fatalf("slack: %+v, want one thread reply", calls)
	}
	w.srv.SetStatus(w.bert, eventsapi.StatusStopped, "")
	w.now = w.now.Add(time.Minute)
	if res := w.poll(); res.Err != nil {
		t.Fatal(res.Err)
	}
	got, _ := w.pager.take(t)
	if len(got) != 1 || got[0].Type != string(notifier.KindAbnormal) || !slices.Equal(listed(got[0]), []string{manifest}) {
		t.Fatalf("pager got %v, want one service.abnormal listing what the reply told", types(got))
	}
	if calls := w.slack.Take(); len(calls) != 1 || calls[0].Method != "chat.update" {
		t.Errorf("slack: %+v, want the parent updated (stopped) alone", calls)
	}
	w.now = w.now.Add(time.Minute)
	if res := w.poll(); res.Err != nil {
		t.Fatal(res.Err)
	}
	if got, _ := w.pager.take(t); len(got) != 0 {
		t.Errorf("after the stop: %v, want nothing", types(got))
	}
}

// A checkpoint of the previous release knows a deployment's abnormal
// message by its per-message ID and not the phase's notification: a
// repeat of that message is nothing new (the review's finding 4); a new
// message is the phase's notification.
func TestUpgradedPhaseRepeatNotResent(t *testing.T) {
	h := newHarness(t)
	const msg = "Insufficient resources. Wait until idle resources are sufficient."
	h.api.add("s1", eventsapi.StatusDeploying, seedEvents(t0, 5)...)
	h.api.add("s1", "", abnormal(t0.Add(time.Minute), msg))
	h.now = t0.Add(2 * time.Minute)
	h.pollExpect("s1 service.abnormal scheduling")
	// As the previous release left it: the message's own ID, no phase's.
	cp, _, err := h.store.Load(context.Background(), "s1")
	if err != nil {
		t.Fatal(err)
	}
	key := deploymentKey("s1", cp.DeploymentStart)
	phaseID := notificationID(key, string(notifier.KindAbnormal), "phase", notifier.PhaseScheduling)
	if _, ok := cp.Sent[phaseID]; !ok {
		t.Fatalf("no Sent entry for the phase's notification: %v", cp.Sent)
	}
	delete(cp.Sent, phaseID)
	if _, ok := cp.Sent[deploymentCover(key, abnormal(t0, msg))]; !ok {
		t.Fatalf("the message is not remembered under its own ID: %v", cp.Sent)
	}
	if err := h.store.Save(context.Background(), &cp); err != nil {
		t.Fatal(err)
	}
	h.api.add("s1", "", abnormal(t0.Add(3*time.Minute), msg))
	h.now = t0.Add(4 * time.Minute)
	h.pollExpect() // a repeat: nothing
	h.api.add("s1", "", abnormal(t0.Add(5*time.Minute), "Insufficient CPU. The scheduling failed."))
	h.now = t0.Add(6 * time.Minute)
	h.pollExpect("s1 service.abnormal scheduling") // news: the phase's notification, never sent before
}

// Two v2 runtime records that keep repeating at their own pace (one record
// each, its count and last occurrence growing) are one notification, not
// one every few polls once their entries age out (the third review's
// finding 3).
func TestHTTPRepeatingV2RuntimeRecordsToldOnce(t *testing.T) {
	h := newV2Harness(t, v2Svc)
	h.srv.AddServiceV2(v2Svc, "qwen-chat", "DEPLOYING")
	end := h.srv.DeploySuccessV2(v2Svc, "Qwen 2.5", t0, 10*time.Second)
	h.now = end.Add(time.Minute)
	h.pollOK()
	texts := []string{"Instance qwen-chat-0 restarted unexpectedly.", "Instance qwen-chat-1 is not ready."}
	told := 0
	for i := range 20 {
		// The first repeats every minute, the second every third.
		h.srv.RuntimeAbnormalV2(v2Svc, texts[0], h.now.Add(10*time.Second))
		if i%3 == 0 {
			h.srv.RuntimeAbnormalV2(v2Svc, texts[1], h.now.Add(20*time.Second))
		}
		h.now = h.now.Add(time.Minute)
		for _, b := range h.pollOK() {
			if b.Type == string(notifier.KindAbnormal) {
				told++
				if i > 0 {
					t.Errorf("minute %d: the repeating records were told again: %v", i, listed(b))
				}
			}
		}
	}
	if told != 1 {
		t.Errorf("told %d times, want once", told)
	}
}

// News in a told phase read with the next deployment's start: the thread
// reply (the bot) and what the others are owed are two notifications, not
// one ID with one audience (the third review's finding 4).
func TestHTTPSupersededDeploymentReplyAndOwed(t *testing.T) {
	w := toldPullWorld(t)
	w.srv.RuntimeAbnormal(w.bert, manifest, w.now.Add(10*time.Second))
	w.srv.AppendEvents(w.bert, eventsapi.Event{EventType: eventsapi.EventTypeNormal, EventInfo: "start to deploy service", OccurTime: w.now.Add(20 * time.Second).UnixMilli()})
	w.now = w.now.Add(time.Minute)
	if res := w.poll(); res.Err != nil {
		t.Fatal(res.Err)
	}
	got, _ := w.pager.take(t)
	if len(got) != 1 || !slices.Equal(listed(got[0]), []string{manifest}) {
		t.Fatalf("pager got %v, want the superseded deployment's news", types(got))
	}
	replies := 0
	for _, c := range w.slack.Take() {
		if c.ThreadTS != "" && strings.Contains(c.Blocks, "manifest unknown") {
			replies++
		}
	}
	if replies != 1 {
		t.Errorf("%d thread replies with the news, want 1", replies)
	}
}

// A deployment routed to two Slack bot channels keeps a thread in each:
// each channel's replies go to its own parent message (the third review's
// finding 2: one parent was kept per deployment).
func TestRoutedTwoBotChannelsKeepTheirThreads(t *testing.T) {
	w := pullWorld(t, `
routes:
  - match: {service: ["bert-*"]}
    to: [slack-bot, "slack-bot:C0TEAM"]
default: []
`)
	if res := w.poll(); res.Err != nil {
		t.Fatal(res.Err)
	}
	cp, _, err := w.store.Load(context.Background(), w.bert)
	if err != nil {
		t.Fatal(err)
	}
	parents := map[string]string{} // channel -> its parent ts
	for k, th := range cp.Threads {
		if _, dest, ok := strings.Cut(k, "@"); ok {
			parents[strings.TrimPrefix(dest, "slack-bot:")] = th.TS
		}
	}
	if len(parents) != 2 || parents["C0PLATFORM"] == "" || parents["C0PLATFORM"] == parents["C0TEAM"] {
		t.Fatalf("parents kept: %v, want one in each channel", parents)
	}
	w.slack.Take()
	w.srv.RuntimeAbnormal(w.bert, manifest, w.now.Add(10*time.Second))
	w.now = w.now.Add(time.Minute)
	if res := w.poll(); res.Err != nil {
		t.Fatal(res.Err)
	}
	replies := 0
	for _, c := range w.slack.Take() {
		if c.ThreadTS == "" {
			continue
		}
		replies++
		if c.ThreadTS != parents[c.Channel] {
			t.Errorf("a reply in %s went to thread %s, want %s (its own parent)", c.Channel, c.ThreadTS, parents[c.Channel])
		}
	}
	if replies != 2 {
		t.Errorf("%d thread replies, want one in each channel", replies)
	}
}
