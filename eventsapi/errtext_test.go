package eventsapi_test

import (
	"context"
	"flag"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/modelarts-notifier/modelarts-notifier/eventsapi"
	"github.com/modelarts-notifier/modelarts-notifier/eventsapi/eventsapitest"
)

var printErrTexts = flag.Bool("print-error-texts", false, "print the texts of TestErrorTexts instead of checking them")

// Ids of the error text table.
const (
	errSvc     = "5f9d3a1e-7c2b-4e8a-9b6d-0c1e2f3a4b5c"
	errDep     = "group-1"
	errProject = "ffffffffffffffffffffffffffffffff"
	// wrongToken is the token of the 401 rows; it must appear nowhere.
	wrongToken = "wrong-SECRET-token-0123456789"
)

// errCalls are the calls of the table, each returning its first error.
var errCalls = []struct {
	name string
	call func(context.Context, *eventsapi.Client) error
}{
	{"GetService", func(ctx context.Context, c *eventsapi.Client) error { _, err := c.GetService(ctx, errSvc); return err }},
	{"GetServiceV2", func(ctx context.Context, c *eventsapi.Client) error {
		_, err := c.GetServiceV2(ctx, errSvc)
		return err
	}},
	{"LookupService", func(ctx context.Context, c *eventsapi.Client) error {
		_, err := c.LookupService(ctx, errSvc, "")
		return err
	}},
	{"ListServices", func(ctx context.Context, c *eventsapi.Client) error {
		_, err := c.ListServices(ctx, eventsapi.ServicesQuery{})
		return err
	}},
	{"Services", func(ctx context.Context, c *eventsapi.Client) error { return firstErr(c.Services(ctx)) }},
	{"ListEvents", func(ctx context.Context, c *eventsapi.Client) error {
		_, err := c.ListEvents(ctx, errSvc, eventsapi.EventsQuery{})
		return err
	}},
	{"Events", func(ctx context.Context, c *eventsapi.Client) error {
		return firstErr(c.Events(ctx, errSvc, eventsapi.EventsQuery{}))
	}},
	{"ServicesV2", func(ctx context.Context, c *eventsapi.Client) error { return firstErr(c.ServicesV2(ctx)) }},
	{"EventsV2", func(ctx context.Context, c *eventsapi.Client) error { return firstErr(c.EventsV2(ctx, errSvc, 0)) }},
	{"PodEvents", func(ctx context.Context, c *eventsapi.Client) error {
		_, err := c.PodEvents(ctx, errSvc, errDep, 0, 0)
		return err
	}},
}

func firstErr[T any](seq func(func(T, error) bool)) error {
	for _, err := range seq {
		if err != nil {
			return err
		}
	}
	return nil
}

// perService are the calls that name a service.
var perService = []string{"GetService", "GetServiceV2", "LookupService", "ListEvents", "Events", "EventsV2", "PodEvents"}

// errSetups are the failures of the table: what the fake answers (or that
// nothing answers), for calls (nil: every call).
var errSetups = []struct {
	name  string
	calls []string
	setup func(srv *eventsapitest.Server, cfg *eventsapi.Config)
}{
	{"401 wrong token", nil, func(_ *eventsapitest.Server, cfg *eventsapi.Config) { cfg.Auth = eventsapi.StaticToken(wrongToken) }},
	{"403 another project", nil, func(_ *eventsapitest.Server, cfg *eventsapi.Config) { cfg.ProjectID = errProject }},
	{"404 missing service", perService, func(*eventsapitest.Server, *eventsapi.Config) {}},
	// The two other answers ModelArts gives for "no such v2 service", after
	// which LookupService reads v1.
	{"404 missing service, v2 answers 403", []string{"LookupService"}, func(srv *eventsapitest.Server, _ *eventsapi.Config) {
		srv.SetV2UnknownStatus(403)
	}},
	{"404 missing service, v2 answers 404", []string{"LookupService"}, func(srv *eventsapitest.Server, _ *eventsapi.Config) {
		srv.SetV2UnknownStatus(404)
	}},
	{"404 wrong endpoint", nil, func(srv *eventsapitest.Server, _ *eventsapi.Config) {
		srv.Fail(100, eventsapitest.Fault{Status: 404, Code: "APIG.0101",
			Message: "The API does not exist or has not been published in the environment"})
	}},
	{"500 after retries", nil, func(srv *eventsapitest.Server, _ *eventsapi.Config) {
		srv.Fail(100, eventsapitest.Fault{Status: 500})
	}},
	{"unreachable", nil, func(srv *eventsapitest.Server, _ *eventsapi.Config) { srv.Close() }},
	// A server that ignores offset, behind which a read cannot go past a
	// full page of events already read: the iteration ends cut short.
	// (The fake holds an id as a v1 or a v2 service, not both.)
	{"ignores offset, a full page again", []string{"Events"}, func(srv *eventsapitest.Server, _ *eventsapi.Config) {
		evs := make([]eventsapi.Event, eventsapi.DefaultLimit+1) // more at one millisecond than a page holds
		for i := range evs {
			evs[i] = eventsapi.Event{EventType: eventsapi.EventTypeNormal, EventInfo: fmt.Sprintf("event %04d", i), OccurTime: 1_700_000_000_000}
		}
		srv.AppendEvents(errSvc, evs...)
		srv.SetIgnoreOffset(true)
	}},
	{"ignores offset, a full page again, v2", []string{"EventsV2"}, func(srv *eventsapitest.Server, _ *eventsapi.Config) {
		evs := make([]eventsapi.Event, 1000) // two pages of 500
		for i := range evs {
			evs[i] = eventsapi.Event{EventType: eventsapi.EventTypeNormal, EventInfo: fmt.Sprintf("record %04d", i), OccurTime: 1_700_000_000_000 + int64(i)}
		}
		srv.AppendV2Events(errSvc, evs...)
		srv.SetIgnoreOffset(true)
	}},
	{"IAM wrong password", []string{"GetService"}, func(srv *eventsapitest.Server, cfg *eventsapi.Config) {
		cfg.Auth = iamPasswordAuth(srv, wrongToken)
	}},
	{"IAM unreachable", []string{"GetService"}, func(srv *eventsapitest.Server, cfg *eventsapi.Config) {
		cfg.Auth = iamPasswordAuth(srv, srv.Password)
		srv.Close()
	}},
}

// iamPasswordAuth returns IAM password auth against srv with password.
func iamPasswordAuth(srv *eventsapitest.Server, password string) eventsapi.Authenticator {
	a, err := eventsapi.NewIAMPasswordAuth(eventsapi.IAMConfig{Endpoint: srv.IAMURL, DomainName: srv.DomainName,
		Username: srv.Username, Password: password, ProjectID: srv.ProjectID, HTTPClient: srv.Client()})
	if err != nil {
		panic(err)
	}
	return a
}

// TestErrorTexts: the exact text of every call's error for each failure a
// user meets. Each layer adds its context once; no token appears.
func TestErrorTexts(t *testing.T) {
	var printed strings.Builder
	for _, setup := range errSetups {
		for _, call := range errCalls {
			if setup.calls != nil && !slices.Contains(setup.calls, call.name) {
				continue
			}
			name := call.name + "/" + setup.name
			want, ok := errTexts[name]
			if !ok && !*printErrTexts {
				t.Errorf("%s: no expected text", name)
				continue
			}
			t.Run(name, func(t *testing.T) {
				srv := newFake(t)
				c := newClient(t, srv, func(cfg *eventsapi.Config) {
					cfg.MaxRetries = 2
					setup.setup(srv, cfg)
				})
				err := call.call(ctxT(t), c)
				if err == nil {
					t.Fatal("no error")
				}
				u, _ := url.Parse(srv.URL)
				got := strings.ReplaceAll(err.Error(), u.Host, "127.0.0.1:PORT")
				if *printErrTexts {
					fmt.Fprintf(&printed, "\t%q: %q,\n", name, got)
					return
				}
				if got != want {
					t.Errorf("error\n got %s\nwant %s", got, want)
				}
				for _, secret := range []string{wrongToken, srv.Token, srv.Password} {
					if strings.Contains(err.Error(), secret) {
						t.Errorf("error %q shows a token", err)
					}
				}
				assertContextOnce(t, err.Error())
			})
		}
	}
	if *printErrTexts {
		t.Log("\n" + printed.String())
	}
}

// contextPrefixes are the contexts the client's calls add.
var contextPrefixes = []string{
	"get service ", "get v2 service ", "look up service", "list services", "list v2 services",
	"list events", "list v2 events", "list pod events", "authenticate", "cannot reach", "(request id",
	"v2 details answered",
}

// assertContextOnce fails if any context appears twice in msg.
func assertContextOnce(t *testing.T, msg string) {
	t.Helper()
	for _, p := range contextPrefixes {
		if n := strings.Count(msg, p); n > 1 {
			t.Errorf("error %q says %q %d times", msg, p, n)
		}
	}
}

// errTexts are the expected texts, by call/setup.
var errTexts = map[string]string{
	"GetService/401 wrong token":                        "get service 5f9d3a1e-7c2b-4e8a-9b6d-0c1e2f3a4b5c: HTTP 401 ModelArts.0203: Invalid token. (request id fake-00000001)",
	"GetServiceV2/401 wrong token":                      "get v2 service 5f9d3a1e-7c2b-4e8a-9b6d-0c1e2f3a4b5c: HTTP 401 ModelArts.0203: Invalid token. (request id fake-00000001)",
	"LookupService/401 wrong token":                     "get v2 service 5f9d3a1e-7c2b-4e8a-9b6d-0c1e2f3a4b5c: HTTP 401 ModelArts.0203: Invalid token. (request id fake-00000001)",
	"ListServices/401 wrong token":                      "list services: HTTP 401 ModelArts.0203: Invalid token. (request id fake-00000001)",
	"Services/401 wrong token":                          "list services: HTTP 401 ModelArts.0203: Invalid token. (request id fake-00000001)",
	"ListEvents/401 wrong token":                        "list events for 5f9d3a1e-7c2b-4e8a-9b6d-0c1e2f3a4b5c: HTTP 401 ModelArts.0203: Invalid token. (request id fake-00000001)",
	"Events/401 wrong token":                            "list events for 5f9d3a1e-7c2b-4e8a-9b6d-0c1e2f3a4b5c: HTTP 401 ModelArts.0203: Invalid token. (request id fake-00000001)",
	"ServicesV2/401 wrong token":                        "list v2 services: HTTP 401 ModelArts.0203: Invalid token. (request id fake-00000001)",
	"EventsV2/401 wrong token":                          "list v2 events for 5f9d3a1e-7c2b-4e8a-9b6d-0c1e2f3a4b5c: HTTP 401 ModelArts.0203: Invalid token. (request id fake-00000001)",
	"PodEvents/401 wrong token":                         "list pod events for 5f9d3a1e-7c2b-4e8a-9b6d-0c1e2f3a4b5c/group-1: HTTP 401 ModelArts.0203: Invalid token. (request id fake-00000001)",
	"GetService/403 another project":                    "get service 5f9d3a1e-7c2b-4e8a-9b6d-0c1e2f3a4b5c: HTTP 403 ModelArts.0106: Project ffffffffffffffffffffffffffffffff is not accessible with these credentials. (request id fake-00000001)",
	"GetServiceV2/403 another project":                  "get v2 service 5f9d3a1e-7c2b-4e8a-9b6d-0c1e2f3a4b5c: HTTP 403 ModelArts.0106: Project ffffffffffffffffffffffffffffffff is not accessible with these credentials. (request id fake-00000001)",
	"LookupService/403 another project":                 "get service 5f9d3a1e-7c2b-4e8a-9b6d-0c1e2f3a4b5c: HTTP 403 ModelArts.0106: Project ffffffffffffffffffffffffffffffff is not accessible with these credentials. (request id fake-00000002) (v2 details answered HTTP 403 ModelArts.0106)",
	"ListServices/403 another project":                  "list services: HTTP 403 ModelArts.0106: Project ffffffffffffffffffffffffffffffff is not accessible with these credentials. (request id fake-00000001)",
	"Services/403 another project":                      "list services: HTTP 403 ModelArts.0106: Project ffffffffffffffffffffffffffffffff is not accessible with these credentials. (request id fake-00000001)",
	"ListEvents/403 another project":                    "list events for 5f9d3a1e-7c2b-4e8a-9b6d-0c1e2f3a4b5c: HTTP 403 ModelArts.0106: Project ffffffffffffffffffffffffffffffff is not accessible with these credentials. (request id fake-00000001)",
	"Events/403 another project":                        "list events for 5f9d3a1e-7c2b-4e8a-9b6d-0c1e2f3a4b5c: HTTP 403 ModelArts.0106: Project ffffffffffffffffffffffffffffffff is not accessible with these credentials. (request id fake-00000001)",
	"ServicesV2/403 another project":                    "list v2 services: HTTP 403 ModelArts.0106: Project ffffffffffffffffffffffffffffffff is not accessible with these credentials. (request id fake-00000001)",
	"EventsV2/403 another project":                      "list v2 events for 5f9d3a1e-7c2b-4e8a-9b6d-0c1e2f3a4b5c: HTTP 403 ModelArts.0106: Project ffffffffffffffffffffffffffffffff is not accessible with these credentials. (request id fake-00000001)",
	"PodEvents/403 another project":                     "list pod events for 5f9d3a1e-7c2b-4e8a-9b6d-0c1e2f3a4b5c/group-1: HTTP 403 ModelArts.0106: Project ffffffffffffffffffffffffffffffff is not accessible with these credentials. (request id fake-00000001)",
	"GetService/404 missing service":                    "get service 5f9d3a1e-7c2b-4e8a-9b6d-0c1e2f3a4b5c: HTTP 404 ModelArts.3502: Service 5f9d3a1e-7c2b-4e8a-9b6d-0c1e2f3a4b5c does not exist. (request id fake-00000001)",
	"GetServiceV2/404 missing service":                  "get v2 service 5f9d3a1e-7c2b-4e8a-9b6d-0c1e2f3a4b5c: HTTP 400 ModelArts.0101: The service 5f9d3a1e-7c2b-4e8a-9b6d-0c1e2f3a4b5c does not exist or you have no permission to access it. (request id fake-00000001)",
	"LookupService/404 missing service":                 "get service 5f9d3a1e-7c2b-4e8a-9b6d-0c1e2f3a4b5c: HTTP 404 ModelArts.3502: Service 5f9d3a1e-7c2b-4e8a-9b6d-0c1e2f3a4b5c does not exist. (request id fake-00000002) (v2 details answered HTTP 400 ModelArts.0101)",
	"ListEvents/404 missing service":                    "list events for 5f9d3a1e-7c2b-4e8a-9b6d-0c1e2f3a4b5c: HTTP 404 ModelArts.3502: Service 5f9d3a1e-7c2b-4e8a-9b6d-0c1e2f3a4b5c does not exist. (request id fake-00000001)",
	"Events/404 missing service":                        "list events for 5f9d3a1e-7c2b-4e8a-9b6d-0c1e2f3a4b5c: HTTP 404 ModelArts.3502: Service 5f9d3a1e-7c2b-4e8a-9b6d-0c1e2f3a4b5c does not exist. (request id fake-00000001)",
	"EventsV2/404 missing service":                      "list v2 events for 5f9d3a1e-7c2b-4e8a-9b6d-0c1e2f3a4b5c: HTTP 400 ModelArts.0101: The service 5f9d3a1e-7c2b-4e8a-9b6d-0c1e2f3a4b5c does not exist or you have no permission to access it. (request id fake-00000001)",
	"PodEvents/404 missing service":                     "list pod events for 5f9d3a1e-7c2b-4e8a-9b6d-0c1e2f3a4b5c/group-1: HTTP 400 ModelArts.0101: The service 5f9d3a1e-7c2b-4e8a-9b6d-0c1e2f3a4b5c does not exist or you have no permission to access it. (request id fake-00000001)",
	"LookupService/404 missing service, v2 answers 403": "get service 5f9d3a1e-7c2b-4e8a-9b6d-0c1e2f3a4b5c: HTTP 404 ModelArts.3502: Service 5f9d3a1e-7c2b-4e8a-9b6d-0c1e2f3a4b5c does not exist. (request id fake-00000002) (v2 details answered HTTP 403 ModelArts.0106)",
	"LookupService/404 missing service, v2 answers 404": "get service 5f9d3a1e-7c2b-4e8a-9b6d-0c1e2f3a4b5c: HTTP 404 ModelArts.3502: Service 5f9d3a1e-7c2b-4e8a-9b6d-0c1e2f3a4b5c does not exist. (request id fake-00000002) (v2 details answered HTTP 404 ModelArts.3502)",
	"GetService/404 wrong endpoint":                     "get service 5f9d3a1e-7c2b-4e8a-9b6d-0c1e2f3a4b5c: HTTP 404 APIG.0101: The API does not exist or has not been published in the environment (request id fake-00000001) (not a missing service: check the endpoint, region and project id)",
	"GetServiceV2/404 wrong endpoint":                   "get v2 service 5f9d3a1e-7c2b-4e8a-9b6d-0c1e2f3a4b5c: HTTP 404 APIG.0101: The API does not exist or has not been published in the environment (request id fake-00000001) (not a missing service: check the endpoint, region and project id)",
	"LookupService/404 wrong endpoint":                  "get service 5f9d3a1e-7c2b-4e8a-9b6d-0c1e2f3a4b5c: HTTP 404 APIG.0101: The API does not exist or has not been published in the environment (request id fake-00000002) (not a missing service: check the endpoint, region and project id) (v2 details answered HTTP 404 APIG.0101)",
	"ListServices/404 wrong endpoint":                   "list services: HTTP 404 APIG.0101: The API does not exist or has not been published in the environment (request id fake-00000001) (not a missing service: check the endpoint, region and project id)",
	"Services/404 wrong endpoint":                       "list services: HTTP 404 APIG.0101: The API does not exist or has not been published in the environment (request id fake-00000001) (not a missing service: check the endpoint, region and project id)",
	"ListEvents/404 wrong endpoint":                     "list events for 5f9d3a1e-7c2b-4e8a-9b6d-0c1e2f3a4b5c: HTTP 404 APIG.0101: The API does not exist or has not been published in the environment (request id fake-00000001) (not a missing service: check the endpoint, region and project id)",
	"Events/404 wrong endpoint":                         "list events for 5f9d3a1e-7c2b-4e8a-9b6d-0c1e2f3a4b5c: HTTP 404 APIG.0101: The API does not exist or has not been published in the environment (request id fake-00000001) (not a missing service: check the endpoint, region and project id)",
	"ServicesV2/404 wrong endpoint":                     "list v2 services: HTTP 404 APIG.0101: The API does not exist or has not been published in the environment (request id fake-00000001) (not a missing service: check the endpoint, region and project id)",
	"EventsV2/404 wrong endpoint":                       "list v2 events for 5f9d3a1e-7c2b-4e8a-9b6d-0c1e2f3a4b5c: HTTP 404 APIG.0101: The API does not exist or has not been published in the environment (request id fake-00000001) (not a missing service: check the endpoint, region and project id)",
	"PodEvents/404 wrong endpoint":                      "list pod events for 5f9d3a1e-7c2b-4e8a-9b6d-0c1e2f3a4b5c/group-1: HTTP 404 APIG.0101: The API does not exist or has not been published in the environment (request id fake-00000001) (not a missing service: check the endpoint, region and project id)",
	"GetService/500 after retries":                      "get service 5f9d3a1e-7c2b-4e8a-9b6d-0c1e2f3a4b5c: HTTP 500 ModelArts.0000: Internal error. Try again later. (request id fake-00000003)",
	"GetServiceV2/500 after retries":                    "get v2 service 5f9d3a1e-7c2b-4e8a-9b6d-0c1e2f3a4b5c: HTTP 500 ModelArts.0000: Internal error. Try again later. (request id fake-00000003)",
	"LookupService/500 after retries":                   "get v2 service 5f9d3a1e-7c2b-4e8a-9b6d-0c1e2f3a4b5c: HTTP 500 ModelArts.0000: Internal error. Try again later. (request id fake-00000003)",
	"ListServices/500 after retries":                    "list services: HTTP 500 ModelArts.0000: Internal error. Try again later. (request id fake-00000003)",
	"Services/500 after retries":                        "list services: HTTP 500 ModelArts.0000: Internal error. Try again later. (request id fake-00000003)",
	"ListEvents/500 after retries":                      "list events for 5f9d3a1e-7c2b-4e8a-9b6d-0c1e2f3a4b5c: HTTP 500 ModelArts.0000: Internal error. Try again later. (request id fake-00000003)",
	"Events/500 after retries":                          "list events for 5f9d3a1e-7c2b-4e8a-9b6d-0c1e2f3a4b5c: HTTP 500 ModelArts.0000: Internal error. Try again later. (request id fake-00000003)",
	"ServicesV2/500 after retries":                      "list v2 services: HTTP 500 ModelArts.0000: Internal error. Try again later. (request id fake-00000003)",
	"EventsV2/500 after retries":                        "list v2 events for 5f9d3a1e-7c2b-4e8a-9b6d-0c1e2f3a4b5c: HTTP 500 ModelArts.0000: Internal error. Try again later. (request id fake-00000003)",
	"PodEvents/500 after retries":                       "list pod events for 5f9d3a1e-7c2b-4e8a-9b6d-0c1e2f3a4b5c/group-1: HTTP 500 ModelArts.0000: Internal error. Try again later. (request id fake-00000003)",
	"GetService/unreachable":                            "get service 5f9d3a1e-7c2b-4e8a-9b6d-0c1e2f3a4b5c: cannot reach http://127.0.0.1:PORT: dial tcp 127.0.0.1:PORT: connect: connection refused",
	"GetServiceV2/unreachable":                          "get v2 service 5f9d3a1e-7c2b-4e8a-9b6d-0c1e2f3a4b5c: cannot reach http://127.0.0.1:PORT: dial tcp 127.0.0.1:PORT: connect: connection refused",
	"LookupService/unreachable":                         "get v2 service 5f9d3a1e-7c2b-4e8a-9b6d-0c1e2f3a4b5c: cannot reach http://127.0.0.1:PORT: dial tcp 127.0.0.1:PORT: connect: connection refused",
	"ListServices/unreachable":                          "list services: cannot reach http://127.0.0.1:PORT: dial tcp 127.0.0.1:PORT: connect: connection refused",
	"Services/unreachable":                              "list services: cannot reach http://127.0.0.1:PORT: dial tcp 127.0.0.1:PORT: connect: connection refused",
	"ListEvents/unreachable":                            "list events for 5f9d3a1e-7c2b-4e8a-9b6d-0c1e2f3a4b5c: cannot reach http://127.0.0.1:PORT: dial tcp 127.0.0.1:PORT: connect: connection refused",
	"Events/unreachable":                                "list events for 5f9d3a1e-7c2b-4e8a-9b6d-0c1e2f3a4b5c: cannot reach http://127.0.0.1:PORT: dial tcp 127.0.0.1:PORT: connect: connection refused",
	"ServicesV2/unreachable":                            "list v2 services: cannot reach http://127.0.0.1:PORT: dial tcp 127.0.0.1:PORT: connect: connection refused",
	"EventsV2/unreachable":                              "list v2 events for 5f9d3a1e-7c2b-4e8a-9b6d-0c1e2f3a4b5c: cannot reach http://127.0.0.1:PORT: dial tcp 127.0.0.1:PORT: connect: connection refused",
	"PodEvents/unreachable":                             "list pod events for 5f9d3a1e-7c2b-4e8a-9b6d-0c1e2f3a4b5c/group-1: cannot reach http://127.0.0.1:PORT: dial tcp 127.0.0.1:PORT: connect: connection refused",
	"Events/ignores offset, a full page again":          "list events for 5f9d3a1e-7c2b-4e8a-9b6d-0c1e2f3a4b5c: the events read was cut short: the server repeats a full page of events already read; the rest is read next time",
	"EventsV2/ignores offset, a full page again, v2":    "list v2 events for 5f9d3a1e-7c2b-4e8a-9b6d-0c1e2f3a4b5c: the events read was cut short: the server repeats a full page of events already read; the rest is read next time",
	"GetService/IAM wrong password":                     "get service 5f9d3a1e-7c2b-4e8a-9b6d-0c1e2f3a4b5c: authenticate: iam token for user \"demo-user\": HTTP 401 IAM.0004: The username or password is wrong. (request id fake-00000001)",
	"GetService/IAM unreachable":                        "get service 5f9d3a1e-7c2b-4e8a-9b6d-0c1e2f3a4b5c: authenticate: iam token: cannot reach http://127.0.0.1:PORT: dial tcp 127.0.0.1:PORT: connect: connection refused",
}
