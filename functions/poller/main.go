// Command poller runs one poll of ModelArts service events and delivers the
// notifications that are due. Under AWS Lambda (AWS_LAMBDA_RUNTIME_API set)
// it is the EventBridge schedule's handler; otherwise it polls once and exits
// 0 only if every due notification was delivered. -demo polls the built-in
// simulated ModelArts. -h lists every variable.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := realMain(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "poller:", err)
		stop()
		os.Exit(1)
	}
}
