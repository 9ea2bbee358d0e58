package checkpointtest

import (
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"testing"
	"time"
)

// StartLatencyProxy starts a reverse proxy to target (dynalite's
// endpoint) that holds every request for d before passing it on, as the
// network and DynamoDB's own service time do (a few milliseconds in the
// same region), so that benchmarks see how a store's requests in flight
// overlap that wait. It returns the proxy's endpoint; it stops when t
// ends.
func StartLatencyProxy(t testing.TB, target string, d time.Duration) string {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatalf("StartLatencyProxy: %v", err)
	}
	rp := httputil.NewSingleHostReverseProxy(u)
	rp.Transport = &http.Transport{MaxIdleConnsPerHost: 256}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(d):
		case <-r.Context().Done():
			return
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}
