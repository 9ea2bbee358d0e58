package eventsapi_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/modelarts-notifier/modelarts-notifier/eventsapi"
)

// TestNotFoundNeedsServiceCode: only ModelArts.3502, or a 404 without any
// error code, says that the service does not exist. A 404 with another code
// (the API gateway's "no such API" when the endpoint or region is wrong) is
// a different error that says what to check.
func TestNotFoundNeedsServiceCode(t *testing.T) {
	tests := []struct {
		name     string
		status   int
		body     string
		notFound bool
		wantText []string
	}{
		{name: "ModelArts.3502", status: 404, body: `{"error_code":"ModelArts.3502","error_msg":"Service svc does not exist."}`,
			notFound: true, wantText: []string{"HTTP 404 ModelArts.3502"}},
		{name: "404 without a body", status: 404, body: "404 page not found",
			notFound: true, wantText: []string{"HTTP 404: 404 page not found"}},
		{name: "404 JSON without error_code", status: 404, body: `{"error_msg":"not here"}`,
			notFound: true, wantText: []string{"HTTP 404: not here"}},
		{name: "APIG.0101 from a wrong endpoint", status: 404,
			body:     `{"error_code":"APIG.0101","error_msg":"The API does not exist or has not been published in the environment","request_id":"r1"}`,
			notFound: false, wantText: []string{"HTTP 404 APIG.0101", "not a missing service", "endpoint, region"}},
		{name: "404 with another ModelArts code", status: 404, body: `{"error_code":"ModelArts.0112","error_msg":"No such project."}`,
			notFound: false, wantText: []string{"HTTP 404 ModelArts.0112", "not a missing service"}},
		{name: "500", status: 500, body: `{"error_code":"ModelArts.0000","error_msg":"boom"}`, notFound: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				w.WriteHeader(tt.status)
				_, _ = w.Write([]byte(tt.body))
			}))
			defer ts.Close()
			c, err := eventsapi.New(eventsapi.Config{Endpoint: ts.URL, ProjectID: "p1", Auth: eventsapi.StaticToken("tok-12345678"),
				HTTPClient: ts.Client(), MaxRetries: -1})
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.GetService(t.Context(), "svc")
			var ae *eventsapi.APIError
			if !errors.As(err, &ae) || ae.StatusCode != tt.status {
				t.Fatalf("err = %v, want an *APIError with status %d", err, tt.status)
			}
			if got := eventsapi.IsNotFound(err); got != tt.notFound {
				t.Errorf("IsNotFound(%v) = %v, want %v", err, got, tt.notFound)
			}
			if got := errors.Is(err, eventsapi.ErrNotFound); got != tt.notFound {
				t.Errorf("errors.Is(%v, ErrNotFound) = %v, want %v", err, got, tt.notFound)
			}
			for _, w := range tt.wantText {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
			if tt.notFound && strings.Contains(err.Error(), "not a missing service") {
				t.Errorf("error %q denies what it is", err)
			}
		})
	}
}
