package watch

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/modelarts-notifier/modelarts-notifier/eventsapi"
	"github.com/modelarts-notifier/modelarts-notifier/eventsapi/eventsapitest"
	"github.com/modelarts-notifier/modelarts-notifier/functions/checkpoint"
	"github.com/modelarts-notifier/modelarts-notifier/notifier"
	"github.com/modelarts-notifier/modelarts-notifier/notifier/notifiertest"
	"github.com/modelarts-notifier/modelarts-notifier/notifier/route"
)

const routesDoc = `
routes:
  - match: {service: ["bert-*"]}
    to: [nlp-alerts, "slack-bot:#nlp"]
  - match: {service: ["yolo-*"]}
    to: [vision]
  - match: {type: [service.abnormal]}
    to: [pager]
default: [slack-bot]
mute:
  - service: ["bench-*"]
    type: [deployment.failed]
    until: 2030-01-01T00:40:00Z
`

// routedWorld is a project of three teams: three named webhook receivers
// and a Slack bot posting to its own channel and to #nlp.
type routedWorld struct {
	t                  *testing.T
	srv                *eventsapitest.Server
	store              checkpoint.Store
	pager, nlp, vision *hookRecorder
	slack              *notifiertest.SlackAPI
	now                time.Time
	bert, yolo, bench  string
	// doc is the ROUTES document ("": none), unnamed leaves the webhook
	// entries without names (the previous release's configuration).
	doc     string
	unnamed bool
}

func newRoutedWorld(t *testing.T) *routedWorld {
	w := &routedWorld{t: t, doc: routesDoc, store: checkpoint.NewMemory(), now: time.Date(2030, 1, 1, 0, 10, 0, 0, time.UTC),
		bert: "00000000-0000-4000-8000-0000000000b1", yolo: "00000000-0000-4000-8000-0000000000b2", bench: "00000000-0000-4000-8000-0000000000b3"}
	w.srv = eventsapitest.NewServer(eventsapitest.WithClock(func() time.Time { return w.now }))
	t.Cleanup(w.srv.Close)
	w.pager, w.nlp, w.vision = newHookRecorder(t), newHookRecorder(t), newHookRecorder(t)
	w.slack = notifiertest.NewSlackAPI(t, "xoxb-test")
	w.srv.AddService(w.bert, "bert-ner", eventsapi.StatusDeploying)
	w.srv.AddService(w.yolo, "yolo-det", eventsapi.StatusDeploying)
	w.srv.AddService(w.bench, "bench-1", eventsapi.StatusDeploying)
	return w
}

// poll runs one poll with a Poller built afresh (a restart), as the
// functions build it: destinations named, routes parsed against them.
func (w *routedWorld) poll() Result {
	w.t.Helper()
	api, err := eventsapi.New(eventsapi.Config{Endpoint: w.srv.URL, ProjectID: w.srv.ProjectID, Auth: eventsapi.StaticToken(w.srv.Token),
		RetryBaseDelay: time.Millisecond, RetryMaxDelay: 2 * time.Millisecond, MaxRetries: 1})
	if err != nil {
		w.t.Fatal(err)
	}
	send := notifier.SendConfig{Retry: notifier.RetryPolicy{MaxAttempts: 1}, Sleep: func(context.Context, time.Duration) error { return nil }}
	hook := func(name string, r *hookRecorder) notifier.Destination {
		wh, err := notifier.NewWebhook(notifier.WebhookConfig{URL: r.srv.URL, SendConfig: send}, nil)
		if err != nil {
			w.t.Fatal(err)
		}
		if w.unnamed {
			name = ""
		}
		return notifier.Destination{Name: "webhook-" + notifier.ShortHash(r.srv.URL), Label: name, Kind: "webhook", Notifier: wh}
	}
	bot := func(channel string) notifier.Destination {
		b, err := notifier.NewSlackBot(notifier.SlackBotConfig{Token: "xoxb-test", Channel: channel, APIURL: w.slack.URL + "/", SendConfig: send}, nil)
		if err != nil {
			w.t.Fatal(err)
		}
		return notifier.Destination{Name: "slack-bot:" + channel, Kind: "slack-bot", Notifier: b}
	}
	dests := []notifier.Destination{bot("C0PLATFORM"), hook("pager", w.pager), hook("nlp-alerts", w.nlp), hook("vision", w.vision)}
	var rds []route.Destination
	for _, d := range dests {
		rds = append(rds, route.Destination{Key: d.Name, Name: d.RouteName(), Kind: d.Kind})
	}
	var kinds []string
	for _, k := range notifier.Kinds {
		kinds = append(kinds, string(k))
	}
	tb, err := route.Parse(w.doc, rds, kinds, notifier.PhaseNames)
	if err != nil {
		w.t.Fatal(err)
	}
	for _, ch := range tb.Channels() {
		dests = append(dests, bot(ch[len("slack-bot:"):]))
	}
	cfg := Config{ProjectID: w.srv.ProjectID, FirstRunLookback: time.Hour, Now: func() time.Time { return w.now }}
	if tb != nil {
		cfg.Router = tb
	}
	return New(cfg, api, w.store, dests, nil).Poll(context.Background())
}

func kindsOf(t *testing.T, r *hookRecorder) []string {
	got, _ := r.take(t)
	var out []string
	for _, b := range got {
		out = append(out, b.Type+" "+b.Data.ServiceID)
	}
	slices.Sort(out)
	return out
}

// Each receiver gets exactly its notifications; Slack threads stay in the
// channel their route named across polls and restarts; a muted failure is
// never sent, not even after the mute ended; the checkpoint moves on.
func TestRoutedPolls(t *testing.T) {
	w := newRoutedWorld(t)
	t0 := w.now.Add(-8 * time.Minute)
	w.srv.DeployStall(w.bert, "BERT 1", eventsapitest.PhaseImagePull, t0, 10*time.Second)
	w.srv.DeployFailure(w.yolo, "YOLO 8", eventsapitest.PhaseScheduling, t0, 10*time.Second)
	w.srv.DeployFailure(w.bench, "bench", eventsapitest.PhaseScheduling, t0, 10*time.Second)
	w.srv.RuntimeAbnormal(w.bench, "Instance bench-1-7f9c restarted: the model process exited (out of memory).", t0.Add(-time.Minute))
	w.pager.setDown(true)

	w.now = time.Date(2030, 1, 1, 0, 30, 0, 0, time.UTC)
	res := w.poll()
	if res.Muted != 1 {
		t.Errorf("poll 1: muted %d, want bench's failure", res.Muted)
	}
	if got := kindsOf(t, w.nlp); !slices.Equal(got, []string{"deployment.stalled " + w.bert}) {
		t.Errorf("nlp-alerts got %v", got)
	}
	if got := kindsOf(t, w.vision); !slices.Equal(got, []string{"deployment.failed " + w.yolo}) {
		t.Errorf("vision got %v", got)
	}
	if got := kindsOf(t, w.pager); len(got) != 0 {
		t.Errorf("pager (down) got %v", got)
	}
	calls := w.slack.Take()
	for _, c := range calls {
		if c.Channel != "#nlp" {
			t.Errorf("poll 1: a Slack call to %s: %+v (only bert's stall, in #nlp)", c.Channel, c.Method)
		}
	}
	if len(calls) == 0 {
		t.Fatal("poll 1: bert's stall was not posted in #nlp")
	}
	if cp := w.checkpointOf(w.bench); cp.ReadThrough != 0 {
		t.Errorf("bench's checkpoint moved on although the pager missed its abnormal event")
	}

	// The mute has ended; the pager is back. Bench's failure is derived
	// again (its checkpoint stayed): recorded muted, it is never sent.
	// bert's image pull moves on: the recovery goes to #nlp, in the
	// thread, from a Poller built afresh.
	w.now = time.Date(2030, 1, 1, 0, 45, 0, 0, time.UTC)
	w.pager.setDown(false)
	w.srv.AppendEvents(w.bert, eventsapi.Event{EventType: eventsapi.EventTypeNormal, EventInfo: "[BERT 1] pull image success", OccurTime: w.now.Add(-time.Minute).UnixMilli()})
	res = w.poll()
	if res.Err != nil {
		t.Fatal(res.Err)
	}
	if got := kindsOf(t, w.pager); !slices.Equal(got, []string{"service.abnormal " + w.bench}) {
		t.Errorf("pager got %v, want bench's abnormal event only (its failure stays muted)", got)
	}
	if got := kindsOf(t, w.nlp); !slices.Contains(got, "deployment.recovered "+w.bert) {
		t.Errorf("nlp-alerts got %v, want bert's recovery", got)
	}
	if got := kindsOf(t, w.vision); len(got) != 0 {
		t.Errorf("vision got %v again", got)
	}
	calls = w.slack.Take()
	if len(calls) == 0 {
		t.Fatal("poll 2: nothing in Slack for bert's recovery")
	}
	for _, c := range calls {
		if c.Channel != "#nlp" || c.Method == "chat.postMessage" && c.ThreadTS == "" {
			t.Errorf("poll 2: %s to %s (thread %q): want updates and replies in #nlp's thread", c.Method, c.Channel, c.ThreadTS)
		}
	}
	for _, id := range []string{w.bench, w.yolo} {
		if cp := w.checkpointOf(id); cp.ReadThrough == 0 {
			t.Errorf("service %s: the checkpoint did not move on", id)
		}
	}
	// Nothing more: a third poll is quiet.
	w.now = w.now.Add(time.Minute)
	if res := w.poll(); res.Due != 0 || res.Muted != 0 {
		t.Errorf("poll 3: due %d muted %d", res.Due, res.Muted)
	}
}

func (w *routedWorld) checkpointOf(id string) checkpoint.Checkpoint {
	cp, _, err := w.store.Load(context.Background(), id)
	if err != nil {
		w.t.Fatal(err)
	}
	return cp
}

// Upgrading: checkpoints written without names or routes, then the same
// destinations named and routed. Nothing is sent again; what one
// destination missed still reaches it (if its route names it).
func TestRoutesUpgrade(t *testing.T) {
	w := newRoutedWorld(t)
	w.doc, w.unnamed = "", true
	t0 := w.now.Add(-8 * time.Minute)
	w.srv.DeployFailure(w.yolo, "YOLO 8", eventsapitest.PhaseScheduling, t0, 10*time.Second)
	w.srv.DeployFailure(w.bert, "BERT 1", eventsapitest.PhaseScheduling, t0, 10*time.Second)
	w.vision.setDown(true) // the previous release: everyone hears everything, vision is down
	if res := w.poll(); res.Err == nil {
		t.Fatal("poll 1: no error although vision was down")
	}
	for name, r := range map[string]*hookRecorder{"pager": w.pager, "nlp": w.nlp} {
		if got := kindsOf(t, r); len(got) != 2 {
			t.Fatalf("poll 1: %s got %v, want both failures", name, got)
		}
	}
	w.slack.Take()
	// Upgrade: names and routes. Vision is back.
	w.vision.setDown(false)
	w.doc, w.unnamed = routesDoc, false
	w.now = w.now.Add(time.Minute)
	if res := w.poll(); res.Err != nil {
		t.Fatal(res.Err)
	}
	if got := kindsOf(t, w.vision); !slices.Equal(got, []string{"deployment.failed " + w.yolo}) {
		t.Errorf("vision got %v, want the failure it missed, and only its own", got)
	}
	for name, r := range map[string]*hookRecorder{"pager": w.pager, "nlp": w.nlp} {
		if got := kindsOf(t, r); len(got) != 0 {
			t.Errorf("after the upgrade %s got %v again", name, got)
		}
	}
	// The platform channel had both failures: nothing again. #nlp, a
	// destination the routes add, takes bert's failure, which was still
	// due (vision had missed a notification of the same poll).
	for _, c := range w.slack.Take() {
		if c.Channel != "#nlp" {
			t.Errorf("after the upgrade Slack posted to %s again", c.Channel)
		}
	}
	for _, id := range []string{w.bert, w.yolo} {
		if cp := w.checkpointOf(id); cp.ReadThrough == 0 {
			t.Errorf("service %s: the checkpoint did not move on after the upgrade", id)
		}
	}
}

// muteAll is a router whose mute holds for everything.
type muteAll struct{}

func (muteAll) Route(route.Query, time.Time) route.Decision { return route.Decision{Muted: true} }

// A notification told before a mute began is not recorded muted when it is
// derived again under the mute: nothing is sent, nothing counted, and the
// record of where it went stays (found by the fault matrix with random
// routes).
func TestMuteDoesNotRewriteWhatWasTold(t *testing.T) {
	p := &Poller{cfg: Config{Router: muteAll{}, Now: time.Now}, dests: []notifier.Destination{{Name: "a", Kind: "webhook"}, {Name: "b", Kind: "webhook"}}}
	told := checkpoint.Checkpoint{Sent: map[string]checkpoint.Sent{"n1": {At: 1, Destinations: []string{"a"}}}}
	d := decision{id: "n1"}
	p.routeDue(&d, told, route.Query{})
	if d.done != "" || p.pendingDests(told, "n1", d.targets, d.done) != 0 {
		t.Fatalf("told before the mute: done %q targets %v pending %d", d.done, d.targets, p.pendingDests(told, "n1", d.targets, d.done))
	}
	fresh := decision{id: "n2"}
	p.routeDue(&fresh, told, route.Query{})
	if fresh.done != sentMuted {
		t.Fatalf("not told yet: done %q, want muted", fresh.done)
	}
}

// A notification told to some of its destinations before a mute began
// (the others failed) is muted for the others: never sent to them, counted
// muted, and the checkpoint moves on; when the mute ends it is not sent.
// (The fault matrix's muted-partly-told, seed 28.)
func TestRoutedMutedAfterPartialDelivery(t *testing.T) {
	w := newRoutedWorld(t)
	w.doc = `
routes:
  - match: {service: ["yolo-*"]}
    to: [vision, pager]
default: []
mute:
  - service: ["yolo-*"]
    from: 2030-01-01T00:31:00Z
    until: 2030-01-01T01:00:00Z
`
	w.srv.DeployFailure(w.yolo, "YOLO 8", eventsapitest.PhaseScheduling, w.now.Add(-8*time.Minute), 10*time.Second)
	w.pager.setDown(true)
	w.now = time.Date(2030, 1, 1, 0, 30, 0, 0, time.UTC)
	if res := w.poll(); res.Err == nil || res.Muted != 0 {
		t.Fatalf("poll 1 (pager down): err %v, muted %d; want a delivery error, nothing muted", res.Err, res.Muted)
	}
	if got := kindsOf(t, w.vision); !slices.Equal(got, []string{"deployment.failed " + w.yolo}) {
		t.Fatalf("vision got %v", got)
	}
	w.pager.setDown(false)
	w.now = time.Date(2030, 1, 1, 0, 32, 0, 0, time.UTC)
	res := w.poll()
	if res.Err != nil || res.Muted != 1 {
		t.Fatalf("poll 2 (muted): err %v, muted %d; want the failure counted muted for the pager", res.Err, res.Muted)
	}
	if got := kindsOf(t, w.pager); len(got) != 0 {
		t.Errorf("the pager got %v while muted", got)
	}
	cp, _, _ := w.store.Load(context.Background(), w.yolo)
	if cp.ReadThrough == 0 {
		t.Error("the checkpoint did not move on")
	}
	w.now = time.Date(2030, 1, 1, 1, 10, 0, 0, time.UTC)
	if res := w.poll(); res.Err != nil || res.Muted != 0 {
		t.Fatalf("poll 3 (mute over): err %v, muted %d", res.Err, res.Muted)
	}
	if got := append(kindsOf(t, w.pager), kindsOf(t, w.vision)...); len(got) != 0 {
		t.Errorf("after the mute: %v, want nothing", got)
	}
}
