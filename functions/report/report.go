package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/modelarts-notifier/modelarts-notifier/functions/setup"
	"github.com/modelarts-notifier/modelarts-notifier/functions/watch"
	"github.com/modelarts-notifier/modelarts-notifier/notifier"
)

const usageHead = `Usage: report -service ID [-since 24h] [-format text|json] [-notify] [-demo]

A one-off report of one ModelArts service: every deployment in the window,
its five phases and abnormal events. -notify also posts it to every
configured destination (Slack, webhooks, Teams, Feishu, DingTalk, WeCom).
Under AWS Lambda (AWS_LAMBDA_RUNTIME_API set) it answers {"service_id":
"...", "since": "24h", "notify": false} with the report JSON.

Flags:
`

// Request is the Lambda payload.
type Request struct {
	ServiceID string `json:"service_id"`
	Since     string `json:"since"`
	Notify    bool   `json:"notify"`
}

// Response is the Lambda answer: the report and, with notify, where it went.
type Response struct {
	*watch.Report
	Delivered []string `json:"delivered_to,omitempty"`
}

func realMain(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("report", flag.ContinueOnError)
	fs.SetOutput(stderr)
	service := fs.String("service", "", "service id (required; with -demo, defaults to the demo's first service)")
	since := fs.String("since", "24h", "how far back to read: a duration (90m, 24h) or days (7d)")
	format := fs.String("format", "text", "output format: text or json")
	notify := fs.Bool("notify", false, "also post the report to every configured destination")
	demoMode := fs.Bool("demo", false, "report on the built-in simulated ModelArts")
	fs.Usage = func() {
		fmt.Fprint(stderr, usageHead)
		fs.PrintDefaults()
		fmt.Fprint(stderr, "\nEnvironment:\n")
		_ = setup.Usage(stderr, &setup.Report{})
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

	var override func(*setup.Report)
	if *demoMode {
		o, first, stopDemo, err := startDemo(ctx, log)
		if err != nil {
			return fmt.Errorf("demo: %w", err)
		}
		defer stopDemo()
		override = o
		if *service == "" {
			*service = first
		}
	} else if err := setup.LoadSecrets(ctx, log); err != nil {
		return err
	}
	if *format != "text" && *format != "json" {
		return fmt.Errorf("-format %q: want text or json", *format)
	}
	if _, err := watch.ParseSince(*since); err != nil {
		return fmt.Errorf("-since: %w", err)
	}
	cfg, err := setup.LoadReportWith(override)
	if err != nil {
		return err
	}
	log = setup.NewLogger(stderr, cfg.LogLevel, inLambda)
	a, err := newApp(cfg, log)
	if err != nil {
		return err
	}
	if inLambda {
		lambda.StartWithOptions(a.handle, lambda.WithContext(ctx))
		return nil
	}
	if *service == "" {
		fs.Usage()
		return errors.New("-service is required")
	}
	resp, err := a.run(ctx, Request{ServiceID: *service, Since: *since, Notify: *notify})
	if resp != nil {
		if *format == "json" {
			enc := json.NewEncoder(stdout)
			enc.SetIndent("", "  ")
			if err := enc.Encode(resp); err != nil {
				return err
			}
		} else if err := notifier.RenderReport(stdout, reportView(resp.Report), setup.IsTerminal(stdout)); err != nil {
			return err
		}
	}
	return err
}

// clock is the report's now (tests fix it).
var clock = time.Now

type app struct {
	cfg   *setup.Report
	api   watch.API
	dests []notifier.Destination
	log   *slog.Logger
	now   func() time.Time
}

func newApp(cfg *setup.Report, log *slog.Logger) (*app, error) {
	client, err := cfg.NewClient(nil, log)
	if err != nil {
		return nil, err
	}
	dests, err := cfg.Destinations(log, nil)
	if err != nil {
		return nil, err
	}
	return &app{cfg: cfg, api: client, dests: dests, log: log, now: clock}, nil
}

// handle is the Lambda handler.
func (a *app) handle(ctx context.Context, req Request) (*Response, error) {
	return a.run(ctx, req)
}

// run builds the report and, when asked, delivers it. A failed delivery is
// an error, and the report is still returned.
func (a *app) run(ctx context.Context, req Request) (*Response, error) {
	if req.ServiceID == "" {
		return nil, errors.New(`service_id is required, e.g. {"service_id": "...", "since": "24h"}`)
	}
	r, err := watch.BuildReport(ctx, a.api, a.cfg.ProjectID, req.ServiceID, generation(a.cfg.API), req.Since, a.now(), a.cfg.StallThresholds)
	if err != nil {
		return nil, err
	}
	resp := &Response{Report: r}
	if !req.Notify {
		return resp, nil
	}
	if len(a.dests) == 0 {
		return resp, fmt.Errorf("notify: no destination configured (set one of %s)", strings.Join(setup.EnablingVars(), ", "))
	}
	var errs []error
	seen := map[string]bool{}
	for _, d := range notifier.Deliver(ctx, a.dests, r.Notifications(), nil) {
		if d.Err != nil {
			errs = append(errs, fmt.Errorf("deliver to %s: %w", d.Destination, d.Err))
			continue
		}
		if !seen[d.Destination] {
			seen[d.Destination] = true
			resp.Delivered = append(resp.Delivered, d.Destination)
		}
	}
	return resp, errors.Join(errs...)
}

// generation is the generation a service is looked up in: MODELARTS_API's
// v1 or v2, or "" (auto: v2 first, then v1).
func generation(api string) string {
	if api == "auto" {
		return ""
	}
	return api
}

// reportView is what the text report shows: the same as the JSON one.
func reportView(r *watch.Report) notifier.ReportView {
	return notifier.ReportView{ProjectID: r.ProjectID, ServiceID: r.ServiceID, ServiceName: r.ServiceName,
		ServiceStatus: r.ServiceStatus, Since: r.Since, From: r.From, GeneratedAt: r.GeneratedAt,
		EventsRead: r.EventsRead, Deployments: r.Deployments, RuntimeEvents: r.RuntimeEvents}
}
