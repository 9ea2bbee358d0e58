package eventsapitest

import (
	"cmp"
	"encoding/json"
	"math"
	"slices"

	"github.com/modelarts-notifier/modelarts-notifier/eventsapi"
)

// AddService adds a service, or renames it and sets its status if it
// exists (its events are kept).
func (s *Server) AddService(id, name, status string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	svc := s.serviceLocked(id)
	svc.info.ServiceName = name
	svc.info.Status = status
	svc.info.UpdateTime = s.now().UnixMilli()
}

// serviceLocked returns the service, creating it (named after its id,
// status running) if needed. s.mu must be held.
func (s *Server) serviceLocked(id string) *service {
	if svc, ok := s.services[id]; ok {
		return svc
	}
	s.nextSeq++
	now := s.now().UnixMilli()
	svc := &service{
		info: eventsapi.Service{
			ServiceID:   id,
			ServiceName: id,
			Status:      eventsapi.StatusRunning,
			UpdateTime:  now,
			InferType:   "real-time",
		},
		// Ties in publish_at are broken by seq (creation order).
		publishAt: now,
		seq:       s.nextSeq,
	}
	s.services[id] = svc
	return svc
}

// RemoveService deletes a service (v1 or v2) and its events.
func (s *Server) RemoveService(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.services, id)
	delete(s.v2services, id)
}

// AppendEvents appends events to a service (created if unknown, named
// after its id). The fake sorts by occur_time when it answers, so the
// order of appends only breaks ties.
func (s *Server) AppendEvents(serviceID string, evs ...eventsapi.Event) {
	s.mu.Lock()
	defer s.mu.Unlock()
	svc := s.serviceLocked(serviceID)
	svc.events = append(svc.events, evs...)
	for _, ev := range evs {
		svc.info.UpdateTime = max(svc.info.UpdateTime, ev.OccurTime)
	}
}

// AddRawEvent adds one event to a service (created if unknown) as raw
// JSON: the events answers carry raw byte for byte as one element of their
// events array, so a test can send what a real server might and the fake
// would not produce from an eventsapi.Event: a 1 MB event_info, invalid
// UTF-8, an occur_time given as a string, an unknown field, or even bytes
// that are not JSON at all.
//
// A raw event counts in total_count and is paged like any other. It is
// ordered and filtered by the occur_time and event_type the client's
// decoder (eventsapi.DecodeEventsPage) reads from it; at equal times it
// comes after the events of AppendEvents. One whose occur_time cannot be
// read matches any start_time and end_time and sorts after every other
// event; one whose event_type cannot be read (as a JSON string) matches
// no event_type filter. Raw events do not move the service's update_time
// and are not returned by Events. raw is copied.
func (s *Server) AddRawEvent(serviceID string, raw json.RawMessage) {
	r := rawEvent{data: slices.Clone(raw), at: math.MaxInt64}
	if page, err := eventsapi.DecodeEventsPage(slices.Concat([]byte(`{"events":[`), raw, []byte(`]}`))); err == nil && len(page.Events) == 1 {
		r.at, r.timed = page.Events[0].OccurTime, true
	}
	var typ struct {
		EventType *string `json:"event_type"`
	}
	if json.Unmarshal(raw, &typ) == nil && typ.EventType != nil {
		r.typ, r.typed = *typ.EventType, true
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	svc := s.serviceLocked(serviceID)
	svc.raw = append(svc.raw, r)
}

// rawEvent is an event added by AddRawEvent.
type rawEvent struct {
	data  json.RawMessage
	at    int64 // occur_time; math.MaxInt64 when !timed
	timed bool
	typ   string
	typed bool
}

// SetStatus sets a service's status and error message (created if
// unknown).
func (s *Server) SetStatus(serviceID, status, errorMsg string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.setStatusLocked(s.serviceLocked(serviceID), status, errorMsg, s.now().UnixMilli())
}

func (s *Server) setStatusLocked(svc *service, status, errorMsg string, at int64) {
	if svc.info.Status != status {
		svc.info.TransitionAt = at
	}
	svc.info.Status = status
	svc.info.ErrorMsg = errorMsg
	svc.info.UpdateTime = max(svc.info.UpdateTime, at)
	switch status {
	case eventsapi.StatusRunning:
		svc.info.Progress = 100
	case eventsapi.StatusDeploying:
		svc.info.Progress = min(svc.info.Progress, 99)
	}
}

// Events returns a copy of a service's events in append order (nil for an
// unknown service). Events added with AddRawEvent are not included.
func (s *Server) Events(serviceID string) []eventsapi.Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	if svc, ok := s.services[serviceID]; ok {
		return slices.Clone(svc.events)
	}
	return nil
}

// Service returns a service's details as the fake serves them.
func (s *Server) Service(serviceID string) (eventsapi.Service, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if svc, ok := s.services[serviceID]; ok {
		return svc.info, true
	}
	return eventsapi.Service{}, false
}

// ServiceIDs returns the ids of every v1 service, in creation order
// (ServiceIDsV2 lists the v2 ones).
func (s *Server) ServiceIDs() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	all := make([]*service, 0, len(s.services))
	for _, svc := range s.services {
		all = append(all, svc)
	}
	slices.SortFunc(all, func(a, b *service) int { return cmp.Compare(a.seq, b.seq) })
	ids := make([]string, len(all))
	for i, svc := range all {
		ids[i] = svc.info.ServiceID
	}
	return ids
}
