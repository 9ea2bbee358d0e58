package notifier

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// userAgent names the product and its version.
func userAgent(version string) string {
	if version == "" {
		version = "dev"
	}
	return "modelarts-notifier/" + version
}

// defaultHTTPClient is used when a config leaves HTTPClient nil.
var defaultHTTPClient = &http.Client{Timeout: 15 * time.Second, CheckRedirect: noRedirect}

// noRedirect makes a client return a 3xx as it is: following it would turn
// a POST into a GET (302, 303: a 200 that delivered nothing) or re-send a
// signed body to wherever Location says, even over plain http (307, 308).
// A 3xx is then a permanent failure, as [Classify] says.
func noRedirect(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// httpClient is the client a destination uses: the caller's, or the
// default, as a copy that never follows redirects. The caller's client is
// left as it was.
func httpClient(c *http.Client) *http.Client {
	if c == nil {
		c = defaultHTTPClient
	}
	cp := *c
	cp.CheckRedirect = noRedirect
	return &cp
}

// parseEndpoint checks a destination URL without ever showing it: https,
// or http on a loopback host (tests, local receivers). name is the setting
// to blame in the error, e.g. "WEBHOOK_URLS".
func parseEndpoint(name, raw string) (*url.URL, error) {
	if raw == "" {
		return nil, fmt.Errorf("%s: empty URL", name)
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("%s: not a valid URL", name) // err would show it
	}
	if u.Host == "" {
		return nil, fmt.Errorf("%s: URL has no host", name)
	}
	switch u.Scheme {
	case "https":
	case "http":
		if !isLoopback(u.Hostname()) {
			return nil, fmt.Errorf("%s: http:// is refused except on loopback; use https://", name)
		}
	default:
		return nil, fmt.Errorf("%s: scheme %q is not https", name, u.Scheme)
	}
	return u, nil
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// readBounded reads at most maxErrorBody bytes of a body, as valid UTF-8.
func readBounded(r io.Reader) string {
	b, _ := io.ReadAll(io.LimitReader(r, maxErrorBody))
	return strings.ToValidUTF8(strings.TrimSpace(string(b)), "\uFFFD")
}

// drain reads the rest of a body (so the connection can be reused) and
// closes it.
func drain(body io.ReadCloser) {
	_, _ = io.Copy(io.Discard, io.LimitReader(body, 1<<20))
	_ = body.Close()
}

// post sends one JSON POST and turns any answer but a 2xx into a
// *DeliveryError. Network errors come back with their URL redacted.
func post(ctx context.Context, client *http.Client, target string, header http.Header, body []byte, now time.Time) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return permanent(errors.New("build request")) // err would show the URL
	}
	for k, v := range header {
		req.Header[k] = v
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return redactURL(err)
	}
	defer drain(resp.Body)
	if Classify(resp.StatusCode) == Delivered {
		return nil
	}
	return &DeliveryError{
		StatusCode: resp.StatusCode,
		Body:       readBounded(resp.Body),
		RetryAfter: retryAfter(resp.Header.Get("Retry-After"), now),
	}
}
