package eventsapi_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/modelarts-notifier/modelarts-notifier/eventsapi"
)

func TestGetService(t *testing.T) {
	srv := newFake(t)
	srv.AddService("svc-1", "fraud-model", eventsapi.StatusDeploying)
	srv.SetStatus("svc-1", eventsapi.StatusFailed, "Insufficient resources.")
	c := newClient(t, srv)

	got, err := c.GetService(ctxT(t), "svc-1")
	if err != nil {
		t.Fatal(err)
	}
	want := &eventsapi.Service{ServiceID: "svc-1", ServiceName: "fraud-model", Status: "failed", ErrorMsg: "Insufficient resources.", InferType: "real-time", Generation: eventsapi.GenerationV1}
	if d := cmp.Diff(want, got, cmpopts.IgnoreFields(eventsapi.Service{}, "UpdateTime", "TransitionAt")); d != "" {
		t.Errorf("service (-want +got):\n%s", d)
	}
	if got.UpdateTime == 0 || got.TransitionAt == 0 {
		t.Errorf("update_time %d, transition_at %d: want both set", got.UpdateTime, got.TransitionAt)
	}
}

// TestGetServiceEscapesID: an id with characters that need escaping
// reaches the server intact.
func TestGetServiceEscapesID(t *testing.T) {
	srv := newFake(t)
	for _, id := range []string{"svc-é", "a:b@c", "x;y=z", "a+b"} {
		srv.AddService(id, "n", eventsapi.StatusRunning)
		got, err := newClient(t, srv).GetService(ctxT(t), id)
		if err != nil || got.ServiceID != id {
			t.Errorf("GetService(%q) = %+v, %v", id, got, err)
		}
	}
}

func TestGetServiceNotFound(t *testing.T) {
	srv := newFake(t)
	c := newClient(t, srv)
	_, err := c.GetService(ctxT(t), "nope")
	var ae *eventsapi.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("err = %v, want *APIError", err)
	}
	if ae.StatusCode != 404 || ae.Code != "ModelArts.3502" || ae.RequestID == "" {
		t.Errorf("APIError = %+v", ae)
	}
	if !eventsapi.IsNotFound(err) || !errors.Is(err, eventsapi.ErrNotFound) || eventsapi.IsThrottled(err) || eventsapi.IsAuth(err) {
		t.Errorf("helpers disagree on %v", err)
	}
	if n := len(srv.Requests()); n != 1 {
		t.Errorf("%d requests; 404 must not be retried", n)
	}
}

func TestListServices(t *testing.T) {
	srv := newFake(t)
	for i := range 5 {
		srv.AddService(fmt.Sprintf("svc-%d", i), fmt.Sprintf("name-%d", i), eventsapi.StatusRunning)
	}
	c := newClient(t, srv)
	tests := []struct {
		name      string
		q         eventsapi.ServicesQuery
		wantQuery string
		wantIDs   []string
	}{
		{name: "defaults (newest first)", wantQuery: "", wantIDs: []string{"svc-4", "svc-3", "svc-2", "svc-1", "svc-0"}},
		{name: "asc page", q: eventsapi.ServicesQuery{Offset: 1, Limit: 2, Order: "asc"}, wantQuery: "limit=2&offset=1&order=asc", wantIDs: []string{"svc-1", "svc-2"}},
		{name: "by name", q: eventsapi.ServicesQuery{SortBy: "service_name", Order: "desc", Limit: 1}, wantQuery: "limit=1&order=desc&sort_by=service_name", wantIDs: []string{"svc-4"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv.ResetRequests()
			page, err := c.ListServices(ctxT(t), tt.q)
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, s := range page.Services {
				ids = append(ids, s.ServiceID)
			}
			if d := cmp.Diff(tt.wantIDs, ids); d != "" {
				t.Errorf("ids (-want +got):\n%s", d)
			}
			if page.TotalCount != 5 || page.Count != len(tt.wantIDs) {
				t.Errorf("total %d count %d", page.TotalCount, page.Count)
			}
			if got := srv.Requests()[0].Query.Encode(); got != tt.wantQuery {
				t.Errorf("query %q, want %q", got, tt.wantQuery)
			}
		})
	}
	if _, err := c.ListServices(ctxT(t), eventsapi.ServicesQuery{Limit: 1001}); err == nil {
		t.Error("limit 1001 accepted")
	}
}

func TestServicesIterator(t *testing.T) {
	srv := newFake(t)
	var want []string
	for i := range 2500 {
		id := fmt.Sprintf("svc-%04d", i)
		srv.AddService(id, id, eventsapi.StatusRunning)
		want = append(want, id)
	}
	c := newClient(t, srv)
	var got []string
	for s, err := range c.Services(ctxT(t)) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, s.ServiceID)
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("ids (-want +got):\n%s", d)
	}
	if n := len(srv.Requests()); n != 3 {
		t.Errorf("%d requests, want 3", n)
	}

	// A server whose pages are shorter than the limit is paged to
	// total_count.
	srv.SetMaxPageSize(700)
	srv.ResetRequests()
	got = got[:0]
	for s, err := range c.Services(ctxT(t)) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, s.ServiceID)
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("ids with pages of 700 (-want +got):\n%s", d)
	}
	if n := len(srv.Requests()); n != 4 {
		t.Errorf("%d requests with pages of 700, want 4", n)
	}
}
