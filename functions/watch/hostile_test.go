package watch

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/modelarts-notifier/modelarts-notifier/eventsapi"
	"github.com/modelarts-notifier/modelarts-notifier/eventsapi/eventsapitest"
	"github.com/modelarts-notifier/modelarts-notifier/functions/checkpoint"
	"github.com/modelarts-notifier/modelarts-notifier/notifier"
)

// The five ways the earlier release lost notifications or went silent,
// each driven over HTTP: the real client against the fake ModelArts, and a
// real webhook destination.

const hostileSvc = "5f1c2a8e-0d4b-4c61-9a57-3e8f2b6d7c90"

// httpHarness is a watched project over HTTP.
type httpHarness struct {
	t     *testing.T
	srv   *eventsapitest.Server
	store checkpoint.Store
	hook  *hookRecorder
	now   time.Time
	cfg   Config
}

func newHTTPHarness(t *testing.T) *httpHarness {
	t.Helper()
	h := &httpHarness{t: t, store: checkpoint.NewMemory(), now: t0}
	h.srv = eventsapitest.NewServer(eventsapitest.WithClock(func() time.Time { return h.now }))
	t.Cleanup(h.srv.Close)
	h.hook = newHookRecorder(t)
	h.cfg = Config{ProjectID: h.srv.ProjectID, ServiceIDs: []string{hostileSvc}, FirstRunLookback: time.Hour}
	return h
}

func (h *httpHarness) poll() Result {
	h.t.Helper()
	api, err := eventsapi.New(eventsapi.Config{
		Endpoint: h.srv.URL, ProjectID: h.srv.ProjectID, Auth: eventsapi.StaticToken(h.srv.Token),
		RetryBaseDelay: time.Millisecond, RetryMaxDelay: 2 * time.Millisecond, MaxRetries: 1,
	})
	if err != nil {
		h.t.Fatal(err)
	}
	wh, err := notifier.NewWebhook(notifier.WebhookConfig{URL: h.hook.srv.URL, SendConfig: notifier.SendConfig{
		Retry: notifier.RetryPolicy{MaxAttempts: 1},
		Sleep: func(context.Context, time.Duration) error { return nil }}}, nil)
	if err != nil {
		h.t.Fatal(err)
	}
	cfg := h.cfg
	cfg.Now = func() time.Time { return h.now }
	p := New(cfg, api, h.store, []notifier.Destination{{Name: "webhook", Notifier: wh}}, nil)
	return p.Poll(context.Background())
}

func (h *httpHarness) checkpoint(id ...string) checkpoint.Checkpoint {
	h.t.Helper()
	svc := hostileSvc
	if len(id) > 0 {
		svc = id[0]
	}
	cp, ok, err := h.store.Load(context.Background(), svc)
	if err != nil || !ok {
		h.t.Fatalf("load checkpoint: ok=%v err=%v", ok, err)
	}
	return cp
}

// hookRecorder is a webhook receiver that records bodies and can be down.
type hookRecorder struct {
	srv    *httptest.Server
	mu     sync.Mutex
	bodies [][]byte
	ids    []string // the bodies' webhook-ids
	down   bool
}

func newHookRecorder(t *testing.T) *hookRecorder {
	r := &hookRecorder{}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		defer r.mu.Unlock()
		if r.down {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		r.bodies = append(r.bodies, b)
		r.ids = append(r.ids, req.Header.Get("webhook-id"))
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *hookRecorder) setDown(down bool) {
	r.mu.Lock()
	r.down = down
	r.mu.Unlock()
}

// webhookBody is the part of a webhook body these tests read.
type webhookBody struct {
	Type string `json:"type"`
	Data struct {
		ServiceID        string              `json:"service_id"`
		Status           string              `json:"status"`
		Phase            string              `json:"phase"`
		Generation       string              `json:"generation"`
		ServiceStatus    string              `json:"service_status"`
		ServiceStatusRaw string              `json:"service_status_raw"`
		FailsAt          string              `json:"fails_at"`
		ErrorMsg         string              `json:"error_msg"`
		Events           []notifier.Event    `json:"events"`
		AbnormalEvents   []notifier.Event    `json:"abnormal_events"`
		EventsOmitted    int                 `json:"events_omitted"`
		PodEvents        []notifier.PodEvent `json:"pod_events"`
		PodEventsError   string              `json:"pod_events_error"`
	} `json:"data"`
}

// take returns the bodies received since the last call, decoded, with
// their sizes.
func (r *hookRecorder) take(t *testing.T) ([]webhookBody, []int) {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []webhookBody
	var sizes []int
	for _, b := range r.bodies {
		var wb webhookBody
		if err := json.Unmarshal(b, &wb); err != nil {
			t.Fatalf("webhook body: %v", err)
		}
		out = append(out, wb)
		sizes = append(sizes, len(b))
	}
	r.bodies, r.ids = nil, nil
	return out, sizes
}

// takeIDs returns the webhook-ids of the bodies received since the last
// take, and forgets them.
func (r *hookRecorder) takeIDs() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.ids
	r.bodies, r.ids = nil, nil
	return out
}

func types(bs []webhookBody) []string {
	var out []string
	for _, b := range bs {
		out = append(out, b.Type+" "+b.Data.Phase)
	}
	return out
}

func startTimes(srv *eventsapitest.Server) []int64 {
	var out []int64
	for _, r := range srv.Requests() {
		if strings.HasSuffix(r.Path, "/events") {
			n, _ := strconv.ParseInt(r.Query.Get("start_time"), 10, 64)
			out = append(out, n)
		}
	}
	return out
}

// 1. One event dated a year ahead used to move the read edge a year ahead:
// every real event after it was lost.
func TestHTTPFutureDatedEvent(t *testing.T) {
	h := newHTTPHarness(t)
	h.srv.AddService(hostileSvc, "svc", eventsapi.StatusRunning)
	h.srv.DeploySuccess(hostileSvc, "TF 3.0.0", t0)
	h.now = t0.Add(5 * time.Minute)
	if res := h.poll(); res.Err != nil {
		t.Fatal(res.Err)
	}
	h.hook.take(t)
	h.srv.AddRawEvent(hostileSvc, json.RawMessage(fmt.Sprintf(`{"event_type":"abnormal","event_info":"clock skew","occur_time":"%d"}`, ms(t0.Add(365*24*time.Hour)))))
	h.now = h.now.Add(time.Minute)
	if res := h.poll(); res.Err != nil {
		t.Fatal(res.Err)
	}
	if got, _ := h.hook.take(t); len(got) != 1 || got[0].Type != string(notifier.KindAbnormal) {
		t.Fatalf("future event: got %v, want one service.abnormal", types(got))
	}
	for i := range 3 {
		h.now = h.now.Add(time.Minute)
		h.srv.RuntimeAbnormal(hostileSvc, fmt.Sprintf("Instance %d restarted unexpectedly.", i), h.now.Add(-5*time.Second))
		h.srv.ResetRequests()
		if res := h.poll(); res.Err != nil {
			t.Fatal(res.Err)
		}
		for _, st := range startTimes(h.srv) {
			if st > ms(h.now) {
				t.Fatalf("poll %d asked start_time %d, after now %d", i, st, ms(h.now))
			}
		}
		got, _ := h.hook.take(t)
		if len(got) != 1 || got[0].Data.AbnormalEvents[0].EventInfo != fmt.Sprintf("Instance %d restarted unexpectedly.", i) {
			t.Fatalf("poll %d: got %v, want the new runtime event only", i, types(got))
		}
		if cp := h.checkpoint(); cp.ReadThrough > ms(h.now.Add(clockSkew)) {
			t.Fatalf("read_through %d past now + 5 min", cp.ReadThrough)
		}
	}
}

// 2. Paging trusted the server: a lying total_count or an ignored offset
// made one poll send 125 requests or hold millions of events.
func TestHTTPLyingPagination(t *testing.T) {
	t.Run("lying total_count", func(t *testing.T) {
		h := newHTTPHarness(t)
		h.srv.AddService(hostileSvc, "svc", eventsapi.StatusRunning)
		end := h.srv.DeploySuccess(hostileSvc, "TF 3.0.0", t0)
		for i := range 40 {
			h.srv.RuntimeAbnormal(hostileSvc, fmt.Sprintf("Instance %d restarted unexpectedly.", i), end.Add(time.Minute+time.Duration(i)*time.Second))
		}
		h.now = end.Add(5 * time.Minute)
		h.srv.SetLyingTotal(5000)
		if res := h.poll(); res.Err != nil {
			t.Fatal(res.Err)
		}
		if n := h.srv.EventsRequests(hostileSvc); n > 3 {
			t.Errorf("%d events requests, want at most 3", n)
		}
		got, _ := h.hook.take(t)
		abn, listed := 0, 0
		for _, b := range got {
			if b.Type == string(notifier.KindAbnormal) {
				abn++
				listed += len(b.Data.AbnormalEvents)
			}
		}
		if abn != 1 || listed != 40 {
			t.Errorf("%d abnormal notifications listing %d events, want 1 listing 40", abn, listed)
		}
	})
	t.Run("offset ignored", func(t *testing.T) {
		h := newHTTPHarness(t)
		h.srv.AddService(hostileSvc, "svc", eventsapi.StatusRunning)
		end := h.srv.DeploySuccess(hostileSvc, "TF 3.0.0", t0)
		h.now = end.Add(time.Minute)
		if res := h.poll(); res.Err != nil {
			t.Fatal(res.Err)
		}
		h.hook.take(t)
		// More than one page, one a second: the server gives the first
		// page from any offset; the client reads on by start_time.
		const n = 2500
		for i := range n {
			h.srv.RuntimeAbnormal(hostileSvc, fmt.Sprintf("Instance %d restarted unexpectedly.", i), end.Add(2*time.Minute+time.Duration(i)*time.Second))
		}
		h.srv.SetIgnoreOffset(true)
		h.now = end.Add(2*time.Minute + n*time.Second)
		seen := map[string]bool{}
		for poll := 0; poll < 8 && len(seen) < n; poll++ {
			h.srv.ResetRequests()
			if res := h.poll(); res.Err != nil {
				t.Fatal(res.Err)
			}
			// The client reads on by start_time: about two requests a page.
			if r := h.srv.EventsRequests(hostileSvc); r > 2*(n/1000+1)+2 {
				t.Errorf("poll %d: %d events requests, want at most %d", poll, r, 2*(n/1000+1)+2)
			}
			got, _ := h.hook.take(t)
			for _, b := range got {
				for _, e := range b.Data.AbnormalEvents {
					if seen[e.EventInfo] {
						t.Fatalf("%q delivered twice", e.EventInfo)
					}
					seen[e.EventInfo] = true
				}
			}
		}
		if len(seen) != n {
			t.Errorf("%d of %d runtime events delivered", len(seen), n)
		}
	})
}

// 3. A first poll with the destination down lost its notification once it
// aged out of the lookback.
func TestHTTPFirstPollDestinationDownPastLookback(t *testing.T) {
	h := newHTTPHarness(t)
	h.srv.AddService(hostileSvc, "svc", eventsapi.StatusDeploying)
	h.srv.DeployFailure(hostileSvc, "TF 3.0.0", eventsapitest.PhaseScheduling, t0)
	h.now = t0.Add(5 * time.Minute)
	h.hook.setDown(true)
	for range 4 {
		if res := h.poll(); res.Err == nil {
			t.Fatal("poll succeeded while the webhook is down")
		}
		h.now = h.now.Add(time.Hour)
	}
	h.hook.setDown(false)
	if res := h.poll(); res.Err != nil {
		t.Fatal(res.Err)
	}
	got, _ := h.hook.take(t)
	if len(got) != 1 || got[0].Type != string(notifier.KindFailed) || got[0].Data.Phase != eventsapitest.PhaseScheduling {
		t.Fatalf("got %v, want the failure at scheduling", types(got))
	}
	h.now = h.now.Add(time.Minute)
	if res := h.poll(); res.Err != nil {
		t.Fatal(res.Err)
	}
	if got, _ := h.hook.take(t); len(got) != 0 {
		t.Fatalf("sent again: %v", types(got))
	}
}

// 4. A deployment ended by a stop pinned the read window at its start
// forever, and Sent grew without bound.
func TestHTTPStopUnpinsReadWindow(t *testing.T) {
	h := newHTTPHarness(t)
	h.srv.AddService(hostileSvc, "svc", eventsapi.StatusDeploying)
	h.srv.DeployStall(hostileSvc, "TF 3.0.0", eventsapitest.PhaseImagePull, t0)
	h.now = t0.Add(40 * time.Minute)
	if res := h.poll(); res.Err != nil {
		t.Fatal(res.Err)
	}
	if got, _ := h.hook.take(t); len(got) != 1 || got[0].Type != string(notifier.KindStalled) {
		t.Fatalf("got %v, want the stall", types(got))
	}
	h.srv.SetStatus(hostileSvc, eventsapi.StatusStopped, "")
	for i := range 12 {
		h.now = h.now.Add(10 * time.Minute)
		h.srv.RuntimeAbnormal(hostileSvc, fmt.Sprintf("Instance %d restarted unexpectedly.", i), h.now.Add(-time.Minute))
		h.srv.ResetRequests()
		if res := h.poll(); res.Err != nil {
			t.Fatal(res.Err)
		}
		if got, _ := h.hook.take(t); len(got) != 1 || got[0].Type != string(notifier.KindAbnormal) {
			t.Fatalf("poll %d: got %v, want the one new runtime event", i, types(got))
		}
		for _, st := range startTimes(h.srv) {
			if behind := ms(h.now) - st; i > 0 && behind > (15*time.Minute).Milliseconds() {
				t.Fatalf("poll %d read from %s behind now: the window is pinned", i, time.Duration(behind)*time.Millisecond)
			}
		}
	}
	if cp := h.checkpoint(); cp.DeploymentStart != 0 || len(cp.Sent) > 3 {
		t.Errorf("deployment_start %d, %d sent entries; want 0 and pruned", cp.DeploymentStart, len(cp.Sent))
	}
}

// 5. A 1 MB event_info made a 2 MB webhook body.
func TestHTTPHugeEventInfoBoundedBody(t *testing.T) {
	h := newHTTPHarness(t)
	h.srv.AddService(hostileSvc, "svc", eventsapi.StatusRunning)
	h.srv.DeploySuccess(hostileSvc, "TF 3.0.0", t0)
	h.now = t0.Add(5 * time.Minute)
	if res := h.poll(); res.Err != nil {
		t.Fatal(res.Err)
	}
	h.hook.take(t)
	huge := strings.Repeat("模型进程退出 out of memory ", 1<<20/35) + "\xff\xfe"
	raw, _ := json.Marshal(map[string]any{"event_type": "abnormal", "event_info": huge, "occur_time": ms(h.now)})
	h.srv.AddRawEvent(hostileSvc, raw)
	h.now = h.now.Add(time.Minute)
	if res := h.poll(); res.Err != nil {
		t.Fatal(res.Err)
	}
	got, sizes := h.hook.take(t)
	if len(got) != 1 {
		t.Fatalf("got %v, want one notification", types(got))
	}
	if sizes[0] > notifier.MaxWebhookBody {
		t.Errorf("webhook body %d bytes, want at most %d", sizes[0], notifier.MaxWebhookBody)
	}
	for _, e := range append(got[0].Data.AbnormalEvents, got[0].Data.Events...) {
		if len(e.EventInfo) > notifier.MaxEventInfoBytes || !e.Truncated || !utf8.ValidString(e.EventInfo) || !strings.HasSuffix(e.EventInfo, "…") {
			t.Errorf("event_info of %d bytes, truncated=%v: want at most %d bytes of valid UTF-8 ending in … and marked truncated",
				len(e.EventInfo), e.Truncated, notifier.MaxEventInfoBytes)
		}
	}
}
