package notifier_test

import (
	"context"
	"fmt"
	"os"

	"github.com/modelarts-notifier/modelarts-notifier/notifier"
)

// Deliver sends to every destination and reports each (notification,
// destination) pair, so the caller advances its checkpoint only for what
// was delivered.
func ExampleDeliver() {
	n := notifier.Notification{
		ID:   "msg_1",
		Kind: notifier.KindAbnormal,
		Summary: notifier.Summary{
			ServiceName: "service-07085",
			Status:      notifier.StatusAbnormal,
		},
	}
	dests := []notifier.Destination{{Name: "terminal", Notifier: notifier.NewTerminal(os.Stdout, false)}}
	for _, d := range notifier.Deliver(context.Background(), dests, []notifier.Notification{n}, nil) {
		fmt.Printf("%s -> %s: delivered=%v\n", d.ID, d.Destination, d.Err == nil)
	}
	// Output:
	// Abnormal events: service-07085
	//   service    service-07085
	//   status     abnormal
	//
	// msg_1 -> terminal: delivered=true
}
