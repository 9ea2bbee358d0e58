package eventsapitest

import (
	"cmp"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/modelarts-notifier/modelarts-notifier/eventsapi"
)

// v2 (new-version inference) services live apart from v1 ones, as
// MODELARTS-V2.md infers: distinct objects read through their own API. A
// v1 path for a v2 id answers 404 ModelArts.3502 and a v2 path for a v1 id
// answers like any unknown v2 id (400 by default, SetV2UnknownStatus).

// serviceV2 is a v2 service of the fake.
type serviceV2 struct {
	id, name      string
	status        string // raw, e.g. "DEPLOYING"
	failureReason string
	createAt      int64
	updateAt      int64
	deployTimeout int
	seq           int64
	versionID     string
	groups        []instanceGroup
	records       []*v2Record
	pods          []podEvent
}

// instanceGroup is one deployment of the current version.
type instanceGroup struct {
	id, name, status   string
	createAt, updateAt int64
}

// v2Record is one v2 event record; repeats are merged into it.
type v2Record struct {
	id, typ, info, infoCN string
	versionID             string
	count                 int
	createAt, updateAt    int64
	seq                   int64
}

// podEvent is a pod event of one deployment.
type podEvent struct {
	deployment string
	ev         eventsapi.PodEvent
}

func (r *v2Record) event() eventsapi.Event {
	return eventsapi.Event{
		EventType: strings.ToLower(r.typ), EventInfo: r.info, OccurTime: r.createAt,
		ID: r.id, EventInfoCN: r.infoCN, Count: r.count, LastOccurTime: r.updateAt,
	}
}

// AddServiceV2 adds a v2 service with a raw v2 status (e.g. "RUNNING",
// "DEPLOYING", "UPGRADING", "ERROR"), or renames it and sets its status if
// it exists (its records are kept). Its id must not be a v1 service's.
func (s *Server) AddServiceV2(id, name, rawStatus string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	svc := s.serviceV2Locked(id)
	svc.name = name
	svc.status = rawStatus
	svc.updateAt = max(svc.updateAt, s.now().UnixMilli())
}

// serviceV2Locked returns the v2 service, creating it (named after its
// id, status RUNNING, no deployment) if needed. s.mu must be held.
func (s *Server) serviceV2Locked(id string) *serviceV2 {
	if svc, ok := s.v2services[id]; ok {
		return svc
	}
	if _, ok := s.services[id]; ok {
		panic(fmt.Sprintf("eventsapitest: %q is a v1 service; v2 services need their own ids", id))
	}
	s.nextSeq++
	now := s.now().UnixMilli()
	svc := &serviceV2{
		id: id, name: id, status: "RUNNING",
		createAt: now, updateAt: now, seq: s.nextSeq,
		versionID: fmt.Sprintf("%08x-0000-4000-8000-%012x", s.nextSeq, s.nextSeq),
	}
	s.v2services[id] = svc
	return svc
}

// SetStatusV2 sets a v2 service's raw status and failure_reason (created
// if unknown); its newest deployment takes the status too.
func (s *Server) SetStatusV2(serviceID, rawStatus, failureReason string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.setStatusV2Locked(s.serviceV2Locked(serviceID), rawStatus, failureReason, s.now().UnixMilli())
}

func (s *Server) setStatusV2Locked(svc *serviceV2, rawStatus, failureReason string, at int64) {
	svc.status = rawStatus
	svc.failureReason = failureReason
	svc.updateAt = max(svc.updateAt, at)
	if n := len(svc.groups); n > 0 {
		g := &svc.groups[n-1]
		g.status = rawStatus
		g.updateAt = max(g.updateAt, at)
	}
}

// SetDeployTimeout sets a v2 service's deploy_timeout_minutes (created if
// unknown; 0: not sent).
func (s *Server) SetDeployTimeout(serviceID string, minutes int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.serviceV2Locked(serviceID).deployTimeout = minutes
}

// AddDeploymentV2 adds a deployment (an instance group of the current
// version) named name to a v2 service (created if unknown), created at at.
// It becomes the newest one: the details' instance group with the latest
// update_at, which the client reports as Service.DeploymentName, and the
// one AddPodEvents adds to. The scenario helpers add one per deployment
// themselves.
func (s *Server) AddDeploymentV2(serviceID, name string, at time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.addDeploymentLocked(s.serviceV2Locked(serviceID), name, at.UnixMilli())
}

func (s *Server) addDeploymentLocked(svc *serviceV2, name string, at int64) string {
	if name == "" {
		name = fmt.Sprintf("%s-deployment-%d", slug(svc.name), len(svc.groups)+1)
	}
	s.nextSeq++
	at = max(at, s.newestGroupAt(svc)) // stays the newest
	svc.groups = append(svc.groups, instanceGroup{
		id:   fmt.Sprintf("%08x-0000-4000-9000-%012x", s.nextSeq, s.nextSeq),
		name: name, status: svc.status, createAt: at, updateAt: at,
	})
	return name
}

func (s *Server) newestGroupAt(svc *serviceV2) int64 {
	var at int64
	for _, g := range svc.groups {
		at = max(at, g.updateAt)
	}
	return at
}

// AppendV2Events adds events to a v2 service (created if unknown) as
// ModelArts keeps them: an event with the same event_type, event_info and
// event_info_cn as an existing record of the service (or with the ID of
// one) is a repeat and merges into it: event_count grows by max(Count, 1)
// and update_at becomes the new time (when later). Any other event is a
// new record, with ev.ID or a generated id, event_count max(Count, 1),
// create_at OccurTime and update_at LastOccurTime (OccurTime when 0).
//
// EventType is sent upper-cased (normal → NORMAL; "" is NORMAL). The time
// of a repeat is LastOccurTime, or OccurTime when that is 0.
//
// Whether ModelArts merges repeats across service versions is unknown;
// by default any record of the service takes a repeat (the scenario
// helpers, which start a new version per deployment, then merge a second
// deployment's texts into the first one's records). SetV2MergePerVersion
// codes for the other reading.

func (s *Server) AppendV2Events(serviceID string, evs ...eventsapi.Event) {
	s.mu.Lock()
	defer s.mu.Unlock()
	svc := s.serviceV2Locked(serviceID)
	for _, ev := range evs {
		s.appendV2Locked(svc, ev)
	}
}

func (s *Server) appendV2Locked(svc *serviceV2, ev eventsapi.Event) {
	typ := toV2Type(ev.EventType)
	at := cmp.Or(ev.LastOccurTime, ev.OccurTime)
	n := max(ev.Count, 1)
	svc.updateAt = max(svc.updateAt, at)
	for _, r := range svc.records {
		sameText := r.typ == typ && r.info == ev.EventInfo && r.infoCN == ev.EventInfoCN &&
			(!s.v2MergePerVersion || r.versionID == svc.versionID)
		if ev.ID != "" && r.id == ev.ID || ev.ID == "" && sameText {
			r.count += n
			r.updateAt = max(r.updateAt, at)
			return
		}
	}
	s.nextRecord++
	id := cmp.Or(ev.ID, fmt.Sprintf("%08x-0000-4000-a000-%012x", s.nextRecord, s.nextRecord))
	svc.records = append(svc.records, &v2Record{
		id: id, typ: typ, info: ev.EventInfo, infoCN: ev.EventInfoCN, versionID: svc.versionID, count: n,
		createAt: ev.OccurTime, updateAt: max(at, ev.OccurTime), seq: s.nextRecord,
	})
}

// AddPodEvents adds pod events to a v2 service's newest deployment (one
// is added, named after the service, if it has none; the service is
// created if unknown). They are served by GET .../deployments/{name}/
// instances/all/pods/all/events, filtered by start_time and end_time (an
// event matches when [FirstTimestamp, LastTimestamp] meets the window).
// To make that endpoint fail, use Fail with a Fault whose Path is
// "/pods/" (or the whole path).
func (s *Server) AddPodEvents(serviceID string, evs ...eventsapi.PodEvent) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.addPodEventsLocked(s.serviceV2Locked(serviceID), evs...)
}

func (s *Server) addPodEventsLocked(svc *serviceV2, evs ...eventsapi.PodEvent) {
	if len(svc.groups) == 0 {
		s.addDeploymentLocked(svc, "", s.now().UnixMilli())
	}
	name := svc.groups[len(svc.groups)-1].name
	for _, ev := range evs {
		svc.pods = append(svc.pods, podEvent{deployment: name, ev: ev})
	}
}

// SetV2UnknownStatus sets the status v2 paths answer for a service id the
// fake has no v2 service for, v1 services' included: 400 (the default),
// 403 or 404 (ModelArts documents "400 or 403"). Other values panic.
func (s *Server) SetV2UnknownStatus(code int) {
	switch code {
	case http.StatusBadRequest, http.StatusForbidden, http.StatusNotFound:
		s.v2Unknown.Store(int64(code))
	default:
		panic(fmt.Sprintf("eventsapitest: SetV2UnknownStatus(%d): want 400, 403 or 404", code))
	}
}

// SetV2ListForbidden makes GET /v2/{project_id}/services answer 403, as
// for a token with v1 rights only.
func (s *Server) SetV2ListForbidden(forbidden bool) { s.v2ListForbidden.Store(forbidden) }

// SetV2MergePerVersion makes repeats merge only into records of the
// service's current version (service_version_id), so every deployment of
// a scenario helper gets records of its own.
func (s *Server) SetV2MergePerVersion(perVersion bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.v2MergePerVersion = perVersion
}

// newVersionLocked starts a new service version (a new version.id).
func (s *Server) newVersionLocked(svc *serviceV2) {
	s.nextSeq++
	svc.versionID = fmt.Sprintf("%08x-0000-4000-8000-%012x", s.nextSeq, s.nextSeq)
}

// SetV2TimeFilterField sets the record field the v2 events start_time and
// end_time filter on: "update_at" (the default) or "create_at". Which one
// ModelArts uses is undocumented; the client sends neither.
func (s *Server) SetV2TimeFilterField(field string) {
	if field != "update_at" && field != "create_at" {
		panic(fmt.Sprintf("eventsapitest: SetV2TimeFilterField(%q): want update_at or create_at", field))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.v2TimeField = field
}

// OnV2EventsPage sets a function called before each v2 events page is
// answered (after its query is validated, with no lock held), with the
// page's offset: a test can append or merge records there, as ModelArts
// updates them while a client pages. nil removes it.
func (s *Server) OnV2EventsPage(fn func(offset int)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.onV2Page = fn
}

// EventsV2 returns a v2 service's records, translated as the client
// translates them, in creation order (nil for an unknown service).
func (s *Server) EventsV2(serviceID string) []eventsapi.Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	svc, ok := s.v2services[serviceID]
	if !ok {
		return nil
	}
	out := make([]eventsapi.Event, len(svc.records))
	for i, r := range svc.records {
		out[i] = r.event()
	}
	return out
}

// PodEventsV2 returns a v2 service's pod events by deployment name.
func (s *Server) PodEventsV2(serviceID string) map[string][]eventsapi.PodEvent {
	s.mu.Lock()
	defer s.mu.Unlock()
	svc, ok := s.v2services[serviceID]
	if !ok {
		return nil
	}
	out := map[string][]eventsapi.PodEvent{}
	for _, p := range svc.pods {
		out[p.deployment] = append(out[p.deployment], p.ev)
	}
	return out
}

// ServiceV2 returns a v2 service as the client reads its details.
func (s *Server) ServiceV2(serviceID string) (eventsapi.Service, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	svc, ok := s.v2services[serviceID]
	if !ok {
		return eventsapi.Service{}, false
	}
	out := eventsapi.Service{
		ServiceID: svc.id, ServiceName: svc.name,
		Status: eventsapi.NormalizeV2Status(svc.status), RawStatus: svc.status,
		ErrorMsg: svc.failureReason, UpdateTime: svc.updateAt, InferType: "REAL_TIME",
		Generation: eventsapi.GenerationV2, DeployTimeoutMinutes: svc.deployTimeout,
	}
	if n := len(svc.groups); n > 0 {
		out.DeploymentName = svc.groups[n-1].name
	}
	for _, g := range svc.groups {
		out.Deployments = append(out.Deployments, eventsapi.DeploymentRef{Name: g.name, CreatedAt: g.createAt})
	}
	return out, true
}

// ServiceIDsV2 returns the ids of every v2 service, in creation order.
// (ServiceIDs lists the v1 ones.)
func (s *Server) ServiceIDsV2() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	all := slices.Collect(maps.Values(s.v2services))
	slices.SortFunc(all, func(a, b *serviceV2) int { return cmp.Compare(a.seq, b.seq) })
	ids := make([]string, len(all))
	for i, svc := range all {
		ids[i] = svc.id
	}
	return ids
}

// slug turns a name into a deployment name: lower case, runs of anything
// but letters and digits as one "-".
func slug(name string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(name) {
		if 'a' <= r && r <= 'z' || '0' <= r && r <= '9' {
			b.WriteRune(r)
			dash = false
		} else if !dash && b.Len() > 0 {
			b.WriteByte('-')
			dash = true
		}
	}
	return cmp.Or(strings.TrimSuffix(b.String(), "-"), "service")
}
