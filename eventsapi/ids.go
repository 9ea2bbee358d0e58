package eventsapi

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"unicode"
)

// validateID checks a project or service id before it is placed in a URL
// path. The error names the id (quoted, so control characters show).
func validateID(kind, id string) error {
	reason := ""
	switch {
	case id == "":
		reason = "empty"
	case len(id) > 128:
		reason = "longer than 128 bytes"
	case strings.Contains(id, ".."):
		reason = `contains ".."`
	default:
		for _, r := range id {
			switch {
			case r == '/' || r == '\\':
				reason = fmt.Sprintf("contains %q", r)
			case r == '?' || r == '#' || r == '%':
				reason = fmt.Sprintf("contains %q", r)
			case unicode.IsSpace(r):
				reason = "contains white space"
			case unicode.IsControl(r) || r == unicode.ReplacementChar:
				reason = "contains a control or invalid character"
			}
			if reason != "" {
				break
			}
		}
	}
	if reason != "" {
		return fmt.Errorf("%w: %s id %q: %s", ErrInvalidID, kind, id, reason)
	}
	return nil
}

// parseEndpoint checks a base URL: https, or http on a loopback host; no
// user info, query or fragment. The trailing slash is dropped.
func parseEndpoint(raw string) (*url.URL, error) {
	if raw == "" {
		return nil, errors.New("empty URL")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, errors.New("not a valid URL")
	}
	if u.Host == "" || u.Opaque != "" {
		return nil, fmt.Errorf("URL %q has no host", raw)
	}
	if u.User != nil {
		return nil, errors.New("URL must not contain user info")
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("URL %q must not have a query or fragment", raw)
	}
	switch u.Scheme {
	case "https":
	case "http":
		if !IsLoopback(u.Hostname()) {
			return nil, fmt.Errorf("URL %q: http:// is only allowed on loopback; use https://", raw)
		}
	default:
		return nil, fmt.Errorf("URL %q: scheme must be https", raw)
	}
	u.Path = strings.TrimRight(u.Path, "/")
	u.RawPath = strings.TrimRight(u.RawPath, "/")
	return u, nil
}

// IsLoopback reports whether host (a name or IP, without port) is
// localhost or a loopback address.
func IsLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
