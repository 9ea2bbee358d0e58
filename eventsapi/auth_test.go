package eventsapi_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/modelarts-notifier/modelarts-notifier/eventsapi"
	"github.com/modelarts-notifier/modelarts-notifier/eventsapi/eventsapitest"
)

func iamAuth(t *testing.T, srv *eventsapitest.Server, password string) eventsapi.Authenticator {
	t.Helper()
	a, err := eventsapi.NewIAMPasswordAuth(eventsapi.IAMConfig{
		Endpoint:   srv.IAMURL,
		DomainName: srv.DomainName,
		Username:   srv.Username,
		Password:   password,
		ProjectID:  srv.ProjectID,
		HTTPClient: srv.Client(),
	})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// getConcurrently calls GetService n times at once and returns the errors.
func getConcurrently(t *testing.T, c *eventsapi.Client, n int) []error {
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() { _, errs[i] = c.GetService(t.Context(), "svc") })
	}
	wg.Wait()
	return errs
}

func TestStaticToken(t *testing.T) {
	srv := newFake(t)
	srv.AddService("svc", "svc", eventsapi.StatusRunning)
	if _, err := newClient(t, srv).GetService(ctxT(t), "svc"); err != nil {
		t.Fatal(err)
	}
	if r := srv.Requests()[0]; r.Auth != "token" || r.Header.Get("X-Auth-Token") != "[redacted]" {
		t.Errorf("request auth %q, token header %q", r.Auth, r.Header.Get("X-Auth-Token"))
	}

	srv.ResetRequests()
	c := newClient(t, srv, func(cfg *eventsapi.Config) { cfg.Auth = eventsapi.StaticToken("wrong") })
	_, err := c.GetService(ctxT(t), "svc")
	var ae *eventsapi.APIError
	if !eventsapi.IsAuth(err) || !errors.As(err, &ae) || ae.Code != "ModelArts.0203" {
		t.Fatalf("err = %v, want 401 ModelArts.0203", err)
	}
	if n := len(srv.Requests()); n != 1 {
		t.Errorf("%d requests: a static token cannot be refreshed", n)
	}
}

// gatedAuth counts the calls that need authenticating and opens gate when
// the n-th of them has begun.
type gatedAuth struct {
	eventsapi.Authenticator
	n       int32
	entered atomic.Int32
	gate    chan struct{}
}

func (g *gatedAuth) Authenticate(ctx context.Context, req *http.Request) error {
	if g.entered.Add(1) == g.n {
		close(g.gate)
	}
	return g.Authenticator.Authenticate(ctx, req)
}

func (g *gatedAuth) InvalidateToken(token string) {
	g.Authenticator.(eventsapi.TokenInvalidator).InvalidateToken(token)
}

// TestIAMPasswordAuth: one token fetch for 50 concurrent requests; after
// the API rejects the token, exactly one new fetch and every request
// succeeds. The IAM endpoint holds every login until all 50 requests are
// asking for a token, so the requests overlap for certain: without a
// shared login, each would send its own.
func TestIAMPasswordAuth(t *testing.T) {
	const n = 50
	srv := newFake(t)
	srv.AddService("svc", "svc", eventsapi.StatusRunning)
	gate := make(chan struct{})
	iamURL, err := url.Parse(srv.IAMURL)
	if err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(iamURL)
	heldIAM := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-gate:
			proxy.ServeHTTP(w, r)
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(heldIAM.Close)
	iam, err := eventsapi.NewIAMPasswordAuth(eventsapi.IAMConfig{Endpoint: heldIAM.URL, DomainName: srv.DomainName,
		Username: srv.Username, Password: srv.Password, ProjectID: srv.ProjectID, HTTPClient: heldIAM.Client()})
	if err != nil {
		t.Fatal(err)
	}
	auth := &gatedAuth{Authenticator: iam, n: n, gate: gate}
	c := newClient(t, srv, func(cfg *eventsapi.Config) { cfg.Auth = auth })

	for _, err := range getConcurrently(t, c, n) {
		if err != nil {
			t.Fatal(err)
		}
	}
	if got := srv.IAMTokenRequests(); got != 1 {
		t.Fatalf("%d IAM token requests for %d concurrent calls, want 1", got, n)
	}
	for _, r := range srv.Requests() {
		if r.Path != "/v3/auth/tokens" && r.Auth != "iam" {
			t.Fatalf("request %s authenticated as %q", r.Path, r.Auth)
		}
	}

	srv.RevokeTokens() // the API now answers 401 ModelArts.0204
	for _, err := range getConcurrently(t, c, n) {
		if err != nil {
			t.Fatal(err)
		}
	}
	if got := srv.IAMTokenRequests(); got != 2 {
		t.Errorf("%d IAM token requests after the token was rejected, want 2", got)
	}
	if st := c.Stats(); st.AuthRefreshes < 1 || st.AuthRefreshes > n || st.Retries != 0 {
		t.Errorf("stats %+v", st)
	}
}

func TestIAMRefreshOnlyOncePerCall(t *testing.T) {
	srv := newFake(t)
	srv.AddService("svc", "svc", eventsapi.StatusRunning)
	c := newClient(t, srv, func(cfg *eventsapi.Config) { cfg.Auth = iamAuth(t, srv, srv.Password) })
	// Every request is rejected as if the token were bad.
	srv.Fail(10, eventsapitest.Fault{Status: 401, Code: "ModelArts.0203", Path: "/v1/"})
	_, err := c.GetService(ctxT(t), "svc")
	if !eventsapi.IsAuth(err) {
		t.Fatalf("err = %v, want 401", err)
	}
	if n := srv.IAMTokenRequests(); n != 2 {
		t.Errorf("%d token fetches, want 2 (first use, one refresh)", n)
	}
	if st := c.Stats(); st.Requests != 2 {
		t.Errorf("%d requests, want 2", st.Requests)
	}
}

func TestIAMOtherUnauthorizedCodesDoNotRefresh(t *testing.T) {
	srv := newFake(t)
	srv.AddService("svc", "svc", eventsapi.StatusRunning)
	c := newClient(t, srv, func(cfg *eventsapi.Config) { cfg.Auth = iamAuth(t, srv, srv.Password) })
	srv.Fail(1, eventsapitest.Fault{Status: 401, Code: "APIG.0301", Path: "/v1/"})
	if _, err := c.GetService(ctxT(t), "svc"); !eventsapi.IsAuth(err) {
		t.Fatalf("err = %v, want 401", err)
	}
	if n := srv.IAMTokenRequests(); n != 1 {
		t.Errorf("%d token fetches, want 1", n)
	}
}

func TestIAMWrongPassword(t *testing.T) {
	srv := newFake(t)
	srv.AddService("svc", "svc", eventsapi.StatusRunning)
	c := newClient(t, srv, func(cfg *eventsapi.Config) { cfg.Auth = iamAuth(t, srv, "not-the-password") })
	_, err := c.GetService(ctxT(t), "svc")
	if !eventsapi.IsAuth(err) {
		t.Fatalf("err = %v, want an auth error", err)
	}
	if n := srv.IAMTokenRequests(); n != 1 {
		t.Errorf("%d token requests: a wrong password must not be retried", n)
	}
	if n := srv.EventsRequests("svc") + len(srv.Requests()) - 1; n != 0 {
		t.Errorf("%d API requests sent without a token", n)
	}
}

func TestIAMTransientFailureRetried(t *testing.T) {
	srv := newFake(t)
	srv.AddService("svc", "svc", eventsapi.StatusRunning)
	c := newClient(t, srv, func(cfg *eventsapi.Config) { cfg.Auth = iamAuth(t, srv, srv.Password) })
	srv.Fail(1, eventsapitest.Fault{Status: 503, Path: "/v3/auth/tokens"})
	if _, err := c.GetService(ctxT(t), "svc"); err != nil {
		t.Fatal(err)
	}
	if n := srv.IAMTokenRequests(); n != 1 { // the faulted one never reached the handler
		t.Errorf("%d token requests answered, want 1", n)
	}
	if st := c.Stats(); st.Retries != 1 {
		t.Errorf("stats %+v, want 1 retry", st)
	}
}

func TestAKSK(t *testing.T) {
	srv := newFake(t)
	srv.AddService("svc", "svc", eventsapi.StatusRunning)
	tests := []struct {
		name     string
		ak, sk   string
		secToken string
		wantAuth string
		wantErr  bool
	}{
		{name: "valid", ak: srv.AccessKey, sk: srv.SecretKey, wantAuth: "aksk"},
		{name: "temporary credentials", ak: srv.AccessKey, sk: srv.SecretKey, secToken: "sts-token", wantAuth: "aksk"},
		{name: "wrong secret key", ak: srv.AccessKey, sk: "wrong", wantAuth: "rejected", wantErr: true},
		{name: "unknown access key", ak: "OTHER", sk: srv.SecretKey, wantAuth: "rejected", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv.ResetRequests()
			c := newClient(t, srv, func(cfg *eventsapi.Config) { cfg.Auth = eventsapi.NewAKSK(tt.ak, tt.sk, tt.secToken) })
			// Query parameters are signed too.
			_, err := c.ListEvents(ctxT(t), "svc", eventsapi.EventsQuery{EventType: "abnormal", Limit: 5, Order: "asc"})
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			if tt.wantErr && !eventsapi.IsAuth(err) {
				t.Errorf("err = %v, want an auth error", err)
			}
			reqs := srv.Requests()
			if len(reqs) != 1 {
				t.Fatalf("%d requests, want 1 (no retry, no refresh)", len(reqs))
			}
			r := reqs[0]
			if r.Auth != tt.wantAuth || r.Header.Get("X-Project-Id") != srv.ProjectID || r.Header.Get("X-Sdk-Date") == "" {
				t.Errorf("auth %q, headers %v", r.Auth, r.Header)
			}
			if tt.secToken != "" && r.Header.Get("X-Security-Token") != "[redacted]" {
				t.Errorf("X-Security-Token not sent")
			}
		})
	}
}

func TestMissingCredentials(t *testing.T) {
	srv := newFake(t)
	srv.AddService("svc", "svc", eventsapi.StatusRunning)
	c := newClient(t, srv, func(cfg *eventsapi.Config) { cfg.Auth = eventsapi.StaticToken("") })
	if _, err := c.GetService(ctxT(t), "svc"); err == nil {
		t.Fatal("empty token accepted")
	}
	if n := len(srv.Requests()); n != 0 {
		t.Errorf("%d requests sent without credentials", n)
	}
	if st := c.Stats(); st.Retries != 0 {
		t.Errorf("missing credentials retried: %+v", st)
	}
}
