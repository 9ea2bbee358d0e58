package eventsapi_test

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/modelarts-notifier/modelarts-notifier/eventsapi"
	"github.com/modelarts-notifier/modelarts-notifier/eventsapi/eventsapitest"
)

// v2T0 is the time the v2 tests' records start at.
const v2T0 = int64(1_780_000_000_000)

// v2Records appends n distinct records to a v2 service, the i-th first
// occurring (and last updated) at v2T0 + i s, and returns them as the
// fake translates them.
func v2Records(srv *eventsapitest.Server, id string, n int) []eventsapi.Event {
	evs := make([]eventsapi.Event, n)
	for i := range evs {
		evs[i] = eventsapi.Event{EventType: eventsapi.EventTypeNormal, EventInfo: fmt.Sprintf("record %04d", i), OccurTime: v2T0 + int64(i)*1000}
	}
	srv.AppendV2Events(id, evs...)
	return srv.EventsV2(id)
}

func collectV2(t *testing.T, c *eventsapi.Client, id string, since int64) []eventsapi.Event {
	t.Helper()
	var got []eventsapi.Event
	for ev, err := range c.EventsV2(ctxT(t), id, since) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, ev)
	}
	return got
}

// newestFirst returns evs sorted as EventsV2 yields them: by update_at,
// newest first (ties: the later created first, as the fake answers).
func newestFirst(evs []eventsapi.Event) []eventsapi.Event {
	out := slices.Clone(evs)
	slices.Reverse(out)
	slices.SortStableFunc(out, func(a, b eventsapi.Event) int { return int(b.LastOccurTime - a.LastOccurTime) })
	return out
}

// checkV2Requests checks every v2 request the fake received obeys the
// documented paging rules and the client's own: limit 500, offset a
// multiple of it, events by update_at DESC with no start_time or end_time.
func checkV2Requests(t *testing.T, srv *eventsapitest.Server) {
	t.Helper()
	for i, r := range srv.Requests() {
		isList := strings.HasPrefix(r.Path, "/v2/") && strings.HasSuffix(r.Path, "/services")
		isEvents := strings.HasPrefix(r.Path, "/v2/") && strings.HasSuffix(r.Path, "/events") && !strings.Contains(r.Path, "/pods/")
		if !isList && !isEvents {
			continue
		}
		limit, err1 := strconv.Atoi(r.Query.Get("limit"))
		offset, err2 := strconv.Atoi(r.Query.Get("offset"))
		if err1 != nil || err2 != nil || limit != 500 || offset%limit != 0 {
			t.Errorf("request %d %s: query %q: want limit=500 and offset a multiple of it", i, r.Path, r.Query.Encode())
		}
		if isEvents {
			if r.Query.Get("sort_key") != "update_at" || r.Query.Get("sort_dir") != "DESC" || r.Query.Has("start_time") || r.Query.Has("end_time") {
				t.Errorf("request %d %s: query %q: want sort_key=update_at sort_dir=DESC, no start_time/end_time", i, r.Path, r.Query.Encode())
			}
		}
		if r.Status != http.StatusOK {
			t.Errorf("request %d %s?%s: status %d", i, r.Path, r.Query.Encode(), r.Status)
		}
	}
}

func TestNormalizeV2Status(t *testing.T) {
	tests := []struct{ raw, want string }{
		{"DEPLOYING", eventsapi.StatusDeploying},
		{"RUNNING", eventsapi.StatusRunning},
		{"FAILED", eventsapi.StatusFailed},
		{"STOPPED", eventsapi.StatusStopped},
		{"STOPPING", eventsapi.StatusStopping},
		{"DELETING", eventsapi.StatusDeleting},
		{"CONCERNING", eventsapi.StatusConcerning},
		{"UPGRADING", eventsapi.StatusDeploying},
		{"INIT", eventsapi.StatusPending},
		{"INTERRUPTING", eventsapi.StatusStopping},
		{"DELETED", eventsapi.StatusDeleting},
		{"RESTARTING", eventsapi.StatusDeploying},
		{eventsapi.RawStatusError, eventsapi.StatusConcerning},
		{"running", eventsapi.StatusRunning},
		{" Upgrading ", eventsapi.StatusDeploying},
		{"FROZEN", "frozen"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := eventsapi.NormalizeV2Status(tt.raw); got != tt.want {
			t.Errorf("NormalizeV2Status(%q) = %q, want %q", tt.raw, got, tt.want)
		}
	}
}

// TestStatusMappingThroughDetails: every v2 status reaches Service.Status
// normalised and Service.RawStatus verbatim.
func TestStatusMappingThroughDetails(t *testing.T) {
	srv := newFake(t)
	c := newClient(t, srv)
	for _, raw := range []string{"DEPLOYING", "RUNNING", "FAILED", "STOPPED", "STOPPING", "DELETING", "CONCERNING", "UPGRADING", "INIT", "ERROR", "INTERRUPTING", "DELETED", "RESTARTING", "SOMETHING_NEW"} {
		srv.AddServiceV2("svc2", "n", raw)
		got, err := c.GetServiceV2(ctxT(t), "svc2")
		if err != nil {
			t.Fatal(err)
		}
		if got.RawStatus != raw || got.Status != eventsapi.NormalizeV2Status(raw) || got.Generation != eventsapi.GenerationV2 {
			t.Errorf("%s: status %q raw %q generation %q", raw, got.Status, got.RawStatus, got.Generation)
		}
	}
}

func TestGetServiceV2(t *testing.T) {
	srv := newFake(t)
	srv.AddServiceV2("svc2", "fraud-v2", "DEPLOYING")
	srv.AddDeploymentV2("svc2", "fraud-v2-blue", time.UnixMilli(v2T0))
	srv.AddDeploymentV2("svc2", "fraud-v2-green", time.UnixMilli(v2T0+1000))
	srv.SetStatusV2("svc2", "FAILED", "服务部署失败，资源不足。")
	srv.SetDeployTimeout("svc2", 20)
	c := newClient(t, srv)

	got, err := c.GetServiceV2(ctxT(t), "svc2")
	if err != nil {
		t.Fatal(err)
	}
	want, _ := srv.ServiceV2("svc2")
	if d := cmp.Diff(&want, got); d != "" {
		t.Errorf("service (-want +got):\n%s", d)
	}
	if got.Status != eventsapi.StatusFailed || got.RawStatus != "FAILED" || got.ErrorMsg != "服务部署失败，资源不足。" ||
		got.DeployTimeoutMinutes != 20 || got.DeploymentName != "fraud-v2-green" || got.UpdateTime == 0 || got.Generation != "v2" {
		t.Errorf("service %+v", got)
	}
	if p := srv.Requests()[0].Path; p != "/v2/"+srv.ProjectID+"/services/svc2" {
		t.Errorf("path %s", p)
	}
}

// TestDecodeServiceV2: details whose times are strings (the SDK's type)
// or numbers, a version whose newest instance group is not listed last, a
// timeout only in version, and a list entry with version as a string.
func TestDecodeServiceV2(t *testing.T) {
	tests := []struct {
		name string
		body string
		want eventsapi.Service
	}{
		{
			name: "string times",
			body: `{"id":"s","name":"n","status":"UPGRADING","failure_reason":"","create_at":"1780000000000","update_at":"1780000005000",
				"version":{"deploy_timeout_minutes":30,"instance_groups":[
					{"name":"new","update_at":1780000004000,"create_at":"1780000003000"},
					{"name":"old","update_at":1780000001000,"create_at":"1780000000000"}]}}`,
			want: eventsapi.Service{ServiceID: "s", ServiceName: "n", Status: "deploying", RawStatus: "UPGRADING", UpdateTime: 1780000005000,
				Generation: "v2", DeployTimeoutMinutes: 30, DeploymentName: "new",
				Deployments: []eventsapi.DeploymentRef{{Name: "new", CreatedAt: 1780000003000}, {Name: "old", CreatedAt: 1780000000000}}},
		},
		{
			name: "number times, top-level timeout wins",
			body: `{"id":"s","name":"n","status":"FAILED","failure_reason":"Failed to start service n.","update_at":1780000005000,"deploy_timeout_minutes":"15",
				"version":{"deploy_timeout_minutes":30,"instance_groups":[{"name":"only","update_at":"1780000004000"}]}}`,
			want: eventsapi.Service{ServiceID: "s", ServiceName: "n", Status: "failed", RawStatus: "FAILED", ErrorMsg: "Failed to start service n.",
				UpdateTime: 1780000005000, Generation: "v2", DeployTimeoutMinutes: 15, DeploymentName: "only",
				Deployments: []eventsapi.DeploymentRef{{Name: "only"}}},
		},
		{
			name: "version as a string, bad times",
			body: `{"id":"s","name":"n","status":"RUNNING","update_at":"soon","version":"1.0.0"}`,
			want: eventsapi.Service{ServiceID: "s", ServiceName: "n", Status: "running", RawStatus: "RUNNING", Generation: "v2"},
		},
		{
			name: "missing id",
			body: `{"name":"n","status":"ERROR"}`,
			want: eventsapi.Service{ServiceID: "s", ServiceName: "n", Status: "concerning", RawStatus: "ERROR", Generation: "v2"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				_, _ = w.Write([]byte(tt.body))
			}))
			defer ts.Close()
			c := rawClient(t, ts)
			got, err := c.GetServiceV2(ctxT(t), "s")
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(&tt.want, got); d != "" {
				t.Errorf("service (-want +got):\n%s", d)
			}
		})
	}
}

// rawClient is a client of a hand-written server.
func rawClient(t *testing.T, ts *httptest.Server, edit ...func(*eventsapi.Config)) *eventsapi.Client {
	t.Helper()
	cfg := eventsapi.Config{Endpoint: ts.URL, ProjectID: "p", Auth: eventsapi.StaticToken("t0ken-not-secret"), HTTPClient: ts.Client()}
	fastRetries(&cfg)
	for _, e := range edit {
		e(&cfg)
	}
	c, err := eventsapi.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestGenerationsAreSeparate: a v1 path for a v2 id is a missing service
// (404 ModelArts.3502); a v2 path for a v1 id answers 400.
func TestGenerationsAreSeparate(t *testing.T) {
	srv := newFake(t)
	srv.AddService("svc1", "old", eventsapi.StatusRunning)
	srv.AddServiceV2("svc2", "new", "RUNNING")
	c := newClient(t, srv)
	if _, err := c.GetService(ctxT(t), "svc2"); !eventsapi.IsNotFound(err) {
		t.Errorf("v1 details of a v2 id: %v, want not found", err)
	}
	_, err := c.GetServiceV2(ctxT(t), "svc1")
	var ae *eventsapi.APIError
	if !errors.As(err, &ae) || ae.StatusCode != 400 || eventsapi.IsNotFound(err) {
		t.Errorf("v2 details of a v1 id: %v, want a 400", err)
	}
	if want := "get v2 service svc1: HTTP 400 ModelArts.0101: "; !strings.HasPrefix(err.Error(), want) || strings.Count(err.Error(), "svc1:") != 1 {
		t.Errorf("error %q: want one prefix %q", err, want)
	}
	if n := srv.EventsRequests("svc2"); n != 0 {
		t.Errorf("%d events requests", n)
	}
}

func TestLookupService(t *testing.T) {
	tests := []struct {
		name       string
		id, gen    string
		unknown    int // SetV2UnknownStatus (0: the default, 400)
		fault      *eventsapitest.Fault
		wantGen    string
		wantPaths  []string // "v1" or "v2" per request
		wantErr    string
		notFound   bool
		wantStatus int
	}{
		{name: "v2 hit", id: "svc2", wantGen: "v2", wantPaths: []string{"v2"}},
		{name: "v1 after 400", id: "svc1", wantGen: "v1", wantPaths: []string{"v2", "v1"}},
		{name: "v1 after 403", id: "svc1", unknown: 403, wantGen: "v1", wantPaths: []string{"v2", "v1"}},
		{name: "v1 after 404", id: "svc1", unknown: 404, wantGen: "v1", wantPaths: []string{"v2", "v1"}},
		{name: "neither: the v1 not-found", id: "gone", wantPaths: []string{"v2", "v1"}, notFound: true, wantStatus: 404,
			wantErr: "get service gone: HTTP 404 ModelArts.3502: Service gone does not exist."},
		{name: "neither, v2 403", id: "gone", unknown: 403, wantPaths: []string{"v2", "v1"}, notFound: true, wantStatus: 404,
			wantErr: "(v2 details answered HTTP 403 "},
		{name: "generation v1 reads only v1", id: "svc1", gen: "v1", wantGen: "v1", wantPaths: []string{"v1"}},
		{name: "generation v1 of a v2 id", id: "svc2", gen: "v1", wantPaths: []string{"v1"}, notFound: true, wantStatus: 404},
		{name: "generation v2 reads only v2", id: "svc2", gen: "v2", wantGen: "v2", wantPaths: []string{"v2"}},
		{name: "generation v2 of a v1 id", id: "svc1", gen: "v2", wantPaths: []string{"v2"}, wantStatus: 400, wantErr: "get v2 service svc1: HTTP 400"},
		{name: "bad generation", id: "svc1", gen: "v3", wantErr: `generation "v3"`},
		{name: "bad id", id: "a/b", wantErr: "invalid id"},
		{name: "v2 server error is not a fallback", id: "svc1", fault: &eventsapitest.Fault{Path: "/v2/", Status: 500},
			wantPaths: []string{"v2"}, wantStatus: 500},
		{name: "v2 401 is not a fallback", id: "svc1", fault: &eventsapitest.Fault{Path: "/v2/", Status: 401, Code: "ModelArts.0100"},
			wantPaths: []string{"v2"}, wantStatus: 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newFake(t)
			srv.AddService("svc1", "old", eventsapi.StatusRunning)
			srv.AddServiceV2("svc2", "new", "RUNNING")
			if tt.unknown != 0 {
				srv.SetV2UnknownStatus(tt.unknown)
			}
			if tt.fault != nil {
				srv.Fail(100, *tt.fault)
			}
			c := newClient(t, srv, func(cfg *eventsapi.Config) { cfg.MaxRetries = -1 })
			got, err := c.LookupService(ctxT(t), tt.id, tt.gen)
			var paths []string
			for _, r := range srv.Requests() {
				paths = append(paths, r.Path[1:3])
			}
			if d := cmp.Diff(tt.wantPaths, paths); d != "" {
				t.Errorf("requests (-want +got):\n%s", d)
			}
			if tt.wantGen != "" {
				if err != nil || got.Generation != tt.wantGen || got.ServiceID != tt.id {
					t.Fatalf("got %+v, %v; want generation %s", got, err, tt.wantGen)
				}
				return
			}
			if err == nil {
				t.Fatalf("got %+v, want an error", got)
			}
			if tt.wantErr != "" && !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("error %q, want it to contain %q", err, tt.wantErr)
			}
			if eventsapi.IsNotFound(err) != tt.notFound {
				t.Errorf("IsNotFound(%v) = %v", err, !tt.notFound)
			}
			var ae *eventsapi.APIError
			if tt.wantStatus != 0 && (!errors.As(err, &ae) || ae.StatusCode != tt.wantStatus) {
				t.Errorf("error %v: want HTTP %d", err, tt.wantStatus)
			}
			if strings.Count(err.Error(), "get service") > 1 || strings.Count(err.Error(), "get v2 service") > 1 {
				t.Errorf("error %q repeats its context", err)
			}
		})
	}
}

func TestServicesV2(t *testing.T) {
	// One create_at for all: the order is the creation order.
	srv := newFake(t, eventsapitest.WithClock(func() time.Time { return time.UnixMilli(v2T0) }))
	srv.AddService("legacy", "legacy", eventsapi.StatusRunning)
	var want []string
	for i := range 1200 {
		id := fmt.Sprintf("svc2-%04d", i)
		srv.AddServiceV2(id, id, "RUNNING")
		want = append(want, id)
	}
	srv.SetStatusV2("svc2-0007", "UPGRADING", "")
	c := newClient(t, srv)
	var got []string
	for s, err := range c.ServicesV2(ctxT(t)) {
		if err != nil {
			t.Fatal(err)
		}
		if s.Generation != eventsapi.GenerationV2 || s.Status != eventsapi.NormalizeV2Status(s.RawStatus) || s.RawStatus == "" {
			t.Errorf("service %+v", s)
		}
		got = append(got, s.ServiceID)
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("ids (-want +got):\n%s", d)
	}
	reqs := srv.Requests()
	if len(reqs) != 3 {
		t.Errorf("%d requests, want 3", len(reqs))
	}
	for i, r := range reqs {
		if r.Query.Get("offset") != strconv.Itoa(500*i) || r.Query.Get("sort_key") != "create_at" || r.Query.Get("sort_dir") != "ASC" {
			t.Errorf("request %d: %q", i, r.Query.Encode())
		}
	}
	checkV2Requests(t, srv)
}

// TestServicesV2Forbidden: a token with v1 rights only gets 403 on the v2
// list: IsForbidden says so, and the error names the operation once.
func TestServicesV2Forbidden(t *testing.T) {
	srv := newFake(t)
	srv.AddServiceV2("svc2", "n", "RUNNING")
	srv.SetV2ListForbidden(true)
	c := newClient(t, srv)
	var errs []error
	for _, err := range c.ServicesV2(ctxT(t)) {
		errs = append(errs, err)
	}
	if len(errs) != 1 || !eventsapi.IsForbidden(errs[0]) || !eventsapi.IsAuth(errs[0]) || eventsapi.IsNotFound(errs[0]) {
		t.Fatalf("errors %v, want one 403", errs)
	}
	if want := "list v2 services: HTTP 403 "; !strings.HasPrefix(errs[0].Error(), want) || strings.Count(errs[0].Error(), "list v2 services") != 1 {
		t.Errorf("error %q, want the prefix %q once", errs[0], want)
	}
	if strings.Contains(errs[0].Error(), srv.Token) {
		t.Error("the token leaked into the error")
	}
	if n := len(srv.Requests()); n != 1 {
		t.Errorf("%d requests; a 403 is not retried", n)
	}
	if eventsapi.IsForbidden(errors.New("HTTP 403")) || eventsapi.IsForbidden(nil) {
		t.Error("IsForbidden is true for a non-API error")
	}
}

func TestEventsV2Paging(t *testing.T) {
	tests := []struct {
		name         string
		n            int
		since        int
		wantN        int // newest records yielded
		wantRequests int
	}{
		{name: "1200 records", n: 1200, wantN: 1200, wantRequests: 3},
		{name: "exactly 1000 stop at total", n: 1000, wantN: 1000, wantRequests: 2},
		{name: "empty", n: 0, wantN: 0, wantRequests: 1},
		{name: "since on the first page", n: 1200, since: 1100, wantN: 100, wantRequests: 1},
		{name: "since on the third page", n: 1200, since: 150, wantN: 1050, wantRequests: 3},
		{name: "since equal to a record's update_at keeps it", n: 10, since: 9, wantN: 1, wantRequests: 1},
		{name: "since after everything", n: 10, since: 10, wantN: 0, wantRequests: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newFake(t)
			srv.AddServiceV2("svc2", "paging", "RUNNING")
			all := newestFirst(v2Records(srv, "svc2", tt.n))
			var since int64
			if tt.since > 0 {
				since = v2T0 + int64(tt.since)*1000
			}
			c := newClient(t, srv)
			got := collectV2(t, c, "svc2", since)
			if d := cmp.Diff(all[:tt.wantN], got, cmpopts.EquateEmpty()); d != "" {
				t.Errorf("records (-want +got):\n%s", d)
			}
			if n := srv.EventsRequestsV2("svc2"); n != tt.wantRequests || srv.EventsRequests("svc2") != n {
				t.Errorf("%d requests (both generations %d), want %d", n, srv.EventsRequests("svc2"), tt.wantRequests)
			}
			checkV2Requests(t, srv)
		})
	}
}

// TestEventsV2Translation: a v2 record's fields reach Event as documented.
func TestEventsV2Translation(t *testing.T) {
	srv := newFake(t)
	srv.AppendV2Events("svc2",
		eventsapi.Event{EventType: "abnormal", EventInfo: "Insufficient resources. Wait until idle resources are sufficient.", OccurTime: v2T0},
		eventsapi.Event{EventType: "warning", EventInfo: "", EventInfoCN: "服务异常，不正常的实例数为1", OccurTime: v2T0 + 1},
		eventsapi.Event{EventType: "normal", EventInfo: "start to deploy service", OccurTime: v2T0 + 2, Count: 3, LastOccurTime: v2T0 + 5},
	)
	got := collectV2(t, newClient(t, srv), "svc2", 0)
	want := newestFirst(srv.EventsV2("svc2"))
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("records (-want +got):\n%s", d)
	}
	byType := map[string]eventsapi.Event{}
	for _, ev := range got {
		byType[ev.EventType] = ev
		if ev.ID == "" || ev.Count < 1 {
			t.Errorf("record %+v: no id or count", ev)
		}
	}
	if w := byType[eventsapi.EventTypeWarning]; w.EventInfoCN != "服务异常，不正常的实例数为1" {
		t.Errorf("warning record %+v", w)
	}
	if n := byType[eventsapi.EventTypeNormal]; n.OccurTime != v2T0+2 || n.LastOccurTime != v2T0+5 || n.Count != 3 {
		t.Errorf("normal record %+v", n)
	}
	if a := byType[eventsapi.EventTypeAbnormal]; a.OccurTime != v2T0 || a.LastOccurTime != v2T0 || a.Count != 1 {
		t.Errorf("abnormal record %+v", a)
	}
}

// TestEventsV2RepeatMerged: a repeat updates the record in place: read
// again, the same id comes back with a larger count and a later
// update_at, while create_at stays the first occurrence.
func TestEventsV2RepeatMerged(t *testing.T) {
	srv := newFake(t)
	c := newClient(t, srv)
	insufficient := eventsapi.Event{EventType: eventsapi.EventTypeAbnormal, EventInfo: eventsapitest.TextInsufficientResources}
	srv.AppendV2Events("svc2", eventsapi.Event{EventType: eventsapi.EventTypeNormal, EventInfo: "[m] prepare environment success", OccurTime: v2T0})
	for i := range 3 {
		at := v2T0 + int64(i+1)*60_000
		ev := insufficient
		ev.OccurTime = at
		srv.AppendV2Events("svc2", ev)
		got := collectV2(t, c, "svc2", at) // since the last read's newest
		if len(got) != 1 {
			t.Fatalf("read %d: %v, want the one record", i, got)
		}
		r := got[0]
		if r.Count != i+1 || r.OccurTime != v2T0+60_000 || r.LastOccurTime != at || r.EventType != eventsapi.EventTypeAbnormal {
			t.Errorf("read %d: %+v, want count %d, first %d, last %d", i, r, i+1, v2T0+60_000, at)
		}
		if all := srv.EventsV2("svc2"); len(all) != 2 || all[1].ID != r.ID {
			t.Errorf("read %d: fake holds %v", i, all)
		}
	}
}

// TestEventsV2UpdatedDuringPaging: records updated and created while the
// client pages move to the front (DESC by update_at): no record is
// yielded twice, and the next read, from the newest update_at seen, gets
// every record that moved; together the two reads lose none.
func TestEventsV2UpdatedDuringPaging(t *testing.T) {
	srv := newFake(t)
	before := newestFirst(v2Records(srv, "svc2", 1200))
	// DESC positions: 0 is the newest. 100 is on the first page (read
	// before the updates), 700 and 1100 are on pages not yet read.
	readFirst, unread1, unread2 := before[100], before[700], before[1100]
	now := v2T0 + 10_000_000
	srv.OnV2EventsPage(func(offset int) {
		if offset != 500 {
			return
		}
		for _, ev := range []eventsapi.Event{readFirst, unread1, unread2} {
			srv.AppendV2Events("svc2", eventsapi.Event{EventType: ev.EventType, EventInfo: ev.EventInfo, OccurTime: now})
		}
		srv.AppendV2Events("svc2",
			eventsapi.Event{EventType: eventsapi.EventTypeAbnormal, EventInfo: "new during paging 1", OccurTime: now},
			eventsapi.Event{EventType: eventsapi.EventTypeAbnormal, EventInfo: "new during paging 2", OccurTime: now})
	})
	c := newClient(t, srv)
	first := collectV2(t, c, "svc2", 0)
	srv.OnV2EventsPage(nil)

	seen := map[string]eventsapi.Event{}
	var newest int64
	for _, ev := range first {
		if _, dup := seen[ev.ID]; dup {
			t.Errorf("record %s yielded twice", ev.ID)
		}
		seen[ev.ID] = ev
		newest = max(newest, ev.LastOccurTime)
	}
	// The records that moved from unread pages to the front were not on
	// the pages read after the move: the next read gets them.
	for _, ev := range []eventsapi.Event{unread1, unread2} {
		if _, ok := seen[ev.ID]; ok {
			t.Errorf("record %s read although it moved to a page already read", ev.ID)
		}
	}
	second := collectV2(t, c, "svc2", newest)
	for _, ev := range second {
		seen[ev.ID] = ev
	}
	final := srv.EventsV2("svc2")
	if len(final) != 1202 {
		t.Fatalf("fake holds %d records", len(final))
	}
	for _, ev := range final {
		got, ok := seen[ev.ID]
		if !ok {
			t.Errorf("record %s (%q) lost", ev.ID, ev.EventInfo)
			continue
		}
		if ev.LastOccurTime == now && got.LastOccurTime != now {
			t.Errorf("record %s: only its old state %+v was read", ev.ID, got)
		}
	}
	for _, ev := range []eventsapi.Event{readFirst, unread1, unread2} {
		if got := seen[ev.ID]; got.Count != 2 {
			t.Errorf("updated record %s: count %d, want 2", ev.ID, got.Count)
		}
	}
	checkV2Requests(t, srv)
}

// collectV2End collects a v2 iteration's records and the error that ended
// it (nil: a clean end). It fails the test if anything follows an error.
func collectV2End(t *testing.T, c *eventsapi.Client, id string, since int64) ([]eventsapi.Event, error) {
	t.Helper()
	var got []eventsapi.Event
	var end error
	for ev, err := range c.EventsV2(ctxT(t), id, since) {
		if end != nil {
			t.Fatalf("yielded (%+v, %v) after the error %v", ev, err, end)
		}
		if err != nil {
			if ev != (eventsapi.Event{}) {
				t.Errorf("error %v yielded with the record %+v, want Event{}", err, ev)
			}
			end = err
			continue
		}
		got = append(got, ev)
	}
	return got, end
}

// TestEventsV2NothingNew: a page that brings nothing new (every record
// already yielded: a server that ignores offset or lies about total) ends
// paging with one warning, after every record read was yielded once. A
// full such page (500 records) may hide records never given: the iteration
// ends with an ErrIncomplete error. A short one ends it cleanly.
func TestEventsV2NothingNew(t *testing.T) {
	tests := []struct {
		name         string
		n            int // records in the fake
		lie          int
		ignoreOffset bool
		want         int // the newest records yielded
		wantErr      bool
		wantRequests int
		wantWarn     map[string]any // nil: no warning
	}{
		{
			name: "ignores offset: a full page again", n: 1200, ignoreOffset: true,
			want: 500, wantErr: true, wantRequests: 2,
			wantWarn: map[string]any{"offset": float64(500), "total": float64(1200)},
		},
		{
			name: "lying total: the full last page again", n: 1000, lie: 5000,
			want: 1000, wantErr: true, wantRequests: 3,
			wantWarn: map[string]any{"offset": float64(1000), "total": float64(5000)},
		},
		{name: "ignores offset, one page holds all", n: 500, ignoreOffset: true, want: 500, wantRequests: 1},
		{name: "ignores offset, one short page", n: 120, ignoreOffset: true, want: 120, wantRequests: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newFake(t)
			all := newestFirst(v2Records(srv, "svc2", tt.n))
			srv.SetIgnoreOffset(tt.ignoreOffset)
			srv.SetLyingTotal(tt.lie)
			var log logBuffer
			c := newClient(t, srv, withLog(&log))
			got, err := collectV2End(t, c, "svc2", 0)
			if d := cmp.Diff(all[:tt.want], got); d != "" {
				t.Errorf("records (-want +got):\n%s", d)
			}
			checkV2End(t, err, "svc2", tt.wantErr)
			if n := srv.EventsRequestsV2("svc2"); n != tt.wantRequests {
				t.Errorf("%d requests, want %d", n, tt.wantRequests)
			}
			checkV2Warning(t, log.String(), "svc2", tt.wantWarn)
			checkV2Requests(t, srv)
		})
	}
}

// TestEventsV2RepeatedPage: a hand-written server answers offset 500 with
// records already read at offset 0 (and claims 5000): a full repeated page
// ends with ErrIncomplete, a short one cleanly; either way the 500 records
// of the first page are yielded once, and nothing is asked after.
func TestEventsV2RepeatedPage(t *testing.T) {
	record := func(i int) string {
		return fmt.Sprintf(`{"id":"r%03d","event_type":"NORMAL","event_info":"record %03d","event_count":1,"create_at":%d,"update_at":%d}`,
			i, i, v2T0-int64(i)*1000, v2T0-int64(i)*1000)
	}
	page := func(n int) string {
		recs := make([]string, n)
		for i := range recs {
			recs[i] = record(i)
		}
		return `{"current":0,"pages":10,"size":500,"total":5000,"data":[` + strings.Join(recs, ",") + `]}`
	}
	for _, tt := range []struct {
		name     string
		repeated int // records of the first page repeated at offset 500
		wantErr  bool
	}{
		{name: "full repeated page", repeated: 500, wantErr: true},
		{name: "short repeated page", repeated: 100},
		{name: "one record repeated", repeated: 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var offsets []string
			var mu sync.Mutex
			ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				off := r.URL.Query().Get("offset")
				mu.Lock()
				offsets = append(offsets, off)
				mu.Unlock()
				switch off {
				case "0":
					_, _ = io.WriteString(w, page(500))
				case "500":
					_, _ = io.WriteString(w, page(tt.repeated))
				default:
					_, _ = io.WriteString(w, `{"current":0,"pages":10,"size":500,"total":5000,"data":[]}`)
				}
			}))
			defer ts.Close()
			var log logBuffer
			got, err := collectV2End(t, rawClient(t, ts, withLog(&log)), "s", 0)
			if len(got) != 500 {
				t.Errorf("%d records, want 500", len(got))
			}
			for i, ev := range got {
				if want := fmt.Sprintf("r%03d", i); ev.ID != want {
					t.Errorf("record %d: id %q, want %q", i, ev.ID, want)
				}
			}
			checkV2End(t, err, "s", tt.wantErr)
			mu.Lock()
			defer mu.Unlock()
			if d := cmp.Diff([]string{"0", "500"}, offsets); d != "" {
				t.Errorf("offsets asked (-want +got):\n%s", d)
			}
			checkV2Warning(t, log.String(), "s", map[string]any{"offset": float64(500), "total": float64(5000), "count": float64(tt.repeated)})
		})
	}
}

// checkV2End checks how an EventsV2 iteration ended: with an error naming
// the service that is ErrIncomplete (errors.Is), or cleanly.
func checkV2End(t *testing.T, err error, serviceID string, wantIncomplete bool) {
	t.Helper()
	switch {
	case !wantIncomplete && err != nil:
		t.Errorf("ended with %v, want a clean end", err)
	case wantIncomplete && !errors.Is(err, eventsapi.ErrIncomplete):
		t.Errorf("ended with %v, want ErrIncomplete", err)
	case wantIncomplete && !strings.HasPrefix(err.Error(), "list v2 events for "+serviceID+": "):
		t.Errorf("error %q does not name the service", err)
	}
}

// checkV2Warning checks that log holds exactly one warning, the v2 events
// paging stop on a page already seen, naming the service and holding the
// fields want; or, when want is nil, no warning.
func checkV2Warning(t *testing.T, log, serviceID string, want map[string]any) {
	t.Helper()
	ws := warnings(t, log)
	if want == nil {
		if len(ws) != 0 {
			t.Errorf("warnings %v, want none", ws)
		}
		return
	}
	if len(ws) != 1 {
		t.Fatalf("%d warnings %v, want 1", len(ws), ws)
	}
	w := ws[0]
	if msg, _ := w["msg"].(string); !strings.HasPrefix(msg, "v2 events paging stopped: the server returned a page already seen") {
		t.Errorf("msg %q", msg)
	}
	if w["service_id"] != serviceID {
		t.Errorf("service_id %v, want %s", w["service_id"], serviceID)
	}
	if r, _ := w["reason"].(string); !strings.Contains(r, allSeen) {
		t.Errorf("reason %q, want it to contain %q", r, allSeen)
	}
	for k, v := range want {
		if w[k] != v {
			t.Errorf("warning %s = %v, want %v (%v)", k, w[k], v, w)
		}
	}
}

// TestEventsV2ShortPage: a server capping its pages below 500 cannot be
// paged on (the next offset must be a multiple of the limit): the client
// stops, warns once, and never sends an offset the API refuses.
func TestEventsV2ShortPage(t *testing.T) {
	srv := newFake(t)
	all := newestFirst(v2Records(srv, "svc2", 1200))
	srv.SetMaxPageSize(100)
	var log logBuffer
	c := newClient(t, srv, withLog(&log))
	// A short page before total cannot be read on (offset must be a
	// multiple of limit): the read ends with ErrIncomplete after it.
	var got []eventsapi.Event
	var end error
	for ev, err := range c.EventsV2(ctxT(t), "svc2", 0) {
		if err != nil {
			end = err
			break
		}
		got = append(got, ev)
	}
	if !errors.Is(end, eventsapi.ErrIncomplete) {
		t.Errorf("end = %v, want ErrIncomplete", end)
	}
	if d := cmp.Diff(all[:100], got); d != "" {
		t.Errorf("records (-want +got):\n%s", d)
	}
	if ws := warnings(t, log.String()); len(ws) != 1 || !strings.Contains(ws[0]["msg"].(string), "shorter than the limit") {
		t.Errorf("warnings %v", ws)
	}
	checkV2Requests(t, srv)
}

// TestEventsV2DuplicateIDsOnOnePage and records without an id: each is
// yielded once.
func TestEventsV2Dedup(t *testing.T) {
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(`{"current":0,"pages":1,"size":500,"total":5,"data":[
			{"id":"a","event_type":"NORMAL","event_info":"x","event_count":2,"create_at":1,"update_at":"9"},
			{"id":"a","event_type":"NORMAL","event_info":"x","event_count":2,"create_at":1,"update_at":"9"},
			{"event_type":"ABNORMAL","event_info":"no id","create_at":"5"},
			{"event_type":"ABNORMAL","event_info":"no id","create_at":"5"},
			{"event_type":"ABNORMAL","event_info":"no id","create_at":"4"}]}`))
	}))
	defer ts.Close()
	got := collectV2(t, rawClient(t, ts), "s", 0)
	want := []eventsapi.Event{
		{ID: "a", EventType: "normal", EventInfo: "x", Count: 2, OccurTime: 1, LastOccurTime: 9},
		{EventType: "abnormal", EventInfo: "no id", Count: 1, OccurTime: 5, LastOccurTime: 5},
		{EventType: "abnormal", EventInfo: "no id", Count: 1, OccurTime: 4, LastOccurTime: 4},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("records (-want +got):\n%s", d)
	}
}

func TestDecodeEventsV2Errors(t *testing.T) {
	tests := []struct{ name, record, wantErr string }{
		{name: "bad update_at", record: `{"id":"b","create_at":1,"update_at":"yesterday"}`, wantErr: "data[1].update_at"},
		{name: "bad create_at", record: `{"id":"b","create_at":-1,"update_at":1}`, wantErr: "data[1].create_at"},
		{name: "no times", record: `{"id":"b"}`, wantErr: "data[1].update_at: missing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				_, _ = fmt.Fprintf(w, `{"total":2,"data":[{"id":"a","create_at":1,"update_at":1},%s]}`, tt.record)
			}))
			defer ts.Close()
			var errs []error
			for _, err := range rawClient(t, ts).EventsV2(ctxT(t), "s", 0) {
				if err != nil {
					errs = append(errs, err)
				}
			}
			var de *eventsapi.DecodeError
			if len(errs) != 1 || !errors.As(errs[0], &de) || !strings.Contains(errs[0].Error(), tt.wantErr) {
				t.Fatalf("errors %v, want a DecodeError containing %q", errs, tt.wantErr)
			}
			if !strings.HasPrefix(errs[0].Error(), "list v2 events for s: decode v2 events page: ") {
				t.Errorf("error %q", errs[0])
			}
		})
	}
}

func TestPodEvents(t *testing.T) {
	srv := newFake(t)
	srv.AddServiceV2("svc2", "gpu-model", "DEPLOYING")
	start := time.UnixMilli(v2T0).UTC()
	last := srv.DeployStallV2("svc2", "m1", eventsapitest.PhaseScheduling, start, 10*time.Second)
	c := newClient(t, srv)
	svc, err := c.GetServiceV2(ctxT(t), "svc2")
	if err != nil || svc.DeploymentName == "" {
		t.Fatalf("service %+v, %v", svc, err)
	}
	want := eventsapitest.PodEventsFor(eventsapitest.PhaseScheduling, "m1", last, true)

	tests := []struct {
		name      string
		from, to  int64
		want      []eventsapi.PodEvent
		wantQuery string
	}{
		{name: "no window", want: want, wantQuery: ""},
		{name: "the deployment's window", from: start.UnixMilli(), to: last.UnixMilli() + 1, want: want,
			wantQuery: fmt.Sprintf("end_time=%d&start_time=%d", last.UnixMilli()+1, start.UnixMilli())},
		{name: "a window before it", from: 1, to: start.UnixMilli() - 1, want: nil,
			wantQuery: fmt.Sprintf("end_time=%d&start_time=1", start.UnixMilli()-1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv.ResetRequests()
			got, err := c.PodEvents(ctxT(t), "svc2", svc.DeploymentName, tt.from, tt.to)
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tt.want, got, cmpopts.EquateEmpty()); d != "" {
				t.Errorf("pod events (-want +got):\n%s", d)
			}
			r := srv.Requests()[0]
			if wantPath := "/v2/" + srv.ProjectID + "/services/svc2/deployments/" + svc.DeploymentName + "/instances/all/pods/all/events"; r.Path != wantPath {
				t.Errorf("path %s, want %s", r.Path, wantPath)
			}
			if r.Query.Encode() != tt.wantQuery {
				t.Errorf("query %q, want %q", r.Query.Encode(), tt.wantQuery)
			}
		})
	}

	t.Run("bad windows send nothing", func(t *testing.T) {
		srv.ResetRequests()
		for _, w := range [][2]int64{{1, 0}, {0, 1}, {-1, 5}, {5, 4}} {
			if _, err := c.PodEvents(ctxT(t), "svc2", svc.DeploymentName, w[0], w[1]); err == nil || !strings.Contains(err.Error(), "window") {
				t.Errorf("window %v: err %v", w, err)
			}
		}
		if _, err := c.PodEvents(ctxT(t), "svc2", "../x", 0, 0); !errors.Is(err, eventsapi.ErrInvalidID) {
			t.Errorf("bad deployment name: %v", err)
		}
		if n := len(srv.Requests()); n != 0 {
			t.Errorf("%d requests", n)
		}
	})

	t.Run("500", func(t *testing.T) {
		srv.ResetRequests()
		srv.Fail(100, eventsapitest.Fault{Path: "/pods/", Status: 500})
		defer srv.ClearFaults()
		c := newClient(t, srv, func(cfg *eventsapi.Config) { cfg.MaxRetries = 2 })
		_, err := c.PodEvents(ctxT(t), "svc2", svc.DeploymentName, 0, 0)
		var ae *eventsapi.APIError
		if !errors.As(err, &ae) || ae.StatusCode != 500 {
			t.Fatalf("err %v, want the 500", err)
		}
		if want := "list pod events for svc2/" + svc.DeploymentName + ": HTTP 500"; !strings.HasPrefix(err.Error(), want) {
			t.Errorf("error %q, want prefix %q", err, want)
		}
		if n := len(srv.Requests()); n != 3 {
			t.Errorf("%d requests, want 3 (retried)", n)
		}
	})

	t.Run("unknown deployment", func(t *testing.T) {
		_, err := c.PodEvents(ctxT(t), "svc2", "nope", 0, 0)
		var ae *eventsapi.APIError
		if !errors.As(err, &ae) || ae.StatusCode != 400 {
			t.Errorf("err %v, want a 400", err)
		}
	})
}

// TestPodEventsDecoding: the body is a bare array; timestamps come as RFC
// 3339 strings or milliseconds (numbers or strings); unreadable ones are
// left zero.
func TestPodEventsDecoding(t *testing.T) {
	at := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name, ts string
		want     time.Time
	}{
		{"RFC 3339", `"2026-11-28T12:00:00Z"`, at},
		{"RFC 3339 with fraction and offset", `"2026-11-28T20:00:00.250+08:00"`, at.Add(250 * time.Millisecond)},
		{"space instead of T, no zone", `"2026-11-28 12:00:00"`, at},
		{"milliseconds", strconv.FormatInt(at.UnixMilli(), 10), at},
		{"milliseconds as a string", `"` + strconv.FormatInt(at.UnixMilli(), 10) + `"`, at},
		{"seconds", strconv.FormatInt(at.Unix(), 10), at},
		{"null", `null`, time.Time{}},
		{"empty string", `""`, time.Time{}},
		{"garbage", `"soon"`, time.Time{}},
		{"object", `{"seconds":1}`, time.Time{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				_, _ = fmt.Fprintf(w, `[{"count":"4","first_timestamp":%s,"last_timestamp":%s,"message":"m","reason":"BackOff","reporting_component":"kubelet","type":"Warning","extra":1}]`, tt.ts, tt.ts)
			}))
			defer ts.Close()
			got, err := rawClient(t, ts).PodEvents(ctxT(t), "s", "d", 0, 0)
			if err != nil {
				t.Fatal(err)
			}
			want := []eventsapi.PodEvent{{Type: "Warning", Reason: "BackOff", Message: "m", ReportingComponent: "kubelet", Count: 4, FirstTimestamp: tt.want, LastTimestamp: tt.want}}
			if d := cmp.Diff(want, got); d != "" {
				t.Errorf("pod events (-want +got):\n%s", d)
			}
		})
	}
	for body, wantErr := range map[string]bool{`[]`: false, `null`: false, `{"events":[]}`: true, `[{"count":1}`: true} {
		ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte(body)) }))
		got, err := rawClient(t, ts, func(cfg *eventsapi.Config) { cfg.MaxRetries = -1 }).PodEvents(ctxT(t), "s", "d", 0, 0)
		ts.Close()
		if (err != nil) != wantErr || len(got) != 0 {
			t.Errorf("body %s: %v, %v; want error %v", body, got, err, wantErr)
		}
	}
}

// TestV2InvalidIDs: every v2 call refuses a bad id without a request.
func TestV2InvalidIDs(t *testing.T) {
	srv := newFake(t)
	c := newClient(t, srv)
	for _, id := range []string{"", "a/b", "..", "a b", "x?y"} {
		var errs []error
		_, err := c.GetServiceV2(ctxT(t), id)
		errs = append(errs, err)
		_, err = c.LookupService(ctxT(t), id, "")
		errs = append(errs, err)
		_, err = c.PodEvents(ctxT(t), id, "d", 0, 0)
		errs = append(errs, err)
		for _, err := range c.EventsV2(ctxT(t), id, 0) {
			errs = append(errs, err)
		}
		for i, err := range errs {
			if !errors.Is(err, eventsapi.ErrInvalidID) {
				t.Errorf("id %q, call %d: %v", id, i, err)
			}
		}
	}
	if n := len(srv.Requests()); n != 0 {
		t.Errorf("%d requests", n)
	}
}

// TestV2NoSecretInErrors: a server echoing the token back does not put it
// in v2 errors.
func TestV2NoSecretInErrors(t *testing.T) {
	const token = "very-secret-token-0123456789"
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadRequest)
		_, _ = fmt.Fprintf(w, `{"error_code":"ModelArts.0101","error_msg":"bad token %s"}`, r.Header.Get("X-Auth-Token"))
	}))
	defer ts.Close()
	c := rawClient(t, ts, func(cfg *eventsapi.Config) { cfg.Auth = eventsapi.StaticToken(token) })
	var errs []error
	_, err := c.LookupService(ctxT(t), "s", "")
	errs = append(errs, err)
	_, err = c.PodEvents(ctxT(t), "s", "d", 0, 0)
	errs = append(errs, err)
	for _, err := range c.EventsV2(ctxT(t), "s", 0) {
		errs = append(errs, err)
	}
	for _, err := range c.ServicesV2(ctxT(t)) {
		errs = append(errs, err)
	}
	for i, err := range errs {
		if err == nil || strings.Contains(err.Error(), token) {
			t.Errorf("call %d: %v", i, err)
		}
	}
}
