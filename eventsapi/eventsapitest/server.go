package eventsapitest

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"time"

	"github.com/modelarts-notifier/modelarts-notifier/eventsapi"
)

// Default credentials of a Server. The secrets are fake and only valid
// against a fake.
const (
	DefaultProjectID  = "0123456789abcdef0123456789abcdef"
	DefaultDomainName = "demo-domain"
	DefaultUsername   = "demo-user"
	DefaultPassword   = "demo-password-not-a-secret"
	DefaultAccessKey  = "FAKEACCESSKEY0000000"
	DefaultIAMTTL     = 24 * time.Hour
	// DefaultStep is the time between two events of a scenario helper.
	DefaultStep = 20 * time.Second
)

// Server is a fake ModelArts (and IAM) endpoint.
type Server struct {
	// URL is the base URL of the fake, e.g. http://127.0.0.1:40123: use it
	// as eventsapi.Config.Endpoint.
	URL string
	// IAMURL is the IAM endpoint (the same server, which serves
	// /v3/auth/tokens): use it as eventsapi.IAMConfig.Endpoint.
	IAMURL string
	// ProjectID is the only project the fake serves.
	ProjectID string
	// Token is a static X-Auth-Token the fake accepts.
	Token string
	// DomainName, Username and Password are the IAM credentials accepted.
	DomainName, Username, Password string
	// AccessKey and SecretKey are the AK/SK pair accepted.
	AccessKey, SecretKey string

	ts      *httptest.Server
	now     func() time.Time
	iamTTL  time.Duration
	step    atomic.Int64 // time.Duration
	latency atomic.Int64 // time.Duration
	maxPage atomic.Int64 // 0: pages as large as the limit asks
	delayed atomic.Int64 // requests being delayed now
	reqSeq  atomic.Int64

	// lyingTotal is the total_count events answers claim (0: the truth).
	lyingTotal   atomic.Int64
	ignoreOffset atomic.Bool

	// encoded keeps each distinct event's JSON (eventsapi.Event ->
	// []byte), so that the fake's own work on a page of a thousand events
	// stays small next to the latency it simulates.
	encoded sync.Map

	mu         sync.Mutex
	services   map[string]*service
	nextSeq    int64
	faults     []*faultSlot
	iamTokens  map[string]time.Time // token -> expiry
	iamFetches int
	eventsReqs map[string]int

	// v2 (state_v2.go)
	v2services        map[string]*serviceV2
	nextRecord        int64
	v2TimeField       string
	v2MergePerVersion bool
	onV2Page          func(offset int)
	eventsReqsV2      map[string]int
	v2Unknown         atomic.Int64 // status for an unknown v2 id
	v2ListForbidden   atomic.Bool

	logMu    sync.Mutex
	requests []Request
}

type service struct {
	info      eventsapi.Service
	publishAt int64
	seq       int64
	events    []eventsapi.Event
	raw       []rawEvent // AddRawEvent's, served after events at equal times
}

// Option configures a Server.
type Option func(*Server)

// WithProjectID sets the project the fake serves.
func WithProjectID(id string) Option { return func(s *Server) { s.ProjectID = id } }

// WithToken sets the static token the fake accepts.
func WithToken(token string) Option { return func(s *Server) { s.Token = token } }

// WithIAMUser sets the IAM credentials the fake accepts.
func WithIAMUser(domain, username, password string) Option {
	return func(s *Server) { s.DomainName, s.Username, s.Password = domain, username, password }
}

// WithIAMTokenTTL sets the lifetime of IAM tokens (default 24 h).
func WithIAMTokenTTL(d time.Duration) Option { return func(s *Server) { s.iamTTL = d } }

// WithAKSK sets the AK/SK pair the fake accepts.
func WithAKSK(accessKey, secretKey string) Option {
	return func(s *Server) { s.AccessKey, s.SecretKey = accessKey, secretKey }
}

// WithClock sets the clock used for token expiry, signature dates and
// publish times (default time.Now).
func WithClock(now func() time.Time) Option { return func(s *Server) { s.now = now } }

// WithStep sets the default time between two events appended by a
// scenario helper (default DefaultStep).
func WithStep(d time.Duration) Option { return func(s *Server) { s.step.Store(int64(d)) } }

// NewServer starts a fake on 127.0.0.1. Call Close when done.
func NewServer(opts ...Option) *Server {
	s := &Server{
		ProjectID:  DefaultProjectID,
		Token:      "static-" + randomHex(16),
		DomainName: DefaultDomainName,
		Username:   DefaultUsername,
		Password:   DefaultPassword,
		AccessKey:  DefaultAccessKey,
		SecretKey:  "fake-sk-" + randomHex(16),
		now:        time.Now,
		iamTTL:     DefaultIAMTTL,
		services:   map[string]*service{},
		iamTokens:  map[string]time.Time{},
		eventsReqs: map[string]int{},

		v2services:   map[string]*serviceV2{},
		v2TimeField:  "update_at",
		eventsReqsV2: map[string]int{},
	}
	s.step.Store(int64(DefaultStep))
	s.v2Unknown.Store(http.StatusBadRequest)
	for _, o := range opts {
		o(s)
	}
	s.ts = httptest.NewServer(s.handler())
	s.URL = s.ts.URL
	s.IAMURL = s.ts.URL
	return s
}

// Close shuts the server down, waiting for requests in flight.
func (s *Server) Close() { s.ts.Close() }

// Client returns an *http.Client configured for the server.
func (s *Server) Client() *http.Client { return s.ts.Client() }

// SetLatency delays every response by d (0: none). Requests sleep
// concurrently; no lock is held while sleeping.
func (s *Server) SetLatency(d time.Duration) { s.latency.Store(int64(d)) }

// Delayed returns the number of requests that latency (SetLatency or a
// Fault's) is holding right now. Requests are delayed concurrently, so it
// can reach the number of requests in flight.
func (s *Server) Delayed() int { return int(s.delayed.Load()) }

// SetMaxPageSize makes the events and service list endpoints (v1 and v2)
// answer with at most n records a page, however large the requested
// limit, as a server that caps its pages would (0: no cap). total_count
// (v2: total) still counts every match.
func (s *Server) SetMaxPageSize(n int) { s.maxPage.Store(int64(max(n, 0))) }

// pageLimit is the page size for a requested limit.
func (s *Server) pageLimit(limit int64) int64 {
	if m := s.maxPage.Load(); m > 0 {
		return min(limit, m)
	}
	return limit
}

// SetStep sets the default time between events of scenario helpers.
func (s *Server) SetStep(d time.Duration) { s.step.Store(int64(d)) }

func (s *Server) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/{project}/services/{service}/events", s.handleEvents)
	mux.HandleFunc("GET /v1/{project}/services/{service}", s.handleService)
	mux.HandleFunc("GET /v1/{project}/services", s.handleServices)
	mux.HandleFunc("GET /v2/{project}/services/{service}/deployments/{deployment}/instances/{instance}/pods/{pod}/events", s.handlePodEventsV2)
	mux.HandleFunc("GET /v2/{project}/services/{service}/events", s.handleEventsV2)
	mux.HandleFunc("GET /v2/{project}/services/{service}", s.handleServiceV2)
	mux.HandleFunc("GET /v2/{project}/services", s.handleServicesV2)
	mux.HandleFunc("POST /v3/auth/tokens", s.handleIAMToken)
	return s.middleware(mux)
}

// writeJSON writes v with status code.
func writeJSON(w http.ResponseWriter, code int, v any) {
	data, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_, _ = w.Write(data)
}

// ErrorBody is the ModelArts error document.
type ErrorBody struct {
	ErrorCode string `json:"error_code"`
	ErrorMsg  string `json:"error_msg"`
}

func writeError(w http.ResponseWriter, code int, errorCode, format string, a ...any) {
	writeJSON(w, code, ErrorBody{ErrorCode: errorCode, ErrorMsg: fmt.Sprintf(format, a...)})
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
