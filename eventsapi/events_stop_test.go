package eventsapi_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/modelarts-notifier/modelarts-notifier/eventsapi"
)

const pagingStopped = "events paging stopped: the server returned a page already seen"

// warnings returns the WARN records of a JSON log, decoded, checking that
// no record carries a key twice.
func warnings(t *testing.T, log string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for line := range strings.Lines(log) {
		if !strings.Contains(line, `"level":"WARN"`) {
			continue
		}
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		for k := range rec {
			if n := strings.Count(line, `"`+k+`":`); n != 1 {
				t.Errorf("key %q appears %d times in %s", k, n, line)
			}
		}
		out = append(out, rec)
	}
	return out
}

// checkStopWarning checks that log holds exactly one warning, the paging
// stop, naming the service, offset, total_count and a reason containing
// reason; or, when reason is "", no warning at all.
func checkStopWarning(t *testing.T, log, serviceID string, offset, total int, reason string) {
	t.Helper()
	ws := warnings(t, log)
	if reason == "" {
		if len(ws) != 0 {
			t.Errorf("warnings %v, want none", ws)
		}
		return
	}
	if len(ws) != 1 {
		t.Fatalf("%d warnings %v, want 1", len(ws), ws)
	}
	w := ws[0]
	msg, _ := w["msg"].(string)
	if !strings.HasPrefix(msg, pagingStopped) {
		t.Errorf("msg %q, want it to start with %q", msg, pagingStopped)
	}
	want := map[string]any{
		"component": "eventsapi", "service_id": serviceID,
		"offset": float64(offset), "total_count": float64(total),
	}
	for k, v := range want {
		if w[k] != v {
			t.Errorf("warning %s = %v, want %v (%v)", k, w[k], v, w)
		}
	}
	if r, _ := w["reason"].(string); !strings.Contains(r, reason) {
		t.Errorf("reason %q, want it to contain %q", r, reason)
	}
}

// TestEventsMisbehavingServer: a server that lies about total_count or
// ignores offset gets a bounded number of requests and one warning, and
// every event it did give is yielded once.
func TestEventsMisbehavingServer(t *testing.T) {
	const (
		samePage = "same events as the previous page"
		allSeen  = "already read"
	)
	tests := []struct {
		name         string
		n, limit     int
		maxPage      int // the server's own page cap (0: none)
		lie          int
		ignoreOffset bool
		want         int // events yielded: the first want of the n
		wantRequests int
		wantOffset   int // of the request that ended paging
		wantReason   string
	}{
		{name: "honest server", n: 100, limit: 40, want: 100, wantRequests: 3},
		{name: "measured: 40 events, total_count 5000", n: 40, limit: 40, lie: 5000, want: 40, wantRequests: 2, wantOffset: 40, wantReason: samePage},
		{name: "lying total, last page repeated", n: 100, limit: 40, lie: 5000, want: 100, wantRequests: 4, wantOffset: 100, wantReason: allSeen},
		{name: "lying total, default limit", n: 2500, lie: 5000, want: 2500, wantRequests: 4, wantOffset: 2500, wantReason: allSeen},
		{name: "lying total, server caps pages", n: 100, limit: 40, maxPage: 30, lie: 5000, want: 100, wantRequests: 5, wantOffset: 100, wantReason: allSeen},
		{name: "lying total, no events", n: 0, limit: 40, lie: 5000, want: 0, wantRequests: 1},
		{name: "ignores offset", n: 100, limit: 40, ignoreOffset: true, want: 40, wantRequests: 2, wantOffset: 40, wantReason: samePage},
		{name: "ignores offset, default limit", n: 2500, ignoreOffset: true, want: 1000, wantRequests: 2, wantOffset: 1000, wantReason: samePage},
		{name: "ignores offset and lies", n: 100, limit: 40, lie: 5000, ignoreOffset: true, want: 40, wantRequests: 2, wantOffset: 40, wantReason: samePage},
		{name: "ignores offset, one page holds all", n: 30, limit: 40, ignoreOffset: true, want: 30, wantRequests: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newFake(t)
			srv.AddService("svc", "liar", eventsapi.StatusDeploying)
			evs := manyEvents(srv, "svc", tt.n, 1_700_000_000_000)
			srv.SetMaxPageSize(tt.maxPage)
			srv.SetLyingTotal(tt.lie)
			srv.SetIgnoreOffset(tt.ignoreOffset)
			var log logBuffer
			c := newClient(t, srv, withLog(&log))

			got := collect(t, c, "svc", eventsapi.EventsQuery{Limit: tt.limit})
			if d := cmp.Diff(evs[:tt.want], got, cmpopts.EquateEmpty()); d != "" {
				t.Errorf("events (-want +got):\n%s", d)
			}
			reqs := srv.Requests()
			if len(reqs) != tt.wantRequests {
				t.Errorf("%d requests, want %d", len(reqs), tt.wantRequests)
			}
			page := cmpOr(tt.maxPage, cmpOr(tt.limit, eventsapi.DefaultLimit))
			if bound := (tt.n+page-1)/page + 2; len(reqs) > bound {
				t.Errorf("%d requests for %d events in pages of %d: more than %d", len(reqs), tt.n, page, bound)
			}
			if tt.wantReason != "" {
				if last := reqs[len(reqs)-1].Query.Get("offset"); last != offsetParam(tt.wantOffset) {
					t.Errorf("last request at offset %q, want %d", last, tt.wantOffset)
				}
			}
			total := tt.n
			if tt.lie > 0 {
				total = tt.lie
			}
			checkStopWarning(t, log.String(), "svc", tt.wantOffset, total, tt.wantReason)
		})
	}
}

func cmpOr(a, b int) int {
	if a != 0 {
		return a
	}
	return b
}

// offsetParam is the offset query parameter the client sends for n.
func offsetParam(n int) string {
	if n == 0 {
		return ""
	}
	return strconv.Itoa(n)
}

// TestEventsPartialOverlap: a page that repeats some events but brings new
// ones is yielded whole and paging goes on; a page made only of events
// already read ends it, even when it is not the previous page.
func TestEventsPartialOverlap(t *testing.T) {
	ev := func(info string, at int) string {
		b, _ := json.Marshal(eventsapi.Event{EventType: "normal", EventInfo: info, OccurTime: int64(at)})
		return string(b)
	}
	list := func(evs ...string) string { return "[" + strings.Join(evs, ",") + "]" }
	a, b, c, d, e, f := ev("a", 1), ev("b", 2), ev("c", 3), ev("d", 4), ev("e", 5), ev("f", 6)
	tests := []struct {
		name         string
		total        int
		pages        map[string]string
		want         string // the events yielded, as a JSON array
		wantRequests int32
		wantOffset   int
		wantReason   string
	}{
		{
			name: "overlap continues", total: 7,
			pages:        map[string]string{"": list(a, b, c), "3": list(c, d, e), "6": list(f)},
			want:         list(a, b, c, c, d, e, f),
			wantRequests: 3,
		},
		{
			name: "one new event is enough", total: 50,
			pages:        map[string]string{"": list(a, b), "2": list(b, a, c), "5": list(d)},
			want:         list(a, b, b, a, c, d),
			wantRequests: 4, // the fourth page, at 6, is empty
		},
		{
			name: "all seen, not the previous page", total: 50,
			pages:        map[string]string{"": list(a, b), "2": list(c, d), "4": list(b, c)},
			want:         list(a, b, c, d),
			wantRequests: 3, wantOffset: 4, wantReason: "already read",
		},
		{
			name: "same page again", total: 50,
			pages:        map[string]string{"": list(a, b), "2": list(a, b)},
			want:         list(a, b),
			wantRequests: 2, wantOffset: 2, wantReason: "same events as the previous page",
		},
		{
			name: "repeats within one page are yielded", total: 3,
			pages:        map[string]string{"": list(a, a, a)},
			want:         list(a, a, a),
			wantRequests: 1,
		},
		{
			name: "same text at another time is new", total: 50,
			pages:        map[string]string{"": list(a), "1": list(ev("a", 2)), "2": list(ev("a", 2))},
			want:         list(a, ev("a", 2)),
			wantRequests: 3, wantOffset: 2, wantReason: "same events as the previous page",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var requests atomic.Int32
			ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				requests.Add(1)
				events, ok := tt.pages[r.URL.Query().Get("offset")]
				if !ok {
					events = "[]"
				}
				n := strings.Count(events, "{")
				_, _ = io.WriteString(w, `{"service_id":"svc","total_count":`+strconv.Itoa(tt.total)+`,"count":`+strconv.Itoa(n)+`,"events":`+events+`}`)
			}))
			defer ts.Close()
			var log logBuffer
			cfg := eventsapi.Config{Endpoint: ts.URL, ProjectID: "p1", Auth: eventsapi.StaticToken("tok-12345678"), HTTPClient: ts.Client()}
			withLog(&log)(&cfg)
			c, err := eventsapi.New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			var want []eventsapi.Event
			if err := json.Unmarshal([]byte(tt.want), &want); err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(want, collect(t, c, "svc", eventsapi.EventsQuery{})); d != "" {
				t.Errorf("events (-want +got):\n%s", d)
			}
			if n := requests.Load(); n != tt.wantRequests {
				t.Errorf("%d requests, want %d", n, tt.wantRequests)
			}
			checkStopWarning(t, log.String(), "svc", tt.wantOffset, tt.total, tt.wantReason)
		})
	}
}

// TestEventsRawEvents: events the fake sends as raw bytes (a 1 MB
// event_info, invalid UTF-8, an occur_time given as a string, dates far in
// the future) are decoded, ordered by occur_time and yielded intact.
func TestEventsRawEvents(t *testing.T) {
	const (
		now    = 1_700_000_000_000
		future = 4_102_444_800_000 // 2100-01-01
	)
	srv := newFake(t)
	srv.AddService("svc", "raw", eventsapi.StatusDeploying)
	srv.AppendEvents("svc",
		eventsapi.Event{EventType: "normal", EventInfo: "first", OccurTime: now},
		eventsapi.Event{EventType: "normal", EventInfo: "last", OccurTime: future + 1000},
	)

	huge := eventsapi.Event{EventType: "abnormal", EventInfo: strings.Repeat("Insufficient resources. ", 1<<20/24+1), OccurTime: now + 2000}
	hugeRaw, err := json.Marshal(huge)
	if err != nil {
		t.Fatal(err)
	}
	if len(huge.EventInfo) < 1<<20 {
		t.Fatalf("event_info is %d bytes, want at least 1 MiB", len(huge.EventInfo))
	}
	badUTF8 := json.RawMessage("{\"event_type\":\"abnormal\",\"event_info\":\"bad \xff\xfe bytes \xe2\x82\",\"occur_time\":" + strconv.Itoa(now+1000) + "}")
	var badWant eventsapi.Event // as Go decodes it
	if err := json.Unmarshal(badUTF8, &badWant); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(badWant.EventInfo, "\uFFFD") {
		t.Fatalf("Go decodes %q as %q: no replacement character", badUTF8, badWant.EventInfo)
	}
	futureString := json.RawMessage(`{"event_type":"normal","event_info":"from the future","occur_time":"` + strconv.Itoa(future) + `","extra":{"x":[1,2]}}`)

	// Added out of order: the fake orders them by occur_time.
	srv.AddRawEvent("svc", futureString)
	srv.AddRawEvent("svc", hugeRaw)
	srv.AddRawEvent("svc", badUTF8)

	want := []eventsapi.Event{
		{EventType: "normal", EventInfo: "first", OccurTime: now},
		badWant,
		huge,
		{EventType: "normal", EventInfo: "from the future", OccurTime: future},
		{EventType: "normal", EventInfo: "last", OccurTime: future + 1000},
	}
	for _, limit := range []int{0, 1, 2} { // one page, and pages that split them
		c := newClient(t, srv)
		got := collect(t, c, "svc", eventsapi.EventsQuery{Limit: limit})
		if len(got) != len(want) {
			t.Fatalf("limit %d: %d events, want %d", limit, len(got), len(want))
		}
		for i := range want {
			if got[i] != want[i] {
				t.Errorf("limit %d: event %d = %.80q at %d, want %.80q at %d",
					limit, i, got[i].EventInfo, got[i].OccurTime, want[i].EventInfo, want[i].OccurTime)
			}
		}
	}

	// A start_time after now still reads the future events.
	got := collect(t, newClient(t, srv), "svc", eventsapi.EventsQuery{StartTime: now + 3000})
	if d := cmp.Diff(want[3:], got); d != "" {
		t.Errorf("events from now+3s (-want +got):\n%s", d)
	}
}
