package eventsapi_test

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/modelarts-notifier/modelarts-notifier/eventsapi"
	"github.com/modelarts-notifier/modelarts-notifier/eventsapi/eventsapitest"
)

// assertNoSecret fails if any secret occurs in any of the outputs.
func assertNoSecret(t *testing.T, secrets []string, outputs map[string]string) {
	t.Helper()
	for name, out := range outputs {
		for _, s := range secrets {
			if strings.Contains(out, s) {
				t.Errorf("%s reveals secret %q: %s", name, s, out)
			}
		}
	}
}

// TestAuthenticatorsHideSecrets: no fmt verb, slog handler or JSON
// encoding shows a token, password or secret key.
func TestAuthenticatorsHideSecrets(t *testing.T) {
	const (
		token    = "static-SECRET-token-1234"
		password = "iam-SECRET-password-5678"
		sk       = "sk-SECRET-key-9012"
		stsToken = "sts-SECRET-token-3456"
	)
	secrets := []string{token, password, sk, stsToken}
	iamCfg := eventsapi.IAMConfig{Endpoint: "https://iam.example.com", DomainName: "d", Username: "u", Password: password, ProjectID: "p"}
	iam, err := eventsapi.NewIAMPasswordAuth(iamCfg)
	if err != nil {
		t.Fatal(err)
	}
	values := map[string]any{
		"static": eventsapi.StaticToken(token),
		"iam":    iam,
		"aksk":   eventsapi.NewAKSK("AKID", sk, stsToken),
		"iamcfg": iamCfg,
		"config": eventsapi.Config{Endpoint: "https://x", ProjectID: "p", Auth: eventsapi.StaticToken(token)},
	}
	outputs := map[string]string{}
	for name, v := range values {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%d", "%x", "%q", "%T"} {
			outputs[name+" "+verb] = fmt.Sprintf(verb, v)
			outputs[name+" &"+verb] = fmt.Sprintf(verb, &v)
		}
		var text, js strings.Builder
		slog.New(slog.NewTextHandler(&text, nil)).Info("x", "v", v)
		slog.New(slog.NewJSONHandler(&js, nil)).Info("x", "v", v)
		outputs[name+" slog text"] = text.String()
		outputs[name+" slog json"] = js.String()
		b, _ := json.Marshal(v)
		outputs[name+" json"] = string(b)
	}
	assertNoSecret(t, secrets, outputs)
	if !strings.Contains(outputs["aksk %v"], "AKID") {
		t.Errorf("the access key (not secret) should be shown: %s", outputs["aksk %v"])
	}
}

// TestFailuresLeakNoSecret: failing calls in every auth mode leave no
// secret in their error or in the debug log.
func TestFailuresLeakNoSecret(t *testing.T) {
	srv := newFake(t, eventsapitest.WithToken("static-SECRET-token-1234"), eventsapitest.WithAKSK("AKID", "sk-SECRET-key-9012"))
	srv.AddService("svc", "svc", eventsapi.StatusRunning)
	const wrongPassword = "wrong-SECRET-password"
	// echoPassword has characters that JSON escapes, so that an echo of the
	// request body shows it escaped.
	const echoPassword = `echo-SECRET-pa"ss<&>\word-5678`
	// "SECRET" is in every secret: no part of one may show, not even the
	// prefix an excerpt cut short would keep.
	secrets := []string{srv.Token, srv.Password, srv.SecretKey, wrongPassword, "sts-SECRET-token", echoPassword, "SECRET"}
	// echoIAM is an IAM endpoint that fails and echoes the request body
	// (the password included) in its error, in the way echo says.
	echoIAM := func(echo func(body string) string) func(*testing.T) eventsapi.Authenticator {
		return func(t *testing.T) eventsapi.Authenticator {
			ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				body, _ := io.ReadAll(r.Body)
				w.WriteHeader(http.StatusBadRequest)
				_, _ = io.WriteString(w, echo(string(body)))
			}))
			t.Cleanup(ts.Close)
			a, err := eventsapi.NewIAMPasswordAuth(eventsapi.IAMConfig{Endpoint: ts.URL, DomainName: srv.DomainName,
				Username: srv.Username, Password: echoPassword, ProjectID: srv.ProjectID, HTTPClient: ts.Client()})
			if err != nil {
				t.Fatal(err)
			}
			return a
		}
	}
	jsonString := func(s string) string { b, _ := json.Marshal(s); return string(b) }

	tests := []struct {
		name  string
		auth  func(t *testing.T) eventsapi.Authenticator
		fault *eventsapitest.Fault
	}{
		{name: "static token, server echoes it", auth: func(*testing.T) eventsapi.Authenticator { return eventsapi.StaticToken(srv.Token) },
			fault: &eventsapitest.Fault{Status: 400, Message: "bad token " + srv.Token}},
		{name: "static token, 503s", auth: func(*testing.T) eventsapi.Authenticator { return eventsapi.StaticToken(srv.Token) },
			fault: &eventsapitest.Fault{Status: 503}},
		{name: "wrong token", auth: func(*testing.T) eventsapi.Authenticator { return eventsapi.StaticToken(srv.Token + "x") }},
		{name: "iam wrong password", auth: func(t *testing.T) eventsapi.Authenticator { return iamAuth(t, srv, wrongPassword) }},
		{name: "iam, API fails", auth: func(t *testing.T) eventsapi.Authenticator { return iamAuth(t, srv, srv.Password) },
			fault: &eventsapitest.Fault{Status: 500, Path: "/v1/"}},
		{name: "aksk wrong secret", auth: func(*testing.T) eventsapi.Authenticator {
			return eventsapi.NewAKSK(srv.AccessKey, "sts-SECRET-token", "")
		}},
		{name: "aksk, 429s", auth: func(*testing.T) eventsapi.Authenticator {
			return eventsapi.NewAKSK(srv.AccessKey, srv.SecretKey, "sts-SECRET-token")
		}, fault: &eventsapitest.Fault{Status: 429, RetryAfter: "0"}},
		{name: "iam echoes the body, ModelArts shape", auth: echoIAM(func(body string) string {
			return `{"error_code":"IAM.0011","error_msg":` + jsonString("Request body is invalid: "+body) + `}`
		})},
		{name: "iam echoes the body, IAM shape", auth: echoIAM(func(body string) string {
			return `{"error":{"code":400,"message":` + jsonString("invalid "+body) + `}}`
		})},
		{name: "iam echoes the body as text", auth: echoIAM(func(body string) string { return "bad request: " + body })},
		{name: "iam echoes the body quoted in broken JSON", auth: echoIAM(func(body string) string {
			return `{"error_msg":` + jsonString(body)
		})},
		{name: "iam echo cut inside the password", auth: echoIAM(func(body string) string {
			// The excerpt is 256 bytes: put the password across the cut.
			i := strings.Index(body, "echo-SECRET")
			return strings.Repeat(".", max(0, 256-i-12)) + body
		})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv.ClearFaults()
			if tt.fault != nil {
				srv.Fail(100, *tt.fault)
			}
			var log logBuffer
			c := newClient(t, srv, withLog(&log), func(cfg *eventsapi.Config) {
				cfg.Auth = tt.auth(t)
				cfg.MaxRetries = 2
			})
			_, err := c.ListEvents(ctxT(t), "svc", eventsapi.EventsQuery{})
			if err == nil {
				t.Fatal("no error")
			}
			assertNoSecret(t, secrets, map[string]string{
				"error": err.Error(), "error %+v": fmt.Sprintf("%+v", err), "error %#v": fmt.Sprintf("%#v", err), "log": log.String(),
			})
			if !strings.Contains(log.String(), `"msg":"request failed"`) {
				t.Errorf("nothing logged: %s", log.String())
			}
		})
	}
	srv.ClearFaults()
}
