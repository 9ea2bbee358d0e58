package eventsapi_test

import (
	"encoding/json"
	"errors"
	"fmt"
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
	"github.com/modelarts-notifier/modelarts-notifier/eventsapi/eventsapitest"
)

// walkMsg is the warning Events logs on a page that repeats events
// already read, before it reads on by start_time.
const walkMsg = "events paging: the server returned a page already seen " +
	"(it may ignore offset or report a wrong total_count); reading on by start_time"

// The reasons of walkMsg (substrings).
const (
	samePage = "same events as the previous page"
	allSeen  = "already read"
)

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

// walkWarning is one warning Events logs when a page repeats events
// already read: the offset of the repeated page, the total_count that page
// claimed, and (a substring of) the reason.
type walkWarning struct {
	offset, total int
	reason        string
}

// checkWalkWarnings checks that log holds exactly the warnings want, in
// order, each with walkMsg as its message and naming the service, the
// offset, the total_count and the reason.
func checkWalkWarnings(t *testing.T, log, serviceID string, want []walkWarning) {
	t.Helper()
	ws := warnings(t, log)
	if len(ws) != len(want) {
		t.Fatalf("%d warnings %v, want %d %v", len(ws), ws, len(want), want)
	}
	for i, w := range ws {
		if w["msg"] != walkMsg {
			t.Errorf("warning %d: msg %q, want %q", i, w["msg"], walkMsg)
		}
		fields := map[string]any{
			"component": "eventsapi", "service_id": serviceID,
			"offset": float64(want[i].offset), "total_count": float64(want[i].total),
		}
		for k, v := range fields {
			if w[k] != v {
				t.Errorf("warning %d: %s = %v, want %v (%v)", i, k, w[k], v, w)
			}
		}
		if r, _ := w["reason"].(string); !strings.Contains(r, want[i].reason) {
			t.Errorf("warning %d: reason %q, want it to contain %q", i, r, want[i].reason)
		}
	}
}

// collectEnd collects an iteration's events and the error that ended it
// (nil: a clean end). It fails the test if anything follows an error.
func collectEnd(t *testing.T, c *eventsapi.Client, id string, q eventsapi.EventsQuery) ([]eventsapi.Event, error) {
	t.Helper()
	var got []eventsapi.Event
	var end error
	for ev, err := range c.Events(ctxT(t), id, q) {
		if end != nil {
			t.Fatalf("yielded (%+v, %v) after the error %v", ev, err, end)
		}
		if err != nil {
			if ev != (eventsapi.Event{}) {
				t.Errorf("error %v yielded with the event %+v, want Event{}", err, ev)
			}
			end = err
			continue
		}
		got = append(got, ev)
	}
	return got, end
}

// checkOnce fails unless got holds every event of want exactly once, in
// want's order.
func checkOnce(t *testing.T, want, got []eventsapi.Event) {
	t.Helper()
	count := map[eventsapi.Event]int{}
	for _, ev := range got {
		count[ev]++
	}
	for _, ev := range want {
		if n := count[ev]; n != 1 {
			t.Errorf("event %q at %d yielded %d times, want once", ev.EventInfo, ev.OccurTime, n)
		}
	}
	if len(got) != len(want) {
		t.Errorf("%d events yielded, want %d", len(got), len(want))
	}
	if d := cmp.Diff(want, got, cmpopts.EquateEmpty()); d != "" {
		t.Errorf("events (-want +got):\n%s", d)
	}
}

// checkStartTimes checks that no request goes back in time: start_time,
// once sent, is sent on every later request and never decreases (a walk
// that went back could loop).
func checkStartTimes(t *testing.T, reqs []eventsapitest.Request) {
	t.Helper()
	var last int64
	for i, r := range reqs {
		s := r.Query.Get("start_time")
		if s == "" {
			if last != 0 {
				t.Errorf("request %d (%q): no start_time after start_time %d", i, r.Query.Encode(), last)
			}
			continue
		}
		at, err := strconv.ParseInt(s, 10, 64)
		if err != nil || at < last {
			t.Errorf("request %d (%q): start_time %q after %d", i, r.Query.Encode(), s, last)
		}
		last = at
	}
}

// TestEventsMisbehavingServer: a server that lies about total_count or
// ignores offset is read whole, every event once and in order, with a
// bounded number of requests: on a page that repeats events already read,
// one warning is logged and the client reads on by start_time from the
// newest event yielded (offset 0); nothing new there ends the read.
func TestEventsMisbehavingServer(t *testing.T) {
	tests := []struct {
		name         string
		n, limit     int
		maxPage      int // the server's own page cap (0: none)
		lie          int
		ignoreOffset bool
		wantRequests int
		// The last request: start_time the occur_time of event lastStart
		// (-1: no start_time), and its offset parameter.
		lastStart  int
		lastOffset string
		wantWarn   []walkWarning
	}{
		{name: "honest server", n: 100, limit: 40, wantRequests: 3, lastStart: -1, lastOffset: "80"},
		{
			name: "measured: 40 events, total_count 5000", n: 40, limit: 40, lie: 5000,
			wantRequests: 3, lastStart: 39,
			wantWarn: []walkWarning{{40, 5000, samePage}},
		},
		{
			name: "lying total, last page repeated", n: 100, limit: 40, lie: 5000,
			wantRequests: 5, lastStart: 99,
			wantWarn: []walkWarning{{100, 5000, allSeen}},
		},
		{
			name: "lying total, default limit", n: 2500, lie: 5000,
			wantRequests: 5, lastStart: 2499,
			wantWarn: []walkWarning{{2500, 5000, allSeen}},
		},
		{
			name: "lying total, server caps pages", n: 100, limit: 40, maxPage: 30, lie: 5000,
			wantRequests: 6, lastStart: 99,
			wantWarn: []walkWarning{{100, 5000, allSeen}},
		},
		{name: "lying total, no events", n: 0, limit: 40, lie: 5000, wantRequests: 1, lastStart: -1},
		{
			// Each walk from the newest event reads a page that brings new
			// events, so paging goes on; the next repeat walks again. The
			// total_count of a walked page counts from its start_time.
			name: "ignores offset", n: 100, limit: 40, ignoreOffset: true,
			wantRequests: 5, lastStart: 78,
			wantWarn: []walkWarning{{40, 100, samePage}, {40, 61, samePage}},
		},
		{
			name: "ignores offset, default limit", n: 2500, ignoreOffset: true,
			wantRequests: 5, lastStart: 1998,
			wantWarn: []walkWarning{{1000, 2500, samePage}, {1000, 1501, samePage}},
		},
		{
			name: "ignores offset and lies", n: 100, limit: 40, lie: 5000, ignoreOffset: true,
			wantRequests: 7, lastStart: 99,
			wantWarn: []walkWarning{{40, 5000, samePage}, {40, 5000, samePage}, {22, 5000, samePage}},
		},
		{name: "ignores offset, one page holds all", n: 30, limit: 40, ignoreOffset: true, wantRequests: 1, lastStart: -1},
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

			got, err := collectEnd(t, c, "svc", eventsapi.EventsQuery{Limit: tt.limit})
			if err != nil {
				t.Errorf("ended with %v, want a clean end", err)
			}
			checkOnce(t, evs, got)
			reqs := srv.Requests()
			if len(reqs) != tt.wantRequests {
				t.Errorf("%d requests, want %d", len(reqs), tt.wantRequests)
			}
			page := cmpOr(tt.maxPage, cmpOr(tt.limit, eventsapi.DefaultLimit))
			if bound := 2*max((tt.n+page-1)/page, 1) + 2; len(reqs) > bound {
				t.Errorf("%d requests for %d events in pages of %d: more than %d", len(reqs), tt.n, page, bound)
			}
			checkStartTimes(t, reqs)
			last := reqs[len(reqs)-1].Query
			wantStart := ""
			if tt.lastStart >= 0 {
				wantStart = strconv.FormatInt(evs[tt.lastStart].OccurTime, 10)
			}
			if last.Get("start_time") != wantStart || last.Get("offset") != tt.lastOffset {
				t.Errorf("last request %q: want start_time %q and offset %q", last.Encode(), wantStart, tt.lastOffset)
			}
			checkWalkWarnings(t, log.String(), "svc", tt.wantWarn)
		})
	}
}

func cmpOr(a, b int) int {
	if a != 0 {
		return a
	}
	return b
}

// tiedEvents appends n events to a service, group events at each
// millisecond from t0 (one ms apart), and returns them in the order the
// fake answers them (by occur_time; ties in the order appended).
func tiedEvents(srv *eventsapitest.Server, id string, n, group int, t0 int64) []eventsapi.Event {
	evs := make([]eventsapi.Event, n)
	for i := range evs {
		evs[i] = eventsapi.Event{EventType: eventsapi.EventTypeNormal, EventInfo: fmt.Sprintf("event %05d", i), OccurTime: t0 + int64(i/group)}
	}
	srv.AppendEvents(id, evs...)
	return evs
}

// TestEventsIgnoresOffsetReadWhole: a server that ignores offset is read
// whole in one iteration, each event once, in order, also when events
// share a millisecond across the pages and the walks (the walk from the
// newest occur_time gets the events of that millisecond again: those
// already yielded are skipped, the others yielded).
func TestEventsIgnoresOffsetReadWhole(t *testing.T) {
	tests := []struct {
		name         string
		n, group     int
		limit        int
		lie          int
		ignoreOffset bool
		wantRequests int
		maxRequests  int
	}{
		{name: "2500 events", n: 2500, group: 1, ignoreOffset: true, wantRequests: 5, maxRequests: 8},
		// 1000 and 2000 are not multiples of 3: pages end inside a
		// millisecond.
		{name: "2500 events, three at each millisecond", n: 2500, group: 3, ignoreOffset: true, wantRequests: 5, maxRequests: 8},
		{name: "2500 events, three at each millisecond, lying total", n: 2500, group: 3, lie: 5000, ignoreOffset: true, wantRequests: 7, maxRequests: 8},
		{name: "2500 events, three at each millisecond, honest server", n: 2500, group: 3, wantRequests: 3, maxRequests: 3},
		// Four at each millisecond, pages of 10: every page ends inside a
		// millisecond or on its edge; each walk brings 8 new events.
		{name: "ties at every page edge", n: 50, group: 4, limit: 10, ignoreOffset: true, wantRequests: 11, maxRequests: 12},
		// Half a page at each millisecond, the worst case for ties: each
		// walk brings only half a page, so about 4 requests per page.
		{name: "half a page at each millisecond", n: 50, group: 5, limit: 10, ignoreOffset: true, wantRequests: 17, maxRequests: 4*5 + 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newFake(t)
			srv.AddService("svc", "ignores offset", eventsapi.StatusDeploying)
			evs := tiedEvents(srv, "svc", tt.n, tt.group, 1_700_000_000_000)
			srv.SetLyingTotal(tt.lie)
			srv.SetIgnoreOffset(tt.ignoreOffset)
			var log logBuffer
			c := newClient(t, srv, withLog(&log))

			got, err := collectEnd(t, c, "svc", eventsapi.EventsQuery{Limit: tt.limit})
			if err != nil {
				t.Errorf("ended with %v, want a clean end", err)
			}
			checkOnce(t, evs, got)
			reqs := srv.Requests()
			if len(reqs) != tt.wantRequests || len(reqs) > tt.maxRequests {
				t.Errorf("%d requests, want %d (at most %d)", len(reqs), tt.wantRequests, tt.maxRequests)
			}
			checkStartTimes(t, reqs)
			// One warning per walk; a walk is the request after it.
			walks := 0
			for i, r := range reqs {
				if r.Query.Has("start_time") && !r.Query.Has("offset") {
					walks++
					if i == 0 || reqs[i-1].Query.Get("start_time") == r.Query.Get("start_time") && !reqs[i-1].Query.Has("offset") {
						t.Errorf("request %d (%q): a walk that does not follow a page read by offset", i, r.Query.Encode())
					}
				}
			}
			if ws := warnings(t, log.String()); len(ws) != walks {
				t.Errorf("%d warnings for %d walks: %v", len(ws), walks, ws)
			}
			if tt.ignoreOffset && walks == 0 {
				t.Error("no walk by start_time")
			}
		})
	}
}

// TestEventsIgnoresOffsetStopsEarly: a loop that breaks during a walk
// sends no other request.
func TestEventsIgnoresOffsetStopsEarly(t *testing.T) {
	srv := newFake(t)
	evs := manyEvents(srv, "svc", 2500, 1_700_000_000_000)
	srv.SetIgnoreOffset(true)
	c := newClient(t, srv)
	var got []eventsapi.Event
	for ev, err := range c.Events(ctxT(t), "svc", eventsapi.EventsQuery{}) {
		if err != nil {
			t.Fatal(err)
		}
		if got = append(got, ev); len(got) == 1500 {
			break
		}
	}
	checkOnce(t, evs[:1500], got)
	// The first page, its repeat, and the walk that yields 1000..1499.
	if n := srv.EventsRequests("svc"); n != 3 {
		t.Errorf("%d requests after breaking at 1500, want 3", n)
	}
}

// TestEventsIncomplete: more events at one millisecond than a page holds,
// behind a server that ignores offset, cannot be read past: the walk from
// that millisecond gets a full page of events already yielded. The
// iteration yields every event the server gave once, then ends with an
// error that is ErrIncomplete (errors.Is) and names the service.
func TestEventsIncomplete(t *testing.T) {
	const t0 = int64(1_700_000_000_000)
	tests := []struct {
		name         string
		atOnce       int  // events at one millisecond, after 5 earlier ones and before 5 later ones
		noLate       bool // no later ones
		lie          int
		ignoreOffset bool
		want         int // the first events yielded
		wantErr      bool
		wantRequests int
	}{
		{name: "more than a page at one millisecond", atOnce: 25, ignoreOffset: true, want: 15, wantErr: true, wantRequests: 5},
		// A page full of one millisecond: whether more follow at it cannot
		// be told.
		{name: "a page full of one millisecond", atOnce: 10, ignoreOffset: true, want: 15, wantErr: true, wantRequests: 5},
		{name: "less than a page at one millisecond", atOnce: 9, ignoreOffset: true, want: 19, wantRequests: 5},
		// Offsets work: everything is read, whatever the ties.
		{name: "more than a page at one millisecond, honest server", atOnce: 25, want: 35, wantRequests: 4},
		// Read whole by offset; the lying total_count makes the client walk
		// from the newest event, which brings nothing new: a clean end.
		{name: "more than a page at one millisecond, lying total", atOnce: 25, lie: 5000, want: 35, wantRequests: 6},
		// The same, with the tied events last: the walk repeats a full
		// page of one millisecond. The client cannot tell that nothing is
		// missing, and says so.
		{name: "more than a page at one millisecond, last, lying total", atOnce: 25, noLate: true, lie: 5000, want: 30, wantErr: true, wantRequests: 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newFake(t)
			srv.AddService("svc", "ties", eventsapi.StatusDeploying)
			var evs []eventsapi.Event
			add := func(info string, at int64) {
				ev := eventsapi.Event{EventType: eventsapi.EventTypeAbnormal, EventInfo: info, OccurTime: at}
				srv.AppendEvents("svc", ev)
				evs = append(evs, ev)
			}
			for i := range 5 {
				add(fmt.Sprintf("early %d", i), t0+int64(i))
			}
			for i := range tt.atOnce {
				add(fmt.Sprintf("tied %02d", i), t0+100)
			}
			for i := range 5 {
				if !tt.noLate {
					add(fmt.Sprintf("late %d", i), t0+200+int64(i))
				}
			}
			srv.SetLyingTotal(tt.lie)
			srv.SetIgnoreOffset(tt.ignoreOffset)
			var log logBuffer
			c := newClient(t, srv, withLog(&log))

			got, err := collectEnd(t, c, "svc", eventsapi.EventsQuery{Limit: 10})
			checkOnce(t, evs[:tt.want], got)
			switch {
			case !tt.wantErr && err != nil:
				t.Errorf("ended with %v, want a clean end", err)
			case tt.wantErr && !errors.Is(err, eventsapi.ErrIncomplete):
				t.Errorf("ended with %v, want ErrIncomplete", err)
			case tt.wantErr && !strings.Contains(err.Error(), "list events for svc: "):
				t.Errorf("error %q does not name the service", err)
			case tt.wantErr && (eventsapi.IsNotFound(err) || errors.Is(err, eventsapi.ErrInvalidID)):
				t.Errorf("error %v taken for another failure", err)
			}
			reqs := srv.Requests()
			if len(reqs) != tt.wantRequests {
				t.Errorf("%d requests, want %d", len(reqs), tt.wantRequests)
			}
			checkStartTimes(t, reqs)
			if tt.wantErr {
				// The read ended on a walk from the tied millisecond.
				if last := reqs[len(reqs)-1].Query; last.Get("start_time") != strconv.FormatInt(t0+100, 10) || last.Has("offset") {
					t.Errorf("last request %q: want start_time %d and no offset", last.Encode(), t0+100)
				}
			}
			if ws := warnings(t, log.String()); tt.ignoreOffset || tt.lie > 0 {
				if len(ws) == 0 {
					t.Error("no warning")
				}
			} else if len(ws) != 0 {
				t.Errorf("warnings %v, want none", ws)
			}
		})
	}
}

// TestEventsPartialOverlap: a page that repeats some events but brings new
// ones is yielded whole and paging goes on. A page made only of events
// already read, even when it is not the previous page, makes the client
// read on by start_time from the newest event yielded, at offset 0,
// yielding only the events not yielded before: nothing new there ends the
// read (cleanly on a short page, with ErrIncomplete on a full one).
func TestEventsPartialOverlap(t *testing.T) {
	ev := func(info string, at int) string {
		b, _ := json.Marshal(eventsapi.Event{EventType: "normal", EventInfo: info, OccurTime: int64(at)})
		return string(b)
	}
	list := func(evs ...string) string { return "[" + strings.Join(evs, ",") + "]" }
	a, b, c, d, e, f := ev("a", 1), ev("b", 2), ev("c", 3), ev("d", 4), ev("e", 5), ev("f", 6)
	tests := []struct {
		name  string
		total int
		limit int
		// The pages the server answers: by offset ("" for none), or, for
		// a request with a start_time, by "s<start_time>/<offset>".
		// Any other request gets an empty page.
		pages          map[string]string
		want           string // the events yielded, as a JSON array
		wantRequests   int32
		wantLast       string // the key of the last request
		wantWarn       []walkWarning
		wantIncomplete bool
	}{
		{
			name: "overlap continues", total: 7,
			pages:        map[string]string{"": list(a, b, c), "3": list(c, d, e), "6": list(f)},
			want:         list(a, b, c, c, d, e, f),
			wantRequests: 3, wantLast: "6",
		},
		{
			name: "one new event is enough", total: 50,
			pages:        map[string]string{"": list(a, b), "2": list(b, a, c), "5": list(d)},
			want:         list(a, b, b, a, c, d),
			wantRequests: 4, wantLast: "6", // the fourth page, at 6, is empty
		},
		{
			name: "all seen, not the previous page", total: 50,
			pages:        map[string]string{"": list(a, b), "2": list(c, d), "4": list(b, c), "s4/": list(d)},
			want:         list(a, b, c, d),
			wantRequests: 4, wantLast: "s4/", wantWarn: []walkWarning{{4, 50, allSeen}},
		},
		{
			name: "the walk brings new events, and paging goes on from it", total: 50,
			pages: map[string]string{"": list(a, b), "2": list(c, d), "4": list(b, c),
				"s4/": list(d, e, f), "s4/3": list(e, f)},
			want:         list(a, b, c, d, e, f),
			wantRequests: 6, wantLast: "s6/",
			// The repeat at s4/3 walks again, from f; s6/ is empty.
			wantWarn: []walkWarning{{4, 50, allSeen}, {3, 50, allSeen}},
		},
		{
			name: "same page again", total: 50,
			pages:        map[string]string{"": list(a, b), "2": list(a, b), "s2/": list(b)},
			want:         list(a, b),
			wantRequests: 3, wantLast: "s2/", wantWarn: []walkWarning{{2, 50, samePage}},
		},
		{
			name: "ignores start_time too: a short page again ends", total: 50,
			pages:        map[string]string{"": list(a, b), "2": list(a, b), "s2/": list(a, b)},
			want:         list(a, b),
			wantRequests: 3, wantLast: "s2/", wantWarn: []walkWarning{{2, 50, samePage}},
		},
		{
			name: "ignores start_time too: a full page again is incomplete", total: 50, limit: 2,
			pages:        map[string]string{"": list(a, b), "2": list(a, b), "s2/": list(a, b)},
			want:         list(a, b),
			wantRequests: 3, wantLast: "s2/", wantWarn: []walkWarning{{2, 50, samePage}}, wantIncomplete: true,
		},
		{
			name: "repeats within one page are yielded", total: 3,
			pages:        map[string]string{"": list(a, a, a)},
			want:         list(a, a, a),
			wantRequests: 1, wantLast: "",
		},
		{
			name: "same text at another time is new", total: 50,
			pages:        map[string]string{"": list(a), "1": list(ev("a", 2)), "2": list(ev("a", 2)), "s2/": list(ev("a", 2))},
			want:         list(a, ev("a", 2)),
			wantRequests: 4, wantLast: "s2/", wantWarn: []walkWarning{{2, 50, samePage}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var requests atomic.Int32
			var lastKey atomic.Value
			ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				requests.Add(1)
				q := r.URL.Query()
				key := q.Get("offset")
				if q.Has("start_time") {
					key = "s" + q.Get("start_time") + "/" + key
				}
				lastKey.Store(key)
				events, ok := tt.pages[key]
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
			got, err := collectEnd(t, c, "svc", eventsapi.EventsQuery{Limit: tt.limit})
			if d := cmp.Diff(want, got); d != "" {
				t.Errorf("events (-want +got):\n%s", d)
			}
			if tt.wantIncomplete != errors.Is(err, eventsapi.ErrIncomplete) || !tt.wantIncomplete && err != nil {
				t.Errorf("ended with %v, want ErrIncomplete %v", err, tt.wantIncomplete)
			}
			if n := requests.Load(); n != tt.wantRequests {
				t.Errorf("%d requests, want %d", n, tt.wantRequests)
			}
			if k, _ := lastKey.Load().(string); k != tt.wantLast {
				t.Errorf("last request %q, want %q", k, tt.wantLast)
			}
			checkWalkWarnings(t, log.String(), "svc", tt.wantWarn)
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
