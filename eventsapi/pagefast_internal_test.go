package eventsapi

import (
	"encoding/json"
	"fmt"
	"os"
	"reflect"
	"strings"
	"testing"
)

// fastCases are pages the fast decoder must decode as encoding/json does,
// or leave to it.
var fastCases = []string{
	`{"service_name":"s","total_count":2,"service_id":"id","count":2,"events":[{"event_type":"normal","event_info":"a","occur_time":1},{"event_type":"abnormal","event_info":"b","occur_time":2}]}`,
	` { "events" : [ { "occur_time" : 1 , "event_info" : "x" } ] , "count" : 1 } `,
	`{"events":[{"event_type":"normal","event_info":"GET \"http://h/health\" \u003c200\u003e","occur_time":1}]}`,
	`{"events":[{"event_type":"normal","event_info":"部署服务 \ud83d\ude00 \ud800","occur_time":1}]}`,
	"{\"events\":[{\"event_type\":\"normal\",\"event_info\":\"bad \xff utf8\",\"occur_time\":1}]}",
	"{\"events\":[{\"event_info\":\"ctl \x01\",\"occur_time\":1}]}",
	`{"events":[{"event_info":"x","occur_time":"1562597251788"}]}`,
	`{"events":[{"event_info":"x","occur_time":" 1562597251788.5 "}]}`,
	`{"events":[{"event_info":"x","occur_time":"\u0031"}]}`,
	`{"events":[{"event_info":"x","occur_time":1.5e3}]}`,
	`{"events":[{"event_info":"x","occur_time":-0}]}`,
	`{"events":[{"event_info":"x","occur_time":01}]}`,
	`{"events":[{"event_info":"x","occur_time":1.}]}`,
	`{"events":[{"event_info":"x","occur_time":null}]}`,
	`{"events":[{"event_info":"x"}]}`,
	`{"events":[{}]}`,
	`{"events":[]}`,
	`{"events":null}`,
	`{}`,
	`null`,
	`{"total_count":1.0,"events":[]}`,
	`{"total_count":-3,"events":[]}`,
	`{"total_count":99999999999999999999,"events":[]}`,
	`{"total_count":"3","events":[]}`,
	`{"count":1,"count":2,"events":[]}`,
	`{"Count":1,"events":[]}`,
	`{"EVENTS":[{"occur_time":1}]}`,
	`{"events":[{"Occur_Time":1,"occur_time":2}]}`,
	`{"events":[{"event_ınfo":"x","occur_time":2}]}`,
	`{"new":{"a":[1,{"b":"}"}],"c":"\""},"events":[{"extra":[1,2],"occur_time":1,"more":true}],"z":null}`,
	`{"new":{"a":[1,2}},"events":[]}`,
	`{"new":tru,"events":[]}`,
	`{"events":[{"occur_time":1}]} x`,
	`{"events":[{"occur_time":1}],}`,
	`{"events":[{"occur_time":1},]}`,
	`{"events":[{"occur_time":1,}]}`,
	`{"events":[{"occur_time":1}]`,
	`{"service_name":"a\/b\\c\t","events":[]}`,
	`{"service_name":"a\x","events":[]}`,
	`{"events":[{"event_type":5,"occur_time":1}]}`,
	`{"events":{}}`,
	`{"events":[1]}`,
	`{"events":[{"event_info":"\u00e9\u4E2D\b\f\n\r\t\/","occur_time":1}]}`,
	`{"events":[{"event_info":"\uD800x","occur_time":1}]}`,
	`{"events":[{"event_info":"\u12","occur_time":1}]}`,
	`{"events":[{"event_info":"\u12g4","occur_time":1}]}`,
	`{"events":[{"event_info":"\q","occur_time":1}]}`,
	"{\"events\":[{\"event_info\":\"\\\"\xe9\",\"occur_time\":1}]}",
	``,
}

func TestDecodeEventsPageFastMatchesJSON(t *testing.T) {
	seed, err := os.ReadFile("testdata/seed_events_response.json")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range append(fastCases, string(seed), pageOf(1000)) {
		checkFast(t, []byte(c))
	}
	// The seed and the usual shape take the fast path.
	for _, c := range []string{string(seed), pageOf(1000), fastCases[0], fastCases[2], fastCases[29]} {
		if _, ok := decodeEventsPageFast([]byte(c)); !ok {
			t.Errorf("not decoded by the fast path: %.200s", c)
		}
	}
}

// checkFast: what the fast path decodes, encoding/json decodes the same.
func checkFast(t *testing.T, data []byte) {
	t.Helper()
	fast, ok := decodeEventsPageFast(data)
	if !ok {
		return
	}
	want, err := decodeEventsPageJSON(data)
	if err != nil {
		t.Fatalf("fast path decoded what encoding/json rejects (%v): %q", err, data)
	}
	if !reflect.DeepEqual(fast, want) {
		t.Fatalf("fast path %+v, encoding/json %+v: %q", fast, want, data)
	}
}

func pageOf(n int) string {
	page := EventsPage{ServiceName: "bench", ServiceID: "35de3ca9-1bca-4ae7-9cb0-914f30fa7d3e", TotalCount: n, Count: n}
	for i := range n {
		page.Events = append(page.Events, Event{EventType: []string{"normal", "abnormal", "warning"}[i%3],
			EventInfo: fmt.Sprintf(`Readiness probe %d: GET "http://10.0.0.1/" <ok> & 部署`, i) + strings.Repeat("x", i%7), OccurTime: int64(1562597251764 + i)})
	}
	b, _ := json.Marshal(page)
	return string(b)
}

// FuzzDecodeEventsPageFast: whatever the fast path decodes, encoding/json
// decodes the same.
func FuzzDecodeEventsPageFast(f *testing.F) {
	for _, c := range fastCases {
		f.Add([]byte(c))
	}
	f.Fuzz(func(t *testing.T, data []byte) { checkFast(t, data) })
}
