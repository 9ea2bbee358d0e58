package eventsapi_test

import (
	"strings"
	"testing"

	"github.com/modelarts-notifier/modelarts-notifier/eventsapi"
)

func TestDefaultEndpoints(t *testing.T) {
	if got, want := eventsapi.DefaultEndpoint("cn-north-4"), "https://modelarts.cn-north-4.myhuaweicloud.com"; got != want {
		t.Errorf("DefaultEndpoint = %q, want %q", got, want)
	}
	if got, want := eventsapi.DefaultIAMEndpoint("ap-southeast-1"), "https://iam.ap-southeast-1.myhuaweicloud.com"; got != want {
		t.Errorf("DefaultIAMEndpoint = %q, want %q", got, want)
	}
}

func TestNewValidatesConfig(t *testing.T) {
	auth := eventsapi.StaticToken("t")
	tests := []struct {
		name    string
		cfg     eventsapi.Config
		wantErr string // "" = valid
	}{
		{name: "https", cfg: eventsapi.Config{Endpoint: "https://modelarts.cn-north-4.myhuaweicloud.com", ProjectID: "p", Auth: auth}},
		{name: "trailing slash", cfg: eventsapi.Config{Endpoint: "https://modelarts.example.com/", ProjectID: "p", Auth: auth}},
		{name: "http loopback v4", cfg: eventsapi.Config{Endpoint: "http://127.0.0.1:8080", ProjectID: "p", Auth: auth}},
		{name: "http loopback v6", cfg: eventsapi.Config{Endpoint: "http://[::1]:8080", ProjectID: "p", Auth: auth}},
		{name: "http localhost", cfg: eventsapi.Config{Endpoint: "http://localhost:8080", ProjectID: "p", Auth: auth}},
		{name: "http remote", cfg: eventsapi.Config{Endpoint: "http://modelarts.example.com", ProjectID: "p", Auth: auth}, wantErr: "only allowed on loopback"},
		{name: "http lookalike", cfg: eventsapi.Config{Endpoint: "http://127.0.0.1.example.com", ProjectID: "p", Auth: auth}, wantErr: "only allowed on loopback"},
		{name: "ftp", cfg: eventsapi.Config{Endpoint: "ftp://x", ProjectID: "p", Auth: auth}, wantErr: "scheme"},
		{name: "no scheme", cfg: eventsapi.Config{Endpoint: "modelarts.example.com", ProjectID: "p", Auth: auth}, wantErr: "no host"},
		{name: "user info", cfg: eventsapi.Config{Endpoint: "https://u:pw@x.example.com", ProjectID: "p", Auth: auth}, wantErr: "user info"},
		{name: "query", cfg: eventsapi.Config{Endpoint: "https://x.example.com?a=b", ProjectID: "p", Auth: auth}, wantErr: "query"},
		{name: "empty endpoint", cfg: eventsapi.Config{ProjectID: "p", Auth: auth}, wantErr: "endpoint"},
		{name: "no project", cfg: eventsapi.Config{Endpoint: "https://x.example.com", Auth: auth}, wantErr: "project id"},
		{name: "no auth", cfg: eventsapi.Config{Endpoint: "https://x.example.com", ProjectID: "p"}, wantErr: "Auth"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := eventsapi.New(tt.cfg)
			if tt.wantErr == "" {
				if err != nil || c == nil {
					t.Fatalf("New: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want it to mention %q", err, tt.wantErr)
			}
			if strings.Contains(err.Error(), "pw@") {
				t.Errorf("error shows user info: %v", err)
			}
		})
	}
}

// TestEndpointPathPrefix: an endpoint with a path (a gateway prefix) keeps
// it.
func TestEndpointPathPrefix(t *testing.T) {
	srv := newFake(t)
	c := newClient(t, srv, func(cfg *eventsapi.Config) { cfg.Endpoint = srv.URL + "/prefix/" })
	_, _ = c.GetService(ctxT(t), "svc")
	if r := srv.Requests(); len(r) != 1 || r[0].Path != "/prefix/v1/"+srv.ProjectID+"/services/svc" {
		t.Errorf("requests %+v", r)
	}
}
