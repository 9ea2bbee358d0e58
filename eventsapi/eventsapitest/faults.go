package eventsapitest

import (
	"net/http"
	"strings"
	"time"
)

// Fault describes how to spoil a response.
type Fault struct {
	// Path restricts the fault to requests whose path contains it
	// ("" matches every request, IAM included).
	Path string
	// Latency delays the response (added to SetLatency's).
	Latency time.Duration
	// Status, when non-zero, replaces the response with this status and
	// a ModelArts error body (Code and Message; defaults by status).
	Status     int
	Code       string
	Message    string
	RetryAfter string
	// Truncate sends the real response's status and headers, including
	// its full Content-Length, then half its body, and drops the
	// connection: the client sees an unexpected EOF.
	Truncate bool
}

type faultSlot struct {
	left int
	f    Fault
}

// Fail makes the next n requests that match f.Path suffer f. Faults are
// consumed in the order they were added.
func (s *Server) Fail(n int, f Fault) {
	if n <= 0 {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, &faultSlot{left: n, f: f})
}

// ClearFaults drops every pending fault.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = nil
}

// takeFault consumes the first pending fault matching path.
func (s *Server) takeFault(path string) (Fault, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, slot := range s.faults {
		if slot.f.Path != "" && !strings.Contains(path, slot.f.Path) {
			continue
		}
		slot.left--
		if slot.left <= 0 {
			s.faults = append(s.faults[:i:i], s.faults[i+1:]...)
		}
		return slot.f, true
	}
	return Fault{}, false
}

// SetLyingTotal makes events answers claim a total_count of n, and answer
// any offset at or past the real end of the matches with the last page
// again (the last limit records, or fewer when SetMaxPageSize caps pages
// lower), as a server was measured to do: "total_count 5000, the same
// 40-event page at every offset". n should exceed the real count; 0 turns
// the mode off. Offsets before the real end are answered truthfully, and
// the service list is not affected. v2 events answers (total) lie alike.
func (s *Server) SetLyingTotal(n int) { s.lyingTotal.Store(int64(max(n, 0))) }

// SetIgnoreOffset makes events answers ignore offset: every request gets
// the first limit records (from start_time, in the order asked for), as a
// server that does not implement offset would answer. total_count stays
// true unless SetLyingTotal is set too. v2 events answers ignore offset
// alike.
func (s *Server) SetIgnoreOffset(ignore bool) { s.ignoreOffset.Store(ignore) }

// defaultErrorCode is the error_code the fake uses for a status.
func defaultErrorCode(status int) (code, msg string) {
	switch status {
	case http.StatusTooManyRequests:
		return "ModelArts.2799", "Too many requests. Try again later."
	case http.StatusUnauthorized:
		return "ModelArts.0203", "Invalid token."
	case http.StatusForbidden:
		return "ModelArts.0106", "Access denied."
	case http.StatusNotFound:
		return "ModelArts.3502", "The service does not exist."
	case http.StatusBadRequest:
		return "ModelArts.0101", "Invalid request."
	}
	if status >= 500 {
		return "ModelArts.0000", "Internal error. Try again later."
	}
	return "ModelArts.0000", http.StatusText(status)
}

// sleep waits d or until the request is cancelled. While it waits, the
// request counts in Delayed.
func (s *Server) sleep(r *http.Request, d time.Duration) bool {
	if d <= 0 {
		return true
	}
	s.delayed.Add(1)
	defer s.delayed.Add(-1)
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-r.Context().Done():
		return false
	}
}
