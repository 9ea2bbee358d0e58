package faultmatrix

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/modelarts-notifier/modelarts-notifier/functions/checkpoint"
	"github.com/modelarts-notifier/modelarts-notifier/notifier"
	"github.com/modelarts-notifier/modelarts-notifier/notifier/notifiertest"
	"github.com/modelarts-notifier/modelarts-notifier/notifier/route"
)

// Routing in the matrix (ROUTES, PRODUCT.md "Who hears what").
//
// Each run draws, from its own stream of the seed (so that the scenario
// and the faults stay what the seed made them before routing joined), the
// services' names (teams' names, unlike their ids), a name for most URL
// entries (NAME=URL), and, in three runs in four, a ROUTES document over
// the run's destinations, in YAML or JSON: routes matching globs (* and ?)
// on service names and ids, types, phases and generations, sending to
// names, keys, kinds, all or [] (with continue), a default (or none), and
// mutes: absolute from/until windows that begin and end during the run's
// polls, and recurring days/hours windows in an IANA zone, some wrapping
// midnight. The poller gets it parsed by route.Parse, as the functions
// build it; the other runs have no document (everything everywhere).
//
// The model asks the same table. Where a notification goes does not depend
// on time (only mutes do), so an item's destinations are those the
// document names for it without its mutes. An abnormal event of a
// deployment is routed on the deployment's phase when it is told, which the
// script does not fix: it must reach a destination only if every phase
// sends it there, and may if any does. An abnormal event of a deployment
// that failed may be told inside the failure: it must reach where the
// failure must.
//
// Checks: each delivery, as delivered, goes to a destination its route
// names, and no mute in force at its poll's clock matches it; nothing is
// delivered after the checkpoint recorded it muted or dropped (read back
// after every poll), unless a checkpoint was restored in between; each item
// is delivered as what it is (its kind, its phase or none), so that routes
// see it so. The poller's router is wrapped: it records each muted and []
// answer (and that it was asked with the poll's clock). Those answers are
// matched one to one with the items they can be (same query, a poll from
// the item's first on; a muted one after the item's last delivery): an item
// matched is muted or dropped; a destination its route names that missed an
// item not matched has lost it; an item no route sends anywhere that the
// router never answered was lost before routing. Each poll counts
// (Result.Dropped) exactly its router's [] answers, and (Result.Muted) its
// muted answers about notifications not told to every destination their
// route names (a mute stops what is not told: a notification told to all
// of them stays so, never recorded muted; one told to some is muted for
// the others, recorded and counted).

var flagRoutes = flag.String("faultmatrix.routes", "auto", "ROUTES in the runs: auto (a random document with mutes in three runs in four), on (every run), off (no document: everything everywhere)")

// routesSalt makes the routing stream of a seed (see routing).
const routesSalt = 0x726f75746573

// destKinds are the destinations' kinds, by destination.
var destKinds = [numDests]string{dWebhook: "webhook", dSlack: "slack-bot", dTeams: "teams", dFeishu: "feishu", dDingTalk: "dingtalk", dWeCom: "wecom"}

// entryNames are names URL entries may get (NAME=URL).
var entryNames = []string{"pager", "nlp-alerts", "vision", "platform", "oncall", "bench-feed", "ops", "ml-team"}

// serviceNames draws the services' names: a team, a model, the service's
// number, for some "-dev".
func serviceNames(rng *rand.Rand, n int) []string {
	teams := []string{"nlp", "vision", "speech", "bench", "rec"}
	models := map[string][]string{"nlp": {"bert", "ner", "qa"}, "vision": {"yolo", "ocr"}, "speech": {"asr", "tts"}, "bench": {"load", "soak"}, "rec": {"ranker", "ctr"}}
	out := make([]string, n)
	for i := range out {
		team := teams[rng.IntN(len(teams))]
		out[i] = fmt.Sprintf("%s-%s-%d", team, models[team][rng.IntN(len(models[team]))], i)
		if rng.IntN(4) == 0 {
			out[i] += "-dev"
		}
	}
	return out
}

// entryLabels draws the names of the URL entries (NAME=URL): most get one.
func entryLabels(rng *rand.Rand) [numDests]string {
	var out [numDests]string
	pool := slices.Clone(entryNames)
	rng.Shuffle(len(pool), func(i, j int) { pool[i], pool[j] = pool[j], pool[i] })
	for d := range out {
		if d != dSlack && rng.IntN(4) != 0 {
			out[d], pool = pool[0], pool[1:]
		}
	}
	return out
}

// The ROUTES document's shape, for writing it.
type routesDocument struct {
	Routes  []routeEntry `yaml:"routes,omitempty" json:"routes,omitempty"`
	Default *[]string    `yaml:"default,omitempty" json:"default,omitempty"`
	Mute    []muteEntry  `yaml:"mute,omitempty" json:"mute,omitempty"`
}

type matchEntry struct {
	Service    []string `yaml:"service,omitempty" json:"service,omitempty"`
	Type       []string `yaml:"type,omitempty" json:"type,omitempty"`
	Phase      []string `yaml:"phase,omitempty" json:"phase,omitempty"`
	Generation []string `yaml:"generation,omitempty" json:"generation,omitempty"`
}

type routeEntry struct {
	Match    matchEntry `yaml:"match" json:"match"`
	To       []string   `yaml:"to" json:"to"`
	Continue bool       `yaml:"continue,omitempty" json:"continue,omitempty"`
}

type muteEntry struct {
	matchEntry `yaml:",inline"`
	From       string   `yaml:"from,omitempty" json:"from,omitempty"`
	Until      string   `yaml:"until,omitempty" json:"until,omitempty"`
	Days       []string `yaml:"days,omitempty" json:"days,omitempty"`
	Hours      string   `yaml:"hours,omitempty" json:"hours,omitempty"`
	Location   string   `yaml:"location,omitempty" json:"location,omitempty"`
}

// routing is one run's ROUTES: the document, the table the poller has, the
// same without its mutes, and what the poller asked of it.
type routing struct {
	doc    string // "": no document
	format string // yaml or json
	tb     *route.Table
	plain  *route.Table
	keys   [numDests]string // each destination's key (notifier.Destination.Name)
	log    *routerLog
	// What the document holds, for the table.
	routes, mutes, absolute, recurring, wrapping int
}

// on reports whether the run routes.
func (rt *routing) on() bool { return rt.tb != nil }

// docGen draws a document over one run's destinations and services.
type docGen struct {
	rng   *rand.Rand
	sc    *script
	names [numDests]string // routing names (label, else key)
	keys  [numDests]string
	end   int // the last poll a window may end at
}

func (g *docGen) pick(list []string) string { return list[g.rng.IntN(len(list))] }

// some picks 1 to n of list, distinct.
func (g *docGen) some(list []string, n int) []string {
	l := slices.Clone(list)
	g.rng.Shuffle(len(l), func(i, j int) { l[i], l[j] = l[j], l[i] })
	return l[:1+g.rng.IntN(min(n, len(l)))]
}

// glob is a glob on a service's name or id: exact, a team's prefix, a
// suffix, ? for one character, or one that matches nothing.
func (g *docGen) glob() string {
	svc := g.pick(g.sc.services)
	name := g.sc.names[svc]
	qmark := func(s string) string {
		i := g.rng.IntN(len(s))
		return s[:i] + "?" + s[i+1:]
	}
	switch g.rng.IntN(20) {
	case 0, 1, 2:
		return name
	case 3, 4:
		return svc
	case 5, 6, 7, 8:
		team, _, _ := strings.Cut(name, "-")
		return team + "-*"
	case 9, 10:
		return "*-dev"
	case 11, 12, 13:
		return qmark(svc)
	case 14, 15, 16:
		return qmark(name)
	case 17, 18:
		return "*" + svc[len(svc)-1:]
	}
	return "legacy-*"
}

var routeKinds = []string{string(notifier.KindSucceeded), string(notifier.KindFailed), string(notifier.KindStalled), string(notifier.KindRecovered), string(notifier.KindAbnormal)}

// phasedKinds are the kinds whose phase is the notification's own (an
// abnormal event's is its deployment's when it is told).
var phasedKinds = []string{string(notifier.KindFailed), string(notifier.KindStalled), string(notifier.KindRecovered)}

// match draws a match: globs, types, phases (mostly with phased kinds),
// a generation; sometimes nothing (everything).
func (g *docGen) match(pService, pType float64) matchEntry {
	var m matchEntry
	if g.rng.Float64() < pService {
		for range 1 + g.rng.IntN(2) {
			m.Service = append(m.Service, g.glob())
		}
	}
	if g.rng.Float64() < pType {
		m.Type = g.some(routeKinds, 2)
	}
	if g.rng.IntN(5) == 0 {
		m.Phase = g.some(notifier.PhaseNames, 2)
		if g.rng.IntN(4) != 0 {
			m.Type = g.some(phasedKinds, 2)
		}
	}
	if g.rng.IntN(6) == 0 {
		m.Generation = []string{g.pick([]string{genV1, genV2})}
	}
	return m
}

// targets draws a to or default list: names, keys, kinds, all.
func (g *docGen) targets() []string {
	out := []string{}
	for range 1 + g.rng.IntN(3) {
		d := g.rng.IntN(numDests)
		switch r := g.rng.IntN(10); {
		case r < 5:
			out = append(out, g.names[d])
		case r < 7:
			out = append(out, destKinds[d])
		case r < 8:
			out = append(out, g.keys[d]) // the key: a label does not hide it
		case r < 9:
			out = append(out, "all")
		default:
			out = append(out, "slack-bot:C0FAULTS")
		}
	}
	return out
}

// Zones of recurring mutes: the run (from 09:00 UTC, one to three hours)
// crosses local midnight in the first ones.
var (
	midnightZones = []string{"Pacific/Marquesas", "America/Anchorage", "Pacific/Kiritimati", "Pacific/Honolulu", "America/Adak", "Pacific/Gambier"}
	otherZones    = []string{"Asia/Shanghai", "Europe/Berlin", "America/New_York", "Asia/Kolkata", "Australia/Sydney", "Pacific/Chatham", "UTC"}
	offsets       = []int{0, 8 * 3600, -5 * 3600, 5*3600 + 1800, 13*3600 + 2700}
	dayNames      = []string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}
)

// window draws two polls a < b of the run.
func (g *docGen) window() (int, int) {
	a := g.rng.IntN(g.end)
	return a, min(a+1+g.rng.IntN(15), g.end)
}

// mute draws a mute: an absolute window (from and until, or one of them),
// or a recurring one in a zone (hours, days, or both; some wrap midnight).
// One that matches everything lasts a few polls.
func (g *docGen) mute(rt *routing) muteEntry {
	m := muteEntry{matchEntry: g.match(0.85, 0.4)}
	a, b := g.window()
	wide := m.Service == nil && m.Type == nil
	if wide {
		b = min(b, a+1+g.rng.IntN(4))
	}
	if g.rng.IntN(5) < 2 {
		rt.absolute++
		at := func(k int) string {
			t := g.sc.stepTime(k).Add(time.Duration(g.rng.IntN(59)-29) * time.Second)
			return t.In(time.FixedZone("", g.pick2(offsets))).Format(time.RFC3339)
		}
		switch r := g.rng.IntN(5); {
		case r == 0 && !wide && a < 15:
			m.Until = at(b)
		case r == 1 && !wide:
			m.From = at(max(a, g.end-15))
		default:
			m.From, m.Until = at(a), at(b)
		}
		return m
	}
	rt.recurring++
	zone := g.pick(otherZones)
	if g.rng.IntN(2) == 0 {
		zone = g.pick(midnightZones)
	}
	loc, err := time.LoadLocation(zone)
	if err != nil {
		panic(err)
	}
	if zone != "UTC" || g.rng.IntN(2) == 0 {
		m.Location = zone
	}
	local := func(k int) time.Time { return g.sc.stepTime(k).In(loc) }
	// A window around the run's local midnight, where there is one.
	for c := 1; c <= g.end; c++ {
		if local(c).Day() != local(0).Day() && g.rng.IntN(2) == 0 {
			a, b = max(c-1-g.rng.IntN(6), 0), min(c+1+g.rng.IntN(8), g.end)
			if wide {
				a, b = c-1, min(c+1, g.end)
			}
			break
		}
	}
	hm := func(t time.Time) string { return fmt.Sprintf("%02d:%02d", t.Hour(), t.Minute()) }
	la, lb := local(a), local(b)
	switch r := g.rng.IntN(10); {
	case r < 6 || wide:
		end := hm(lb)
		if end == "00:00" && g.rng.IntN(2) == 0 {
			end = "24:00"
		}
		m.Hours = hm(la) + "-" + end
	case r < 8:
		// Wraps by design: from a's time to a time earlier in the day.
		m.Hours = hm(la) + "-" + hm(la.Add(-time.Duration(1+g.rng.IntN(20))*time.Hour))
	default:
		// Days only: the whole local day of b (of a, when it ends at b's).
		m.Days = []string{dayNames[lb.Weekday()]}
		return m
	}
	if start, end, _ := strings.Cut(m.Hours, "-"); end != "24:00" && end <= start {
		rt.wrapping++
	}
	switch g.rng.IntN(10) {
	case 0, 1, 2, 3:
		m.Days = []string{dayNames[la.Weekday()]} // the day the window starts on
		if g.rng.IntN(2) == 0 {
			m.Days = append(m.Days, dayNames[(la.Weekday()+3)%7])
		}
	case 4:
		m.Days = []string{dayNames[(la.Weekday()+1)%7]} // another day: never, or only the part after midnight (which is the day before's)
	}
	return m
}

func (g *docGen) pick2(list []int) int { return list[g.rng.IntN(len(list))] }

// newRouting draws the run's document (or none) and parses it as the
// functions do. dests are the run's destinations, in destination order.
func newRouting(rng *rand.Rand, sc *script, dests []notifier.Destination, mode string) (*routing, error) {
	rt := &routing{}
	g := &docGen{rng: rng, sc: sc, end: sc.last + 3}
	var rds []route.Destination
	for _, d := range dests {
		i := slices.Index(destKinds[:], d.Kind)
		if i < 0 {
			return nil, fmt.Errorf("destination %s of kind %q", d.Name, d.Kind)
		}
		g.names[i], g.keys[i], rt.keys[i] = d.RouteName(), d.Name, d.Name
		rds = append(rds, route.Destination{Key: d.Name, Name: d.RouteName(), Kind: d.Kind})
	}
	off := rng.IntN(4) == 0
	switch mode {
	case "on":
		off = false
	case "off":
		off = true
	case "auto":
	default:
		return nil, fmt.Errorf("-faultmatrix.routes=%s: want auto, on or off", mode)
	}
	if off {
		return rt, nil
	}
	var doc routesDocument
	for range rng.IntN(5) {
		r := routeEntry{Match: g.match(0.75, 0.4), Continue: rng.IntN(3) == 0}
		if rng.IntN(8) == 0 {
			r.To = []string{}
		} else {
			r.To = g.targets()
		}
		doc.Routes = append(doc.Routes, r)
	}
	switch r := rng.IntN(14); {
	case r < 5: // absent: all
	case r < 6 && len(doc.Routes) >= 2: // what no route matches is dropped
		doc.Default = &[]string{}
	default:
		to := g.targets()
		doc.Default = &to
	}
	plain := doc
	for range rng.IntN(4) {
		doc.Mute = append(doc.Mute, g.mute(rt))
	}
	rt.routes, rt.mutes = len(doc.Routes), len(doc.Mute)
	write := func(d routesDocument) (string, error) {
		if rt.format == "json" {
			b, err := json.MarshalIndent(d, "", "  ")
			return string(b), err
		}
		b, err := yaml.Marshal(d)
		return string(b), err
	}
	rt.format = "yaml"
	if rng.IntN(3) == 0 {
		rt.format = "json"
	}
	var err error
	if rt.doc, err = write(doc); err != nil {
		return nil, err
	}
	plainDoc, err := write(plain)
	if err != nil {
		return nil, err
	}
	kinds := []string{"project.report"}
	for _, k := range notifier.Kinds {
		kinds = append(kinds, string(k))
	}
	if rt.tb, err = route.Parse(rt.doc, rds, kinds, notifier.PhaseNames); err != nil {
		return nil, fmt.Errorf("%w\n%s", err, rt.doc)
	}
	if rt.plain, err = route.Parse(plainDoc, rds, kinds, notifier.PhaseNames); err != nil {
		return nil, fmt.Errorf("%w\n%s", err, plainDoc)
	}
	return rt, nil
}

// targets are the destinations the document sends q to, mutes aside.
func (rt *routing) targets(q route.Query) [numDests]bool {
	var out [numDests]bool
	if !rt.on() {
		for d := range out {
			out[d] = true
		}
		return out
	}
	to := rt.plain.Route(q, time.Time{}).To
	for d, key := range rt.keys {
		out[d] = slices.Contains(to, key)
	}
	return out
}

// mutedAt reports whether a mute in force at t matches q.
func (rt *routing) mutedAt(q route.Query, t time.Time) bool {
	return rt.on() && rt.tb.Route(q, t).Muted
}

// deliveryQuery is a delivered notification as routing sees it.
func deliveryQuery(r notifiertest.Delivery) route.Query {
	return route.Query{ServiceName: r.Data.ServiceName, ServiceID: r.Data.ServiceID, Type: string(r.Kind), Phase: r.Data.Phase, Generation: r.Data.Generation}
}

// phaseAny marks an item's phase as the one its deployment is in when it
// is told (an abnormal event of a deployment): any.
const phaseAny = "*"

// query is the item as routing sees it. An abnormal event of a deployment
// has phase phaseAny; a success is told in model_startup; a runtime event
// has no phase.
func (it item) query() route.Query {
	q := route.Query{ServiceName: it.name, ServiceID: it.svc, Type: string(it.kind), Generation: it.gen, Phase: it.phase}
	switch {
	case it.kind == notifier.KindAbnormal && it.start == 0:
		q.Phase = ""
	case it.kind == notifier.KindAbnormal:
		q.Phase = phaseAny
	case it.kind == notifier.KindSucceeded:
		q.Phase = notifier.PhaseModelStartup
	}
	return q
}

// fits reports whether a query the poller routed can be the item's.
func fits(item, got route.Query) bool {
	return got.ServiceID == item.ServiceID && got.ServiceName == item.ServiceName && got.Type == item.Type &&
		got.Generation == item.Generation && (item.Phase == phaseAny || got.Phase == item.Phase)
}

// expectation is where an item may and must go.
type expectation struct {
	// possible: the route names the destination for some phase the item
	// may be told in (or, folded into its failure, the failure's);
	// certain: for every phase.
	possible, certain [numDests]bool
	phaseDependent    bool
	// mayDrop: for some phase, no route sends it anywhere.
	mayDrop bool
	// failure is, for an item that may be folded into its deployment's
	// failure (mayFold), that failure's item (-1: none).
	failure int
}

// expect computes every item's expectation.
func (rt *routing) expect(sc *script) []expectation {
	out := make([]expectation, len(sc.items))
	for i, it := range sc.items {
		ex := expectation{failure: -1}
		for d := range ex.certain {
			ex.certain[d] = true
		}
		q := it.query()
		phases := []string{q.Phase}
		if q.Phase == phaseAny {
			phases = append([]string{""}, notifier.PhaseNames...)
		}
		for _, ph := range phases {
			q.Phase = ph
			to := rt.targets(q)
			ex.mayDrop = ex.mayDrop || !slices.Contains(to[:], true)
			for d := range to {
				ex.possible[d] = ex.possible[d] || to[d]
				ex.certain[d] = ex.certain[d] && to[d]
			}
		}
		ex.phaseDependent = ex.possible != ex.certain
		out[i] = ex
	}
	for i, it := range sc.items {
		if !it.mayFold {
			continue
		}
		for j, f := range sc.items {
			if f.kind == notifier.KindFailed && f.svc == it.svc && f.start == it.start {
				out[i].failure = j
				for d := range out[i].possible {
					out[i].possible[d] = out[i].possible[d] || out[j].possible[d]
				}
			}
		}
	}
	return out
}

// routerLog is the poller's router, wrapped: it records which
// notifications (as queries) it answered muted or [] at which poll, and
// that each was asked with the poll's clock.
type routerLog struct {
	tb    *route.Table
	poll  func() int64
	clock func() time.Time
	mu    sync.Mutex
	calls int
	// done are the answers muted or [].
	done []answer
	// wrongClock are calls whose time was not the poll's clock.
	wrongClock []string
}

// answer is one muted or [] answer of the router.
type answer struct {
	poll  int64
	q     route.Query
	muted bool // else []
}

func (l *routerLog) Route(q route.Query, now time.Time) route.Decision {
	d := l.tb.Route(q, now)
	k := l.poll()
	l.mu.Lock()
	defer l.mu.Unlock()
	l.calls++
	if c := l.clock(); !now.Equal(c) {
		l.wrongClock = append(l.wrongClock, fmt.Sprintf("poll %d: %+v routed at %s, the poll's clock is %s", k, q, now.Format(time.RFC3339), c.Format(time.RFC3339)))
	}
	if d.Muted || len(d.To) == 0 {
		l.done = append(l.done, answer{poll: k, q: q, muted: d.Muted})
	}
	return d
}

// answers are the muted and [] answers so far.
func (l *routerLog) answers() []answer {
	if l == nil {
		return nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.done)
}

// mutedBetween reports whether the poller routed a notification that can
// be the item muted at a poll in [from, to].
func (l *routerLog) mutedBetween(q route.Query, from, to int64) bool {
	return slices.ContainsFunc(l.answers(), func(a answer) bool {
		return a.muted && a.poll >= from && a.poll <= to && fits(q, a.q)
	})
}

// mark is a notification the checkpoints recorded muted or dropped: at
// which poll first, and which destinations had acknowledged it before.
type mark struct {
	poll   int64
	kind   string // ~muted or ~dropped
	before []string
}

// Marks of notifications done without being delivered (watch records
// them so in the checkpoint's Sent).
const (
	markMuted   = "~muted"
	markDropped = "~dropped"
)

// observeMarks reads, after poll k, the checkpoints' Sent entries: the
// first poll each notification was recorded muted or dropped, and the
// destinations each had acknowledged until then.
func (e *env) observeMarks(k int64, cps map[string]checkpoint.Checkpoint) {
	for _, cp := range cps {
		for id, s := range cp.Sent {
			done := ""
			for _, m := range []string{markMuted, markDropped} {
				if slices.Contains(s.Destinations, m) {
					done = m
				}
			}
			if done == "" {
				e.acked[id] = slices.Clone(s.Destinations)
				continue
			}
			if _, ok := e.marks[id]; !ok {
				e.marks[id] = mark{poll: k, kind: done, before: e.acked[id]}
			}
		}
	}
}

// recordedMuted reports whether a checkpoint recorded muted a
// notification that told it.
func (e *env) recordedMuted(it item) bool {
	for _, ds := range e.received() {
		for _, r := range ds {
			if m, ok := e.marks[r.ID]; ok && m.kind == markMuted && it.matches(r) {
				return true
			}
		}
	}
	return false
}

// readPast reports whether the service's checkpoint has read so far past
// the item's events that its notification can never be derived again:
// its Sent entry (a muted mark too) is pruned in the poll that records
// it, before a mark can be seen (the poll's count of muted notifications
// then says it was).
func (e *env) readPast(it item) bool {
	cp, _, err := e.store.Load(context.Background(), it.svc)
	if err != nil {
		e.t.Fatalf("load checkpoint of %s: %v", it.svc, err)
	}
	at := max(it.trigger, it.start, it.event.OccurTime, it.event.LastOccurTime)
	return cp.ReadThrough-e.cfg.Overlap.Milliseconds() > at
}

// toldAllRouted reports whether the destinations before, which took
// notification id, are every destination the route of an item it told
// names: a mute then stops nothing, and recording it muted is wrong. An
// id no destination received is told nowhere.
func (e *env) toldAllRouted(sc *script, id string, before []string) bool {
	for _, ds := range e.received() {
		for _, r := range ds {
			if r.ID != id {
				continue
			}
			for i, it := range sc.items {
				if !it.matches(r) {
					continue
				}
				for d, c := range e.expects[i].certain {
					k := slices.IndexFunc(e.dests, func(x notifier.Destination) bool { return x.Kind == destKinds[d] })
					if c && k >= 0 && !slices.Contains(before, e.dests[k].Name) {
						return false
					}
				}
			}
			return true
		}
	}
	return true
}

// itemDeliveries is, per item, which destinations got it (as the
// delivery checks match it) and the last poll any did (-1: none).
func (e *env) itemDeliveries(sc *script) (got [][numDests]bool, last []int64) {
	recv := e.received()
	got = make([][numDests]bool, len(sc.items))
	last = make([]int64, len(sc.items))
	for i, it := range sc.items {
		last[i] = -1
		for d, ds := range recv {
			for _, r := range ds {
				if it.matches(r) {
					got[i][d] = true
					last[i] = max(last[i], r.Round)
				}
			}
		}
	}
	return got, last
}

// restoredBefore reports whether a checkpoint was restored (a corrupt file)
// at a poll before k.
func (e *env) restoredBefore(k int64) bool {
	return slices.ContainsFunc(e.restored, func(p int64) bool { return p < k })
}

// mutedAfter reports whether the poller routed item i muted at a poll
// after its last delivery and up to poll upto.
func (e *env) mutedAfter(sc *script, i int, last, upto int64) bool {
	return e.rt.log.mutedBetween(sc.items[i].query(), max(int64(sc.items[i].from), last+1), upto)
}

// routingOutcome classifies the items once the run is over and checks
// every delivery against ROUTES; need says, per item, the destinations
// that must have it.
//
// The router's muted and [] answers are matched one to one with the items
// they can be (its query, at a poll from the item's first on; a muted one
// after the item's last delivery): first with the items that need one
// (a destination their route names missed them, or no route sends them
// anywhere), then with those never delivered anywhere. An item matched is
// muted or dropped; a destination that missed an item not matched has lost
// it, and an item no route sends anywhere that the router never answered
// [] or muted was lost before routing.
func (e *env) routingOutcome(sc *script, st *stats) (need [][numDests]bool) {
	t := e.t
	rt := e.rt
	got, last := e.itemDeliveries(sc)
	need = make([][numDests]bool, len(sc.items))
	answers := rt.log.answers()
	matched := make([]int, len(answers)) // answer -> item (-1: none)
	for j := range matched {
		matched[j] = -1
	}
	byItem := make([]int, len(sc.items)) // item -> answer (-1: none)
	for i := range byItem {
		byItem[i] = -1
	}
	can := func(i int, a answer) bool {
		it, ex := sc.items[i], e.expects[i]
		if a.poll < int64(it.from) || !fits(it.query(), a.q) {
			return false
		}
		if a.muted {
			return a.poll > last[i]
		}
		return ex.mayDrop
	}
	var try func(i int, seen []bool) bool
	try = func(i int, seen []bool) bool {
		for j, a := range answers {
			if seen[j] || !can(i, a) {
				continue
			}
			seen[j] = true
			if matched[j] < 0 || try(matched[j], seen) {
				matched[j], byItem[i] = i, j
				return true
			}
		}
		return false
	}
	missing := func(i int) bool {
		for d, c := range e.expects[i].certain {
			if c && !got[i][d] {
				return true
			}
		}
		return false
	}
	anywhere := func(i int) bool { return slices.Contains(got[i][:], true) }
	required := func(i int) bool {
		return missing(i) || !anywhere(i) && !slices.Contains(e.expects[i].possible[:], true)
	}
	for _, optional := range []bool{false, true} {
		for i, it := range sc.items {
			if it.mayFold || it.optional || required(i) == optional || optional && anywhere(i) {
				continue
			}
			try(i, make([]bool, len(answers)))
		}
	}
	for j, i := range matched {
		if i >= 0 {
			byItem[i] = j
		}
	}
	// Items told on their own first, then those that may be folded into
	// their deployment's failure: they must go where the failure must.
	for _, pass := range []bool{false, true} {
		for i, it := range sc.items {
			if it.mayFold != pass || it.optional {
				continue
			}
			ex := e.expects[i]
			if it.mayFold {
				if ex.failure >= 0 {
					need[i] = need[ex.failure]
				}
				continue
			}
			need[i] = ex.certain
			switch {
			case byItem[i] >= 0 && answers[byItem[i]].muted:
				need[i] = [numDests]bool{}
				st.routing.itemsMuted++
				if anywhere(i) {
					// Told to some, then muted: the others never get it,
					// and it is recorded muted (and counted) unless every
					// destination its route names had it.
					st.routing.itemsMutedPartly++
					var took, missed []string
					for d := range got[i] {
						switch {
						case got[i][d]:
							took = append(took, destNames[d])
						case ex.certain[d]:
							missed = append(missed, destNames[d])
						}
					}
					if e.bugs[bugMutedPartlyTold] && len(missed) > 0 && !e.recordedMuted(it) && !(e.readPast(it) && e.mutedAt[answers[byItem[i]].poll] > 0) {
						t.Errorf("%v: told to %s, routed muted at poll %d: %s never got it, and it was not recorded muted",
							it, strings.Join(took, ", "), answers[byItem[i]].poll, strings.Join(missed, ", "))
					}
				}
			case byItem[i] >= 0:
				need[i] = [numDests]bool{}
				st.routing.itemsDropped++
			case !slices.Contains(ex.possible[:], true):
				st.lost++
				t.Errorf("lost: %v: no route sends it anywhere, but it was never routed (to [] or muted)", it)
			case !rt.on(): // everything everywhere: not counted
			case ex.phaseDependent:
				st.routing.itemsPhaseDependent++
			case slices.Contains(ex.certain[:], false):
				st.routing.itemsSubset++
			default:
				st.routing.itemsAll++
			}
		}
	}
	if !rt.on() {
		return need
	}
	// Every delivery: to a destination its route names, never while a
	// mute matches it, never after its notification was recorded done.
	for d, ds := range e.received() {
		for _, r := range ds {
			st.routing.checked++
			q := deliveryQuery(r)
			if !rt.targets(q)[d] {
				st.routing.notRouted++
				t.Errorf("%s: %s %s %s (phase %q) delivered at poll %d, but ROUTES does not send it there", destNames[d], r.Data.ServiceID, r.Kind, r.ID, r.Data.Phase, r.Round)
			}
			if at := sc.stepTime(int(r.Round)); rt.mutedAt(q, at) {
				st.routing.sentMuted++
				t.Errorf("%s: %s %s %s delivered at poll %d (%s), while a mute matched it", destNames[d], r.Data.ServiceID, r.Kind, r.ID, r.Round, at.Format(time.RFC3339))
			}
			if m, ok := e.marks[r.ID]; ok && r.Round > m.poll && !e.licensed[m.poll] && !e.licensedSince(m.poll, r.Round) && !e.licensed[r.Round] {
				st.routing.sentAfterDone++
				t.Errorf("%s: %s %s %s delivered at poll %d, after the checkpoint recorded it %s at poll %d", destNames[d], r.Data.ServiceID, r.Kind, r.ID, r.Round, m.kind, m.poll)
			}
		}
	}
	// Each item is delivered as what it is (the script says: a runtime
	// event has no phase, a failure is in its phase, ...), so that routes
	// and mutes see it as it is (and the model predicts it right).
	for d, ds := range e.received() {
		for _, r := range ds {
			for _, it := range sc.items {
				if r.Kind != it.kind || !it.matches(r) {
					continue
				}
				if q := it.query(); !fits(q, deliveryQuery(r)) {
					t.Errorf("%s: %v delivered at poll %d as %+v, but it is %+v: routes and mutes see it as what it is not",
						destNames[d], it, r.Round, deliveryQuery(r), q)
				}
			}
		}
	}
	l := rt.log
	l.mu.Lock()
	st.routing.routerCalls += l.calls
	for _, w := range l.wrongClock {
		t.Errorf("router asked with another clock: %s", w)
	}
	l.mu.Unlock()
	for _, a := range answers {
		if a.muted {
			st.routing.routerMuted++
		} else {
			st.routing.routerDropped++
		}
	}
	// What the checkpoints recorded muted or dropped; a notification
	// recorded muted that had reached every destination its route names
	// was no notification a mute stopped (see knownBugs).
	for id, m := range e.marks {
		if m.kind == markDropped {
			st.routing.recordedDropped++
			continue
		}
		st.routing.recordedMuted++
		// A mute stops what is not told yet: a notification the
		// checkpoint says was told somewhere is never recorded muted (see
		// knownBugs, muted-after-delivered), unless a restored checkpoint
		// forgot it was told.
		if len(m.before) > 0 && !e.restoredBefore(m.poll) && e.toldAllRouted(sc, id, m.before) {
			st.routing.mutedTold++
			t.Errorf("%s: recorded muted (and counted) at poll %d, after it was told to %s", id, m.poll, strings.Join(m.before, ", "))
		}
	}
	// Counted: each poll counts (Result.Dropped) exactly its router's []
	// answers, and (Result.Muted) its muted answers about notifications
	// not told anywhere yet: at most all of them, at least one for each
	// item muted before any delivery (more after a failed write, or when
	// two polls ran at once).
	r := st.routing
	if r.countedDropped != r.routerDropped {
		t.Errorf("the polls counted %d notifications dropped; their routers answered [] %d times", r.countedDropped, r.routerDropped)
	}
	if r.countedMuted > r.routerMuted || r.countedMuted < r.itemsMuted-r.itemsMutedPartly {
		t.Errorf("the polls counted %d notifications muted; their routers answered muted %d times, and %d items were muted before any delivery",
			r.countedMuted, r.routerMuted, r.itemsMuted-r.itemsMutedPartly)
	}
	t.Logf("routing: items to every destination %d, to a subset %d, on their phase %d, muted %d (after a partial delivery %d), dropped %d; counted muted %d dropped %d; recorded muted %d dropped %d",
		r.itemsAll, r.itemsSubset, r.itemsPhaseDependent, r.itemsMuted, r.itemsMutedPartly, r.itemsDropped, r.countedMuted, r.countedDropped, r.recordedMuted, r.recordedDropped)
	return need
}

// routingStats are what routing did in the runs.
type routingStats struct {
	runs                                         int // runs with ROUTES
	routes, mutes, absolute, recurring, wrapping int
	itemsAll, itemsSubset, itemsPhaseDependent   int
	itemsMuted, itemsMutedPartly, itemsDropped   int
	countedMuted, countedDropped                 int // the polls' Result.Muted and .Dropped
	recordedMuted, recordedDropped               int // notifications the checkpoints recorded so
	routerCalls, routerMuted, routerDropped      int
	checked                                      int // deliveries checked against ROUTES
	notRouted, sentMuted, sentAfterDone          int
	mutedTold                                    int // recorded muted after it was told somewhere
}

func (s *routingStats) add(o routingStats) {
	s.runs += o.runs
	s.routes += o.routes
	s.mutes += o.mutes
	s.absolute += o.absolute
	s.recurring += o.recurring
	s.wrapping += o.wrapping
	s.itemsAll += o.itemsAll
	s.itemsSubset += o.itemsSubset
	s.itemsPhaseDependent += o.itemsPhaseDependent
	s.itemsMuted += o.itemsMuted
	s.itemsMutedPartly += o.itemsMutedPartly
	s.itemsDropped += o.itemsDropped
	s.countedMuted += o.countedMuted
	s.countedDropped += o.countedDropped
	s.recordedMuted += o.recordedMuted
	s.recordedDropped += o.recordedDropped
	s.routerCalls += o.routerCalls
	s.routerMuted += o.routerMuted
	s.routerDropped += o.routerDropped
	s.checked += o.checked
	s.notRouted += o.notRouted
	s.sentMuted += o.sentMuted
	s.sentAfterDone += o.sentAfterDone
	s.mutedTold += o.mutedTold
}
