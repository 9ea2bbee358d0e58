package eventsapitest_test

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/modelarts-notifier/modelarts-notifier/eventsapi"
	"github.com/modelarts-notifier/modelarts-notifier/eventsapi/eventsapitest"
)

// v2EventsPage is the v2 events answer as sent.
type v2EventsPage struct {
	Current, Pages, Size, Total int64
	Data                        []struct {
		ID               string `json:"id"`
		ServiceID        string `json:"service_id"`
		ServiceVersionID string `json:"service_version_id"`
		EventCount       int    `json:"event_count"`
		EventType        string `json:"event_type"`
		EventInfo        string `json:"event_info"`
		EventInfoCN      string `json:"event_info_cn"`
		CreateAt         int64  `json:"create_at"`
		UpdateAt         int64  `json:"update_at"`
	}
}

func (p v2EventsPage) infos() []string {
	out := make([]string, len(p.Data))
	for i, d := range p.Data {
		out[i] = d.EventInfo
	}
	return out
}

// v2Numbered appends n records "r00".."r<n-1>", the i-th at base + i s.
func v2Numbered(srv *eventsapitest.Server, id string, n int, base int64) {
	for i := range n {
		srv.AppendV2Events(id, eventsapi.Event{EventType: eventsapi.EventTypeNormal, EventInfo: fmt.Sprintf("r%02d", i), OccurTime: base + int64(i)*1000})
	}
}

func TestV2PagingRules(t *testing.T) {
	srv := newServer(t)
	v2Numbered(srv, "svc2", 25, 1_000_000)
	for _, base := range []string{"/v2/" + eventsapitest.DefaultProjectID + "/services/svc2/events", "/v2/" + eventsapitest.DefaultProjectID + "/services"} {
		tests := []struct {
			query string
			want  int
		}{
			{"", 200},
			{"limit=1", 200},
			{"limit=500&offset=1000", 200},
			{"limit=5&offset=10", 200},
			{"sort_key=create_at&sort_dir=ASC", 200},
			{"sort_key=update_at,create_at&sort_dir=DESC", 200},
			{"limit=0", 400},
			{"limit=501", 400},
			{"limit=-1", 400},
			{"limit=ten", 400},
			{"limit=5&offset=7", 400},
			{"offset=5", 400}, // the default limit is 10
			{"offset=-10", 400},
			{"sort_key=occur_time", 400},
			{"sort_dir=desc", 400},
			{"sort_dir=asc", 400},
		}
		for _, tt := range tests {
			resp, body := get(t, srv, base+"?"+tt.query, "")
			if resp.StatusCode != tt.want {
				t.Errorf("%s?%s: status %d, want %d: %s", base, tt.query, resp.StatusCode, tt.want, body)
				continue
			}
			if tt.want == 400 {
				if e := decode[eventsapitest.ErrorBody](t, body); e.ErrorCode != "ModelArts.0101" || e.ErrorMsg == "" {
					t.Errorf("%s?%s: error body %s", base, tt.query, body)
				}
			}
		}
	}
	if _, body := get(t, srv, "/v2/"+srv.ProjectID+"/services/svc2/events?event_type=normal", ""); !strings.Contains(string(body), "ModelArts.0101") {
		t.Errorf("lower-case event_type accepted: %s", body)
	}
}

func TestV2EventsAnswer(t *testing.T) {
	srv := newServer(t)
	v2Numbered(srv, "svc2", 25, 1_000_000)
	path := "/v2/" + srv.ProjectID + "/services/svc2/events"

	p := decode[v2EventsPage](t, mustGet(t, srv, path+"?limit=10&offset=10"))
	if p.Current != 1 || p.Pages != 3 || p.Size != 10 || p.Total != 25 || len(p.Data) != 10 {
		t.Errorf("page %+v", p)
	}
	if d := cmp.Diff([]string{"r14", "r13", "r12", "r11", "r10", "r09", "r08", "r07", "r06", "r05"}, p.infos()); d != "" {
		t.Errorf("default order is update_at DESC (-want +got):\n%s", d)
	}
	d0 := p.Data[0]
	if d0.ID == "" || d0.ServiceID != "svc2" || d0.ServiceVersionID == "" || d0.EventCount != 1 || d0.EventType != "NORMAL" || d0.CreateAt != 1_014_000 || d0.UpdateAt != 1_014_000 {
		t.Errorf("record %+v", d0)
	}
	if got := decode[v2EventsPage](t, mustGet(t, srv, path)); len(got.Data) != 10 {
		t.Errorf("default limit: %d records, want 10", len(got.Data))
	}

	// A repeat of r00 moves it to the front by update_at, not by
	// create_at.
	srv.AppendV2Events("svc2", eventsapi.Event{EventType: eventsapi.EventTypeNormal, EventInfo: "r00", OccurTime: 2_000_000})
	tests := []struct{ query, first, last string }{
		{"limit=500", "r00", "r01"},
		{"limit=500&sort_dir=ASC", "r01", "r00"},
		{"limit=500&sort_key=create_at", "r24", "r00"},
		{"limit=500&sort_key=create_at&sort_dir=ASC", "r00", "r24"},
	}
	for _, tt := range tests {
		got := decode[v2EventsPage](t, mustGet(t, srv, path+"?"+tt.query)).infos()
		if len(got) != 25 || got[0] != tt.first || got[24] != tt.last {
			t.Errorf("%s: %v, want %s first and %s last", tt.query, got, tt.first, tt.last)
		}
	}

	// Filters: event_type, event_info_key, and start/end by update_at
	// (default) or create_at.
	srv.AppendV2Events("svc2", eventsapi.Event{EventType: eventsapi.EventTypeWarning, EventInfo: "warned", EventInfoCN: "告警", OccurTime: 1_500_000})
	if got := decode[v2EventsPage](t, mustGet(t, srv, path+"?event_type=WARNING")); got.Total != 1 || got.Data[0].EventInfoCN != "告警" {
		t.Errorf("event_type=WARNING: %+v", got)
	}
	if got := decode[v2EventsPage](t, mustGet(t, srv, path+"?event_info_key=%E5%91%8A")); got.Total != 1 {
		t.Errorf("event_info_key (Chinese): %+v", got)
	}
	window := path + "?limit=500&start_time=1900000&end_time=2100000"
	if got := decode[v2EventsPage](t, mustGet(t, srv, window)).infos(); !slices.Equal(got, []string{"r00"}) {
		t.Errorf("window on update_at: %v", got)
	}
	srv.SetV2TimeFilterField("create_at")
	if got := decode[v2EventsPage](t, mustGet(t, srv, window)).infos(); len(got) != 0 {
		t.Errorf("window on create_at: %v", got)
	}
}

func mustGet(t *testing.T, srv *eventsapitest.Server, path string) []byte {
	t.Helper()
	resp, body := get(t, srv, path, "")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s: status %d: %s", path, resp.StatusCode, body)
	}
	return body
}

func TestAppendV2EventsMerges(t *testing.T) {
	srv := newServer(t)
	ev := func(typ, info, cn string, at int64) eventsapi.Event {
		return eventsapi.Event{EventType: typ, EventInfo: info, EventInfoCN: cn, OccurTime: at}
	}
	srv.AppendV2Events("svc2",
		ev("abnormal", "Insufficient resources.", "", 1000),
		ev("abnormal", "Insufficient resources.", "", 5000),     // repeat
		ev("abnormal", "Insufficient resources.", "", 3000),     // an older repeat: update_at stays
		ev("normal", "Insufficient resources.", "", 6000),       // another type
		ev("abnormal", "Insufficient resources.", "资源不足", 7000), // another Chinese text
		eventsapi.Event{EventType: "abnormal", EventInfo: "anything", ID: "fixed-id", OccurTime: 8000},
		eventsapi.Event{EventType: "abnormal", EventInfo: "other text", ID: "fixed-id", OccurTime: 9000, Count: 2}, // by id
	)
	got := srv.EventsV2("svc2")
	type rec struct {
		typ, info, cn string
		count         int
		first, last   int64
	}
	var recs []rec
	for _, e := range got {
		recs = append(recs, rec{e.EventType, e.EventInfo, e.EventInfoCN, e.Count, e.OccurTime, e.LastOccurTime})
	}
	want := []rec{
		{"abnormal", "Insufficient resources.", "", 3, 1000, 5000},
		{"normal", "Insufficient resources.", "", 1, 6000, 6000},
		{"abnormal", "Insufficient resources.", "资源不足", 1, 7000, 7000},
		{"abnormal", "anything", "", 3, 8000, 9000},
	}
	if d := cmp.Diff(want, recs, cmp.AllowUnexported(rec{})); d != "" {
		t.Errorf("records (-want +got):\n%s", d)
	}
	ids := map[string]bool{}
	for _, e := range got {
		ids[e.ID] = true
	}
	if len(ids) != 4 || !ids["fixed-id"] {
		t.Errorf("ids %v", ids)
	}
}

func TestV2MergePerVersion(t *testing.T) {
	t0 := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	for _, perVersion := range []bool{false, true} {
		srv := newServer(t)
		srv.SetV2MergePerVersion(perVersion)
		srv.DeploySuccessV2("svc2", "m", t0, time.Second)
		srv.DeploySuccessV2("svc2", "m", t0.Add(time.Hour), time.Second)
		n, start := len(srv.EventsV2("svc2")), srv.EventsV2("svc2")[0]
		switch {
		case !perVersion && (n != 10 || start.Count != 2 || start.LastOccurTime != t0.Add(time.Hour).UnixMilli()):
			t.Errorf("merging across versions: %d records, first %+v", n, start)
		case perVersion && (n != 20 || start.Count != 1):
			t.Errorf("merging per version: %d records, first %+v", n, start)
		}
	}
}

func TestV2Details(t *testing.T) {
	srv := newServer(t)
	at := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	srv.AddServiceV2("svc2", "fraud", "DEPLOYING")
	srv.AddDeploymentV2("svc2", "fraud-blue", at)
	srv.SetStatusV2("svc2", "FAILED", "Failed to start service fraud.")
	srv.SetDeployTimeout("svc2", 25)
	d := decode[map[string]any](t, mustGet(t, srv, "/v2/"+srv.ProjectID+"/services/svc2"))
	for _, k := range []string{"create_at", "update_at"} {
		if _, ok := d[k].(string); !ok {
			t.Errorf("%s = %#v, want a string", k, d[k])
		}
	}
	if d["status"] != "FAILED" || d["failure_reason"] != "Failed to start service fraud." || d["deploy_timeout_minutes"] != float64(25) {
		t.Errorf("details %v", d)
	}
	v, _ := d["version"].(map[string]any)
	groups, _ := v["instance_groups"].([]any)
	if len(groups) != 1 {
		t.Fatalf("version %v", v)
	}
	g := groups[0].(map[string]any)
	if g["name"] != "fraud-blue" || g["status"] != "FAILED" || g["id"] == "" {
		t.Errorf("instance group %v", g)
	}
	if _, ok := g["update_at"].(float64); !ok {
		t.Errorf("instance group update_at %#v, want a number", g["update_at"])
	}
	if s, _ := srv.ServiceV2("svc2"); s.Status != eventsapi.StatusFailed || s.RawStatus != "FAILED" || s.DeploymentName != "fraud-blue" || s.DeployTimeoutMinutes != 25 {
		t.Errorf("ServiceV2 %+v", s)
	}
}

// TestV2UnknownAndWrongGeneration: an unknown v2 id (a v1 id included)
// answers 400 on every v2 path, or the status SetV2UnknownStatus chose; a
// v2 id on a v1 path is a missing service.
func TestV2UnknownAndWrongGeneration(t *testing.T) {
	srv := newServer(t)
	srv.AddService("svc1", "old", eventsapi.StatusRunning)
	srv.AddServiceV2("svc2", "new", "RUNNING")
	p := "/v2/" + srv.ProjectID + "/services/"
	paths := []string{p + "svc1", p + "svc1/events", p + "nope", p + "nope/events", p + "nope/deployments/d/instances/all/pods/all/events"}
	for _, code := range []int{0, 403, 404, 400} {
		want := 400
		if code != 0 {
			srv.SetV2UnknownStatus(code)
			want = code
		}
		for _, path := range paths {
			resp, body := get(t, srv, path, "")
			if resp.StatusCode != want || decode[eventsapitest.ErrorBody](t, body).ErrorCode == "" {
				t.Errorf("unknown status %d: %s: %d %s", code, path, resp.StatusCode, body)
			}
		}
	}
	for _, path := range []string{"/v1/" + srv.ProjectID + "/services/svc2", "/v1/" + srv.ProjectID + "/services/svc2/events"} {
		resp, body := get(t, srv, path, "")
		if resp.StatusCode != 404 || decode[eventsapitest.ErrorBody](t, body).ErrorCode != "ModelArts.3502" {
			t.Errorf("%s: %d %s", path, resp.StatusCode, body)
		}
	}
	// The v1 list does not list v2 services, nor the v2 list v1 ones.
	v1 := decode[eventsapi.ServicesPage](t, mustGet(t, srv, "/v1/"+srv.ProjectID+"/services"))
	v2 := decode[struct {
		Total int
		Data  []struct{ ID string }
	}](t, mustGet(t, srv, "/v2/"+srv.ProjectID+"/services"))
	if v1.TotalCount != 1 || v1.Services[0].ServiceID != "svc1" || v2.Total != 1 || v2.Data[0].ID != "svc2" {
		t.Errorf("v1 list %+v, v2 list %+v", v1, v2)
	}
	if d := cmp.Diff([]string{"svc2"}, srv.ServiceIDsV2()); d != "" || !slices.Equal(srv.ServiceIDs(), []string{"svc1"}) {
		t.Errorf("ServiceIDs %v, ServiceIDsV2 %v", srv.ServiceIDs(), srv.ServiceIDsV2())
	}
	defer func() {
		if recover() == nil {
			t.Error("SetV2UnknownStatus(500) did not panic")
		}
	}()
	srv.SetV2UnknownStatus(500)
}

func TestV2ListFiltersAndForbidden(t *testing.T) {
	srv := newServer(t, eventsapitest.WithClock(func() time.Time { return t0 })) // equal create_at: creation order
	srv.AddServiceV2("a", "fraud-detector", "RUNNING")
	srv.AddServiceV2("b", "fraud-scorer", "DEPLOYING")
	srv.AddServiceV2("c", "ocr", "RUNNING")
	list := func(q string) []string {
		p := decode[struct {
			Total int
			Data  []struct {
				ID       string `json:"id"`
				CreateAt any    `json:"create_at"`
			}
		}](t, mustGet(t, srv, "/v2/"+srv.ProjectID+"/services?"+q))
		var ids []string
		for _, d := range p.Data {
			if _, ok := d.CreateAt.(float64); !ok {
				t.Errorf("list create_at %#v, want a number", d.CreateAt)
			}
			ids = append(ids, d.ID)
		}
		return ids
	}
	tests := []struct {
		q    string
		want []string
	}{
		{"sort_key=create_at&sort_dir=ASC", []string{"a", "b", "c"}},
		{"id=b", []string{"b"}},
		{"id=zzz", nil},
		{"name=fraud&sort_key=create_at&sort_dir=ASC", []string{"a", "b"}},
		{"status=RUNNING&sort_key=create_at&sort_dir=ASC", []string{"a", "c"}},
	}
	for _, tt := range tests {
		if d := cmp.Diff(tt.want, list(tt.q)); d != "" {
			t.Errorf("%s (-want +got):\n%s", tt.q, d)
		}
	}
	srv.SetV2ListForbidden(true)
	resp, body := get(t, srv, "/v2/"+srv.ProjectID+"/services", "")
	if resp.StatusCode != 403 || decode[eventsapitest.ErrorBody](t, body).ErrorCode == "" {
		t.Errorf("forbidden list: %d %s", resp.StatusCode, body)
	}
	// Details stay readable.
	if resp, _ := get(t, srv, "/v2/"+srv.ProjectID+"/services/a", ""); resp.StatusCode != 200 {
		t.Errorf("details while the list is forbidden: %d", resp.StatusCode)
	}
}

func TestOnV2EventsPageAndCounters(t *testing.T) {
	srv := newServer(t)
	v2Numbered(srv, "svc2", 3, 1000)
	var mu sync.Mutex
	var offsets []int
	srv.OnV2EventsPage(func(offset int) {
		mu.Lock()
		offsets = append(offsets, offset)
		mu.Unlock()
		// The hook may script the fake: no lock is held.
		srv.AppendV2Events("svc2", eventsapi.Event{EventInfo: fmt.Sprintf("added at %d", offset), OccurTime: 9000})
	})
	path := "/v2/" + srv.ProjectID + "/services/svc2/events?limit=2&offset="
	for _, off := range []string{"0", "2"} {
		mustGet(t, srv, path+off)
	}
	get(t, srv, path+"3", "") // refused: the hook is not called
	srv.OnV2EventsPage(nil)
	mustGet(t, srv, path+"4")
	mu.Lock()
	defer mu.Unlock()
	if d := cmp.Diff([]int{0, 2}, offsets); d != "" {
		t.Errorf("hook offsets (-want +got):\n%s", d)
	}
	if n := len(srv.EventsV2("svc2")); n != 5 {
		t.Errorf("%d records, want 5", n)
	}
	srv.AddService("svc1", "v1", eventsapi.StatusRunning)
	mustGet(t, srv, "/v1/"+srv.ProjectID+"/services/svc1/events")
	if srv.EventsRequests("svc2") != 3 || srv.EventsRequestsV2("svc2") != 3 || srv.EventsRequests("svc1") != 1 || srv.EventsRequestsV2("svc1") != 0 {
		t.Errorf("counters: svc2 %d/%d, svc1 %d/%d", srv.EventsRequests("svc2"), srv.EventsRequestsV2("svc2"), srv.EventsRequests("svc1"), srv.EventsRequestsV2("svc1"))
	}
	var v2Logged int
	for _, r := range srv.Requests() {
		if strings.HasPrefix(r.Path, "/v2/") {
			v2Logged++
		}
	}
	if v2Logged != 4 {
		t.Errorf("%d v2 requests logged, want 4", v2Logged)
	}
	srv.ResetRequests()
	if srv.EventsRequestsV2("svc2") != 0 {
		t.Error("ResetRequests kept the v2 counter")
	}
}

func TestPodEventsEndpoint(t *testing.T) {
	srv := newServer(t)
	at := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	srv.AddDeploymentV2("svc2", "dep-1", at)
	srv.AddPodEvents("svc2",
		eventsapi.PodEvent{Type: "Warning", Reason: "FailedScheduling", Message: "0/3 nodes are available.", ReportingComponent: "default-scheduler", Count: 5, FirstTimestamp: at, LastTimestamp: at.Add(time.Minute)},
		eventsapi.PodEvent{Type: "Normal", Reason: "Scheduled", Message: "ok", Count: 1, FirstTimestamp: at.Add(time.Hour), LastTimestamp: at.Add(time.Hour)},
	)
	base := "/v2/" + srv.ProjectID + "/services/svc2/deployments/dep-1/instances/all/pods/all/events"
	ms := func(d time.Duration) int64 { return at.Add(d).UnixMilli() }
	tests := []struct {
		query   string
		want    int
		reasons []string
	}{
		{"", 200, []string{"FailedScheduling", "Scheduled"}},
		{fmt.Sprintf("start_time=%d&end_time=%d", ms(30*time.Second), ms(10*time.Minute)), 200, []string{"FailedScheduling"}},
		{fmt.Sprintf("start_time=%d&end_time=%d", ms(2*time.Minute), ms(10*time.Minute)), 200, nil},
		{fmt.Sprintf("start_time=%d", ms(0)), 400, nil},
		{fmt.Sprintf("end_time=%d", ms(0)), 400, nil},
		{"start_time=x&end_time=1", 400, nil},
	}
	for _, tt := range tests {
		resp, body := get(t, srv, base+"?"+tt.query, "")
		if resp.StatusCode != tt.want {
			t.Errorf("%q: status %d: %s", tt.query, resp.StatusCode, body)
			continue
		}
		if tt.want != 200 {
			continue
		}
		if !strings.HasPrefix(string(body), "[") {
			t.Errorf("%q: body %s is not a bare array", tt.query, body)
		}
		var reasons []string
		for _, d := range decode[[]map[string]any](t, body) {
			reasons = append(reasons, d["reason"].(string))
			if d["reason"] == "FailedScheduling" && (d["first_timestamp"] != "2026-11-28T12:00:00Z" || d["last_timestamp"] != "2026-11-28T12:01:00Z" || d["count"] != float64(5) || d["reporting_component"] != "default-scheduler") {
				t.Errorf("pod event %v", d)
			}
		}
		if d := cmp.Diff(tt.reasons, reasons); d != "" {
			t.Errorf("%q (-want +got):\n%s", tt.query, d)
		}
	}
	if resp, body := get(t, srv, "/v2/"+srv.ProjectID+"/services/svc2/deployments/dep-2/instances/all/pods/all/events", ""); resp.StatusCode != 400 {
		t.Errorf("unknown deployment: %d %s", resp.StatusCode, body)
	}
	srv.Fail(1, eventsapitest.Fault{Path: "/pods/", Status: 500})
	if resp, _ := get(t, srv, base, ""); resp.StatusCode != 500 {
		t.Errorf("fault: %d", resp.StatusCode)
	}
	if resp, _ := get(t, srv, base, ""); resp.StatusCode != 200 {
		t.Errorf("after the fault: %d", resp.StatusCode)
	}
}

func v2Infos(evs []eventsapi.Event) []string {
	out := make([]string, len(evs))
	for i, e := range evs {
		out[i] = fmt.Sprintf("%s x%d: %s", e.EventType, e.Count, e.EventInfo)
		if e.EventInfoCN != "" {
			out[i] += " | " + e.EventInfoCN
		}
	}
	return out
}

func TestDeploySuccessV2(t *testing.T) {
	srv := newServer(t, eventsapitest.WithClock(func() time.Time { return t0.Add(-time.Hour) }))
	srv.AddServiceV2("svc2", "fraud-detector", "INIT")
	last := srv.DeploySuccessV2("svc2", "TF 3.0.0", t0, 10*time.Second)
	var want []string
	for _, s := range eventsapitest.SuccessTexts("TF 3.0.0", "fraud-detector") {
		want = append(want, "normal x1: "+s)
	}
	evs := srv.EventsV2("svc2")
	if d := cmp.Diff(want, v2Infos(evs)); d != "" {
		t.Errorf("records (-want +got):\n%s", d)
	}
	for i, e := range evs {
		if at := t0.Add(time.Duration(i) * 10 * time.Second).UnixMilli(); e.OccurTime != at || e.LastOccurTime != at || e.ID == "" {
			t.Errorf("record %d: %+v", i, e)
		}
	}
	if !last.Equal(t0.Add(90 * time.Second)) {
		t.Errorf("last = %v", last)
	}
	s, _ := srv.ServiceV2("svc2")
	if s.RawStatus != "RUNNING" || s.Status != eventsapi.StatusRunning || s.ErrorMsg != "" || s.DeploymentName != "fraud-detector-deployment-1" || s.UpdateTime != last.UnixMilli() {
		t.Errorf("service %+v", s)
	}
	if pods := srv.PodEventsV2("svc2"); len(pods) != 0 {
		t.Errorf("pod events %v", pods)
	}
}

func TestDeployFailureV2(t *testing.T) {
	for _, phase := range eventsapitest.Phases {
		t.Run(phase, func(t *testing.T) {
			srv := newServer(t, eventsapitest.WithStep(time.Second))
			srv.AddServiceV2("svc2", "svc-name", "DEPLOYING")
			last := srv.DeployFailureV2("svc2", "m1", phase, t0)

			// The v1 scenario's texts, repeats merged.
			v1 := newServer(t)
			v1.AddService("svc2", "svc-name", eventsapi.StatusDeploying)
			v1.DeployFailure("svc2", "m1", phase, t0, time.Second)
			var want []string
			counts := map[string]int{}
			for _, e := range v1.Events("svc2") {
				k := e.EventType + ": " + e.EventInfo
				if counts[k]++; counts[k] == 1 {
					want = append(want, k)
				}
			}
			evs := srv.EventsV2("svc2")
			var got []string
			for _, e := range evs {
				got = append(got, e.EventType+": "+e.EventInfo)
				if e.Count != counts[e.EventType+": "+e.EventInfo] {
					t.Errorf("%q: count %d, want %d", e.EventInfo, e.Count, counts[e.EventType+": "+e.EventInfo])
				}
				if e.LastOccurTime > last.UnixMilli() {
					t.Errorf("%q updated after the last time", e.EventInfo)
				}
			}
			if d := cmp.Diff(want, got); d != "" {
				t.Errorf("records (-want +got):\n%s", d)
			}
			v1svc, _ := v1.Service("svc2")
			s, _ := srv.ServiceV2("svc2")
			if s.RawStatus != "FAILED" || s.Status != eventsapi.StatusFailed || s.ErrorMsg != v1svc.ErrorMsg || s.ErrorMsg == "" {
				t.Errorf("service %+v, want FAILED with %q", s, v1svc.ErrorMsg)
			}
			var cn []string
			for _, e := range evs {
				if e.EventInfoCN != "" {
					cn = append(cn, e.EventInfoCN)
				}
			}
			var wantCN []string
			if phase == eventsapitest.PhaseScheduling {
				wantCN = []string{eventsapitest.TextDeployFailedInsufficientCN}
			}
			if d := cmp.Diff(wantCN, cn); d != "" {
				t.Errorf("Chinese texts (-want +got):\n%s", d)
			}
			pods := srv.PodEventsV2("svc2")[s.DeploymentName]
			if d := cmp.Diff(eventsapitest.PodEventsFor(phase, "m1", last, false), pods); d != "" {
				t.Errorf("pod events (-want +got):\n%s", d)
			}
		})
	}
}

func TestDeployStallV2(t *testing.T) {
	wantWarning := map[string]string{
		eventsapitest.PhaseScheduling:   "FailedScheduling: " + eventsapitest.PodTextInsufficientGPU,
		eventsapitest.PhaseImagePull:    `ImagePullBackOff: Back-off pulling image "` + eventsapitest.ModelImage("TF 3.0.0") + `"`,
		eventsapitest.PhaseModelStartup: "Unhealthy: Readiness probe failed: ",
	}
	for _, phase := range eventsapitest.Phases {
		t.Run(phase, func(t *testing.T) {
			srv := newServer(t)
			srv.AddServiceV2("svc2", "stuck", "RUNNING")
			srv.DeploySuccessV2("svc2", "TF 2.0.0", t0.Add(-time.Hour))
			last := srv.DeployStallV2("svc2", "TF 3.0.0", phase, t0, time.Second)
			s, _ := srv.ServiceV2("svc2")
			if s.RawStatus != "DEPLOYING" || s.Status != eventsapi.StatusDeploying || s.DeploymentName != "stuck-deployment-2" {
				t.Errorf("service %+v", s)
			}
			var latest string
			for _, e := range srv.EventsV2("svc2") {
				if e.LastOccurTime == last.UnixMilli() {
					latest = e.EventInfo
				}
			}
			if want := eventsapitest.SuccessTexts("TF 3.0.0", "stuck")[eventsapitest.PhaseBegin[phase]]; latest != want {
				t.Errorf("latest record %q, want %q", latest, want)
			}
			pods := srv.PodEventsV2("svc2")
			if len(pods["stuck-deployment-1"]) != 0 {
				t.Errorf("the previous deployment has pod events %v", pods)
			}
			var warnings []string
			for _, p := range pods["stuck-deployment-2"] {
				if p.Type == "Warning" {
					warnings = append(warnings, p.Reason+": "+p.Message)
				}
				if !p.FirstTimestamp.Equal(last) || p.Count < 1 || p.ReportingComponent == "" {
					t.Errorf("pod event %+v", p)
				}
			}
			w, ok := wantWarning[phase]
			switch {
			case !ok && len(warnings) != 0:
				t.Errorf("pod warnings %v before pods exist", warnings)
			case ok && (len(warnings) != 1 || !strings.HasPrefix(warnings[0], w)):
				t.Errorf("pod warnings %v, want one starting %q", warnings, w)
			}
		})
	}
}

// TestScenarioV2ThroughClient: the client reads a v2 stall as scripted:
// its records, its details and the pod events that say why.
func TestScenarioV2ThroughClient(t *testing.T) {
	srv := newServer(t)
	srv.AddServiceV2("svc2", "gpu-svc", "INIT")
	srv.SetDeployTimeout("svc2", 20)
	last := srv.DeployStallV2("svc2", "llm", eventsapitest.PhaseScheduling, t0)
	c, err := eventsapi.New(eventsapi.Config{Endpoint: srv.URL, ProjectID: srv.ProjectID, Auth: eventsapi.StaticToken(srv.Token), HTTPClient: srv.Client()})
	if err != nil {
		t.Fatal(err)
	}
	svc, err := c.LookupService(t.Context(), "svc2", "")
	if err != nil {
		t.Fatal(err)
	}
	if svc.Generation != "v2" || svc.Status != eventsapi.StatusDeploying || svc.DeployTimeoutMinutes != 20 || svc.DeploymentName == "" {
		t.Errorf("service %+v", svc)
	}
	var infos []string
	for ev, err := range c.EventsV2(t.Context(), "svc2", t0.UnixMilli()) {
		if err != nil {
			t.Fatal(err)
		}
		infos = append(infos, ev.EventInfo)
	}
	want := slices.Clone(eventsapitest.SuccessTexts("llm", "gpu-svc")[:eventsapitest.PhaseBegin[eventsapitest.PhaseScheduling]+1])
	slices.Reverse(want)
	if d := cmp.Diff(want, infos); d != "" {
		t.Errorf("records newest first (-want +got):\n%s", d)
	}
	pods, err := c.PodEvents(t.Context(), "svc2", svc.DeploymentName, t0.UnixMilli(), last.UnixMilli())
	if err != nil {
		t.Fatal(err)
	}
	if len(pods) != 1 || pods[0].Reason != eventsapitest.PodReasonFailedScheduling || pods[0].Message != eventsapitest.PodTextInsufficientGPU {
		t.Errorf("pod events %+v", pods)
	}
}
