package eventsapi_test

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/modelarts-notifier/modelarts-notifier/eventsapi"
	"github.com/modelarts-notifier/modelarts-notifier/eventsapi/eventsapitest"
)

// seedFake is a fake holding the seed's service and its nine events.
func seedFake(t *testing.T) *eventsapitest.Server {
	srv := newFake(t)
	srv.AddService(eventsapitest.SeedServiceID, eventsapitest.SeedServiceName, eventsapi.StatusRunning)
	srv.AppendEvents(eventsapitest.SeedServiceID, eventsapitest.SeedEvents()...)
	return srv
}

// TestSeedResponse: the fake answers the seed's example request with a
// body JSON-equal to the seed's example response, and the client decodes
// it to the same events.
func TestSeedResponse(t *testing.T) {
	srv := seedFake(t)
	want, err := os.ReadFile("testdata/seed_events_response.json")
	if err != nil {
		t.Fatal(err)
	}

	// The page's example is in ascending order, although desc is the
	// documented default: ask for asc.
	req, _ := http.NewRequestWithContext(ctxT(t), http.MethodGet,
		srv.URL+"/v1/"+srv.ProjectID+"/services/"+eventsapitest.SeedServiceID+"/events?order=asc", nil)
	req.Header.Set("X-Auth-Token", srv.Token)
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	got, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d: %s", resp.StatusCode, got)
	}
	var gotV, wantV any
	if err := json.Unmarshal(got, &gotV); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(want, &wantV); err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(wantV, gotV); d != "" {
		t.Errorf("response differs from the seed (-want +got):\n%s", d)
	}

	c := newClient(t, srv)
	page, err := c.ListEvents(ctxT(t), eventsapitest.SeedServiceID, eventsapi.EventsQuery{Order: eventsapi.OrderAsc})
	if err != nil {
		t.Fatal(err)
	}
	var wantPage eventsapi.EventsPage
	if err := json.Unmarshal(want, &wantPage); err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(&wantPage, page); d != "" {
		t.Errorf("decoded page (-want +got):\n%s", d)
	}
}

func TestListEventsParameters(t *testing.T) {
	srv := seedFake(t)
	c := newClient(t, srv)
	seed := eventsapitest.SeedEvents()
	srv.AppendEvents(eventsapitest.SeedServiceID, eventsapi.Event{
		EventType: eventsapi.EventTypeAbnormal, EventInfo: eventsapitest.TextInsufficientResources, OccurTime: 1562597400000,
	})
	abnormal := eventsapi.Event{EventType: eventsapi.EventTypeAbnormal, EventInfo: eventsapitest.TextInsufficientResources, OccurTime: 1562597400000}
	all := append(append([]eventsapi.Event(nil), seed...), abnormal)
	reversed := func(evs []eventsapi.Event) []eventsapi.Event {
		out := make([]eventsapi.Event, len(evs))
		for i, e := range evs {
			out[len(evs)-1-i] = e
		}
		return out
	}

	tests := []struct {
		name      string
		q         eventsapi.EventsQuery
		wantQuery string // exactly as sent
		want      []eventsapi.Event
		wantTotal int
	}{
		{name: "defaults send nothing", q: eventsapi.EventsQuery{}, wantQuery: "", want: reversed(all), wantTotal: 10},
		{name: "event_type abnormal", q: eventsapi.EventsQuery{EventType: "abnormal"}, wantQuery: "event_type=abnormal", want: []eventsapi.Event{abnormal}, wantTotal: 1},
		{name: "event_type normal", q: eventsapi.EventsQuery{EventType: "normal", Order: "asc"}, wantQuery: "event_type=normal&order=asc", want: seed, wantTotal: 9},
		{name: "start_time inclusive", q: eventsapi.EventsQuery{StartTime: 1562597332570, Order: "asc"}, wantQuery: "order=asc&start_time=1562597332570", want: all[7:], wantTotal: 3},
		{name: "end_time inclusive", q: eventsapi.EventsQuery{EndTime: 1562597251788, Order: "asc"}, wantQuery: "end_time=1562597251788&order=asc", want: seed[:2], wantTotal: 2},
		{name: "start and end", q: eventsapi.EventsQuery{StartTime: 1562597255744, EndTime: 1562597275921, Order: "asc"}, wantQuery: "end_time=1562597275921&order=asc&start_time=1562597255744", want: seed[3:6], wantTotal: 3},
		{name: "offset is a record index", q: eventsapi.EventsQuery{Offset: 8, Order: "asc"}, wantQuery: "offset=8&order=asc", want: all[8:], wantTotal: 10},
		{name: "limit", q: eventsapi.EventsQuery{Limit: 2}, wantQuery: "limit=2", want: reversed(all)[:2], wantTotal: 10},
		{name: "offset and limit", q: eventsapi.EventsQuery{Offset: 2, Limit: 3, Order: "asc"}, wantQuery: "limit=3&offset=2&order=asc", want: seed[2:5], wantTotal: 10},
		{name: "offset past the end", q: eventsapi.EventsQuery{Offset: 50}, wantQuery: "offset=50", want: []eventsapi.Event{}, wantTotal: 10},
		{name: "sort_by", q: eventsapi.EventsQuery{SortBy: "occur_time", Order: "desc", Limit: 1}, wantQuery: "limit=1&order=desc&sort_by=occur_time", want: []eventsapi.Event{abnormal}, wantTotal: 10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv.ResetRequests()
			page, err := c.ListEvents(ctxT(t), eventsapitest.SeedServiceID, tt.q)
			if err != nil {
				t.Fatal(err)
			}
			reqs := srv.Requests()
			if len(reqs) != 1 {
				t.Fatalf("sent %d requests, want 1", len(reqs))
			}
			if got := reqs[0].Query.Encode(); got != tt.wantQuery {
				t.Errorf("query = %q, want %q", got, tt.wantQuery)
			}
			if got, want := reqs[0].Path, "/v1/"+srv.ProjectID+"/services/"+eventsapitest.SeedServiceID+"/events"; got != want {
				t.Errorf("path = %q, want %q", got, want)
			}
			if d := cmp.Diff(tt.want, page.Events); d != "" {
				t.Errorf("events (-want +got):\n%s", d)
			}
			if page.TotalCount != tt.wantTotal || page.Count != len(tt.want) {
				t.Errorf("total_count, count = %d, %d; want %d, %d", page.TotalCount, page.Count, tt.wantTotal, len(tt.want))
			}
			if page.ServiceName != eventsapitest.SeedServiceName || page.ServiceID != eventsapitest.SeedServiceID {
				t.Errorf("service = %q %q", page.ServiceName, page.ServiceID)
			}
		})
	}
}

func TestListEventsRejectsBadQuery(t *testing.T) {
	srv := seedFake(t)
	c := newClient(t, srv)
	for _, q := range []eventsapi.EventsQuery{
		{EventType: "warning"}, {Order: "up"}, {Offset: -1}, {Limit: -5}, {StartTime: -1},
		{Limit: eventsapi.DefaultLimit + 1}, {Limit: 5000},
	} {
		if _, err := c.ListEvents(ctxT(t), eventsapitest.SeedServiceID, q); err == nil {
			t.Errorf("ListEvents(%+v): no error", q)
		}
	}
	if n := len(srv.Requests()); n != 0 {
		t.Errorf("sent %d requests for invalid queries", n)
	}
}

// manyEvents appends n events, one a second from t0, to a service.
func manyEvents(srv *eventsapitest.Server, id string, n int, t0 int64) []eventsapi.Event {
	evs := make([]eventsapi.Event, n)
	for i := range evs {
		evs[i] = eventsapi.Event{EventType: eventsapi.EventTypeNormal, EventInfo: "event " + strings.Repeat("x", i%7), OccurTime: t0 + int64(i)*1000}
	}
	srv.AppendEvents(id, evs...)
	return evs
}

func collect(t *testing.T, c *eventsapi.Client, id string, q eventsapi.EventsQuery) []eventsapi.Event {
	t.Helper()
	var got []eventsapi.Event
	for ev, err := range c.Events(ctxT(t), id, q) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, ev)
	}
	return got
}

func TestEventsPaging(t *testing.T) {
	tests := []struct {
		name         string
		n            int
		q            eventsapi.EventsQuery
		wantRequests int
		wantOffsets  []string
	}{
		{name: "2500 events take 3 requests", n: 2500, wantRequests: 3, wantOffsets: []string{"", "1000", "2000"}},
		{name: "exactly 2000 stop at total_count", n: 2000, wantRequests: 2, wantOffsets: []string{"", "1000"}},
		{name: "empty", n: 0, wantRequests: 1, wantOffsets: []string{""}},
		{name: "small limit", n: 25, q: eventsapi.EventsQuery{Limit: 10}, wantRequests: 3, wantOffsets: []string{"", "10", "20"}},
		{name: "start offset", n: 25, q: eventsapi.EventsQuery{Limit: 10, Offset: 5}, wantRequests: 2, wantOffsets: []string{"5", "15"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newFake(t)
			srv.AddService("svc", "paging", eventsapi.StatusRunning)
			// Appended newest first: the fake must sort.
			evs := manyEvents(srv, "svc", tt.n, 1_700_000_000_000)
			c := newClient(t, srv)
			got := collect(t, c, "svc", tt.q)
			if d := cmp.Diff(evs[tt.q.Offset:], got); d != "" && !(len(got) == 0 && tt.n == 0) {
				t.Errorf("events (-want +got):\n%s", d)
			}
			reqs := srv.Requests()
			if len(reqs) != tt.wantRequests || srv.EventsRequests("svc") != tt.wantRequests {
				t.Fatalf("sent %d requests (counter %d), want %d", len(reqs), srv.EventsRequests("svc"), tt.wantRequests)
			}
			for i, r := range reqs {
				if r.Query.Get("order") != "asc" || r.Query.Get("sort_by") != "occur_time" {
					t.Errorf("request %d: query %q, want order=asc sort_by=occur_time", i, r.Query.Encode())
				}
				if got := r.Query.Get("offset"); got != tt.wantOffsets[i] {
					t.Errorf("request %d: offset %q, want %q", i, got, tt.wantOffsets[i])
				}
			}
		})
	}
}

// TestEventsExpect: Expect is told the first page's total_count once,
// before the first event, and not at all when the server reports none.
func TestEventsExpect(t *testing.T) {
	for _, tt := range []struct {
		name       string
		n          int
		wantExpect []int
	}{
		{name: "three pages", n: 2500, wantExpect: []int{2500}},
		{name: "one page", n: 7, wantExpect: []int{7}},
		{name: "none", n: 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			srv := newFake(t)
			srv.AddService("svc", "expect", eventsapi.StatusRunning)
			manyEvents(srv, "svc", tt.n, 1_700_000_000_000)
			c := newClient(t, srv)
			var told []int
			yielded := 0
			q := eventsapi.EventsQuery{Expect: func(total int) {
				if yielded != 0 {
					t.Errorf("Expect(%d) after %d events", total, yielded)
				}
				told = append(told, total)
			}}
			for _, err := range c.Events(t.Context(), "svc", q) {
				if err != nil {
					t.Fatal(err)
				}
				yielded++
			}
			if !slices.Equal(told, tt.wantExpect) || yielded != tt.n {
				t.Errorf("Expect told %v, %d events yielded; want %v and %d", told, yielded, tt.wantExpect, tt.n)
			}
		})
	}
}

// TestEventsLimitOverMax: a limit over 1000 is refused with an error that
// names it, by one page and by the iterator, and no request is sent (a
// server that caps pages at 1000 would answer with fewer events than asked).
func TestEventsLimitOverMax(t *testing.T) {
	srv := newFake(t)
	manyEvents(srv, "svc", 10, 1)
	c := newClient(t, srv)
	_, err := c.ListEvents(ctxT(t), "svc", eventsapi.EventsQuery{Limit: 5000})
	if err == nil || !strings.Contains(err.Error(), "limit 5000") || !strings.Contains(err.Error(), "1000") {
		t.Errorf("ListEvents with limit 5000: err = %v, want one naming the limit and the maximum", err)
	}
	var errs []error
	for ev, err := range c.Events(ctxT(t), "svc", eventsapi.EventsQuery{Limit: 5000}) {
		if err == nil {
			t.Fatalf("Events with limit 5000 yielded %+v", ev)
		}
		errs = append(errs, err)
	}
	if len(errs) != 1 || !strings.Contains(errs[0].Error(), "limit 5000") {
		t.Errorf("Events with limit 5000: errors %v, want one naming the limit", errs)
	}
	if n := len(srv.Requests()); n != 0 {
		t.Errorf("sent %d requests with an over-large limit", n)
	}
}

// TestEventsServerCapsPages: a server that answers with fewer events than
// the limit asked for (its own page cap) is paged to total_count; nothing
// is skipped.
func TestEventsServerCapsPages(t *testing.T) {
	tests := []struct {
		name    string
		n, cap  int
		q       eventsapi.EventsQuery
		offsets []string
	}{
		{name: "default limit, pages of 300", n: 1000, cap: 300, offsets: []string{"", "300", "600", "900"}},
		{name: "limit 10, pages of 4", n: 10, cap: 4, q: eventsapi.EventsQuery{Limit: 10}, offsets: []string{"", "4", "8"}},
		{name: "start offset, pages of 4", n: 10, cap: 4, q: eventsapi.EventsQuery{Limit: 10, Offset: 3}, offsets: []string{"3", "7"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newFake(t)
			srv.SetMaxPageSize(tt.cap)
			evs := manyEvents(srv, "svc", tt.n, 1_700_000_000_000)
			got := collect(t, newClient(t, srv), "svc", tt.q)
			if d := cmp.Diff(evs[tt.q.Offset:], got); d != "" {
				t.Errorf("events (-want +got):\n%s", d)
			}
			var offsets []string
			for _, r := range srv.Requests() {
				offsets = append(offsets, r.Query.Get("offset"))
			}
			if d := cmp.Diff(tt.offsets, offsets); d != "" {
				t.Errorf("offsets (-want +got):\n%s", d)
			}
		})
	}
}

// TestEventsEmptyPageEndsPaging: a total_count that the pages never reach
// does not make the iterator loop; an empty page ends it.
func TestEventsEmptyPageEndsPaging(t *testing.T) {
	var requests atomic.Int32
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		events := `[{"event_type":"normal","event_info":"a","occur_time":1},{"event_type":"normal","event_info":"b","occur_time":2}]`
		if r.URL.Query().Get("offset") != "" {
			events = `[]`
		}
		_, _ = io.WriteString(w, `{"service_id":"svc","total_count":50,"count":2,"events":`+events+`}`)
	}))
	defer ts.Close()
	c, err := eventsapi.New(eventsapi.Config{Endpoint: ts.URL, ProjectID: "p1", Auth: eventsapi.StaticToken("tok-12345678"), HTTPClient: ts.Client()})
	if err != nil {
		t.Fatal(err)
	}
	if got := collect(t, c, "svc", eventsapi.EventsQuery{}); len(got) != 2 {
		t.Errorf("%d events, want 2", len(got))
	}
	if n := requests.Load(); n != 2 {
		t.Errorf("%d requests, want 2 (the second page is empty)", n)
	}
}

// TestEventsAppendedWhilePaging: events that arrive between two pages are
// read at the end, none twice and none skipped.
func TestEventsAppendedWhilePaging(t *testing.T) {
	srv := newFake(t)
	srv.AddService("svc", "growing", eventsapi.StatusDeploying)
	evs := manyEvents(srv, "svc", 2500, 1_700_000_000_000)
	later := manyEvents(srv, "unused", 10, 1_800_000_000_000)
	c := newClient(t, srv)

	var got []eventsapi.Event
	for ev, err := range c.Events(ctxT(t), "svc", eventsapi.EventsQuery{}) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, ev)
		if len(got) == 1 { // between the first and second page
			srv.AppendEvents("svc", later...)
		}
	}
	want := append(append([]eventsapi.Event(nil), evs...), later...)
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("events (-want +got):\n%s", d)
	}
	if n := srv.EventsRequests("svc"); n != 3 {
		t.Errorf("%d requests, want 3", n)
	}
}

func TestEventsStopsEarly(t *testing.T) {
	srv := newFake(t)
	manyEvents(srv, "svc", 2500, 1)
	c := newClient(t, srv)
	n := 0
	for _, err := range c.Events(ctxT(t), "svc", eventsapi.EventsQuery{}) {
		if err != nil {
			t.Fatal(err)
		}
		if n++; n == 1500 {
			break
		}
	}
	if got := srv.EventsRequests("svc"); got != 2 {
		t.Errorf("%d requests after breaking at 1500, want 2", got)
	}
}

func TestEventsYieldsError(t *testing.T) {
	srv := newFake(t)
	c := newClient(t, srv)
	var errs []error
	for _, err := range c.Events(ctxT(t), "missing", eventsapi.EventsQuery{}) {
		errs = append(errs, err)
	}
	if len(errs) != 1 || !eventsapi.IsNotFound(errs[0]) {
		t.Fatalf("errors = %v, want one not-found", errs)
	}
}

func TestInvalidIDs(t *testing.T) {
	srv := seedFake(t)
	c := newClient(t, srv)
	bad := []string{"", "a/b", "..", "a..b", "has space", "tab\there", "nl\n", "nul\x00", "del\x7f", "q?x", "frag#x", "pct%2F", `back\slash`, "\xff"}
	for _, id := range bad {
		t.Run(url.PathEscape(id), func(t *testing.T) {
			calls := map[string]error{}
			_, calls["ListEvents"] = c.ListEvents(ctxT(t), id, eventsapi.EventsQuery{})
			_, calls["GetService"] = c.GetService(ctxT(t), id)
			for _, err := range c.Events(ctxT(t), id, eventsapi.EventsQuery{}) {
				calls["Events"] = err
			}
			for name, err := range calls {
				if !errors.Is(err, eventsapi.ErrInvalidID) {
					t.Errorf("%s: err = %v, want ErrInvalidID", name, err)
					continue
				}
				if !strings.Contains(err.Error(), strconv.Quote(id)) {
					t.Errorf("%s: error %q does not name the id", name, err)
				}
			}
		})
	}
	if n := len(srv.Requests()); n != 0 {
		t.Errorf("%d requests sent for invalid ids", n)
	}
	for _, id := range bad {
		_, err := eventsapi.New(eventsapi.Config{Endpoint: srv.URL, ProjectID: id, Auth: eventsapi.StaticToken("x")})
		if !errors.Is(err, eventsapi.ErrInvalidID) {
			t.Errorf("New with project id %q: err = %v, want ErrInvalidID", id, err)
		}
	}
}
