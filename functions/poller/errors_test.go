package main

import (
	"bytes"
	"context"
	"flag"
	"net"
	"regexp"
	"strings"
	"testing"

	"github.com/modelarts-notifier/modelarts-notifier/eventsapi/eventsapitest"
)

var printErrors = flag.Bool("print-errors", false, "print the top-level error texts instead of checking them")

// The errors a user meets at the top level, exactly as the poller prints
// them (after "poller: "): each layer adds its context once, and the text
// says what to check. Ports and request ids vary and are masked.
func TestTopLevelErrorTexts(t *testing.T) {
	const svc = "5f9d3a1e-7c2b-4e8a-9b6d-0c1e2f3a4b5c"
	closed := func() string { // a loopback port nothing listens on
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := l.Addr().String()
		l.Close()
		return "http://" + addr
	}
	tests := []struct {
		name  string
		setup func(t *testing.T, fake *eventsapitest.Server)
		want  string
	}{
		{"bad service id", func(t *testing.T, fake *eventsapitest.Server) {
			t.Setenv("MODELARTS_SERVICE_IDS", "ok-1,bad id")
		}, `configuration: MODELARTS_SERVICE_IDS: invalid id: ModelArts id "bad id": contains white space`},
		{"bad config value", func(t *testing.T, fake *eventsapitest.Server) {
			t.Setenv("FIRST_RUN_LOOKBACK", "forever")
		}, `configuration: FIRST_RUN_LOOKBACK: invalid value: "forever" is not a duration such as 90m, 24h or 7d`},
		{"unreachable endpoint", func(t *testing.T, fake *eventsapitest.Server) {
			t.Setenv("MODELARTS_ENDPOINT", closed())
		}, `list services: cannot reach http://127.0.0.1:PORT: dial tcp 127.0.0.1:PORT: connect: connection refused`},
		{"401", func(t *testing.T, fake *eventsapitest.Server) {
			t.Setenv("MODELARTS_TOKEN", "not-the-token")
		}, `list services: HTTP 401 ModelArts.0203: Invalid token. (request id ID)`},
		{"403", func(t *testing.T, fake *eventsapitest.Server) {
			fake.Fail(100, eventsapitest.Fault{Path: "/services", Status: 403, Code: "ModelArts.0106", Message: "Forbidden."})
		}, `list services: HTTP 403 ModelArts.0106: Forbidden. (request id ID)`},
		{"404", func(t *testing.T, fake *eventsapitest.Server) {
			t.Setenv("MODELARTS_SERVICE_IDS", svc)
		}, `get service ` + svc + `: HTTP 404 ModelArts.3502: Service ` + svc + ` does not exist. (request id ID) (v2 details answered HTTP 400 ModelArts.0101)`},
	}
	mask := regexp.MustCompile(`127\.0\.0\.1:\d+|fake-\d+`)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cleanEnv(t)
			fake := eventsapitest.NewServer()
			t.Cleanup(fake.Close)
			t.Setenv("MODELARTS_ENDPOINT", fake.URL)
			t.Setenv("MODELARTS_PROJECT_ID", fake.ProjectID)
			t.Setenv("MODELARTS_TOKEN", fake.Token)
			t.Setenv("WEBHOOK_URLS", "")
			tt.setup(t, fake)
			err := realMain(context.Background(), nil, &bytes.Buffer{}, &bytes.Buffer{})
			if err == nil {
				t.Fatal("no error")
			}
			got := mask.ReplaceAllStringFunc(err.Error(), func(s string) string {
				if strings.HasPrefix(s, "fake-") {
					return "ID"
				}
				return "127.0.0.1:PORT"
			})
			if *printErrors {
				t.Logf("%s", got)
				return
			}
			if got != tt.want {
				t.Errorf("error text:\n got %s\nwant %s", got, tt.want)
			}
			if strings.Contains(got, fake.Token) {
				t.Error("the token is in the error")
			}
		})
	}
}
