package eventsapitest

import (
	"bytes"
	"cmp"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/modelarts-notifier/modelarts-notifier/eventsapi"
)

// checkProject answers 403 for a project other than the fake's.
func (s *Server) checkProject(w http.ResponseWriter, r *http.Request) bool {
	if p := r.PathValue("project"); p != s.ProjectID {
		writeError(w, http.StatusForbidden, "ModelArts.0106", "Project %s is not accessible with these credentials.", p)
		return false
	}
	return true
}

// intParam parses an optional non-negative integer parameter.
func intParam(q url.Values, name string, def int64) (int64, bool) {
	v := q.Get(name)
	if v == "" {
		return def, true
	}
	n, err := strconv.ParseInt(v, 10, 64)
	return n, err == nil && n >= 0
}

func (s *Server) handleEvents(w http.ResponseWriter, r *http.Request) {
	if !s.checkProject(w, r) {
		return
	}
	id := r.PathValue("service")
	q := r.URL.Query()
	eventType := q.Get("event_type")
	if eventType != "" && eventType != eventsapi.EventTypeNormal && eventType != eventsapi.EventTypeAbnormal {
		writeError(w, http.StatusBadRequest, "ModelArts.0101", "Invalid event_type %q.", eventType)
		return
	}
	start, ok1 := intParam(q, "start_time", 0)
	end, ok2 := intParam(q, "end_time", 0)
	offset, ok3 := intParam(q, "offset", 0)
	limit, ok4 := intParam(q, "limit", eventsapi.DefaultLimit)
	if !ok1 || !ok2 || !ok3 || !ok4 || limit == 0 {
		writeError(w, http.StatusBadRequest, "ModelArts.0101", "Invalid start_time, end_time, offset or limit.")
		return
	}
	if sb := q.Get("sort_by"); sb != "" && sb != eventsapi.SortByOccurTime {
		writeError(w, http.StatusBadRequest, "ModelArts.0101", "Invalid sort_by %q.", sb)
		return
	}
	order := cmp.Or(q.Get("order"), eventsapi.OrderDesc)
	if order != eventsapi.OrderAsc && order != eventsapi.OrderDesc {
		writeError(w, http.StatusBadRequest, "ModelArts.0101", "Invalid order %q.", order)
		return
	}

	s.mu.Lock()
	s.eventsReqs[id]++
	svc, found := s.services[id]
	var matches []pageEvent
	var name string
	if found {
		name = svc.info.ServiceName
		inWindow := func(at int64) bool {
			return !(q.Has("start_time") && at < start || q.Has("end_time") && at > end)
		}
		for _, ev := range svc.events {
			if eventType != "" && ev.EventType != eventType || !inWindow(ev.OccurTime) {
				continue
			}
			matches = append(matches, pageEvent{at: ev.OccurTime, ev: ev})
		}
		for _, r := range svc.raw {
			if eventType != "" && (!r.typed || r.typ != eventType) || r.timed && !inWindow(r.at) {
				continue
			}
			matches = append(matches, pageEvent{at: r.at, raw: r.data, isRaw: true})
		}
	}
	s.mu.Unlock()
	if !found {
		writeError(w, http.StatusNotFound, "ModelArts.3502", "Service %s does not exist.", id)
		return
	}

	slices.SortStableFunc(matches, func(a, b pageEvent) int { return cmp.Compare(a.at, b.at) })
	if order == eventsapi.OrderDesc {
		slices.Reverse(matches)
	}
	size := s.pageLimit(limit)
	total := int64(len(matches))
	switch {
	case s.ignoreOffset.Load():
		offset = 0
	case s.lyingTotal.Load() > 0 && offset >= total:
		offset = max(total-size, 0) // the last page, again
	}
	if lie := s.lyingTotal.Load(); lie > 0 {
		total = lie
	}
	page := pageOf(matches, offset, size)
	s.writeEventsPage(w, name, id, total, page)
}

// pageEvent is one event of an events answer: an eventsapi.Event, or the
// raw JSON of an AddRawEvent.
type pageEvent struct {
	at    int64 // the sort key: occur_time
	ev    eventsapi.Event
	raw   json.RawMessage // sent verbatim instead of ev when isRaw
	isRaw bool
}

// writeEventsPage writes an events answer (the shape of
// eventsapi.EventsPage), copying raw events into it byte for byte.
func (s *Server) writeEventsPage(w http.ResponseWriter, name, id string, total int64, page []pageEvent) {
	head, err := json.Marshal(struct {
		ServiceName string `json:"service_name"`
		TotalCount  int64  `json:"total_count"`
		ServiceID   string `json:"service_id"`
		Count       int    `json:"count"`
	}{name, total, id, len(page)})
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	var b bytes.Buffer
	b.Write(head[:len(head)-1]) // without the closing brace
	b.WriteString(`,"events":[`)
	for i, pe := range page {
		if i > 0 {
			b.WriteByte(',')
		}
		if pe.isRaw {
			b.Write(pe.raw)
			continue
		}
		data, err := s.encodeEvent(pe.ev)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		b.Write(data)
	}
	b.WriteString("]}")
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b.Bytes())
}

// encodeEvent returns ev's JSON, encoded once per distinct event.
func (s *Server) encodeEvent(ev eventsapi.Event) ([]byte, error) {
	if data, ok := s.encoded.Load(ev); ok {
		return data.([]byte), nil
	}
	data, err := json.Marshal(ev)
	if err != nil {
		return nil, err
	}
	s.encoded.Store(ev, data)
	return data, nil
}

// pageOf returns items[offset:offset+limit], clamped, never nil.
func pageOf[T any](items []T, offset, limit int64) []T {
	lo := min(offset, int64(len(items)))
	hi := min(lo+limit, int64(len(items)))
	return append(make([]T, 0, hi-lo), items[lo:hi]...)
}

// serviceDoc is a service as the fake serves it.
type serviceDoc struct {
	eventsapi.Service
	PublishAt int64 `json:"publish_at"`
}

func (sv *service) doc() serviceDoc {
	d := serviceDoc{Service: sv.info, PublishAt: sv.publishAt}
	d.InferType = cmp.Or(d.InferType, "real-time")
	return d
}

func (s *Server) handleService(w http.ResponseWriter, r *http.Request) {
	if !s.checkProject(w, r) {
		return
	}
	id := r.PathValue("service")
	s.mu.Lock()
	svc, found := s.services[id]
	var d serviceDoc
	if found {
		d = svc.doc()
	}
	s.mu.Unlock()
	if !found {
		writeError(w, http.StatusNotFound, "ModelArts.3502", "Service %s does not exist.", id)
		return
	}
	writeJSON(w, http.StatusOK, d)
}

func (s *Server) handleServices(w http.ResponseWriter, r *http.Request) {
	if !s.checkProject(w, r) {
		return
	}
	q := r.URL.Query()
	offset, ok1 := intParam(q, "offset", 0)
	limit, ok2 := intParam(q, "limit", eventsapi.DefaultLimit)
	if !ok1 || !ok2 || limit == 0 || limit > eventsapi.DefaultLimit {
		writeError(w, http.StatusBadRequest, "ModelArts.0101", "Invalid offset or limit.")
		return
	}
	sortBy := cmp.Or(q.Get("sort_by"), "publish_at")
	order := cmp.Or(q.Get("order"), eventsapi.OrderDesc)
	if order != eventsapi.OrderAsc && order != eventsapi.OrderDesc {
		writeError(w, http.StatusBadRequest, "ModelArts.0101", "Invalid order %q.", order)
		return
	}
	var by func(a, b serviceDoc) int
	switch sortBy {
	case "publish_at":
		by = func(a, b serviceDoc) int { return cmp.Compare(a.PublishAt, b.PublishAt) }
	case "service_name":
		by = func(a, b serviceDoc) int { return strings.Compare(a.ServiceName, b.ServiceName) }
	case "update_time":
		by = func(a, b serviceDoc) int { return cmp.Compare(a.UpdateTime, b.UpdateTime) }
	default:
		writeError(w, http.StatusBadRequest, "ModelArts.0101", "Invalid sort_by %q.", sortBy)
		return
	}

	s.mu.Lock()
	all := make([]*service, 0, len(s.services))
	for _, svc := range s.services {
		all = append(all, svc)
	}
	slices.SortFunc(all, func(a, b *service) int { return cmp.Compare(a.seq, b.seq) })
	docs := make([]serviceDoc, 0, len(all))
	for _, svc := range all {
		d := svc.doc()
		if st := q.Get("status"); st != "" && d.Status != st {
			continue
		}
		if n := q.Get("service_name"); n != "" && !strings.Contains(d.ServiceName, n) {
			continue
		}
		docs = append(docs, d)
	}
	s.mu.Unlock()

	slices.SortStableFunc(docs, by)
	if order == eventsapi.OrderDesc {
		slices.Reverse(docs)
	}
	page := pageOf(docs, offset, s.pageLimit(limit))
	writeJSON(w, http.StatusOK, struct {
		TotalCount int          `json:"total_count"`
		Count      int          `json:"count"`
		Services   []serviceDoc `json:"services"`
	}{len(docs), len(page), page})
}

// handleIAMToken answers POST /v3/auth/tokens for the configured user,
// scoped to the fake's project.
func (s *Server) handleIAMToken(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.iamFetches++
	s.mu.Unlock()
	var req struct {
		Auth struct {
			Identity struct {
				Methods  []string `json:"methods"`
				Password struct {
					User struct {
						Name     string `json:"name"`
						Password string `json:"password"`
						Domain   struct {
							Name string `json:"name"`
						} `json:"domain"`
					} `json:"user"`
				} `json:"password"`
			} `json:"identity"`
			Scope struct {
				Project struct {
					ID string `json:"id"`
				} `json:"project"`
			} `json:"scope"`
		} `json:"auth"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&req); err != nil {
		writeError(w, http.StatusBadRequest, "IAM.0001", "The request body is invalid.")
		return
	}
	id := req.Auth.Identity
	u := id.Password.User
	if !slices.Contains(id.Methods, "password") || u.Name != s.Username || u.Password != s.Password || u.Domain.Name != s.DomainName {
		writeError(w, http.StatusUnauthorized, "IAM.0004", "The username or password is wrong.")
		return
	}
	if req.Auth.Scope.Project.ID != s.ProjectID {
		writeError(w, http.StatusBadRequest, "IAM.0075", "The project does not exist.")
		return
	}
	now := s.now()
	tok := "iam-" + randomHex(24)
	exp := now.Add(s.iamTTL)
	s.mu.Lock()
	s.iamTokens[tok] = exp
	s.mu.Unlock()
	w.Header().Set("X-Subject-Token", tok)
	type named struct {
		ID   string `json:"id,omitempty"`
		Name string `json:"name"`
	}
	var body struct {
		Token struct {
			ExpiresAt string   `json:"expires_at"`
			IssuedAt  string   `json:"issued_at"`
			Methods   []string `json:"methods"`
			Project   named    `json:"project"`
			User      struct {
				named
				Domain named `json:"domain"`
			} `json:"user"`
		} `json:"token"`
	}
	const iamTime = "2006-01-02T15:04:05.000000Z"
	body.Token.ExpiresAt = exp.UTC().Format(iamTime)
	body.Token.IssuedAt = now.UTC().Format(iamTime)
	body.Token.Methods = []string{"password"}
	body.Token.Project = named{ID: s.ProjectID, Name: "cn-north-4"}
	body.Token.User.named = named{Name: s.Username}
	body.Token.User.Domain = named{Name: s.DomainName}
	writeJSON(w, http.StatusCreated, body)
}

// RevokeTokens expires every IAM token issued so far: requests using one
// get 401 ModelArts.0204, as if it had expired. The static token stays
// valid.
func (s *Server) RevokeTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for tok := range s.iamTokens {
		s.iamTokens[tok] = time.Time{}
	}
}
