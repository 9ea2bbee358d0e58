package watch

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/modelarts-notifier/modelarts-notifier/eventsapi"
	"github.com/modelarts-notifier/modelarts-notifier/functions/stats"
	"github.com/modelarts-notifier/modelarts-notifier/functions/timeline"
	"github.com/modelarts-notifier/modelarts-notifier/notifier"
	"github.com/modelarts-notifier/modelarts-notifier/notifier/domain"
)

// ProjectConfig is what a project report reads: the watched services, as
// the poller watches them.
type ProjectConfig struct {
	ProjectID string
	// ServiceIDs are the services to report (MODELARTS_SERVICE_IDS);
	// empty means every service of the generations watched.
	ServiceIDs []string
	// API is the generations watched: "auto" (default: both), "v1" or
	// "v2" (MODELARTS_API).
	API string
	// Concurrency bounds the services read at once (MODELARTS_CONCURRENCY;
	// default 16).
	Concurrency int
	// Thresholds are the stall thresholds (nil: the defaults). A report
	// learns none: it reads each service once.
	Thresholds timeline.Thresholds
	// Now is when the report is made (GeneratedAt, the time outcomes are
	// judged at); nil means the window's end.
	Now func() time.Time
}

// Bounds of a project report's reads and of what it carries per service.
const (
	// maxProjectEvents bounds the events one service's read holds: beyond
	// it, the service is listed as unreadable (a server that invents
	// events without end gets a bounded read, never an endless one).
	maxProjectEvents = maxReadFactor * DefaultMaxEventsPerPoll
	// latestEvents and latestAbnormal bound the events of a service's
	// latest deployment in a project report (the first event and the
	// newest others; the rest are counted in events_omitted): the report
	// is an overview, and sixty services must fit a webhook body.
	latestEvents   = 5
	latestAbnormal = 5
	// projectReserve is the time kept, before the context's deadline, to
	// answer (and post) the report once the reads are cut off; at most a
	// third of the time left.
	projectReserve = 10 * time.Second
)

// BuildProjectReport reports every watched service over the window
// [to − since, to]: each service's deployments that started in it, by
// their outcome at cfg.Now, its runtime abnormal events, the durations of
// the phases that succeeded, the failures by phase and hint. Services are
// read cfg.Concurrency at once until shortly before ctx's deadline; a
// service not read by then, or whose read failed, is listed with its
// error and counted unreadable, and the report still answers. Only a bad
// since or a failed service list is an error.
func BuildProjectReport(ctx context.Context, api API, cfg ProjectConfig, since string, to time.Time) (*notifier.ProjectReport, error) {
	window, err := ParseSince(since)
	if err != nil {
		return nil, err
	}
	since = cmp.Or(since, "24h")
	now := to
	if cfg.Now != nil {
		now = cfg.Now()
	}
	cfg.API = cmp.Or(cfg.API, "auto")
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = 16
	}
	if cfg.Thresholds == nil {
		cfg.Thresholds = timeline.DefaultThresholds()
	}
	readCtx, cancel := withReserve(ctx)
	defer cancel()

	services, err := ProjectServices(readCtx, api, cfg.API, cfg.ServiceIDs)
	if err != nil {
		return nil, fmt.Errorf("list services: %w", err)
	}
	w := projectWindow{from: to.Add(-window), to: to, now: now}
	entries := make([]serviceRead, len(services))
	sem := make(chan struct{}, cfg.Concurrency)
	var wg sync.WaitGroup
	for i, svc := range services {
		select {
		case sem <- struct{}{}:
		case <-readCtx.Done():
		}
		if readCtx.Err() != nil {
			for j := i; j < len(services); j++ {
				entries[j] = serviceRead{svc: services[j], err: errors.New("not read: the deadline came first")}
			}
			break
		}
		wg.Go(func() {
			defer func() { <-sem }()
			entries[i] = readForProject(readCtx, api, cfg, svc, w)
		})
	}
	wg.Wait()
	return assemble(cfg.ProjectID, since, w, entries), nil
}

// withReserve returns ctx cut off projectReserve (at most a third of the
// time left) before its deadline, so that what was read can still be
// answered.
func withReserve(ctx context.Context) (context.Context, context.CancelFunc) {
	deadline, ok := ctx.Deadline()
	if !ok {
		return context.WithCancel(ctx)
	}
	reserve := min(projectReserve, time.Until(deadline)/3)
	return context.WithDeadline(ctx, deadline.Add(-reserve))
}

// projectWindow is a project report's window and clock.
type projectWindow struct {
	from, to, now time.Time
}

func (w projectWindow) in(ms int64) bool {
	return ms >= w.from.UnixMilli() && ms <= w.to.UnixMilli()
}

// serviceRead is one service as a project report read it.
type serviceRead struct {
	svc eventsapi.Service
	tl  timeline.Timeline
	err error
}

// readForProject reads a service's details (when its list entry does not
// carry what the timeline needs) and its events from the window's start,
// and rebuilds its timeline at w.now.
func readForProject(ctx context.Context, api API, cfg ProjectConfig, svc eventsapi.Service, w projectWindow) serviceRead {
	if needsDetails(svc) { // as a poll decides it
		gen := svc.Generation
		if cfg.API != "auto" {
			gen = cfg.API
		}
		got, err := api.LookupService(ctx, svc.ServiceID, gen)
		if err != nil {
			return serviceRead{svc: svc, err: err}
		}
		got.ServiceID = cmp.Or(got.ServiceID, svc.ServiceID)
		svc = *got
	}
	read := api.Events(ctx, svc.ServiceID, eventsapi.EventsQuery{StartTime: w.from.UnixMilli()})
	if svc.Generation == eventsapi.GenerationV2 {
		read = api.EventsV2(ctx, svc.ServiceID, w.from.UnixMilli())
	}
	var events []eventsapi.Event
	for e, err := range read {
		if err != nil {
			return serviceRead{svc: svc, err: err} // the client's error names the service
		}
		if len(events) >= maxProjectEvents {
			return serviceRead{svc: svc, err: fmt.Errorf("read events of %s: more than %d events in the window", svc.ServiceID, maxProjectEvents)}
		}
		events = append(events, e)
	}
	return serviceRead{svc: svc, tl: timeline.Build(events, svc, w.now, cfg.Thresholds)}
}

// deployments returns the deployments of tl that started in w. A first
// deployment that does not begin with a start marker began before the
// window opened (its start was not read): it is none of the window's.
func (w projectWindow) deployments(tl timeline.Timeline) []timeline.Deployment {
	var out []timeline.Deployment
	for i, d := range tl.Deployments {
		if i == 0 && !d.Implied && len(d.Events) > 0 && !timeline.IsStart(d.Events[0]) {
			continue // began before the window
		}
		if w.in(d.Start) {
			out = append(out, d)
		}
	}
	return out
}

// assemble makes the report of what was read.
func assemble(projectID, since string, w projectWindow, reads []serviceRead) *notifier.ProjectReport {
	r := &notifier.ProjectReport{
		Type:        notifier.KindProjectReport,
		GeneratedAt: notifier.At(w.now.UTC()),
		ProjectID:   projectID,
		Since:       since,
		From:        notifier.At(w.from.UTC()),
		To:          notifier.At(w.to.UTC()),
		Phases:      []domain.PhaseStats{},
		Failures:    []domain.FailureGroup{},
		Services:    make([]domain.ServiceEntry, 0, len(reads)),
	}
	durations := map[string][]int64{}
	type failureKey struct{ phase, hint string }
	failures := map[failureKey]*domain.FailureGroup{}
	var failureOrder []failureKey
	t := &r.Totals
	for _, sr := range reads {
		e := domain.ServiceEntry{ServiceID: sr.svc.ServiceID, ServiceName: sr.svc.ServiceName,
			Generation: sr.svc.Generation, ServiceStatus: sr.svc.Status}
		t.Services++
		if sr.err != nil {
			e.Error = sr.err.Error()
			t.Unreadable++
			r.Services = append(r.Services, e)
			continue
		}
		ds := w.deployments(sr.tl)
		e.Deployments = len(ds)
		for _, d := range ds {
			t.Deployments++
			switch {
			case d.Stopped:
				t.Stopped++
			case d.Outcome == notifier.OutcomeSucceeded:
				t.Succeeded++
			case d.Outcome == notifier.OutcomeFailed:
				t.Failed++
				k := failureKey{d.Phase, d.Hint}
				g := failures[k]
				if g == nil {
					g = &domain.FailureGroup{Phase: d.Phase, Hint: d.Hint}
					failures[k] = g
					failureOrder = append(failureOrder, k)
				}
				g.Count++
				if name := cmp.Or(sr.svc.ServiceName, sr.svc.ServiceID); !slices.Contains(g.Services, name) {
					g.Services = append(g.Services, name)
				}
			case d.Outcome == notifier.OutcomeStalled:
				t.Stalled++
			default:
				t.InProgress++
			}
			for _, ph := range d.Phases {
				if ph.Status == notifier.PhaseSucceeded && ph.Start != 0 && ph.End >= ph.Start {
					durations[ph.Name] = append(durations[ph.Name], ph.End-ph.Start)
				}
			}
		}
		for _, ev := range sr.tl.RuntimeAbnormal {
			if w.in(ev.OccurTime) {
				e.RuntimeAbnormal++
			}
		}
		t.RuntimeAbnormal += e.RuntimeAbnormal
		if len(ds) > 0 {
			s := compact(deploymentSummary(projectID, sr.svc, ds[len(ds)-1], w.now))
			e.Latest = &s
		}
		r.Services = append(r.Services, e)
	}
	for _, name := range notifier.PhaseNames {
		if ms := durations[name]; len(ms) > 0 {
			r.Phases = append(r.Phases, domain.PhaseStats{Name: name, Count: len(ms),
				MedianMS: stats.Median(ms), P90MS: stats.Percentile(ms, 90), MaxMS: stats.Max(ms)})
		}
	}
	for _, k := range failureOrder {
		g := failures[k]
		slices.Sort(g.Services)
		r.Failures = append(r.Failures, *g)
	}
	slices.SortStableFunc(r.Failures, func(a, b domain.FailureGroup) int {
		return cmp.Or(cmp.Compare(b.Count, a.Count), cmp.Compare(phaseRank(a.Phase), phaseRank(b.Phase)), cmp.Compare(a.Hint, b.Hint))
	})
	slices.SortStableFunc(r.Services, func(a, b domain.ServiceEntry) int {
		return cmp.Or(cmp.Compare(problemRank(a), problemRank(b)),
			cmp.Compare(cmp.Or(a.ServiceName, a.ServiceID), cmp.Or(b.ServiceName, b.ServiceID)), cmp.Compare(a.ServiceID, b.ServiceID))
	})
	return r
}

// phaseRank orders phases as a deployment passes them (unknown last).
func phaseRank(name string) int {
	if i := slices.Index(notifier.PhaseNames, name); i >= 0 {
		return i
	}
	return len(notifier.PhaseNames)
}

// problemRank puts the services that need attention first: a latest
// deployment that failed, stalled or is in progress, then a service that
// could not be read, then the others.
func problemRank(e domain.ServiceEntry) int {
	if e.Error != "" {
		return 3
	}
	if e.Latest == nil {
		return 4
	}
	switch e.Latest.Status {
	case notifier.StatusFailed:
		return 0
	case notifier.StatusStalled:
		return 1
	case notifier.StatusInProgress:
		return 2
	}
	return 4
}

// compact bounds a latest deployment's events for the report: its first
// event and the newest others up to latestEvents, the newest
// latestAbnormal abnormal events; what it leaves out is counted.
func compact(s notifier.Summary) notifier.Summary {
	if n := len(s.Events); n > latestEvents {
		s.EventsOmitted = n - latestEvents
		s.Events = append([]notifier.Event{s.Events[0]}, s.Events[n-latestEvents+1:]...)
	}
	if n := len(s.AbnormalEvents); n > latestAbnormal {
		s.AbnormalEventsOmitted = n - latestAbnormal
		s.AbnormalEvents = slices.Clone(s.AbnormalEvents[n-latestAbnormal:])
	}
	return s
}

// ProjectNotification is r as the one project.report notification that
// posts it. Its ID (the webhook-id) derives from the project, the window's
// length and its end: a report posted again for the same window (a
// retried scheduled run in the same hour) carries the same ID, so
// receivers can deduplicate.
func ProjectNotification(r *notifier.ProjectReport) notifier.Notification {
	length := r.Since
	if d, err := ParseSince(r.Since); err == nil {
		length = strconv.FormatInt(d.Milliseconds(), 10) // "24h" and "1d" are one window
	}
	return notifier.Notification{
		ID:        notificationID(r.ProjectID, string(notifier.KindProjectReport), length, strconv.FormatInt(r.To.UnixMilli(), 10)),
		Kind:      notifier.KindProjectReport,
		Timestamp: r.GeneratedAt,
		Project:   r,
	}
}

// ProjectServices lists the services a project report reads: the
// configured ids (their details are read per service), or every service of
// the generations api watches ("auto", "v1", "v2"), each once, v1 first.
// With "auto", a generation the credentials may not list (403) is left
// out, unless neither can be listed.
func ProjectServices(ctx context.Context, api API, gen string, ids []string) ([]eventsapi.Service, error) {
	var out []eventsapi.Service
	seen := map[string]bool{}
	if len(ids) > 0 {
		for _, id := range ids {
			if !seen[id] {
				seen[id] = true
				out = append(out, eventsapi.Service{ServiceID: id})
			}
		}
		return out, nil
	}
	gen = cmp.Or(gen, "auto")
	lists := listGenerations(ctx, api, gen)
	var forbidden []error
	listed := false
	for _, l := range lists {
		if l.err != nil && gen == "auto" && eventsapi.IsForbidden(l.err) {
			forbidden = append(forbidden, l.err)
			continue
		}
		if l.err != nil {
			return nil, l.err
		}
		listed = true
		for _, s := range l.got {
			if !seen[s.ServiceID] {
				seen[s.ServiceID] = true
				s.Generation = cmp.Or(s.Generation, l.gen)
				out = append(out, s)
			}
		}
	}
	if !listed && len(forbidden) > 0 {
		return nil, errors.Join(forbidden...)
	}
	return out, nil
}

// ResolveService finds the service -service (or service_id) names: a
// service id, or an exact service name of either generation watched. It
// returns the service's id and generation ("" when not known: the lookup
// finds out). A name two services share is an error listing their ids; a
// name no service has is an error suggesting the closest names. An id
// the list does not show is taken as it is (the report's lookup says
// whether it exists).
func ResolveService(ctx context.Context, api API, gen, idOrName string) (id, generation string, err error) {
	services, listErr := ProjectServices(ctx, api, gen, nil)
	if listErr != nil {
		// Names cannot be resolved without the list: take it as an id.
		return idOrName, "", nil
	}
	var named []eventsapi.Service
	for _, s := range services {
		if s.ServiceID == idOrName {
			return s.ServiceID, s.Generation, nil
		}
		if s.ServiceName == idOrName {
			named = append(named, s)
		}
	}
	switch len(named) {
	case 1:
		return named[0].ServiceID, named[0].Generation, nil
	case 0:
	default:
		var ids []string
		for _, s := range named {
			ids = append(ids, s.ServiceID+" ("+s.Generation+")")
		}
		return "", "", fmt.Errorf("%d services are named %q: %s; name one by its id", len(named), idOrName, strings.Join(ids, ", "))
	}
	if serviceIDPattern.MatchString(idOrName) {
		return idOrName, "", nil // an id the list does not show: the lookup tells
	}
	msg := fmt.Sprintf("no service is named %q (nor has that id)", idOrName)
	if close := closestNames(idOrName, services, 3); len(close) > 0 {
		msg += "; did you mean " + quoteList(close) + "?"
	}
	return "", "", errors.New(msg)
}

// serviceIDPattern is the shape of a ModelArts service id (a UUID).
var serviceIDPattern = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// closestNames are up to n service names nearest to name by edit distance
// (case-insensitive), those containing it counting as near; names too far
// to be a slip are left out.
func closestNames(name string, services []eventsapi.Service, n int) []string {
	type cand struct {
		name string
		d    int
	}
	q := strings.ToLower(name)
	limit := max(3, utf8.RuneCountInString(q)/2)
	var cs []cand
	seen := map[string]bool{}
	for _, s := range services {
		if s.ServiceName == "" || seen[s.ServiceName] {
			continue
		}
		seen[s.ServiceName] = true
		l := strings.ToLower(s.ServiceName)
		d := levenshtein(q, l)
		if strings.Contains(l, q) || strings.Contains(q, l) {
			d = min(d, limit)
		}
		if d <= limit {
			cs = append(cs, cand{s.ServiceName, d})
		}
	}
	slices.SortFunc(cs, func(a, b cand) int { return cmp.Or(cmp.Compare(a.d, b.d), cmp.Compare(a.name, b.name)) })
	var out []string
	for _, c := range cs[:min(n, len(cs))] {
		out = append(out, c.name)
	}
	return out
}

// levenshtein is the edit distance of a and b, in runes.
func levenshtein(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}

func quoteList(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = strconv.Quote(n)
	}
	return strings.Join(q, ", ")
}
