package e2e

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/modelarts-notifier/modelarts-notifier/eventsapi"
	"github.com/modelarts-notifier/modelarts-notifier/eventsapi/eventsapitest"
	"github.com/modelarts-notifier/modelarts-notifier/functions/checkpoint"
	"github.com/modelarts-notifier/modelarts-notifier/functions/checkpoint/checkpointtest"
	"github.com/modelarts-notifier/modelarts-notifier/functions/watch"
	"github.com/modelarts-notifier/modelarts-notifier/notifier"
	"github.com/modelarts-notifier/modelarts-notifier/notifier/notifiertest"
)

// BenchmarkTimeToAlert: the poll's share of the time from a ModelArts
// event to the chat message it causes (the schedule period is the rest).
// One warm Poller (a warm Lambda container) watches 20 services (ModelArts'
// default quota of real-time services) or 1,000, discovered from the
// service list, with 50 ms of latency on every ModelArts request and
// concurrency 16, as in BenchmarkPoll1000Services, on the real stores and
// the real HTTP clients. Before each timed poll, one minute passes in which
// one service gets one new abnormal event; the poll must deliver exactly
// that service.abnormal to a webhook receiver over loopback HTTP. It
// reports the time from the poll's start to the receiver holding the
// message (alert-s), and the whole poll's wall time (the Lambda duration,
// checkpoint write included).
func BenchmarkTimeToAlert(b *testing.B) {
	const latency, conc = 50 * time.Millisecond, 16
	endpoint := checkpointtest.StartDynalite(b)
	ddb := checkpointtest.NewDynamoClient(b, endpoint)
	for _, services := range []int{20, 1000} {
		for _, storeKind := range []string{"file", "dynamodb"} {
			b.Run(fmt.Sprintf("%d/%s", services, storeKind), func(b *testing.B) {
				clock, srv, ids := healthyServices(b, "a1", services)
				hook := notifiertest.NewWebhookReceiver(b, alertSecret, notifiertest.WithRound(func() int64 { return time.Now().UnixNano() }))
				wh, err := notifier.NewWebhook(notifier.WebhookConfig{URL: hook.URL, Secret: alertSecret}, nil)
				if err != nil {
					b.Fatal(err)
				}
				dests := []notifier.Destination{{Name: "webhook", Kind: "webhook", Notifier: wh}}
				store, _ := benchStore(b, storeKind, ddb)
				api := benchAPI(b, srv)
				p := watch.New(watch.Config{ProjectID: srv.ProjectID, Now: clock.Now, Concurrency: conc, Learn: true}, api, store, dests, nil)
				if res := p.Poll(context.Background()); res.Err != nil { // the cold first poll
					b.Fatal(res.Err)
				}
				hook.Take()
				srv.SetLatency(latency)
				var alert, wall time.Duration
				k := 0
				for b.Loop() {
					b.StopTimer()
					clock.add(time.Minute)
					id := ids[k%services]
					text := fmt.Sprintf("Instance %d restarted unexpectedly: the model process exited (out of memory).", k)
					srv.RuntimeAbnormal(id, text, clock.Now().Add(-30*time.Second))
					k++
					b.StartTimer()
					start := time.Now()
					res := p.Poll(context.Background())
					wall += time.Since(start)
					if res.Err != nil {
						b.Fatal(res.Err)
					}
					got := hook.Take()
					if len(got) != 1 || got[0].Kind != notifier.KindAbnormal || got[0].Data.ServiceID != id {
						b.Fatalf("poll %d: %d messages, want one service.abnormal for %s (rejected: %v)", k, len(got), id, hook.Rejected())
					}
					alert += time.Unix(0, got[0].Round).Sub(start)
				}
				polls := float64(b.N)
				b.ReportMetric(alert.Seconds()/polls, "alert-s")
				b.ReportMetric(wall.Seconds()/polls, "wall-s/poll")
				b.ReportMetric(0, "ns/op")
			})
		}
	}
}

// alertSecret signs the benchmark's webhooks (Standard Webhooks), so the
// receiver verifies each one as a real one would.
const alertSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

// benchStore is a new checkpoint store of kind "file" (a new file) or
// "dynamodb" (a new table on ddb, also returned for its counters).
func benchStore(b *testing.B, kind string, ddb *dynamodb.Client) (checkpoint.Store, *checkpoint.DynamoDB) {
	b.Helper()
	if kind == "file" {
		f, err := checkpoint.NewFile(filepath.Join(b.TempDir(), "checkpoints.json"))
		if err != nil {
			b.Fatal(err)
		}
		return f, nil
	}
	d := checkpoint.NewDynamoDB(ddb, checkpointtest.NewTable(b, ddb))
	return d, d
}

// benchAPI is the real ModelArts client for srv, with room for 64 idle
// connections (concurrency 16 and more).
func benchAPI(b *testing.B, srv *eventsapitest.Server) *eventsapi.Client {
	b.Helper()
	api, err := eventsapi.New(eventsapi.Config{Endpoint: srv.URL, ProjectID: srv.ProjectID, Auth: eventsapi.StaticToken(srv.Token),
		HTTPClient: &http.Client{Timeout: time.Minute, Transport: &http.Transport{MaxIdleConnsPerHost: 64}}})
	if err != nil {
		b.Fatal(err)
	}
	return api
}

// healthyServices is a fake ModelArts on a simulated clock with n running
// services (ids beginning with prefix), each with one normal event ten
// minutes old.
func healthyServices(b *testing.B, prefix string, n int) (*simClock, *eventsapitest.Server, []string) {
	clock := &simClock{now: time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)}
	srv := eventsapitest.NewServer(eventsapitest.WithClock(clock.Now))
	b.Cleanup(srv.Close)
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("%s000000-0000-4000-8000-%012d", prefix, i)
		srv.AddService(ids[i], ids[i][:12], eventsapi.StatusRunning)
		srv.AppendEvents(ids[i], eventsapi.Event{EventType: eventsapi.EventTypeNormal, EventInfo: "instance 0 health check passed",
			OccurTime: clock.Now().Add(-10 * time.Minute).UnixMilli()})
	}
	return clock, srv, ids
}
