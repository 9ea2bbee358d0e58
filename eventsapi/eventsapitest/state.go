package eventsapitest

import (
	"cmp"
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

// RemoveService deletes a service and its events.
func (s *Server) RemoveService(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.services, id)
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
// unknown service).
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

// ServiceIDs returns the ids of every service, in creation order.
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
