package eventsapi_test

import (
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/modelarts-notifier/modelarts-notifier/eventsapi"
)

// TestPagesOutliveTheirBuffer: ListEvents reads each body into a buffer
// the next page reuses; a page decoded earlier keeps its own copies.
func TestPagesOutliveTheirBuffer(t *testing.T) {
	srv := newFake(t)
	for _, id := range []string{"svc-a", "svc-b"} {
		srv.AddService(id, id, eventsapi.StatusRunning)
		for i := range 50 {
			srv.AppendEvents(id, eventsapi.Event{EventType: eventsapi.EventTypeNormal,
				EventInfo: fmt.Sprintf(`%s: GET "http://10.0.0.%d/health" <ok> 部署 %d`, id, i, i), OccurTime: int64(1_700_000_000_000 + i)})
		}
	}
	c := newClient(t, srv)
	a, err := c.ListEvents(ctxT(t), "svc-a", eventsapi.EventsQuery{Order: eventsapi.OrderAsc})
	if err != nil {
		t.Fatal(err)
	}
	want := make([]eventsapi.Event, len(a.Events))
	for i, e := range a.Events {
		want[i] = eventsapi.Event{EventType: e.EventType, EventInfo: string([]byte(e.EventInfo)), OccurTime: e.OccurTime}
	}
	for range 3 {
		if _, err := c.ListEvents(ctxT(t), "svc-b", eventsapi.EventsQuery{Order: eventsapi.OrderAsc}); err != nil {
			t.Fatal(err)
		}
	}
	if d := cmp.Diff(want, a.Events); d != "" {
		t.Errorf("the first page changed after later reads (-want +got):\n%s", d)
	}
	if len(want) != 50 || want[0].EventInfo != `svc-a: GET "http://10.0.0.0/health" <ok> 部署 0` {
		t.Errorf("first page: %d events, first %q", len(want), want[0].EventInfo)
	}
}
