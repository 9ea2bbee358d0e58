package eventsapitest

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/modelarts-notifier/modelarts-notifier/eventsapi"
)

// Request is one request the fake received. Secrets are redacted from
// Header: X-Auth-Token, X-Security-Token and the signature of
// Authorization.
type Request struct {
	Time   time.Time
	Method string
	Path   string
	Query  url.Values
	Header http.Header
	// Auth is how the request authenticated: "token" (the static token),
	// "iam" (an IAM token), "aksk", "none", or "rejected".
	Auth string
	// Status is the status sent (200 for a truncated body).
	Status int
	// Fault reports that an injected fault answered the request.
	Fault bool
}

// Requests returns the request log, in the order responses completed.
func (s *Server) Requests() []Request {
	s.logMu.Lock()
	defer s.logMu.Unlock()
	out := make([]Request, len(s.requests))
	copy(out, s.requests)
	return out
}

// ResetRequests empties the request log and the per-service counters.
func (s *Server) ResetRequests() {
	s.logMu.Lock()
	s.requests = nil
	s.logMu.Unlock()
	s.mu.Lock()
	clear(s.eventsReqs)
	clear(s.eventsReqsV2)
	s.mu.Unlock()
}

// EventsRequests returns how many events requests (v1 and v2) named
// serviceID.
func (s *Server) EventsRequests(serviceID string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.eventsReqs[serviceID]
}

// EventsRequestsV2 returns how many v2 events requests named serviceID.
func (s *Server) EventsRequestsV2(serviceID string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.eventsReqsV2[serviceID]
}

// IAMTokenRequests returns how many IAM token requests were answered
// (successful or not).
func (s *Server) IAMTokenRequests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.iamFetches
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// middleware logs, delays, injects faults and checks authentication.
func (s *Server) middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := Request{
			Time:   s.now(),
			Method: r.Method,
			Path:   r.URL.Path,
			Query:  r.URL.Query(),
			Header: redactHeader(r.Header),
			Auth:   "none",
		}
		sw := &statusWriter{ResponseWriter: w}
		defer func() {
			rec.Status = sw.status
			s.logMu.Lock()
			s.requests = append(s.requests, rec)
			s.logMu.Unlock()
		}()
		sw.Header().Set("X-Request-Id", fmt.Sprintf("fake-%08d", s.reqSeq.Add(1)))

		fault, faulty := s.takeFault(r.URL.Path)
		if !s.sleep(r, time.Duration(s.latency.Load())+fault.Latency) {
			return
		}
		if faulty && fault.Status != 0 {
			rec.Fault = true
			code, msg := defaultErrorCode(fault.Status)
			if fault.Code != "" {
				code = fault.Code
			}
			if fault.Message != "" {
				msg = fault.Message
			}
			if fault.RetryAfter != "" {
				sw.Header().Set("Retry-After", fault.RetryAfter)
			}
			writeError(sw, fault.Status, code, "%s", msg)
			return
		}

		if !strings.HasPrefix(r.URL.Path, "/v3/") {
			auth, ok := s.authenticate(sw, r)
			rec.Auth = auth
			if !ok {
				return
			}
		}
		if faulty && fault.Truncate {
			rec.Fault = true
			buf := httptest.NewRecorder()
			next.ServeHTTP(buf, r)
			body := buf.Body.Bytes()
			for k, v := range buf.Header() {
				sw.Header()[k] = v
			}
			sw.Header().Set("Content-Length", strconv.Itoa(len(body)))
			sw.WriteHeader(buf.Code)
			_, _ = sw.Write(body[:len(body)/2])
			if f, ok := w.(http.Flusher); ok {
				f.Flush()
			}
			rec.Status = sw.status
			panic(http.ErrAbortHandler) // drop the connection mid-body
		}
		next.ServeHTTP(sw, r)
	})
}

// authenticate accepts the static token, a live IAM token, or an AK/SK
// signature. On failure it writes a 401 ModelArts error and returns false.
func (s *Server) authenticate(w http.ResponseWriter, r *http.Request) (string, bool) {
	if tok := r.Header.Get(eventsapi.HeaderAuthToken); tok != "" {
		if tok == s.Token {
			return "token", true
		}
		s.mu.Lock()
		exp, known := s.iamTokens[tok]
		s.mu.Unlock()
		switch {
		case known && s.now().Before(exp):
			return "iam", true
		case known:
			writeError(w, http.StatusUnauthorized, "ModelArts.0204", "The token has expired.")
		default:
			writeError(w, http.StatusUnauthorized, "ModelArts.0203", "Invalid token.")
		}
		return "rejected", false
	}
	if strings.HasPrefix(r.Header.Get("Authorization"), eventsapi.SignAlgorithm) {
		if pid := r.Header.Get(eventsapi.HeaderProjectID); pid != s.ProjectID {
			writeError(w, http.StatusUnauthorized, "APIG.0301", "Incorrect IAM authentication information: X-Project-Id %q is not the project.", pid)
			return "rejected", false
		}
		body, _ := io.ReadAll(io.LimitReader(r.Body, 8<<20))
		r.Body = io.NopCloser(bytes.NewReader(body))
		err := eventsapi.VerifySignedRequest(r, body, func(ak string) (string, bool) {
			return s.SecretKey, ak == s.AccessKey
		}, s.now(), 15*time.Minute)
		if err != nil {
			writeError(w, http.StatusUnauthorized, "APIG.0301", "Incorrect IAM authentication information: %v", err)
			return "rejected", false
		}
		return "aksk", true
	}
	writeError(w, http.StatusUnauthorized, "ModelArts.0201", "The request has no token.")
	return "none", false
}

func redactHeader(h http.Header) http.Header {
	out := h.Clone()
	for _, k := range []string{eventsapi.HeaderAuthToken, eventsapi.HeaderSecurityToken} {
		if out.Get(k) != "" {
			out.Set(k, "[redacted]")
		}
	}
	if a := out.Get("Authorization"); a != "" {
		if i := strings.Index(a, "Signature="); i >= 0 {
			out.Set("Authorization", a[:i]+"Signature=[redacted]")
		} else {
			out.Set("Authorization", "[redacted]")
		}
	}
	return out
}
