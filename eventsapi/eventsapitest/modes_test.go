package eventsapitest_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/modelarts-notifier/modelarts-notifier/eventsapi"
)

// eventInfos returns the event_info of each event.
func eventInfos(evs []eventsapi.Event) []string {
	out := make([]string, len(evs))
	for i, ev := range evs {
		out[i] = ev.EventInfo
	}
	return out
}

func numbered(n int) []eventsapi.Event {
	evs := make([]eventsapi.Event, n)
	for i := range evs {
		evs[i] = eventsapi.Event{EventType: eventsapi.EventTypeNormal, EventInfo: fmt.Sprint(i), OccurTime: int64(1000 + i)}
	}
	return evs
}

// TestPagingModes: SetLyingTotal and SetIgnoreOffset change what the
// events endpoint answers, and only that.
func TestPagingModes(t *testing.T) {
	tests := []struct {
		name      string
		lie       int
		ignore    bool
		maxPage   int
		query     string
		wantTotal int
		want      []string // event_info of the page
	}{
		{name: "honest, past the end", query: "order=asc&limit=4&offset=10", wantTotal: 10, want: []string{}},
		{name: "lying total, within the end", lie: 5000, query: "order=asc&limit=4&offset=4", wantTotal: 5000, want: []string{"4", "5", "6", "7"}},
		{name: "lying total, short last page is true", lie: 5000, query: "order=asc&limit=4&offset=8", wantTotal: 5000, want: []string{"8", "9"}},
		{name: "lying total, at the end: the last page", lie: 5000, query: "order=asc&limit=4&offset=10", wantTotal: 5000, want: []string{"6", "7", "8", "9"}},
		{name: "lying total, far past the end", lie: 5000, query: "order=asc&limit=4&offset=4960", wantTotal: 5000, want: []string{"6", "7", "8", "9"}},
		{name: "lying total, desc", lie: 5000, query: "limit=4&offset=20", wantTotal: 5000, want: []string{"3", "2", "1", "0"}},
		{name: "lying total, page cap", lie: 5000, maxPage: 3, query: "order=asc&limit=4&offset=12", wantTotal: 5000, want: []string{"7", "8", "9"}},
		{name: "lying total, filtered", lie: 5000, query: "order=asc&limit=4&offset=4&start_time=1007", wantTotal: 5000, want: []string{"7", "8", "9"}},
		{name: "ignores offset", ignore: true, query: "order=asc&limit=4&offset=4", wantTotal: 10, want: []string{"0", "1", "2", "3"}},
		{name: "ignores offset, from start_time", ignore: true, query: "order=asc&limit=3&offset=6&start_time=1005", wantTotal: 5, want: []string{"5", "6", "7"}},
		{name: "ignores offset and lies", ignore: true, lie: 70, query: "order=asc&limit=4&offset=40", wantTotal: 70, want: []string{"0", "1", "2", "3"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newServer(t)
			srv.AppendEvents("svc", numbered(10)...)
			srv.SetLyingTotal(tt.lie)
			srv.SetIgnoreOffset(tt.ignore)
			srv.SetMaxPageSize(tt.maxPage)
			resp, body := get(t, srv, "/v1/"+srv.ProjectID+"/services/svc/events?"+tt.query, "")
			if resp.StatusCode != 200 {
				t.Fatalf("status %d: %s", resp.StatusCode, body)
			}
			page := decode[eventsapi.EventsPage](t, body)
			if page.TotalCount != tt.wantTotal || page.Count != len(tt.want) {
				t.Errorf("total_count, count = %d, %d; want %d, %d", page.TotalCount, page.Count, tt.wantTotal, len(tt.want))
			}
			if d := cmp.Diff(tt.want, eventInfos(page.Events)); d != "" {
				t.Errorf("events (-want +got):\n%s", d)
			}
			// The service list pages truthfully whatever the modes.
			_, body = get(t, srv, "/v1/"+srv.ProjectID+"/services?offset=5", "")
			list := decode[eventsapi.ServicesPage](t, body)
			if list.TotalCount != 1 || len(list.Services) != 0 {
				t.Errorf("service list at offset 5: total %d, %d services; want 1, 0", list.TotalCount, len(list.Services))
			}
		})
	}

	t.Run("off again", func(t *testing.T) {
		srv := newServer(t)
		srv.AppendEvents("svc", numbered(10)...)
		srv.SetLyingTotal(5000)
		srv.SetIgnoreOffset(true)
		srv.SetLyingTotal(0)
		srv.SetIgnoreOffset(false)
		_, body := get(t, srv, "/v1/"+srv.ProjectID+"/services/svc/events?order=asc&limit=4&offset=8", "")
		page := decode[eventsapi.EventsPage](t, body)
		if page.TotalCount != 10 || !cmp.Equal(eventInfos(page.Events), []string{"8", "9"}) {
			t.Errorf("total %d, events %v: want 10, [8 9]", page.TotalCount, eventInfos(page.Events))
		}
	})
}

// decodePage decodes an events answer as the client does.
func decodePage(t *testing.T, body []byte) *eventsapi.EventsPage {
	t.Helper()
	p, err := eventsapi.DecodeEventsPage(body)
	if err != nil {
		t.Fatalf("%s: %v", body, err)
	}
	return p
}

// TestAddRawEvent: raw events are sent byte for byte, counted, ordered by
// the occur_time the client would read, and filtered like the others.
func TestAddRawEvent(t *testing.T) {
	srv := newServer(t)
	srv.AppendEvents("svc", numbered(3)...) // at 1000, 1001, 1002
	raws := map[string]json.RawMessage{
		"string time": json.RawMessage(`{"event_type":"abnormal", "event_info":"s","occur_time":"1001","extra":[1]}`),
		"bad utf-8":   json.RawMessage("{\"event_type\":\"normal\",\"event_info\":\"\xff\xfe\",\"occur_time\":999}"),
		"float time":  json.RawMessage(`{"event_type":"normal","event_info":"f","occur_time":1000.7}`),
		"no time":     json.RawMessage(`{"event_type":"normal","event_info":"untimed"}`),
		"not json":    json.RawMessage(`{"event_type":"normal",,}`),
	}
	for _, k := range []string{"string time", "bad utf-8", "float time", "no time"} {
		srv.AddRawEvent("svc", raws[k])
	}
	base := "/v1/" + srv.ProjectID + "/services/svc/events?order=asc"

	_, body := get(t, srv, base, "")
	for k, raw := range raws {
		if k != "not json" && !bytes.Contains(body, raw) {
			t.Errorf("%s: body %q does not hold %q verbatim", k, body, raw)
		}
	}
	var page struct {
		TotalCount int               `json:"total_count"`
		Count      int               `json:"count"`
		Events     []json.RawMessage `json:"events"`
	}
	if err := json.Unmarshal(body, &page); err != nil {
		t.Fatalf("%s: %v", body, err)
	}
	if page.TotalCount != 7 || page.Count != 7 || len(page.Events) != 7 {
		t.Fatalf("total_count %d, count %d, %d events; want 7", page.TotalCount, page.Count, len(page.Events))
	}
	// Ties: AppendEvents' events first, then raw events in the order added.
	order := []string{`"bad utf-8"`, `"0"`, `"float time"`, `"1"`, `"string time"`, `"2"`, `"no time"`}
	for i, ev := range page.Events {
		want := order[i]
		if strings.Contains(want, " ") {
			want = string(raws[strings.Trim(want, `"`)])
		} else {
			want = `"event_info":` + want
		}
		if !bytes.Contains(ev, []byte(want)) {
			t.Errorf("event %d = %s, want %s", i, ev, want)
		}
	}

	// Filters read the raw events' type and time; one without a time
	// matches any window.
	_, body = get(t, srv, base+"&event_type=abnormal", "")
	if p := decodePage(t, body); p.TotalCount != 1 || p.Events[0].EventInfo != "s" {
		t.Errorf("abnormal: %+v", p)
	}
	_, body = get(t, srv, base+"&start_time=1001&end_time=1001", "")
	// (The client refuses an event without occur_time: decode loosely.)
	var loose struct {
		Events []struct {
			EventInfo string `json:"event_info"`
		}
	}
	if err := json.Unmarshal(body, &loose); err != nil {
		t.Fatal(err)
	}
	var at1001 []string
	for _, ev := range loose.Events {
		at1001 = append(at1001, ev.EventInfo)
	}
	if !cmp.Equal(at1001, []string{"1", "s", "untimed"}) {
		t.Errorf("at 1001: %v, want [1 s untimed]", at1001)
	}

	// Bytes that are not JSON are sent as they are: the client fails to
	// decode the page.
	srv.AddRawEvent("svc", raws["not json"])
	resp, body := get(t, srv, base, "")
	if resp.StatusCode != 200 || !bytes.Contains(body, raws["not json"]) {
		t.Errorf("status %d, body %q: want 200 with the raw bytes", resp.StatusCode, body)
	}
	if _, err := eventsapi.DecodeEventsPage(body); err == nil {
		t.Error("a page holding bytes that are not JSON decoded")
	}
	if n := len(srv.Events("svc")); n != 3 {
		t.Errorf("Events returned %d events, want the 3 appended", n)
	}
}
