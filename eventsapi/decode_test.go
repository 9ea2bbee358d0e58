package eventsapi_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/modelarts-notifier/modelarts-notifier/eventsapi"
)

func TestDecodeEventsPageOccurTime(t *testing.T) {
	page := func(occur string) []byte {
		return fmt.Appendf(nil, `{"service_name":"s","total_count":2,"service_id":"id","count":2,"events":[
			{"event_type":"normal","event_info":"first","occur_time":1562597251764},
			{"event_type":"normal","event_info":"second"%s}]}`, occur)
	}
	tests := []struct {
		name    string
		occur   string // appended to the second event
		want    int64
		wantErr string
	}{
		{name: "integer", occur: `,"occur_time":1562597251788`, want: 1562597251788},
		{name: "float", occur: `,"occur_time":1562597251788.0`, want: 1562597251788},
		{name: "float with fraction", occur: `,"occur_time":1562597251788.9`, want: 1562597251788},
		{name: "exponent", occur: `,"occur_time":1.562597251788e12`, want: 1562597251788},
		{name: "digit string", occur: `,"occur_time":"1562597251788"`, want: 1562597251788},
		{name: "float string", occur: `,"occur_time":"1562597251788.0"`, want: 1562597251788},
		{name: "zero", occur: `,"occur_time":0`, want: 0},
		{name: "missing", occur: ``, wantErr: "events[1].occur_time: missing"},
		{name: "null", occur: `,"occur_time":null`, wantErr: "events[1].occur_time"},
		{name: "bool", occur: `,"occur_time":true`, wantErr: "events[1].occur_time"},
		{name: "object", occur: `,"occur_time":{"ms":1}`, wantErr: "events[1].occur_time"},
		{name: "word", occur: `,"occur_time":"yesterday"`, wantErr: "events[1].occur_time"},
		{name: "empty string", occur: `,"occur_time":""`, wantErr: "events[1].occur_time"},
		{name: "negative", occur: `,"occur_time":-5`, wantErr: "events[1].occur_time"},
		{name: "too large", occur: `,"occur_time":1e300`, wantErr: "events[1].occur_time: out of range"},
		{name: "int overflow", occur: `,"occur_time":99999999999999999999`, wantErr: "events[1].occur_time: out of range"},
		{name: "date string", occur: `,"occur_time":"2019-07-08T14:47:31Z"`, wantErr: "events[1].occur_time"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := eventsapi.DecodeEventsPage(page(tt.occur))
			if tt.wantErr != "" {
				var de *eventsapi.DecodeError
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !errors.As(err, &de) {
					t.Fatalf("err = %v, want a DecodeError containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.Events[1].OccurTime != tt.want || got.Events[0].OccurTime != 1562597251764 {
				t.Errorf("occur times %d, %d", got.Events[0].OccurTime, got.Events[1].OccurTime)
			}
		})
	}
}

func TestDecodeEventsPageKeepsUnknownTypes(t *testing.T) {
	got, err := eventsapi.DecodeEventsPage([]byte(`{"count":2,"events":[
		{"event_type":"warning","event_info":"new kind","occur_time":1,"extra":{"x":1}},
		{"event_info":"no type","occur_time":2}],"new_field":true}`))
	if err != nil {
		t.Fatal(err)
	}
	want := []eventsapi.Event{{EventType: "warning", EventInfo: "new kind", OccurTime: 1}, {EventInfo: "no type", OccurTime: 2}}
	if d := cmp.Diff(want, got.Events); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
}

func TestDecodeEventsPageRejectsGarbage(t *testing.T) {
	for _, body := range []string{``, `[]`, `{"events":{}}`, `{"events":[1]}`, `<html>`, `{"events":[{"event_info":5,"occur_time":1}]}`} {
		if _, err := eventsapi.DecodeEventsPage([]byte(body)); err == nil {
			t.Errorf("DecodeEventsPage(%q): no error", body)
		}
	}
}

func TestBodySizeCap(t *testing.T) {
	srv := newFake(t)
	manyEvents(srv, "svc", 100, 1)
	c := newClient(t, srv, func(cfg *eventsapi.Config) { cfg.MaxBodyBytes = 1024 })
	_, err := c.ListEvents(ctxT(t), "svc", eventsapi.EventsQuery{})
	if err == nil || !strings.Contains(err.Error(), "too large") {
		t.Fatalf("err = %v, want a size error", err)
	}
	if n := len(srv.Requests()); n != 1 {
		t.Errorf("%d requests: an oversized body must not be retried", n)
	}
}

// FuzzDecodeEvents: decoding never panics, and a decoded page survives a
// round trip through JSON unchanged.
func FuzzDecodeEvents(f *testing.F) {
	seed, err := os.ReadFile("testdata/seed_events_response.json")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(seed)
	for _, s := range []string{
		`{"events":[{"event_type":"normal","event_info":"x","occur_time":1.5e3}]}`,
		`{"events":[{"event_type":"abnormal","event_info":"Insufficient resources.","occur_time":"1562597251764"}]}`,
		`{"events":[{"event_type":"weird","occur_time":"-1"}]}`,
		`{"events":[{"occur_time":null}],"total_count":"x"}`,
		`{"events":null}`,
		`{}`,
		`nonsense`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		page, err := eventsapi.DecodeEventsPage(data)
		if err != nil {
			if page != nil {
				t.Fatal("page and error")
			}
			return
		}
		for i, ev := range page.Events {
			if ev.OccurTime < 0 {
				t.Fatalf("events[%d].occur_time = %d", i, ev.OccurTime)
			}
		}
		again, err := json.Marshal(page)
		if err != nil {
			t.Fatal(err)
		}
		page2, err := eventsapi.DecodeEventsPage(again)
		if err != nil {
			t.Fatalf("re-decoding %s: %v", again, err)
		}
		if d := cmp.Diff(page, page2); d != "" {
			t.Fatalf("round trip (-first +second):\n%s", d)
		}
	})
}

// BenchmarkDecodePage decodes a 1,000-event page.
func BenchmarkDecodePage(b *testing.B) {
	page := eventsapi.EventsPage{ServiceName: "bench", ServiceID: "35de3ca9-1bca-4ae7-9cb0-914f30fa7d3e", TotalCount: 5000, Count: 1000}
	for i := range 1000 {
		typ := eventsapi.EventTypeNormal
		if i%10 == 0 {
			typ = eventsapi.EventTypeAbnormal
		}
		page.Events = append(page.Events, eventsapi.Event{
			EventType: typ,
			EventInfo: fmt.Sprintf("[TF 3.0.0] pulling model image, attempt %d", i),
			OccurTime: 1562597251764 + int64(i)*137,
		})
	}
	data, err := json.Marshal(page)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := eventsapi.DecodeEventsPage(data); err != nil {
			b.Fatal(err)
		}
	}
}
