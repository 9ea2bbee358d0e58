package setup

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"sync/atomic"
	"testing"

	"github.com/modelarts-notifier/modelarts-notifier/functions/checkpoint"
)

// TestDynamoDBStoreKeepsItsConnections: the DynamoDB store setup opens
// saves many checkpoints at once (32 puts in flight) over connections it
// keeps, not over connections opened and closed each round (the SDK's
// default client keeps 10 idle ones a host: with it, this test counted
// 383 connections for 1,000 puts).
func TestDynamoDBStoreKeepsItsConnections(t *testing.T) {
	var conns atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
		fmt.Fprint(w, `{}`) // PutItem's answer
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()
	for k, v := range map[string]string{
		"AWS_ENDPOINT_URL_DYNAMODB": srv.URL, "AWS_REGION": "us-east-1",
		"AWS_ACCESS_KEY_ID": "conns", "AWS_SECRET_ACCESS_KEY": "conns",
		"AWS_CONFIG_FILE": os.DevNull, "AWS_SHARED_CREDENTIALS_FILE": os.DevNull, "AWS_EC2_METADATA_DISABLED": "true",
	} {
		t.Setenv(k, v)
	}
	store, err := openStore(t.Context(), "checkpoints", "")
	if err != nil {
		t.Fatal(err)
	}
	cps := make([]*checkpoint.Checkpoint, 1000)
	for i := range cps {
		cps[i] = &checkpoint.Checkpoint{ServiceID: fmt.Sprintf("svc-%04d", i)}
	}
	if err := errors.Join(store.SaveMany(t.Context(), cps)...); err != nil {
		t.Fatal(err)
	}
	const inFlight = 32 // SaveMany's
	t.Logf("1,000 puts opened %d connections", conns.Load())
	if n := conns.Load(); n > 2*inFlight {
		t.Errorf("1,000 puts, %d at once, opened %d connections; want at most %d (kept, not reopened)", inFlight, n, 2*inFlight)
	}
}
