package eventsapi_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/modelarts-notifier/modelarts-notifier/eventsapi"
	"github.com/modelarts-notifier/modelarts-notifier/eventsapi/eventsapitest"
)

// logScenario drives the client through every kind of line it logs, into
// a logger writing to w: responses, retries, throttling, a failure, a
// token refresh, the v2-to-v1 lookup and a repeated events page (read on
// by start_time). It returns the messages it expects to have been logged.
func logScenario(t *testing.T, w io.Writer, text bool) []string {
	t.Helper()
	clk := newManualClock()
	srv := newFake(t, eventsapitest.WithClock(clk.Now))
	srv.AddService("svc", "svc", eventsapi.StatusRunning)
	manyEvents(srv, "svc", 30, 1)
	var h slog.Handler = slog.NewJSONHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug})
	if text {
		h = slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug})
	}
	c := newClient(t, srv, func(cfg *eventsapi.Config) {
		// A caller's own attributes do not clash with the client's.
		cfg.Logger = slog.New(h).With("function", "poller")
		cfg.Auth = iamPasswordAuth(srv, srv.Password)
		cfg.MaxRetries = 1
	})
	ctx := ctxT(t)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	// A response; a 500 and its retry; a 429 with Retry-After (capped at
	// 5 ms) holding the client.
	_, err := c.GetService(ctx, "svc")
	must(err)
	srv.Fail(1, eventsapitest.Fault{Status: 503, Path: "/services/"})
	_, err = c.GetService(ctx, "svc")
	must(err)
	srv.Fail(1, eventsapitest.Fault{Status: 429, RetryAfter: "3", Path: "/services/"})
	_, err = c.GetService(ctx, "svc")
	must(err)
	// A failure.
	if _, err := c.GetService(ctx, "missing"); err == nil {
		t.Fatal("no error")
	}
	// The IAM token expires on the fake's clock: rejected, fetched again.
	clk.Advance(48 * time.Hour)
	_, err = c.GetService(ctx, "svc")
	must(err)
	// A v1 service looked up through v2 first.
	_, err = c.LookupService(ctx, "svc", "")
	must(err)
	// A server ignoring offset is read on by start_time, with a warning.
	srv.SetIgnoreOffset(true)
	for _, err := range c.Events(ctx, "svc", eventsapi.EventsQuery{Limit: 10}) {
		must(err)
	}
	return []string{
		"response", "retrying", "throttled: every request of the client waits for the window to end",
		"waiting for the throttle window to end", "request failed", "token rejected; fetching a new one",
		"not a v2 service; reading it as v1", "events paging: the server returned a page already seen",
	}
}

// TestLogLinesJSON: every JSON line of the client holds each key once
// (component and project_id included, once each, with the client's
// values), durations as integer milliseconds in keys ending in _ms, and no
// nil error.
func TestLogLinesJSON(t *testing.T) {
	var buf logBuffer
	wantMsgs := logScenario(t, &buf, false)
	seen := map[string]bool{}
	sc := bufio.NewScanner(strings.NewReader(buf.String()))
	lines := 0
	for sc.Scan() {
		lines++
		line := sc.Bytes()
		if err := checkUniqueKeys(json.NewDecoder(bytes.NewReader(line)), ""); err != nil {
			t.Errorf("line %s: %v", line, err)
		}
		dec := json.NewDecoder(bytes.NewReader(line))
		dec.UseNumber()
		var rec map[string]any
		if err := dec.Decode(&rec); err != nil {
			t.Fatalf("line %s: %v", line, err)
		}
		if rec["component"] != "eventsapi" || rec["project_id"] != eventsapitest.DefaultProjectID || rec["function"] != "poller" {
			t.Errorf("line %s: want component eventsapi, the project id and the caller's function", line)
		}
		for k, v := range rec {
			if timeKey.MatchString(k) && !strings.HasSuffix(k, "_ms") {
				t.Errorf("line %s: %s is a duration: want it in a key ending in _ms", line, k)
			}
			if strings.HasSuffix(k, "_ms") {
				n, ok := v.(json.Number)
				if _, err := n.Int64(); !ok || err != nil {
					t.Errorf("line %s: %s = %v, want integer milliseconds", line, k, v)
				}
			}
			checkValue(t, line, k, v)
		}
		msg, _ := rec["msg"].(string)
		for _, m := range wantMsgs {
			if strings.HasPrefix(msg, m) {
				seen[m] = true
			}
		}
	}
	for _, m := range wantMsgs {
		if !seen[m] {
			t.Errorf("no line %q logged; the scenario misses a case:\n%s", m, buf.String())
		}
	}
	if lines == 0 {
		t.Fatal("nothing logged")
	}
}

// timeKey matches keys that name a duration.
var timeKey = regexp.MustCompile(`(^|_)(duration|wait|delay|window|elapsed|timeout|latency|after)($|_)`)

// durationText is a time.Duration as fmt prints it.
var durationText = regexp.MustCompile(`^-?[0-9.]+(ns|µs|us|ms|s|m|h)([0-9.]+(ns|µs|us|ms|s|m|h))*$`)

// checkValue fails on a nil error, an "<nil>" and a duration printed as
// text.
func checkValue(t *testing.T, line []byte, k string, v any) {
	t.Helper()
	switch v := v.(type) {
	case nil:
		t.Errorf("line %s: %s is null", line, k)
	case string:
		if strings.Contains(v, "<nil>") {
			t.Errorf("line %s: %s = %q", line, k, v)
		}
		if durationText.MatchString(v) {
			t.Errorf("line %s: %s = %q, a duration as text (want %s_ms)", line, k, v, k)
		}
	case map[string]any:
		for kk, vv := range v {
			checkValue(t, line, k+"."+kk, vv)
		}
	}
}

// checkUniqueKeys reads one JSON value from dec and reports a key that
// appears twice in an object.
func checkUniqueKeys(dec *json.Decoder, path string) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	switch tok {
	case json.Delim('{'):
		keys := map[string]bool{}
		for dec.More() {
			kt, err := dec.Token()
			if err != nil {
				return err
			}
			k := kt.(string)
			if keys[k] {
				return fmt.Errorf("key %q twice", path+k)
			}
			keys[k] = true
			if err := checkUniqueKeys(dec, path+k+"."); err != nil {
				return err
			}
		}
		_, err = dec.Token() // }
		return err
	case json.Delim('['):
		for dec.More() {
			if err := checkUniqueKeys(dec, path+"[]."); err != nil {
				return err
			}
		}
		_, err = dec.Token() // ]
		return err
	}
	return nil
}

// TestLogLinesText: the same lines through a text handler: each key once,
// no err=<nil>, no duration printed as text.
func TestLogLinesText(t *testing.T) {
	var buf logBuffer
	logScenario(t, &buf, true)
	attr := regexp.MustCompile(`(?:^| )([a-z_.]+)=("(?:[^"\\]|\\.)*"|\S*)`)
	sc := bufio.NewScanner(strings.NewReader(buf.String()))
	for sc.Scan() {
		line := sc.Text()
		keys := map[string]bool{}
		for _, m := range attr.FindAllStringSubmatch(line, -1) {
			k, v := m[1], strings.Trim(m[2], `"`)
			if keys[k] {
				t.Errorf("line %s: key %s twice", line, k)
			}
			keys[k] = true
			if v == "<nil>" || durationText.MatchString(v) {
				t.Errorf("line %s: %s=%s", line, k, v)
			}
		}
		if !keys["component"] || !keys["project_id"] {
			t.Errorf("line %s: no component or project_id", line)
		}
	}
}
