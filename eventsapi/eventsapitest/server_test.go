package eventsapitest_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/modelarts-notifier/modelarts-notifier/eventsapi"
	"github.com/modelarts-notifier/modelarts-notifier/eventsapi/eventsapitest"
)

func newServer(t *testing.T, opts ...eventsapitest.Option) *eventsapitest.Server {
	t.Helper()
	srv := eventsapitest.NewServer(opts...)
	t.Cleanup(srv.Close)
	return srv
}

// get sends a raw GET with the static token (unless token is "-").
func get(t *testing.T, srv *eventsapitest.Server, path, token string) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, srv.URL+path, nil)
	if token == "" {
		token = srv.Token
	}
	if token != "-" {
		req.Header.Set("X-Auth-Token", token)
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, body
}

func decode[T any](t *testing.T, body []byte) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatalf("%s: %v", body, err)
	}
	return v
}

func TestEventsEndpointSemantics(t *testing.T) {
	srv := newServer(t)
	evs := make([]eventsapi.Event, 1500)
	for i := range evs {
		evs[i] = eventsapi.Event{EventType: eventsapi.EventTypeNormal, EventInfo: fmt.Sprint(i), OccurTime: int64(1000 + i)}
	}
	srv.AddService("svc", "my-service", eventsapi.StatusRunning)
	srv.AppendEvents("svc", evs...)
	base := "/v1/" + srv.ProjectID + "/services/svc/events"

	resp, body := get(t, srv, base, "")
	page := decode[eventsapi.EventsPage](t, body)
	if resp.StatusCode != 200 || page.TotalCount != 1500 || page.Count != 1000 || len(page.Events) != 1000 {
		t.Fatalf("status %d, total %d, count %d: want the default limit of 1000", resp.StatusCode, page.TotalCount, page.Count)
	}
	if page.Events[0].OccurTime != 2499 || page.ServiceName != "my-service" || page.ServiceID != "svc" {
		t.Errorf("default order is not desc: first %+v", page.Events[0])
	}
	if resp.Header.Get("X-Request-Id") == "" {
		t.Error("no X-Request-Id")
	}

	_, body = get(t, srv, base+"?order=asc&offset=1495&limit=10", "")
	page = decode[eventsapi.EventsPage](t, body)
	if page.Count != 5 || page.Events[0].OccurTime != 2495 {
		t.Errorf("asc tail: count %d first %+v", page.Count, page.Events[0])
	}

	for _, q := range []string{"event_type=bad", "order=up", "limit=0", "offset=-1", "start_time=x", "sort_by=event_info"} {
		resp, body := get(t, srv, base+"?"+q, "")
		if resp.StatusCode != 400 || decode[eventsapitest.ErrorBody](t, body).ErrorCode == "" {
			t.Errorf("%s: status %d body %s, want 400 with a ModelArts error", q, resp.StatusCode, body)
		}
	}
}

func TestErrors(t *testing.T) {
	srv := newServer(t)
	srv.AddService("svc", "svc", eventsapi.StatusRunning)
	tests := []struct {
		name, path, token string
		wantStatus        int
		wantCode          string
	}{
		{"no token", "/v1/" + srv.ProjectID + "/services/svc", "-", 401, "ModelArts.0201"},
		{"bad token", "/v1/" + srv.ProjectID + "/services/svc", "nope", 401, "ModelArts.0203"},
		{"unknown service", "/v1/" + srv.ProjectID + "/services/nope", "", 404, "ModelArts.3502"},
		{"unknown service events", "/v1/" + srv.ProjectID + "/services/nope/events", "", 404, "ModelArts.3502"},
		{"other project", "/v1/other/services/svc", "", 403, "ModelArts.0106"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := get(t, srv, tt.path, tt.token)
			if resp.StatusCode != tt.wantStatus || decode[eventsapitest.ErrorBody](t, body).ErrorCode != tt.wantCode {
				t.Errorf("status %d body %s, want %d %s", resp.StatusCode, body, tt.wantStatus, tt.wantCode)
			}
		})
	}
}

func TestIAMEndpoint(t *testing.T) {
	now := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	srv := newServer(t, eventsapitest.WithClock(func() time.Time { return now }), eventsapitest.WithIAMTokenTTL(time.Hour))
	login := func(password string) (*http.Response, []byte) {
		body := fmt.Sprintf(`{"auth":{"identity":{"methods":["password"],"password":{"user":{"name":%q,"password":%q,"domain":{"name":%q}}}},"scope":{"project":{"id":%q}}}}`,
			srv.Username, password, srv.DomainName, srv.ProjectID)
		resp, err := srv.Client().Post(srv.IAMURL+"/v3/auth/tokens", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, b
	}
	resp, body := login(srv.Password)
	tok := resp.Header.Get("X-Subject-Token")
	type tokenDoc struct {
		Token struct {
			ExpiresAt string `json:"expires_at"`
		} `json:"token"`
	}
	doc := decode[tokenDoc](t, body)
	if resp.StatusCode != 201 || tok == "" || doc.Token.ExpiresAt != "2026-11-28T13:00:00.000000Z" {
		t.Fatalf("status %d token %q expires %q", resp.StatusCode, tok, doc.Token.ExpiresAt)
	}
	if resp, _ := get(t, srv, "/v1/"+srv.ProjectID+"/services", tok); resp.StatusCode != 200 {
		t.Errorf("IAM token refused: %d", resp.StatusCode)
	}
	srv.RevokeTokens()
	if resp, body := get(t, srv, "/v1/"+srv.ProjectID+"/services", tok); resp.StatusCode != 401 || !strings.Contains(string(body), "ModelArts.0204") {
		t.Errorf("revoked token: %d %s", resp.StatusCode, body)
	}
	if resp, _ := login("wrong"); resp.StatusCode != 401 {
		t.Errorf("wrong password: %d", resp.StatusCode)
	}
	if n := srv.IAMTokenRequests(); n != 2 {
		t.Errorf("IAMTokenRequests = %d", n)
	}
}

func TestFaults(t *testing.T) {
	srv := newServer(t)
	srv.AddService("svc", "svc", eventsapi.StatusRunning)
	svcPath := "/v1/" + srv.ProjectID + "/services/svc"
	srv.Fail(2, eventsapitest.Fault{Status: 429, RetryAfter: "7", Path: "/events"})
	srv.Fail(1, eventsapitest.Fault{Status: 502})

	want := []struct {
		path   string
		status int
	}{
		{svcPath, 502},             // only the unrestricted fault matches
		{svcPath, 200},             // used up
		{svcPath + "/events", 429}, // path-restricted fault
		{svcPath + "/events", 429},
		{svcPath + "/events", 200},
	}
	for i, w := range want {
		resp, body := get(t, srv, w.path, "")
		if resp.StatusCode != w.status {
			t.Fatalf("request %d %s: status %d, want %d", i, w.path, resp.StatusCode, w.status)
		}
		if w.status == 429 {
			if resp.Header.Get("Retry-After") != "7" || decode[eventsapitest.ErrorBody](t, body).ErrorCode != "ModelArts.2799" {
				t.Errorf("429 without Retry-After or code: %v %s", resp.Header, body)
			}
		}
	}
	var got []bool
	for _, r := range srv.Requests() {
		got = append(got, r.Fault)
	}
	if d := cmp.Diff([]bool{true, false, true, true, false}, got); d != "" {
		t.Errorf("fault log (-want +got):\n%s", d)
	}

	srv.Fail(1, eventsapitest.Fault{Truncate: true})
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, srv.URL+svcPath, nil)
	req.Header.Set("X-Auth-Token", srv.Token)
	resp, err := srv.Client().Do(req)
	if err == nil {
		_, err = io.ReadAll(resp.Body)
		resp.Body.Close()
	}
	if err == nil {
		t.Error("truncated body read without error")
	}
}

// TestLatencyIsConcurrent: latency delays requests side by side, not one
// after another: with an hour's latency, every one of 100 concurrent
// requests is being delayed at the same time. Nothing depends on how fast
// the machine is: the test waits for that state, then cancels the requests.
// Scripting state while requests are held works too.
func TestLatencyIsConcurrent(t *testing.T) {
	const n = 100
	srv := newServer(t)
	srv.AddService("svc", "svc", eventsapi.StatusRunning)
	srv.SetLatency(time.Hour)
	c, err := eventsapi.New(eventsapi.Config{Endpoint: srv.URL, ProjectID: srv.ProjectID, Auth: eventsapi.StaticToken(srv.Token),
		HTTPClient: srv.Client()})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			_, errs[i] = c.GetService(ctx, "svc")
			srv.AppendEvents("svc", eventsapi.Event{EventType: "normal", EventInfo: "x", OccurTime: 1})
		})
	}
	// Only a failure waits this long; a pass returns as soon as all n are
	// held.
	giveUp := time.Now().Add(time.Minute)
	for srv.Delayed() < n {
		if time.Now().After(giveUp) {
			t.Fatalf("%d of %d requests delayed at once: latency is serialised", srv.Delayed(), n)
		}
		time.Sleep(time.Millisecond)
	}
	cancel()
	wg.Wait()
	for i, err := range errs {
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("request %d: err = %v, want context.Canceled", i, err)
		}
	}
	if got := len(srv.Events("svc")); got != n {
		t.Errorf("%d events, want %d", got, n)
	}
	// The handlers notice the cancellation on their own; Close waits for
	// them, after which nothing is delayed.
	srv.Close()
	if d := srv.Delayed(); d != 0 {
		t.Errorf("%d requests still delayed after Close", d)
	}
}

func TestRequestLogRedacts(t *testing.T) {
	srv := newServer(t)
	get(t, srv, "/v1/"+srv.ProjectID+"/services?limit=5", "")
	reqs := srv.Requests()
	if len(reqs) != 1 {
		t.Fatalf("%d requests", len(reqs))
	}
	r := reqs[0]
	if r.Method != "GET" || r.Query.Get("limit") != "5" || r.Auth != "token" || r.Status != 200 {
		t.Errorf("request %+v", r)
	}
	if strings.Contains(fmt.Sprint(r), srv.Token) {
		t.Errorf("request log shows the token: %+v", r)
	}
	srv.ResetRequests()
	if len(srv.Requests()) != 0 {
		t.Error("ResetRequests kept requests")
	}
}
