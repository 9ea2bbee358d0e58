package watch

import (
	"cmp"
	"context"
	"errors"
	"iter"
	"slices"
	"sync"

	"github.com/modelarts-notifier/modelarts-notifier/eventsapi"
	"github.com/modelarts-notifier/modelarts-notifier/notifier"
)

// fakeAPI is an in-memory ModelArts: events per service, returned ascending
// from q.StartTime, like the client's iterator.
type fakeAPI struct {
	mu       sync.Mutex
	services map[string]*eventsapi.Service
	events   map[string][]eventsapi.Event
	fail     map[string]error // service id -> error of its next events read
	reads    map[string]int   // events reads per service
	pods     map[string][]eventsapi.PodEvent
	podErr   error
	podReads int
}

func newFakeAPI() *fakeAPI {
	return &fakeAPI{
		services: map[string]*eventsapi.Service{},
		events:   map[string][]eventsapi.Event{},
		fail:     map[string]error{},
		reads:    map[string]int{},
	}
}

func (f *fakeAPI) add(id, status string, evs ...eventsapi.Event) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.services[id] == nil {
		f.services[id] = &eventsapi.Service{ServiceID: id, ServiceName: "svc-" + id}
	}
	if status != "" {
		f.services[id].Status = status
	}
	f.events[id] = append(f.events[id], evs...)
	slices.SortStableFunc(f.events[id], func(a, b eventsapi.Event) int { return int(a.OccurTime - b.OccurTime) })
}

func (f *fakeAPI) Events(ctx context.Context, id string, q eventsapi.EventsQuery) iter.Seq2[eventsapi.Event, error] {
	return func(yield func(eventsapi.Event, error) bool) {
		f.mu.Lock()
		f.reads[id]++
		err := f.fail[id]
		delete(f.fail, id)
		var out []eventsapi.Event
		for _, e := range f.events[id] {
			if e.OccurTime >= q.StartTime && (q.EndTime == 0 || e.OccurTime <= q.EndTime) {
				out = append(out, e)
			}
		}
		f.mu.Unlock()
		if err != nil {
			yield(eventsapi.Event{}, err)
			return
		}
		for _, e := range out {
			if !yield(e, nil) {
				return
			}
		}
	}
}

func (f *fakeAPI) LookupService(ctx context.Context, id, generation string) (*eventsapi.Service, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	s, ok := f.services[id]
	if !ok {
		return nil, errors.New("no such service " + id)
	}
	c := *s
	if c.Generation == "" {
		c.Generation = eventsapi.GenerationV1
	}
	if generation != "" && generation != c.Generation {
		return nil, errors.New("service " + id + " is not a " + generation + " service")
	}
	return &c, nil
}

// EventsV2 returns a v2 service's records newest first (by last
// occurrence) down to since, like the client's iterator.
func (f *fakeAPI) EventsV2(ctx context.Context, id string, since int64) iter.Seq2[eventsapi.Event, error] {
	return func(yield func(eventsapi.Event, error) bool) {
		f.mu.Lock()
		f.reads[id]++
		err := f.fail[id]
		delete(f.fail, id)
		var out []eventsapi.Event
		for _, e := range f.events[id] {
			if max(e.OccurTime, e.LastOccurTime) >= since {
				out = append(out, e)
			}
		}
		f.mu.Unlock()
		if err != nil {
			yield(eventsapi.Event{}, err)
			return
		}
		slices.SortStableFunc(out, func(a, b eventsapi.Event) int {
			return cmp.Compare(max(b.OccurTime, b.LastOccurTime), max(a.OccurTime, a.LastOccurTime))
		})
		for _, e := range out {
			if !yield(e, nil) {
				return
			}
		}
	}
}

func (f *fakeAPI) PodEvents(ctx context.Context, id, deployment string, from, to int64) ([]eventsapi.PodEvent, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.podReads++
	return f.pods[id], f.podErr
}

func (f *fakeAPI) Services(ctx context.Context) iter.Seq2[eventsapi.Service, error] {
	return f.list(eventsapi.GenerationV1)
}

func (f *fakeAPI) ServicesV2(ctx context.Context) iter.Seq2[eventsapi.Service, error] {
	return f.list(eventsapi.GenerationV2)
}

func (f *fakeAPI) list(gen string) iter.Seq2[eventsapi.Service, error] {
	return func(yield func(eventsapi.Service, error) bool) {
		f.mu.Lock()
		var out []eventsapi.Service
		for _, s := range f.services {
			c := *s
			if c.Generation == "" {
				c.Generation = eventsapi.GenerationV1
			}
			if c.Generation == gen {
				out = append(out, c)
			}
		}
		f.mu.Unlock()
		slices.SortFunc(out, func(a, b eventsapi.Service) int { return cmp.Compare(a.ServiceID, b.ServiceID) })
		for _, s := range out {
			if !yield(s, nil) {
				return
			}
		}
	}
}

// recorder is a destination that records what it was sent and can be told
// to fail.
type recorder struct {
	mu       sync.Mutex
	got      []notifier.Notification
	failNext int // fail this many Notify calls
	thread   string
}

func (r *recorder) Notify(ctx context.Context, ns []notifier.Notification) []notifier.Result {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]notifier.Result, len(ns))
	fail := r.failNext > 0
	if fail {
		r.failNext--
	}
	for i, n := range ns {
		out[i].ID = n.ID
		if fail {
			out[i].Err = errors.New("destination down")
			continue
		}
		r.got = append(r.got, n)
		if n.DeploymentKey != "" && r.thread != "" {
			out[i].ThreadTS = r.thread
		}
	}
	return out
}

func (r *recorder) take() []notifier.Notification {
	r.mu.Lock()
	defer r.mu.Unlock()
	got := r.got
	r.got = nil
	return got
}

func kinds(ns []notifier.Notification) []string {
	var out []string
	for _, n := range ns {
		out = append(out, n.Summary.ServiceID+" "+string(n.Kind)+" "+n.Summary.Phase)
	}
	return out
}
