// Command report prints a one-off report of one ModelArts service: the
// summary of every deployment in a time window, with its five phases. Under
// AWS Lambda it answers {"service_id": "...", "since": "24h", "notify": false}
// with the report JSON. -h lists every flag and variable.
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
		fmt.Fprintln(os.Stderr, "report:", err)
		stop()
		os.Exit(1)
	}
}
