package eventsapitest

import (
	"cmp"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/modelarts-notifier/modelarts-notifier/eventsapi"
)

// The v2 paging rules (MODELARTS-V2.md, "Paging").
const (
	v2MaxLimit     = 500
	v2DefaultLimit = 10
)

// v2Paging is a validated v2 paging query.
type v2Paging struct {
	offset, limit int64
	keys          []string // sort keys: update_at, create_at
	desc          bool
}

// parseV2Paging validates limit ([1,500], default 10), offset (a multiple
// of limit, default 0), sort_key (update_at and/or create_at,
// comma-separated, default update_at) and sort_dir (ASC or DESC, default
// DESC). It returns a message for a 400 when one is wrong.
func parseV2Paging(q url.Values) (v2Paging, string) {
	p := v2Paging{limit: v2DefaultLimit, keys: []string{"update_at"}, desc: true}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 1 || n > v2MaxLimit {
			return p, "Invalid limit " + strconv.Quote(v) + ": it must be in [1,500]."
		}
		p.limit = n
	}
	if v := q.Get("offset"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			return p, "Invalid offset " + strconv.Quote(v) + "."
		}
		p.offset = n
	}
	if p.offset%p.limit != 0 {
		return p, "Invalid offset " + strconv.FormatInt(p.offset, 10) + ": it must be a multiple of limit " + strconv.FormatInt(p.limit, 10) + "."
	}
	if v := q.Get("sort_key"); v != "" {
		p.keys = strings.Split(v, ",")
		for _, k := range p.keys {
			if k != "update_at" && k != "create_at" {
				return p, "Invalid sort_key " + strconv.Quote(v) + ": want update_at or create_at."
			}
		}
	}
	switch v := q.Get("sort_dir"); v {
	case "", "DESC":
	case "ASC":
		p.desc = false
	default:
		return p, "Invalid sort_dir " + strconv.Quote(v) + ": want ASC or DESC."
	}
	return p, ""
}

// sortV2 sorts items by the paging's keys (ties by creation order), then
// reverses them for DESC.
func sortV2[T any](items []T, p v2Paging, createAt, updateAt func(T) int64, seq func(T) int64) {
	slices.SortStableFunc(items, func(a, b T) int {
		for _, k := range p.keys {
			f := updateAt
			if k == "create_at" {
				f = createAt
			}
			if c := cmp.Compare(f(a), f(b)); c != 0 {
				return c
			}
		}
		return cmp.Compare(seq(a), seq(b))
	})
	if p.desc {
		slices.Reverse(items)
	}
}

// v2PageDoc is a v2 list answer.
type v2PageDoc[T any] struct {
	Current int64 `json:"current"`
	Pages   int64 `json:"pages"`
	Size    int64 `json:"size"`
	Total   int64 `json:"total"`
	Data    []T   `json:"data"`
}

func newV2Page[T any](data []T, offset, limit, size, total int64) v2PageDoc[T] {
	return v2PageDoc[T]{Current: offset / limit, Pages: (total + limit - 1) / limit, Size: size, Total: total, Data: data}
}

func writeBadRequest(w http.ResponseWriter, msg string) {
	writeError(w, http.StatusBadRequest, "ModelArts.0101", "%s", msg)
}

// unknownV2 answers a v2 path for an id with no v2 service.
func (s *Server) unknownV2(w http.ResponseWriter, id string) {
	code := int(s.v2Unknown.Load())
	errorCode, _ := defaultErrorCode(code)
	writeError(w, code, errorCode, "The service %s does not exist or you have no permission to access it.", id)
}

// v2ListEntry is an entry of GET /v2/{project_id}/services: times are
// numbers.
type v2ListEntry struct {
	ID           string `json:"id"`
	Name         string `json:"name"`
	Status       string `json:"status"`
	Description  string `json:"description"`
	Type         string `json:"type"`
	DeployType   string `json:"deploy_type"`
	WorkspaceID  string `json:"workspace_id"`
	VersionCount int    `json:"version_count"`
	CreateAt     int64  `json:"create_at"`
	UpdateAt     int64  `json:"update_at"`
}

func (svc *serviceV2) listEntry() v2ListEntry {
	return v2ListEntry{
		ID: svc.id, Name: svc.name, Status: svc.status, Type: "REAL_TIME", DeployType: "SINGLE",
		WorkspaceID: "0", VersionCount: 1, CreateAt: svc.createAt, UpdateAt: svc.updateAt,
	}
}

// v2ServiceDoc is GET /v2/{project_id}/services/{id}: create_at and
// update_at are strings there (numbers in the list and events).
type v2ServiceDoc struct {
	ID                   string       `json:"id"`
	Name                 string       `json:"name"`
	Status               string       `json:"status"`
	FailureReason        string       `json:"failure_reason,omitempty"`
	DeployTimeoutMinutes int          `json:"deploy_timeout_minutes,omitempty"`
	Type                 string       `json:"type"`
	DeployType           string       `json:"deploy_type"`
	WorkspaceID          string       `json:"workspace_id"`
	CreateAt             string       `json:"create_at"`
	UpdateAt             string       `json:"update_at"`
	Version              v2VersionDoc `json:"version"`
}

type v2VersionDoc struct {
	ID                   string               `json:"id"`
	Version              string               `json:"version"`
	DeployTimeoutMinutes int                  `json:"deploy_timeout_minutes,omitempty"`
	InstanceGroups       []v2InstanceGroupDoc `json:"instance_groups"`
}

type v2InstanceGroupDoc struct {
	ID           string `json:"id"`
	Name         string `json:"name"`
	Count        int    `json:"count"`
	RunningCount int    `json:"running_count"`
	Status       string `json:"status"`
	Weight       int    `json:"weight"`
	UpdateAt     int64  `json:"update_at"`
	CreateAt     string `json:"create_at"`
}

func (svc *serviceV2) doc() v2ServiceDoc {
	ms := func(v int64) string { return strconv.FormatInt(v, 10) }
	d := v2ServiceDoc{
		ID: svc.id, Name: svc.name, Status: svc.status, FailureReason: svc.failureReason,
		DeployTimeoutMinutes: svc.deployTimeout, Type: "REAL_TIME", DeployType: "SINGLE", WorkspaceID: "0",
		CreateAt: ms(svc.createAt), UpdateAt: ms(svc.updateAt),
		Version: v2VersionDoc{
			ID: svc.versionID, Version: "1.0.0", DeployTimeoutMinutes: svc.deployTimeout,
			InstanceGroups: []v2InstanceGroupDoc{},
		},
	}
	for _, g := range svc.groups {
		running := 0
		if g.status == "RUNNING" {
			running = 1
		}
		d.Version.InstanceGroups = append(d.Version.InstanceGroups, v2InstanceGroupDoc{
			ID: g.id, Name: g.name, Count: 1, RunningCount: running, Status: g.status, Weight: 100,
			UpdateAt: g.updateAt, CreateAt: ms(g.createAt),
		})
	}
	return d
}

func (s *Server) handleServicesV2(w http.ResponseWriter, r *http.Request) {
	if !s.checkProject(w, r) {
		return
	}
	if s.v2ListForbidden.Load() {
		writeError(w, http.StatusForbidden, "ModelArts.0106", "Access denied: the credentials lack the permission modelarts::listServices.")
		return
	}
	q := r.URL.Query()
	p, msg := parseV2Paging(q)
	if msg != "" {
		writeBadRequest(w, msg)
		return
	}
	s.mu.Lock()
	type entry struct {
		e   v2ListEntry
		seq int64
	}
	var all []entry
	for _, svc := range s.v2services {
		if id := q.Get("id"); id != "" && svc.id != id ||
			q.Get("name") != "" && !strings.Contains(svc.name, q.Get("name")) ||
			q.Get("status") != "" && svc.status != q.Get("status") {
			continue
		}
		all = append(all, entry{svc.listEntry(), svc.seq})
	}
	s.mu.Unlock()
	slices.SortFunc(all, func(a, b entry) int { return cmp.Compare(a.seq, b.seq) })
	sortV2(all, p,
		func(e entry) int64 { return e.e.CreateAt }, func(e entry) int64 { return e.e.UpdateAt },
		func(e entry) int64 { return e.seq })
	page := pageOf(all, p.offset, s.pageLimit(p.limit))
	data := make([]v2ListEntry, len(page))
	for i, e := range page {
		data[i] = e.e
	}
	writeJSON(w, http.StatusOK, newV2Page(data, p.offset, p.limit, int64(len(data)), int64(len(all))))
}

func (s *Server) handleServiceV2(w http.ResponseWriter, r *http.Request) {
	if !s.checkProject(w, r) {
		return
	}
	id := r.PathValue("service")
	s.mu.Lock()
	svc, found := s.v2services[id]
	var d v2ServiceDoc
	if found {
		d = svc.doc()
	}
	s.mu.Unlock()
	if !found {
		s.unknownV2(w, id)
		return
	}
	writeJSON(w, http.StatusOK, d)
}

// v2EventDoc is one record of GET /v2/.../services/{id}/events.
type v2EventDoc struct {
	ID               string `json:"id"`
	ServiceID        string `json:"service_id"`
	ServiceVersionID string `json:"service_version_id"`
	EventCount       int    `json:"event_count"`
	EventType        string `json:"event_type"`
	EventInfo        string `json:"event_info"`
	EventInfoCN      string `json:"event_info_cn"`
	CreateAt         int64  `json:"create_at"`
	UpdateAt         int64  `json:"update_at"`
}

func (s *Server) handleEventsV2(w http.ResponseWriter, r *http.Request) {
	if !s.checkProject(w, r) {
		return
	}
	id := r.PathValue("service")
	q := r.URL.Query()
	p, msg := parseV2Paging(q)
	if msg != "" {
		writeBadRequest(w, msg)
		return
	}
	eventType := q.Get("event_type")
	if eventType != "" && eventType != "NORMAL" && eventType != "ABNORMAL" && eventType != "WARNING" {
		writeBadRequest(w, "Invalid event_type "+strconv.Quote(eventType)+": want NORMAL, ABNORMAL or WARNING.")
		return
	}
	start, ok1 := intParam(q, "start_time", 0)
	end, ok2 := intParam(q, "end_time", 0)
	if !ok1 || !ok2 {
		writeBadRequest(w, "Invalid start_time or end_time.")
		return
	}
	key := q.Get("event_info_key")

	s.mu.Lock()
	hook := s.onV2Page
	s.mu.Unlock()
	if hook != nil {
		hook(int(p.offset))
	}

	s.mu.Lock()
	s.eventsReqs[id]++
	s.eventsReqsV2[id]++
	svc, found := s.v2services[id]
	var matches []v2EventDoc
	var seqs = map[string]int64{}
	if found {
		for _, rec := range svc.records {
			at := rec.updateAt
			if s.v2TimeField == "create_at" {
				at = rec.createAt
			}
			if eventType != "" && rec.typ != eventType ||
				q.Has("start_time") && at < start || q.Has("end_time") && at > end ||
				key != "" && !strings.Contains(rec.info, key) && !strings.Contains(rec.infoCN, key) {
				continue
			}
			matches = append(matches, v2EventDoc{
				ID: rec.id, ServiceID: svc.id, ServiceVersionID: rec.versionID, EventCount: rec.count,
				EventType: rec.typ, EventInfo: rec.info, EventInfoCN: rec.infoCN,
				CreateAt: rec.createAt, UpdateAt: rec.updateAt,
			})
			seqs[rec.id] = rec.seq
		}
	}
	s.mu.Unlock()
	if !found {
		s.unknownV2(w, id)
		return
	}
	sortV2(matches, p,
		func(e v2EventDoc) int64 { return e.CreateAt }, func(e v2EventDoc) int64 { return e.UpdateAt },
		func(e v2EventDoc) int64 { return seqs[e.ID] })

	size := s.pageLimit(p.limit)
	total := int64(len(matches))
	offset := p.offset
	switch {
	case s.ignoreOffset.Load():
		offset = 0
	case s.lyingTotal.Load() > 0 && offset >= total:
		offset = max(total-size, 0) // the last page, again
	}
	if lie := s.lyingTotal.Load(); lie > 0 {
		total = lie
	}
	writeJSON(w, http.StatusOK, newV2Page(pageOf(matches, offset, size), p.offset, p.limit, p.limit, total))
}

// podEventDoc is one element of the pod events answer.
type podEventDoc struct {
	Count              int    `json:"count"`
	FirstTimestamp     string `json:"first_timestamp"`
	LastTimestamp      string `json:"last_timestamp"`
	Message            string `json:"message"`
	Reason             string `json:"reason"`
	ReportingComponent string `json:"reporting_component"`
	Type               string `json:"type"`
}

// handlePodEventsV2 answers GET /v2/{project_id}/services/{id}/deployments/
// {deployment_name}/instances/{instance_name}/pods/{name}/events with a
// bare JSON array; timestamps are RFC 3339 in UTC, to the second. The fake
// has no instance or pod names: "all" matches every event, any other name
// none.
func (s *Server) handlePodEventsV2(w http.ResponseWriter, r *http.Request) {
	if !s.checkProject(w, r) {
		return
	}
	id, dep := r.PathValue("service"), r.PathValue("deployment")
	q := r.URL.Query()
	if q.Has("start_time") != q.Has("end_time") {
		writeBadRequest(w, "start_time and end_time must be given together.")
		return
	}
	start, ok1 := intParam(q, "start_time", 0)
	end, ok2 := intParam(q, "end_time", 0)
	if !ok1 || !ok2 {
		writeBadRequest(w, "Invalid start_time or end_time.")
		return
	}
	all := r.PathValue("instance") == "all" && r.PathValue("pod") == "all"

	s.mu.Lock()
	svc, found := s.v2services[id]
	known := false
	out := []podEventDoc{}
	if found {
		for _, g := range svc.groups {
			known = known || g.name == dep
		}
		for _, pe := range svc.pods {
			ev := pe.ev
			first, last := ev.FirstTimestamp.UnixMilli(), cmp.Or(ev.LastTimestamp, ev.FirstTimestamp).UnixMilli()
			if pe.deployment != dep || !all || q.Has("start_time") && (last < start || first > end) {
				continue
			}
			out = append(out, podEventDoc{
				Count: ev.Count, Message: ev.Message, Reason: ev.Reason,
				ReportingComponent: ev.ReportingComponent, Type: ev.Type,
				FirstTimestamp: rfc3339(ev.FirstTimestamp), LastTimestamp: rfc3339(ev.LastTimestamp),
			})
		}
	}
	s.mu.Unlock()
	switch {
	case !found:
		s.unknownV2(w, id)
	case !known:
		writeBadRequest(w, "The deployment "+strconv.Quote(dep)+" does not exist.")
	default:
		writeJSON(w, http.StatusOK, out)
	}
}

func rfc3339(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// toV2Type is an eventsapi event type as v2 sends it.
func toV2Type(t string) string { return strings.ToUpper(cmp.Or(t, eventsapi.EventTypeNormal)) }
