package main

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/modelarts-notifier/modelarts-notifier/functions/setup"
	"github.com/modelarts-notifier/modelarts-notifier/functions/watch"
	"github.com/modelarts-notifier/modelarts-notifier/notifier"
	"github.com/modelarts-notifier/modelarts-notifier/notifier/route"
)

const usageHead = `Usage: report [-service ID|NAME] [-since 24h] [-format text|json] [-notify] [-demo]

Without -service: the project report, every watched service at a glance
(MODELARTS_SERVICE_IDS, or every service of the generations watched):
deployments in the window by outcome, phase durations, failures by phase
and hint, each service's latest deployment. With -service (an id, or an
exact service name): a one-off report of that service, every deployment
in the window, its five phases and abnormal events. -notify also posts it
to every configured destination (Slack, webhooks, Teams, Feishu, DingTalk,
WeCom) that ROUTES sends it to; a posted project report's window ends at
the start of the hour. Under AWS Lambda (AWS_LAMBDA_RUNTIME_API set) it
answers {"service_id": "...", "since": "24h", "notify": false} with the
report JSON; without service_id, with the project report.

Flags:
`

// Request is the Lambda payload: without ServiceID, the project report.
type Request struct {
	ServiceID string `json:"service_id"`
	Since     string `json:"since"`
	Notify    bool   `json:"notify"`
}

// Response is the Lambda answer for one service: the report and, with
// notify, where it went.
type Response struct {
	*watch.Report
	Delivered []string `json:"delivered_to,omitempty"`
	// Muted: a mute of ROUTES in force matched, nothing was posted.
	Muted bool `json:"muted,omitempty"`
}

// ProjectResponse is the Lambda answer without service_id: the project
// report and, with notify, where it went.
type ProjectResponse struct {
	*notifier.ProjectReport
	Delivered []string `json:"delivered_to,omitempty"`
	Muted     bool     `json:"muted,omitempty"`
}

func realMain(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("report", flag.ContinueOnError)
	fs.SetOutput(stderr)
	service := fs.String("service", "", "a service id or exact name (without it: the project report, every watched service)")
	since := fs.String("since", "24h", "how far back to read: a duration (90m, 24h) or days (7d)")
	format := fs.String("format", "text", "output format: text or json")
	notify := fs.Bool("notify", false, "also post the report to every configured destination (as ROUTES routes it)")
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
		o, _, stopDemo, err := startDemo(ctx, log)
		if err != nil {
			return fmt.Errorf("demo: %w", err)
		}
		defer stopDemo()
		override = o
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
	req := Request{ServiceID: *service, Since: *since, Notify: *notify}
	if req.ServiceID == "" {
		resp, err := a.runProject(ctx, req)
		if resp != nil {
			if *format == "json" {
				if err := writeJSON(stdout, resp); err != nil {
					return err
				}
			} else if err := notifier.RenderProjectReport(stdout, resp.ProjectReport); err != nil {
				return err
			}
		}
		return err
	}
	resp, err := a.run(ctx, req)
	if resp != nil {
		if *format == "json" {
			if err := writeJSON(stdout, resp); err != nil {
				return err
			}
		} else if err := notifier.RenderReport(stdout, reportView(resp.Report), setup.IsTerminal(stdout)); err != nil {
			return err
		}
	}
	return err
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// clock is the report's now (tests fix it).
var clock = time.Now

type app struct {
	cfg    *setup.Report
	api    watch.API
	dests  []notifier.Destination
	routes *route.Table // nil: every notification goes everywhere
	log    *slog.Logger
	now    func() time.Time
}

func newApp(cfg *setup.Report, log *slog.Logger) (*app, error) {
	client, err := cfg.NewClient(nil, log)
	if err != nil {
		return nil, err
	}
	dests, routes, err := cfg.RoutedDestinations(log, nil)
	if err != nil {
		return nil, err
	}
	return &app{cfg: cfg, api: client, dests: dests, routes: routes, log: log, now: clock}, nil
}

// handle is the Lambda handler: a payload without service_id answers the
// project report.
func (a *app) handle(ctx context.Context, req Request) (any, error) {
	if req.ServiceID == "" {
		resp, err := a.runProject(ctx, req)
		if resp != nil {
			t := resp.Totals
			a.log.Info("project report", "since", resp.Since, "to", resp.To, "services", t.Services, "unreadable", t.Unreadable,
				"deployments", t.Deployments, "failed", t.Failed, "stalled", t.Stalled, "delivered_to", resp.Delivered, "muted", resp.Muted)
		}
		return resp, err
	}
	return a.run(ctx, req)
}

// run builds the report of one service and, when asked, delivers it. A
// failed delivery is an error, and the report is still returned.
func (a *app) run(ctx context.Context, req Request) (*Response, error) {
	if _, err := watch.ParseSince(req.Since); err != nil {
		return nil, err
	}
	id, gen, err := watch.ResolveService(ctx, a.api, a.cfg.API, req.ServiceID)
	if err != nil {
		return nil, err
	}
	gen = cmp.Or(gen, generation(a.cfg.API))
	r, err := watch.BuildReport(ctx, a.api, a.cfg.ProjectID, id, gen, req.Since, a.now(), a.cfg.StallThresholds)
	if err != nil {
		return nil, err
	}
	resp := &Response{Report: r}
	if !req.Notify {
		return resp, nil
	}
	resp.Delivered, resp.Muted, err = a.deliver(ctx, r.Notifications())
	return resp, err
}

// runProject builds the project report and, when asked, posts it as one
// project.report notification. A printed report's window ends now; a
// posted one's at the start of the current hour, so that a retried run in
// the same hour posts the same report under the same webhook-id.
func (a *app) runProject(ctx context.Context, req Request) (*ProjectResponse, error) {
	now := a.now()
	to := now
	if req.Notify {
		to = now.UTC().Truncate(time.Hour)
	}
	cfg := watch.ProjectConfig{ProjectID: a.cfg.ProjectID, ServiceIDs: a.cfg.ServiceIDs, API: a.cfg.API,
		Concurrency: a.cfg.Concurrency, Thresholds: a.cfg.StallThresholds, Now: func() time.Time { return now }}
	r, err := watch.BuildProjectReport(ctx, a.api, cfg, req.Since, to)
	if err != nil {
		return nil, err
	}
	resp := &ProjectResponse{ProjectReport: r}
	if !req.Notify {
		return resp, nil
	}
	resp.Delivered, resp.Muted, err = a.deliver(ctx, []notifier.Notification{watch.ProjectNotification(r)})
	return resp, err
}

// deliver posts ns to the destinations ROUTES sends each to (every
// destination without ROUTES). It returns the destinations that got
// something, and muted when a mute in force matched every notification.
func (a *app) deliver(ctx context.Context, ns []notifier.Notification) (delivered []string, muted bool, err error) {
	if len(a.dests) == 0 {
		return nil, false, fmt.Errorf("notify: no destination configured (set one of %s)", strings.Join(setup.EnablingVars(), ", "))
	}
	to := map[string][]string{} // notification id -> destination names (nil: all)
	var send []notifier.Notification
	mutedAll := len(ns) > 0
	for _, n := range ns {
		if a.routes == nil {
			send = append(send, n)
			mutedAll = false
			continue
		}
		d := a.routes.Route(routeQuery(n), a.now())
		if d.Muted {
			a.log.Info("notification muted by ROUTES", "type", n.Kind, "id", n.ID)
			continue
		}
		mutedAll = false
		if d.Dropped() {
			a.log.Info("notification routed nowhere by ROUTES", "type", n.Kind, "id", n.ID)
			continue
		}
		to[n.ID] = d.To
		send = append(send, n)
	}
	skip := func(id, dest string) bool {
		names, routed := to[id]
		if !routed {
			return false
		}
		i := slices.IndexFunc(a.dests, func(d notifier.Destination) bool { return d.Name == dest })
		return i >= 0 && a.dests[i].Kind != "" && !slices.Contains(names, dest)
	}
	var errs []error
	for _, d := range notifier.Deliver(ctx, a.dests, send, skip) {
		if d.Err != nil {
			errs = append(errs, fmt.Errorf("deliver to %s: %w", d.Destination, d.Err))
			continue
		}
		if !slices.Contains(delivered, d.Destination) {
			delivered = append(delivered, d.Destination)
		}
	}
	return delivered, mutedAll, errors.Join(errs...)
}

// routeQuery is n as ROUTES sees it: a project report has no service,
// phase or generation, so a route or mute filtering on those never
// matches it.
func routeQuery(n notifier.Notification) route.Query {
	if n.Project != nil {
		return route.Query{Type: string(n.Kind)}
	}
	s := n.Summary
	return route.Query{ServiceName: s.ServiceName, ServiceID: s.ServiceID, Type: string(n.Kind), Phase: s.Phase, Generation: s.Generation}
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
