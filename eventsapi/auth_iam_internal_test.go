package eventsapi

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// iamStub is a minimal IAM token endpoint with a manual clock.
type iamStub struct {
	mu      sync.Mutex
	now     time.Time
	life    time.Duration
	fetches atomic.Int32
	fail    atomic.Bool
}

func (s *iamStub) clock() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.now
}

func (s *iamStub) advance(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.now = s.now.Add(d)
}

func (s *iamStub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	n := s.fetches.Add(1)
	if s.fail.Load() {
		http.Error(w, `{"error_code":"IAM.0001","error_msg":"unavailable"}`, http.StatusBadRequest)
		return
	}
	w.Header().Set("X-Subject-Token", fmt.Sprintf("tok-%d", n))
	w.WriteHeader(http.StatusCreated)
	fmt.Fprintf(w, `{"token":{"expires_at":%q}}`, s.clock().Add(s.life).UTC().Format("2006-01-02T15:04:05.000000Z"))
}

func TestIAMTokenCacheAndRefreshAhead(t *testing.T) {
	stub := &iamStub{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), life: 24 * time.Hour}
	ts := httptest.NewServer(stub)
	defer ts.Close()
	a, err := NewIAMPasswordAuth(IAMConfig{Endpoint: ts.URL, DomainName: "d", Username: "u", Password: "p", ProjectID: "proj"})
	if err != nil {
		t.Fatal(err)
	}
	auth := a.(*iamAuth)
	auth.now = stub.clock
	tok := func() string {
		t.Helper()
		s, err := auth.Token(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	steps := []struct {
		name        string
		advance     time.Duration
		fail        bool
		invalidate  string
		wantToken   string
		wantFetches int32
	}{
		{name: "first use fetches", wantToken: "tok-1", wantFetches: 1},
		{name: "cached", advance: 22 * time.Hour, wantToken: "tok-1", wantFetches: 1},
		{name: "refreshed an hour before expiry", advance: 61 * time.Minute, wantToken: "tok-2", wantFetches: 2},
		{name: "stale invalidation ignored", invalidate: "tok-1", wantToken: "tok-2", wantFetches: 2},
		{name: "invalidation refetches", invalidate: "tok-2", wantToken: "tok-3", wantFetches: 3},
		{name: "failed refresh keeps a live token", advance: 23*time.Hour + 30*time.Minute, fail: true, wantToken: "tok-3", wantFetches: 4},
		{name: "retried on next use", fail: false, wantToken: "tok-5", wantFetches: 5},
	}
	for _, s := range steps {
		stub.advance(s.advance)
		stub.fail.Store(s.fail)
		if s.invalidate != "" {
			auth.InvalidateToken(s.invalidate)
		}
		if got := tok(); got != s.wantToken || stub.fetches.Load() != s.wantFetches {
			t.Errorf("%s: token %q after %d fetches, want %q after %d", s.name, got, stub.fetches.Load(), s.wantToken, s.wantFetches)
		}
	}
	// An expired token is not used when the refresh fails.
	stub.advance(48 * time.Hour)
	stub.fail.Store(true)
	if _, err := auth.Token(t.Context()); err == nil {
		t.Errorf("expired token used: err = %v", err)
	}
}

func TestIAMShortLivedToken(t *testing.T) {
	// A token living 10 minutes is refreshed after 5 (half its life), not
	// at once.
	stub := &iamStub{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), life: 10 * time.Minute}
	ts := httptest.NewServer(stub)
	defer ts.Close()
	a, _ := NewIAMPasswordAuth(IAMConfig{Endpoint: ts.URL, DomainName: "d", Username: "u", Password: "p", ProjectID: "proj"})
	auth := a.(*iamAuth)
	auth.now = stub.clock
	for i, want := range []int32{1, 1, 2} {
		if _, err := auth.Token(t.Context()); err != nil {
			t.Fatal(err)
		}
		if got := stub.fetches.Load(); got != want {
			t.Errorf("call %d: %d fetches, want %d", i, got, want)
		}
		stub.advance(3 * time.Minute)
	}
}

func TestNewIAMPasswordAuthValidates(t *testing.T) {
	ok := IAMConfig{Endpoint: "https://iam.cn-north-4.myhuaweicloud.com", DomainName: "d", Username: "u", Password: "p", ProjectID: "proj"}
	if _, err := NewIAMPasswordAuth(ok); err != nil {
		t.Fatal(err)
	}
	for name, edit := range map[string]func(*IAMConfig){
		"http endpoint": func(c *IAMConfig) { c.Endpoint = "http://iam.example.com" },
		"no domain":     func(c *IAMConfig) { c.DomainName = "" },
		"no user":       func(c *IAMConfig) { c.Username = " " },
		"no password":   func(c *IAMConfig) { c.Password = "" },
		"bad project":   func(c *IAMConfig) { c.ProjectID = "a/b" },
	} {
		c := ok
		edit(&c)
		if _, err := NewIAMPasswordAuth(c); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}
