package eventsapi_test

import (
	"context"
	"fmt"
	"log"

	"github.com/modelarts-notifier/modelarts-notifier/eventsapi"
	"github.com/modelarts-notifier/modelarts-notifier/eventsapi/eventsapitest"
)

// Reading every event of a service since a checkpoint, against the fake.
// In production, Endpoint is eventsapi.DefaultEndpoint(region) and Auth one
// of StaticToken, NewIAMPasswordAuth or NewAKSK.
func ExampleClient_Events() {
	srv := eventsapitest.NewServer()
	defer srv.Close()
	srv.AddService(eventsapitest.SeedServiceID, eventsapitest.SeedServiceName, eventsapi.StatusDeploying)
	srv.AppendEvents(eventsapitest.SeedServiceID, eventsapitest.SeedEvents()...)

	c, err := eventsapi.New(eventsapi.Config{
		Endpoint:  srv.URL,
		ProjectID: srv.ProjectID,
		Auth:      eventsapi.StaticToken(srv.Token),
	})
	if err != nil {
		log.Fatal(err)
	}
	checkpoint := int64(1562597275921) // occur_time of the last event seen
	q := eventsapi.EventsQuery{StartTime: checkpoint + 1}
	for ev, err := range c.Events(context.Background(), eventsapitest.SeedServiceID, q) {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(ev.OccurTime, ev.EventInfo)
	}
	fmt.Println("requests:", c.Stats().Requests)
	// Output:
	// 1562597275928 [TF 3.0.0] pulling model image
	// 1562597332570 [TF 3.0.0] pull image success
	// 1562597332582 [TF 3.0.0] starting model
	// requests: 1
}

// A missing service is an *APIError that IsNotFound recognises.
func ExampleIsNotFound() {
	srv := eventsapitest.NewServer()
	defer srv.Close()
	c, _ := eventsapi.New(eventsapi.Config{Endpoint: srv.URL, ProjectID: srv.ProjectID, Auth: eventsapi.StaticToken(srv.Token)})
	_, err := c.GetService(context.Background(), "deleted-service")
	fmt.Println(eventsapi.IsNotFound(err))
	fmt.Println(err)
	// Output:
	// true
	// get service deleted-service: HTTP 404 ModelArts.3502: Service deleted-service does not exist. (request id fake-00000001)
}
