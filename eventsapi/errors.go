package eventsapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// Sentinel errors, usable with errors.Is.
var (
	// ErrInvalidID reports a project or service id that cannot be placed in
	// a URL path safely. No request is sent.
	ErrInvalidID = errors.New("invalid id")
	// ErrNotFound matches an *APIError for a service that does not exist:
	// error code ModelArts.3502, or an HTTP 404 with no error code at all.
	// A 404 with another code (APIG.0101 from a wrong endpoint or region,
	// say) does not match: the service may well exist.
	ErrNotFound = errors.New("not found")
)

// Error codes with a documented meaning.
const (
	// CodeServiceNotFound: the service does not exist.
	CodeServiceNotFound = "ModelArts.3502"
	// CodeThrottled and CodeGatewayThrottled: too many requests.
	CodeThrottled        = "ModelArts.2799"
	CodeGatewayThrottled = "APIG.0308"
)

// tokenErrorCodes are the 401 error codes meaning the token is bad or
// expired; an IAM token is fetched again once when one of them is returned.
var tokenErrorCodes = []string{
	"ModelArts.0201", "ModelArts.0202", "ModelArts.0203",
	"ModelArts.0204", "ModelArts.4127", "ModelArts.6620",
}

// IsTokenErrorCode reports whether code says that the token is bad or
// expired.
func IsTokenErrorCode(code string) bool { return slices.Contains(tokenErrorCodes, code) }

// APIError is a non-2xx answer of the ModelArts (or IAM) API.
type APIError struct {
	// StatusCode is the HTTP status.
	StatusCode int
	// Code is error_code from the body, e.g. "ModelArts.3502"; may be empty.
	Code string
	// Message is error_msg from the body, or a bounded excerpt of a body
	// that was not a ModelArts error document.
	Message string
	// RequestID is the X-Request-Id response header.
	RequestID string
	// RetryAfter is the server's Retry-After hint, 0 when absent.
	RetryAfter time.Duration
}

// Error implements error, e.g.
// "HTTP 404 ModelArts.3502: service not found (request id 9b1c)".
func (e *APIError) Error() string {
	var b strings.Builder
	e.writeSummary(&b, e.Message)
	if e.RequestID != "" {
		fmt.Fprintf(&b, " (request id %s)", e.RequestID)
	}
	if e.StatusCode == http.StatusNotFound && !e.serviceNotFound() {
		b.WriteString(" (not a missing service: check the endpoint, region and project id)")
	}
	return b.String()
}

// writeSummary writes "HTTP {status}[ {code}][: {msg}]", or the status
// text when there is neither code nor msg.
func (e *APIError) writeSummary(b *strings.Builder, msg string) {
	fmt.Fprintf(b, "HTTP %d", e.StatusCode)
	if e.Code != "" {
		b.WriteString(" ")
		b.WriteString(e.Code)
	}
	if msg != "" {
		b.WriteString(": ")
		b.WriteString(msg)
	} else if e.Code == "" {
		b.WriteString(" ")
		b.WriteString(http.StatusText(e.StatusCode))
	}
}

// summary is a short form of Error for a note inside another error: the
// status and the code (the status text without a code).
func (e *APIError) summary() string {
	if e.Code == "" {
		return fmt.Sprintf("HTTP %d %s", e.StatusCode, http.StatusText(e.StatusCode))
	}
	return fmt.Sprintf("HTTP %d %s", e.StatusCode, e.Code)
}

// Is makes errors.Is(err, ErrNotFound) true for a missing service.
func (e *APIError) Is(target error) bool {
	return target == ErrNotFound && e.serviceNotFound()
}

// serviceNotFound reports whether e says that the service does not exist:
// ModelArts.3502, or a bare 404 without any error code. A 404 with another
// code comes from somewhere else (an API gateway that knows no such API,
// because the endpoint or region is wrong) and says nothing about the
// service.
func (e *APIError) serviceNotFound() bool {
	return e.Code == CodeServiceNotFound || (e.StatusCode == http.StatusNotFound && e.Code == "")
}

// IsNotFound reports whether err says that the service does not exist.
func IsNotFound(err error) bool { return errors.Is(err, ErrNotFound) }

// IsThrottled reports whether err is an API answer saying "too many
// requests" (HTTP 429, ModelArts.2799 or APIG.0308).
func IsThrottled(err error) bool {
	var ae *APIError
	if !errors.As(err, &ae) {
		return false
	}
	return ae.StatusCode == http.StatusTooManyRequests || ae.Code == CodeThrottled || ae.Code == CodeGatewayThrottled
}

// IsForbidden reports whether err is an API answer with HTTP 403: the
// credentials are valid but lack a permission (e.g. a token with v1 rights
// only, on the v2 service list), or the project is not theirs.
func IsForbidden(err error) bool {
	var ae *APIError
	return errors.As(err, &ae) && ae.StatusCode == http.StatusForbidden
}

// IsAuth reports whether err is an authentication or authorisation failure:
// HTTP 401 or 403, or a token error code.
func IsAuth(err error) bool {
	var ae *APIError
	if !errors.As(err, &ae) {
		return false
	}
	return ae.StatusCode == http.StatusUnauthorized || ae.StatusCode == http.StatusForbidden || IsTokenErrorCode(ae.Code)
}

// maxErrorExcerpt bounds the part of a non-JSON error body kept in
// APIError.Message.
const maxErrorExcerpt = 256

// newAPIError builds an APIError from a response and its (already capped)
// body. Both the ModelArts shape {"error_code","error_msg"} and the IAM
// shape {"error":{"code","message"}} are understood. Every secret (and its
// JSON-escaped forms) is replaced by "[redacted]" before the message is
// cut, should the server echo the request back: not even a prefix of a
// secret is kept.
func newAPIError(resp *http.Response, body []byte, now time.Time, secrets ...string) *APIError {
	e := &APIError{
		StatusCode: resp.StatusCode,
		RequestID:  resp.Header.Get("X-Request-Id"),
	}
	if d, ok := parseRetryAfter(resp.Header.Get("Retry-After"), now); ok {
		e.RetryAfter = d
	}
	var doc struct {
		ErrorCode string `json:"error_code"`
		ErrorMsg  string `json:"error_msg"`
		Error     *struct {
			Code    json.RawMessage `json:"code"`
			Message string          `json:"message"`
		} `json:"error"`
	}
	if json.Unmarshal(body, &doc) == nil {
		e.Code, e.Message = doc.ErrorCode, doc.ErrorMsg
		if e.Message == "" && doc.Error != nil {
			e.Message = doc.Error.Message
		}
	}
	forms := secretForms(secrets)
	e.Code = redact(e.Code, forms)
	if e.Code == "" && e.Message == "" {
		e.Message, _ = truncate(redact(strings.TrimSpace(string(body)), forms), maxErrorExcerpt)
	}
	e.Message, _ = truncate(redact(e.Message, forms), 4*maxErrorExcerpt)
	return e
}

// secretForms returns the texts under which the non-empty secrets may be
// echoed: as they are, JSON-escaped (with and without HTML escaping, as
// they were sent in a JSON body) and JSON-escaped twice (a JSON body
// quoted in a JSON string), longest first.
func secretForms(secrets []string) []string {
	var forms []string
	quote := func(s string, html bool) string {
		var b strings.Builder
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(html)
		_ = enc.Encode(s)
		q := strings.TrimSuffix(b.String(), "\n")
		return q[1 : len(q)-1]
	}
	for _, s := range secrets {
		if s == "" {
			continue
		}
		forms = append(forms, s)
		for _, html := range []bool{false, true} {
			once := quote(s, html)
			forms = append(forms, once, quote(once, html))
		}
	}
	slices.SortFunc(forms, func(a, b string) int { return len(b) - len(a) })
	return slices.Compact(forms)
}

// redact replaces every occurrence of the forms in s by "[redacted]".
func redact(s string, forms []string) string {
	for _, f := range forms {
		s = strings.ReplaceAll(s, f, "[redacted]")
	}
	return s
}

// truncate cuts s to at most n bytes on a rune boundary, marking the cut.
func truncate(s string, n int) (string, bool) {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if len(s) <= n {
		return s, false
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…", true
}
