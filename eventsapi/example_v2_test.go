package eventsapi_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/modelarts-notifier/modelarts-notifier/eventsapi"
	"github.com/modelarts-notifier/modelarts-notifier/eventsapi/eventsapitest"
)

// Finding a configured id's generation, then reading a v2 service's
// records since a checkpoint (newest first) and, for a stalled deployment,
// its pod events.
func ExampleClient_EventsV2() {
	srv := eventsapitest.NewServer()
	defer srv.Close()
	start := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	srv.AddServiceV2("svc-v2", "llm", "INIT")
	srv.DeployStallV2("svc-v2", "Qwen", eventsapitest.PhaseScheduling, start, 20*time.Second)

	c, err := eventsapi.New(eventsapi.Config{Endpoint: srv.URL, ProjectID: srv.ProjectID, Auth: eventsapi.StaticToken(srv.Token)})
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	svc, err := c.LookupService(ctx, "svc-v2", "")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(svc.Generation, svc.Status, svc.RawStatus)
	checkpoint := start.Add(40 * time.Second).UnixMilli() // the newest update_at seen
	for ev, err := range c.EventsV2(ctx, "svc-v2", checkpoint) {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(ev.EventType, ev.Count, ev.EventInfo)
	}
	pods, err := c.PodEvents(ctx, "svc-v2", svc.DeploymentName, start.UnixMilli(), start.Add(time.Hour).UnixMilli())
	if err != nil {
		log.Fatal(err)
	}
	for _, p := range pods {
		fmt.Println(p.Type, p.Reason, p.Message)
	}
	// Output:
	// v2 deploying DEPLOYING
	// normal 1 [Qwen] prepare environment success
	// normal 1 preparing environment
	// normal 1 model (Qwen) build image success
	// Warning FailedScheduling 0/3 nodes are available: 3 Insufficient nvidia.com/gpu.
}
