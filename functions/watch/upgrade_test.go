package watch_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/modelarts-notifier/modelarts-notifier/eventsapi"
	"github.com/modelarts-notifier/modelarts-notifier/eventsapi/eventsapitest"
	"github.com/modelarts-notifier/modelarts-notifier/functions/checkpoint"
	"github.com/modelarts-notifier/modelarts-notifier/functions/checkpoint/checkpointtest"
	"github.com/modelarts-notifier/modelarts-notifier/functions/watch"
	"github.com/modelarts-notifier/modelarts-notifier/notifier"
)

// Upgrading is silent: checkpoints written by the previous release (the
// files under testdata/upgrade were written by it, from upgradeScenario at
// upgradeT) are read by this one with no notification sent again and none
// lost, from the file store and from DynamoDB items of that release's
// layout.

// upgradeT is the fixed clock of the upgrade scenario.
var upgradeT = time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)

// upgradeServices are the services of the upgrade scenario.
var upgradeServices = []string{"svc-succeeded", "svc-failed", "svc-stalled", "svc-runtime"}

// upgradeScenario loads the fake with the events of the upgrade scenario,
// written literally so that the release that wrote the checkpoints under
// testdata/ and this one see the same events.
func upgradeScenario(srv *eventsapitest.Server) {
	at := func(m float64) int64 { return upgradeT.Add(time.Duration(m * float64(time.Minute))).UnixMilli() }
	n := func(m float64, info string) eventsapi.Event {
		return eventsapi.Event{EventType: "normal", EventInfo: info, OccurTime: at(m)}
	}
	a := func(m float64, info string) eventsapi.Event {
		return eventsapi.Event{EventType: "abnormal", EventInfo: info, OccurTime: at(m)}
	}
	srv.AddService("svc-succeeded", "svc-succeeded", eventsapi.StatusRunning)
	srv.AppendEvents("svc-succeeded",
		n(-50, "start to deploy service"), n(-49.9, "building image for model [TF 3.0.0]"),
		n(-49, "model (TF 3.0.0) build image success"), n(-48.5, "preparing environment"),
		n(-48, "[TF 3.0.0] prepare environment success"), n(-47.5, "[TF 3.0.0] schedule resource success"),
		n(-47, "[TF 3.0.0] pulling model image"), n(-46, "[TF 3.0.0] pull image success"),
		n(-45.5, "[TF 3.0.0] starting model"), n(-45, "Service svc-succeeded started."))
	srv.AddService("svc-failed", "svc-failed", eventsapi.StatusFailed)
	srv.AppendEvents("svc-failed",
		n(-30, "start to deploy service"), n(-29.9, "building image for model [TF 3.0.0]"),
		n(-29.5, "model (TF 3.0.0) build image success"), n(-29, "preparing environment"),
		n(-28, "[TF 3.0.0] prepare environment success"), n(-27.5, "[TF 3.0.0] schedule resource success"),
		n(-27, "[TF 3.0.0] pulling model image"),
		a(-20, "Failed to pull image, the image does not exist."))
	srv.SetStatus("svc-failed", eventsapi.StatusFailed, "image pull failed")
	srv.AddService("svc-stalled", "svc-stalled", eventsapi.StatusDeploying)
	srv.AppendEvents("svc-stalled",
		n(-40, "start to deploy service"), n(-39.9, "building image for model [TF 3.0.0]"),
		n(-39.5, "model (TF 3.0.0) build image success"), n(-39.2, "preparing environment"),
		n(-39.1, "[TF 3.0.0] prepare environment success"), n(-39, "[TF 3.0.0] schedule resource success"),
		n(-38.9, "[TF 3.0.0] pulling model image"))
	srv.SetStatus("svc-stalled", eventsapi.StatusDeploying, "")
	srv.AddService("svc-runtime", "svc-runtime", eventsapi.StatusRunning)
	srv.AppendEvents("svc-runtime",
		a(-10, "Instance 1 restarted unexpectedly."), a(-5, "Instance 2 restarted unexpectedly."))
}

// receiver records webhook-ids per destination, and the abnormal events
// they told.
type receiver struct {
	mu     sync.Mutex
	ids    map[string][]string // destination -> webhook-ids received
	events map[string][]string // destination -> abnormal events' texts told
}

func (r *receiver) server(t *testing.T, name string) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		var body struct {
			Type string `json:"type"`
			Data struct {
				AbnormalEvents []struct {
					EventInfo string `json:"event_info"`
				} `json:"abnormal_events"`
			} `json:"data"`
		}
		raw, _ := io.ReadAll(req.Body)
		_ = json.Unmarshal(raw, &body)
		r.mu.Lock()
		r.ids[name] = append(r.ids[name], req.Header.Get("webhook-id"))
		if body.Type == string(notifier.KindAbnormal) {
			for _, e := range body.Data.AbnormalEvents {
				r.events[name] = append(r.events[name], e.EventInfo)
			}
		}
		r.mu.Unlock()
	}))
	t.Cleanup(srv.Close)
	return srv
}

func (r *receiver) take() map[string][]string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.ids
	r.ids, r.events = map[string][]string{}, map[string][]string{}
	return out
}

// upgradeStores returns the previous release's checkpoints of file in each
// store: the file itself (copied), and DynamoDB items of that release's
// layout (the checkpoint JSON in one string attribute).
func upgradeStores(t *testing.T, file string) map[string]checkpoint.Store {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "upgrade", file))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "checkpoints.json")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	fs, err := checkpoint.NewFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var all map[string]json.RawMessage
	if err := json.Unmarshal(data, &all); err != nil {
		t.Fatal(err)
	}
	client := checkpointtest.NewDynamoClient(t, checkpointtest.StartDynalite(t))
	table := checkpointtest.NewTable(t, client)
	for id, raw := range all {
		var v struct{ Version int64 }
		if err := json.Unmarshal(raw, &v); err != nil {
			t.Fatal(err)
		}
		_, err := client.PutItem(context.Background(), &dynamodb.PutItemInput{TableName: aws.String(table), Item: map[string]types.AttributeValue{
			checkpoint.AttrServiceID:  &types.AttributeValueMemberS{Value: id},
			checkpoint.AttrVersion:    &types.AttributeValueMemberN{Value: strconv.FormatInt(v.Version, 10)},
			checkpoint.AttrCheckpoint: &types.AttributeValueMemberS{Value: string(raw)},
			checkpoint.AttrUpdatedAt:  &types.AttributeValueMemberS{Value: upgradeT.Format(time.RFC3339)},
		}})
		if err != nil {
			t.Fatal(err)
		}
	}
	return map[string]checkpoint.Store{"file": fs, "dynamodb": checkpoint.NewDynamoDB(client, table)}
}

func TestUpgradeFromPreviousRelease(t *testing.T) {
	tests := []struct {
		file string
		// want is how many notifications each destination gets on the
		// first poll of this release, and abnormal the abnormal events
		// they tell.
		want     map[string]int
		abnormal map[string][]string
	}{
		// The previous release's first poll reached webhook-a only: this
		// release sends webhook-b what it lacks, and webhook-a nothing.
		// The previous release sent svc-runtime's two abnormal events as
		// two notifications; this one groups them into one.
		{"first-pending.json", map[string]int{"webhook-b": 4}, map[string][]string{"webhook-b": {
			"Instance 1 restarted unexpectedly.", "Instance 2 restarted unexpectedly."}}},
		// Everything was delivered: nothing is sent again.
		{"watching.json", map[string]int{}, map[string][]string{}},
	}
	for _, tt := range tests {
		for name, store := range upgradeStores(t, tt.file) {
			t.Run(tt.file+"/"+name, func(t *testing.T) {
				now := upgradeT.Add(2 * time.Minute)
				srv := eventsapitest.NewServer(eventsapitest.WithClock(func() time.Time { return now }))
				defer srv.Close()
				upgradeScenario(srv)
				api, err := eventsapi.New(eventsapi.Config{Endpoint: srv.URL, ProjectID: srv.ProjectID, Auth: eventsapi.StaticToken(srv.Token)})
				if err != nil {
					t.Fatal(err)
				}
				rec := &receiver{ids: map[string][]string{}, events: map[string][]string{}}
				var dests []notifier.Destination
				for _, d := range []string{"webhook-a", "webhook-b"} {
					n, err := notifier.NewWebhook(notifier.WebhookConfig{URL: rec.server(t, d).URL, SendConfig: notifier.SendConfig{Retry: notifier.RetryPolicy{MaxAttempts: 1}}}, nil)
					if err != nil {
						t.Fatal(err)
					}
					dests = append(dests, notifier.Destination{Name: d, Notifier: n})
				}
				poll := func() watch.Result {
					p := watch.New(watch.Config{ProjectID: srv.ProjectID, ServiceIDs: upgradeServices, FirstRunLookback: time.Hour,
						Now: func() time.Time { return now }}, api, store, dests, nil)
					return p.Poll(context.Background())
				}
				if res := poll(); res.Err != nil {
					t.Fatal(res.Err)
				}
				rec.mu.Lock()
				told := rec.events
				rec.mu.Unlock()
				for _, d := range []string{"webhook-a", "webhook-b"} {
					if !slices.Equal(told[d], tt.abnormal[d]) {
						t.Errorf("%s was told abnormal events %q, want %q", d, told[d], tt.abnormal[d])
					}
				}
				got := rec.take()
				for _, d := range []string{"webhook-a", "webhook-b"} {
					if len(got[d]) != tt.want[d] {
						t.Errorf("%s got %d notifications, want %d", d, len(got[d]), tt.want[d])
					}
					seen := map[string]bool{}
					for _, id := range got[d] {
						if seen[id] {
							t.Errorf("%s got %s twice", d, id)
						}
						seen[id] = true
					}
				}
				// Then it watches on as usual: one new event, told once to each.
				now = now.Add(time.Minute)
				srv.AppendEvents("svc-runtime", eventsapi.Event{EventType: "abnormal", EventInfo: "Instance 3 restarted unexpectedly.", OccurTime: now.Add(-10 * time.Second).UnixMilli()})
				if res := poll(); res.Err != nil {
					t.Fatal(res.Err)
				}
				got = rec.take()
				if len(got["webhook-a"]) != 1 || len(got["webhook-b"]) != 1 {
					t.Errorf("after a new event: %v, want one notification each", got)
				}
				now = now.Add(time.Minute)
				if res := poll(); res.Err != nil {
					t.Fatal(res.Err)
				}
				if got := rec.take(); len(got) != 0 {
					t.Errorf("quiet poll sent %v", got)
				}
			})
		}
	}
}
