package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/modelarts-notifier/modelarts-notifier/eventsapi"
	"github.com/modelarts-notifier/modelarts-notifier/functions/setup"
	"github.com/modelarts-notifier/modelarts-notifier/functions/watch"
	"github.com/modelarts-notifier/modelarts-notifier/notifier"
	"github.com/modelarts-notifier/modelarts-notifier/notifier/route"
)

const usageHead = `Usage: poller [-demo]
       poller -route-test SERVICE [-type KIND] [-phase PHASE]

One poll of ModelArts service events: reads the events newer than each
service's checkpoint, rebuilds deployment timelines, and delivers the due
notifications. Exit status 0 only if every due notification was delivered.
Under AWS Lambda (AWS_LAMBDA_RUNTIME_API set) it serves the schedule instead.

Flags:
  -demo   poll the built-in simulated ModelArts: five services (a success, a
          failure, a stalled image pull, a runtime abnormal event and a v2
          service stalled in scheduling); checkpoints in .modelarts-notifier/
  -route-test SERVICE
          print where a notification about SERVICE (a name or an id) would
          go under ROUTES: one destination name per line (none: nowhere),
          or "muted"; it reads the configuration only and calls no API
  -type KIND, -phase PHASE
          the notification's kind and phase for -route-test (omitted: only
          routes and mutes that do not filter on it match)
  -h      this help

Environment:
`

// realMain parses flags, reads the configuration and runs the poller as a
// command or as a Lambda handler.
func realMain(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("poller", flag.ContinueOnError)
	fs.SetOutput(stderr)
	demoMode := fs.Bool("demo", false, "poll the built-in simulated ModelArts")
	routeTest := fs.String("route-test", "", "where a notification about this service would go under ROUTES")
	routeType := fs.String("type", "", "the notification kind, with -route-test")
	routePhase := fs.String("phase", "", "the phase, with -route-test")
	fs.Usage = func() {
		fmt.Fprint(stderr, usageHead)
		_ = setup.Usage(stderr, &setup.Poller{})
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q: %s takes flags only (-h lists them)", fs.Arg(0), fs.Name())
	}
	inLambda := setup.InLambda()
	log := setup.NewLogger(stderr, os.Getenv("LOG_LEVEL"), inLambda)
	if *routeTest != "" || *routeType != "" || *routePhase != "" {
		if *routeTest == "" {
			return errors.New("-type and -phase go with -route-test SERVICE")
		}
		if err := setup.LoadSecrets(ctx, log); err != nil {
			return err
		}
		return printRoute(stdout, log, *routeTest, *routeType, *routePhase, time.Now())
	}

	var override func(*setup.Poller)
	if *demoMode {
		o, stopDemo, err := startDemo(ctx, log)
		if err != nil {
			return fmt.Errorf("demo: %w", err)
		}
		defer stopDemo()
		override = o
	} else if err := setup.LoadSecrets(ctx, log); err != nil {
		return err
	}
	// The demo needs neither a durable store nor a destination, even under
	// the Lambda emulator.
	cfg, err := setup.LoadPollerWith(inLambda && !*demoMode, override)
	if err != nil {
		return err
	}
	log = setup.NewLogger(stderr, cfg.LogLevel, inLambda)
	log.Debug("configuration", "config", cfg)

	var extra []notifier.Destination
	switch {
	case !inLambda:
		extra = append(extra, notifier.Destination{Name: "terminal", Notifier: notifier.NewTerminal(stdout, setup.IsTerminal(stdout))})
	case *demoMode: // under the emulator: stdout carries the metrics
		extra = append(extra, notifier.Destination{Name: "terminal", Notifier: notifier.NewTerminal(stderr, false)})
	}
	a, err := newApp(ctx, cfg, log, extra)
	if err != nil {
		return err
	}
	if inLambda {
		a.metrics = stdout
		lambda.StartWithOptions(a.handle, lambda.WithContext(ctx))
		return nil
	}
	res := a.poll(ctx)
	if res.Due == 0 && res.Err == nil {
		fmt.Fprintln(stdout, "Nothing new: no notification is due.")
	}
	return res.Err
}

// app is a configured poller: built once per process (a Lambda cold start),
// used for every run.
type app struct {
	poller       *watch.Poller
	destinations int // destinations notifications go to
	client       *eventsapi.Client
	log          *slog.Logger
	metrics      io.Writer // EMF records; nil outside Lambda
}

func newApp(ctx context.Context, cfg *setup.Poller, log *slog.Logger, extra []notifier.Destination) (*app, error) {
	client, err := cfg.NewClient(nil, log)
	if err != nil {
		return nil, err
	}
	store, err := cfg.NewStore(ctx)
	if err != nil {
		return nil, err
	}
	dests, routes, err := cfg.RoutedDestinations(log, nil, extra...)
	if err != nil {
		return nil, err
	}
	var router watch.Router
	if routes != nil {
		router = routes
	}
	p := watch.New(watch.Config{
		ProjectID:        cfg.ProjectID,
		ServiceIDs:       cfg.ServiceIDs,
		Thresholds:       cfg.StallThresholds,
		FirstRunLookback: cfg.FirstRunLookback.D(),
		API:              cfg.API,
		Concurrency:      cfg.Concurrency,
		Router:           router,
		Learn:            cfg.Learn(),
	}, client, store, dests, log.With("component", "watch"))
	return &app{poller: p, client: client, log: log, destinations: len(dests)}, nil
}

// Output is what the Lambda handler returns: the run's figures.
type Output struct {
	Services         int `json:"services"`
	ServicesDeferred int `json:"services_deferred"`
	ServicesFailed   int `json:"services_failed"`
	EventsRead       int `json:"events_read"`
	Due              int `json:"notifications_due"`
	Delivered        int `json:"deliveries"`
	Failed           int `json:"deliveries_failed"`
	Muted            int `json:"notifications_muted"`
	Dropped          int `json:"notifications_dropped"`
	CheckpointWrites int `json:"checkpoint_writes"`
}

// handle is the EventBridge schedule's handler. It returns an error when any
// due notification was not delivered, so Lambda's Errors metric sees it.
func (a *app) handle(ctx context.Context, _ events.CloudWatchEvent) (Output, error) {
	res := a.poll(ctx)
	out := Output{
		Services: res.Services, ServicesDeferred: res.ServicesDeferred, ServicesFailed: res.ServicesFailed,
		EventsRead: res.EventsRead, Due: res.Due, Delivered: res.Delivered, Failed: res.DeliveryFailed,
		Muted: res.Muted, Dropped: res.Dropped, CheckpointWrites: res.CheckpointWrites,
	}
	return out, res.Err
}

// poll runs one cycle, logs its outcome and writes its metrics.
func (a *app) poll(ctx context.Context) watch.Result {
	start := time.Now()
	before := a.client.Stats()
	res := a.poller.Poll(ctx)
	after := a.client.Stats()
	m := setup.RunMetrics{
		Function:             "poller",
		EventsRead:           res.EventsRead,
		NotificationsSent:    res.Delivered,
		NotificationsFailed:  res.DeliveryFailed,
		NotificationsMuted:   res.Muted,
		NotificationsDropped: res.Dropped,
		Stalls:               res.Stalls,
		APIRetries:           after.Retries - before.Retries,
		ServicesPolled:       res.Services,
		ServicesFailed:       res.ServicesFailed,
		ServicesDeferred:     res.ServicesDeferred,
		CheckpointWrites:     res.CheckpointWrites,
		Duration:             time.Since(start),
	}
	if a.metrics != nil {
		if err := m.WriteEMF(a.metrics, time.Now()); err != nil {
			a.log.Warn("write metrics", "err", err)
		}
	}
	level := slog.LevelInfo
	if res.Err != nil {
		level = slog.LevelError
	}
	// Notifications are counted once; deliveries per (notification,
	// destination) pair, so 4 notifications to 2 destinations are 8.
	attrs := []any{
		"services", res.Services, "services_deferred", res.ServicesDeferred, "services_failed", res.ServicesFailed,
		"events_read", res.EventsRead, "notifications_due", res.Due, "destinations", a.destinations,
		"deliveries", res.Delivered, "deliveries_failed", res.DeliveryFailed,
		"notifications_muted", res.Muted, "notifications_dropped", res.Dropped, "stalls", res.Stalls,
		"checkpoint_writes", res.CheckpointWrites, "api_requests", after.Requests - before.Requests,
		"api_retries", m.APIRetries, "duration_ms", m.Duration.Milliseconds(),
	}
	if res.Err != nil {
		attrs = append(attrs, "err", res.Err)
	}
	a.log.Log(ctx, level, "poll done", attrs...)
	return res
}

// printRoute prints where a notification about service (a name or an id)
// of kind typ in phase would go now: the routing names of its
// destinations, one per line, or "muted".
func printRoute(w io.Writer, log *slog.Logger, service, typ, phase string, now time.Time) error {
	if typ != "" && !slices.Contains(append(slices.Clone(notifier.Kinds), "project.report"), notifier.Kind(typ)) {
		return fmt.Errorf("-type %q: not a notification kind", typ)
	}
	if phase != "" && !slices.Contains(notifier.PhaseNames, phase) {
		return fmt.Errorf("-phase %q: not a phase (%s)", phase, strings.Join(notifier.PhaseNames, ", "))
	}
	dests, tb, err := setup.LoadRoutes(log)
	if err != nil {
		return err
	}
	d := tb.Route(route.Query{ServiceName: service, ServiceID: service, Type: typ, Phase: phase}, now)
	if d.Muted {
		_, err := fmt.Fprintln(w, "muted")
		return err
	}
	for _, dest := range dests {
		if d.To == nil || slices.Contains(d.To, dest.Name) {
			if _, err := fmt.Fprintln(w, dest.RouteName()); err != nil {
				return err
			}
		}
	}
	return nil
}
