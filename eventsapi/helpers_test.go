package eventsapi_test

import (
	"bytes"
	"context"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/modelarts-notifier/modelarts-notifier/eventsapi"
	"github.com/modelarts-notifier/modelarts-notifier/eventsapi/eventsapitest"
)

// newFake starts a fake ModelArts closed at the end of the test.
func newFake(t testing.TB, opts ...eventsapitest.Option) *eventsapitest.Server {
	t.Helper()
	srv := eventsapitest.NewServer(opts...)
	t.Cleanup(srv.Close)
	return srv
}

// fastRetries makes retries wait about a millisecond.
func fastRetries(cfg *eventsapi.Config) {
	cfg.RetryBaseDelay = time.Millisecond
	cfg.RetryMaxDelay = 2 * time.Millisecond
	cfg.MaxRetryAfter = 5 * time.Millisecond
}

// newClient returns a client of srv using its static token, fast retries,
// and any changes to the config.
func newClient(t testing.TB, srv *eventsapitest.Server, edit ...func(*eventsapi.Config)) *eventsapi.Client {
	t.Helper()
	cfg := eventsapi.Config{
		Endpoint:   srv.URL,
		ProjectID:  srv.ProjectID,
		Auth:       eventsapi.StaticToken(srv.Token),
		HTTPClient: srv.Client(),
	}
	fastRetries(&cfg)
	for _, e := range edit {
		e(&cfg)
	}
	c, err := eventsapi.New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c
}

// logBuffer is a concurrency-safe debug log sink.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// withLog sends the client's debug log, as JSON, to buf.
func withLog(buf *logBuffer) func(*eventsapi.Config) {
	return func(cfg *eventsapi.Config) {
		cfg.Logger = slog.New(slog.NewJSONHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
}

func ctxT(t testing.TB) context.Context {
	t.Helper()
	return t.Context()
}
