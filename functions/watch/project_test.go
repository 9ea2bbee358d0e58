package watch

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/modelarts-notifier/modelarts-notifier/eventsapi"
	"github.com/modelarts-notifier/modelarts-notifier/eventsapi/eventsapitest"
	"github.com/modelarts-notifier/modelarts-notifier/notifier"
	"github.com/modelarts-notifier/modelarts-notifier/notifier/domain"
)

// projectNow is the project tests' clock.
var projectNow = time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)

// The project tests' services.
const (
	pAlpha   = "0a000000-0000-4000-8000-000000000001" // two successes in the window
	pBravo   = "0a000000-0000-4000-8000-000000000002" // a failure in scheduling
	pCharlie = "0a000000-0000-4000-8000-000000000003" // an image pull that stalls
	pDelta   = "0a000000-0000-4000-8000-000000000004" // scheduling under way
	pEcho    = "0a000000-0000-4000-8000-000000000005" // a deployment before the window, a runtime abnormal event
)

// projectFake is a fake ModelArts with the five services of the project
// tests, and a client of it.
func projectFake(t *testing.T) (*eventsapitest.Server, API) {
	t.Helper()
	srv := eventsapitest.NewServer(eventsapitest.WithClock(func() time.Time { return projectNow }))
	t.Cleanup(srv.Close)
	for id, name := range map[string]string{pAlpha: "alpha", pBravo: "bravo", pCharlie: "charlie", pDelta: "delta", pEcho: "echo"} {
		srv.AddService(id, name, eventsapi.StatusDeploying)
	}
	step := 10 * time.Second
	srv.DeploySuccess(pAlpha, "TF 3.0.0", projectNow.Add(-30*time.Hour), step) // outside the window
	srv.DeploySuccess(pAlpha, "TF 3.0.0", projectNow.Add(-10*time.Hour), step)
	srv.DeploySuccess(pAlpha, "TF 3.1.0", projectNow.Add(-4*time.Hour), 20*time.Second)
	srv.DeployFailure(pBravo, "BERT 2.0", eventsapitest.PhaseScheduling, projectNow.Add(-3*time.Hour), step)
	srv.DeployStall(pCharlie, "Llama 1.0", eventsapitest.PhaseImagePull, projectNow.Add(-2*time.Hour), step)
	srv.DeployStall(pDelta, "YOLO 8", eventsapitest.PhaseScheduling, projectNow.Add(-5*time.Minute), step)
	// Begun before the window, ended in it: none of the window's
	// deployments, and its events are no runtime events.
	srv.DeploySuccess(pEcho, "ResNet 1.2", projectNow.Add(-24*time.Hour-2*time.Minute), 30*time.Second)
	srv.RuntimeAbnormal(pEcho, "Instance echo-7f9c restarted: the model process exited (out of memory).", projectNow.Add(-time.Hour))
	api, err := eventsapi.New(eventsapi.Config{
		Endpoint: srv.URL, ProjectID: srv.ProjectID, Auth: eventsapi.StaticToken(srv.Token),
		RetryBaseDelay: time.Millisecond, RetryMaxDelay: 2 * time.Millisecond, MaxRetries: 1,
	})
	if err != nil {
		t.Fatal(err)
	}
	return srv, api
}

func projectConfig(srv *eventsapitest.Server) ProjectConfig {
	return ProjectConfig{ProjectID: srv.ProjectID, API: "auto", Concurrency: 2}
}

// Five services (two successes on one, a failure, a stall, one in
// progress, a runtime abnormal event, deployments outside the window)
// give exactly those totals, phase counts and failures, problems first.
func TestProjectReport(t *testing.T) {
	srv, api := projectFake(t)
	r, err := BuildProjectReport(context.Background(), api, projectConfig(srv), "24h", projectNow)
	if err != nil {
		t.Fatal(err)
	}
	want := domain.ProjectTotals{Services: 5, Deployments: 5, Succeeded: 2, Failed: 1, Stalled: 1, InProgress: 1, RuntimeAbnormal: 1}
	if diff := cmp.Diff(want, r.Totals); diff != "" {
		t.Errorf("totals (-want +got):\n%s", diff)
	}
	counts := map[string]int{}
	for _, p := range r.Phases {
		counts[p.Name] = p.Count
		if p.MedianMS <= 0 || p.P90MS < p.MedianMS || p.MaxMS < p.P90MS {
			t.Errorf("phase %s: median %d, p90 %d, max %d", p.Name, p.MedianMS, p.P90MS, p.MaxMS)
		}
	}
	// alpha twice; bravo up to scheduling, charlie up to image_pull,
	// delta up to scheduling: the phases that succeeded.
	wantCounts := map[string]int{"image_build": 5, "environment": 5, "scheduling": 3, "image_pull": 2, "model_startup": 2}
	if diff := cmp.Diff(wantCounts, counts); diff != "" {
		t.Errorf("phase counts (-want +got):\n%s", diff)
	}
	// Phase durations: alpha's image pulls took 10s and 20s (its two
	// deployments' steps), charlie's never ended.
	if i := slices.IndexFunc(r.Phases, func(p domain.PhaseStats) bool { return p.Name == "image_pull" }); i < 0 ||
		r.Phases[i].MedianMS != 15000 || r.Phases[i].P90MS != 20000 || r.Phases[i].MaxMS != 20000 {
		t.Errorf("image_pull stats %+v, want median 15s, p90 20s, max 20s", r.Phases)
	}
	if len(r.Failures) != 1 || r.Failures[0].Phase != "scheduling" || r.Failures[0].Count != 1 ||
		!slices.Equal(r.Failures[0].Services, []string{"bravo"}) || !strings.Contains(r.Failures[0].Hint, "resources") {
		t.Errorf("failures %+v", r.Failures)
	}
	var order []string
	for _, s := range r.Services {
		order = append(order, s.ServiceName)
	}
	if !slices.Equal(order, []string{"bravo", "charlie", "delta", "alpha", "echo"}) {
		t.Errorf("services in order %v, want problems first (failed, stalled, in progress) then by name", order)
	}
	byName := map[string]domain.ServiceEntry{}
	for _, s := range r.Services {
		byName[s.ServiceName] = s
	}
	if a := byName["alpha"]; a.Deployments != 2 || a.Latest == nil || a.Latest.Status != notifier.StatusSucceeded || a.Latest.Model != "TF 3.1.0" {
		t.Errorf("alpha %+v, want its newest of two successes as latest", a)
	}
	if e := byName["echo"]; e.Deployments != 0 || e.Latest != nil || e.RuntimeAbnormal != 1 {
		t.Errorf("echo %+v, want no deployment in the window and one runtime abnormal event", e)
	}
	if d := byName["delta"]; d.Latest == nil || d.Latest.Status != notifier.StatusInProgress || d.Latest.Phase != "scheduling" {
		t.Errorf("delta %+v", d)
	}
	if r.Type != notifier.KindProjectReport || r.Since != "24h" || !r.To.Equal(projectNow) || !r.From.Equal(projectNow.Add(-24*time.Hour)) {
		t.Errorf("report header %+v", r)
	}
	// The latest deployment carries few events: the report is an overview.
	if b := byName["bravo"].Latest; b == nil || len(b.Events) > latestEvents || b.EventsOmitted == 0 || b.Events[0].EventInfo != "start to deploy service" {
		t.Errorf("bravo's latest events %+v (omitted %d)", b.Events, b.EventsOmitted)
	}
	// JSON: null latest, arrays never null.
	body, _ := json.Marshal(r)
	for _, want := range []string{`"latest":null`, `"type":"project.report"`, `"phases":[{`, `"failures":[{`} {
		if !strings.Contains(string(body), want) {
			t.Errorf("JSON lacks %s: %s", want, body)
		}
	}
}

// A window that ends earlier (a posted report's, at the start of the
// hour) leaves out what began after it, but judges outcomes now.
func TestProjectReportWindowEnd(t *testing.T) {
	srv, api := projectFake(t)
	cfg := projectConfig(srv)
	cfg.Now = func() time.Time { return projectNow }
	r, err := BuildProjectReport(context.Background(), api, cfg, "24h", projectNow.Add(-30*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	// delta's deployment began after the window; echo's began in it.
	want := domain.ProjectTotals{Services: 5, Deployments: 5, Succeeded: 3, Failed: 1, Stalled: 1, RuntimeAbnormal: 1}
	if diff := cmp.Diff(want, r.Totals); diff != "" || !r.GeneratedAt.Equal(projectNow) {
		t.Errorf("generated at %v; totals (-want +got):\n%s", r.GeneratedAt, diff)
	}
	// The same window gives the same notification id; another does not.
	n1, n2 := ProjectNotification(r), ProjectNotification(r)
	r2 := *r
	r2.Since = "1d"
	if n1.ID != n2.ID || n1.ID != ProjectNotification(&r2).ID || n1.Kind != notifier.KindProjectReport || n1.Project != r {
		t.Errorf("notification %+v", n1)
	}
	r2.To = notifier.At(projectNow)
	if ProjectNotification(&r2).ID == n1.ID {
		t.Error("another window's report has the same id")
	}
}

// A service whose read fails is listed with its error and counted
// unreadable; the report still answers for the others.
func TestProjectReportUnreadableService(t *testing.T) {
	srv, api := projectFake(t)
	srv.Fail(5, eventsapitest.Fault{Path: "/services/" + pCharlie + "/events", Status: http.StatusForbidden})
	r, err := BuildProjectReport(context.Background(), api, projectConfig(srv), "24h", projectNow)
	if err != nil {
		t.Fatal(err)
	}
	if r.Totals.Unreadable != 1 || r.Totals.Services != 5 || r.Totals.Stalled != 0 || r.Totals.Failed != 1 || r.Totals.Succeeded != 2 {
		t.Errorf("totals %+v", r.Totals)
	}
	i := slices.IndexFunc(r.Services, func(s domain.ServiceEntry) bool { return s.ServiceID == pCharlie })
	if i < 0 || r.Services[i].Error == "" || r.Services[i].Latest != nil || r.Services[i].ServiceName != "charlie" {
		t.Errorf("charlie %+v, want it listed with its error", r.Services)
	}
}

// The context's deadline is respected: a service too slow to read is
// listed as such, and the report answers before the deadline.
func TestProjectReportDeadline(t *testing.T) {
	srv, api := projectFake(t)
	srv.Fail(1, eventsapitest.Fault{Path: "/services/" + pAlpha + "/events", Latency: 5 * time.Second})
	ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
	defer cancel()
	start := time.Now()
	r, err := BuildProjectReport(ctx, api, projectConfig(srv), "24h", projectNow)
	if err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took > 1400*time.Millisecond {
		t.Errorf("the report took %v: it kept no time before the deadline", took)
	}
	if ctx.Err() != nil {
		t.Error("the deadline passed before the report answered")
	}
	i := slices.IndexFunc(r.Services, func(s domain.ServiceEntry) bool { return s.ServiceID == pAlpha })
	if r.Totals.Unreadable != 1 || i < 0 || r.Services[i].Error == "" || r.Totals.Failed != 1 {
		t.Errorf("totals %+v, alpha %+v", r.Totals, r.Services)
	}
}

// MODELARTS_SERVICE_IDS limits the report to those services, read by id.
func TestProjectReportConfiguredServices(t *testing.T) {
	srv, api := projectFake(t)
	cfg := projectConfig(srv)
	cfg.ServiceIDs = []string{pBravo, pEcho, pBravo}
	r, err := BuildProjectReport(context.Background(), api, cfg, "24h", projectNow)
	if err != nil {
		t.Fatal(err)
	}
	if r.Totals.Services != 2 || r.Totals.Failed != 1 || r.Totals.RuntimeAbnormal != 1 || r.Services[0].ServiceName != "bravo" {
		t.Errorf("report %+v", r)
	}
}

// Both generations are reported.
func TestProjectReportV2(t *testing.T) {
	srv, api := projectFake(t)
	srv.AddServiceV2("0b000000-0000-4000-8000-000000000001", "qwen", "DEPLOYING")
	srv.DeployFailureV2("0b000000-0000-4000-8000-000000000001", "Qwen 1.0", eventsapitest.PhaseImagePull, projectNow.Add(-time.Hour), 10*time.Second)
	r, err := BuildProjectReport(context.Background(), api, projectConfig(srv), "24h", projectNow)
	if err != nil {
		t.Fatal(err)
	}
	if r.Totals.Services != 6 || r.Totals.Failed != 2 || r.Services[0].Generation == r.Services[1].Generation {
		t.Errorf("totals %+v, services %+v", r.Totals, r.Services[:2])
	}
}

func TestProjectReportBadSince(t *testing.T) {
	srv, api := projectFake(t)
	if _, err := BuildProjectReport(context.Background(), api, projectConfig(srv), "forever", projectNow); err == nil {
		t.Error("no error for since=forever")
	}
}

// -service takes an id or an exact name: both give the same report; a
// name two services share is an error listing their ids; an unknown name
// suggests the closest ones.
func TestResolveService(t *testing.T) {
	srv, api := projectFake(t)
	ctx := context.Background()
	id, gen, err := ResolveService(ctx, api, "auto", "charlie")
	if err != nil || id != pCharlie || gen != eventsapi.GenerationV1 {
		t.Fatalf("charlie: %q %q %v", id, gen, err)
	}
	byName, err := BuildReport(ctx, api, srv.ProjectID, id, gen, "24h", projectNow, nil)
	if err != nil {
		t.Fatal(err)
	}
	id2, gen2, err := ResolveService(ctx, api, "auto", pCharlie)
	if err != nil || id2 != pCharlie {
		t.Fatalf("by id: %q %v", id2, err)
	}
	byID, err := BuildReport(ctx, api, srv.ProjectID, id2, gen2, "24h", projectNow, nil)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(byID, byName); diff != "" {
		t.Errorf("by name and by id differ (-id +name):\n%s", diff)
	}

	// Two services named alike, of either generation.
	const twin = "0b000000-0000-4000-8000-00000000000d"
	srv.AddServiceV2(twin, "delta", "RUNNING")
	_, _, err = ResolveService(ctx, api, "auto", "delta")
	if err == nil || !strings.Contains(err.Error(), pDelta) || !strings.Contains(err.Error(), twin) {
		t.Errorf("ambiguous name: err = %v, want both ids", err)
	}
	// MODELARTS_API=v1 sees only one of them.
	if id, _, err := ResolveService(ctx, api, "v1", "delta"); err != nil || id != pDelta {
		t.Errorf("v1 only: %q %v", id, err)
	}

	_, _, err = ResolveService(ctx, api, "auto", "charly")
	if err == nil || !strings.Contains(err.Error(), `"charly"`) || !strings.Contains(err.Error(), `did you mean "charlie"`) {
		t.Errorf("unknown name: err = %v, want it to suggest charlie", err)
	}
	_, _, err = ResolveService(ctx, api, "auto", "zzzzzzzzzzzzzzzzzzzz")
	if err == nil || strings.Contains(err.Error(), "did you mean") {
		t.Errorf("a name like none: err = %v, want no suggestion", err)
	}
	// An id the list does not show is passed on: the lookup says.
	if id, _, err := ResolveService(ctx, api, "auto", "0c000000-0000-4000-8000-000000000000"); err != nil || id != "0c000000-0000-4000-8000-000000000000" {
		t.Errorf("unlisted id: %q %v", id, err)
	}
}

func TestClosestNames(t *testing.T) {
	var svcs []eventsapi.Service
	for _, n := range []string{"bert-ner", "bert-ner-v2", "resnet50", "llama2-chat", "yolo", "bert-base"} {
		svcs = append(svcs, eventsapi.Service{ServiceName: n})
	}
	if got := closestNames("bert-nr", svcs, 3); !slices.Equal(got, []string{"bert-ner"}) {
		t.Errorf("closest to bert-nr: %v", got)
	}
	if got := closestNames("bert", svcs, 3); !slices.Equal(got, []string{"bert-base", "bert-ner", "bert-ner-v2"}) {
		t.Errorf("closest to bert: %v", got)
	}
	if got := closestNames("LLAMA", svcs, 3); !slices.Equal(got, []string{"llama2-chat"}) {
		t.Errorf("closest to LLAMA: %v", got)
	}
	if levenshtein("kitten", "sitting") != 3 || levenshtein("", "abc") != 3 || levenshtein("模型", "模形") != 1 {
		t.Error("levenshtein")
	}
}
