package eventsapi

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/maphash"
	"iter"
	"net/http"
	"net/url"
	"strconv"
)

// v2Limit is the page size the client asks the v2 list and events APIs
// for: their largest (MODELARTS-V2.md, "Paging"; the default is only 10).
// Offsets are multiples of it, as the API requires.
const v2Limit = 500

// Query values of the v2 APIs.
const (
	v2SortUpdateAt = "update_at"
	v2SortCreateAt = "create_at"
	v2SortAsc      = "ASC"
	v2SortDesc     = "DESC"
)

func (c *Client) v2ServicesPath() string { return "/v2/" + c.projectID + "/services" }

func (c *Client) v2ServicePath(serviceID string) string {
	return c.v2ServicesPath() + "/" + serviceID
}

// GetServiceV2 returns a v2 service's details (GET
// /v2/{project_id}/services/{service_id}), with Generation GenerationV2,
// Status normalised (NormalizeV2Status), RawStatus, ErrorMsg
// (failure_reason), UpdateTime (update_at), DeployTimeoutMinutes and
// DeploymentName. An id that is not a v2 service is documented to answer
// 400 or 403 (no 404): use LookupService to find a service's generation.
func (c *Client) GetServiceV2(ctx context.Context, serviceID string) (*Service, error) {
	if err := validateID("service", serviceID); err != nil {
		return nil, fmt.Errorf("get v2 service: %w", err)
	}
	body, err := c.get(ctx, c.v2ServicePath(serviceID), nil)
	if err != nil {
		return nil, fmt.Errorf("get v2 service %s: %w", serviceID, err)
	}
	s, err := decodeServiceV2(body)
	if err != nil {
		return nil, fmt.Errorf("get v2 service %s: %w", serviceID, err)
	}
	if s.ServiceID == "" {
		s.ServiceID = serviceID
	}
	return s, nil
}

// LookupService returns a service's details read through its generation:
// GenerationV1 reads only the v1 API (GetService), GenerationV2 only the
// v2 API (GetServiceV2). With generation "" the id is looked up as a v2
// service first; if v2 details answer 400, 403 or 404 (how ModelArts says
// "no such v2 service", or a token without v2 rights) it is read as a v1
// service. The result's Generation says which one it is; remember it.
//
// When the v1 read fails too, its error is returned (a 404 ModelArts.3502
// is the usual not-found error: IsNotFound is true), noting v2's answer.
// Any other v2 failure (401, 5xx after retries, a network error) is
// returned as it is, without trying v1.
func (c *Client) LookupService(ctx context.Context, serviceID, generation string) (*Service, error) {
	switch generation {
	case GenerationV1:
		return c.GetService(ctx, serviceID)
	case GenerationV2:
		return c.GetServiceV2(ctx, serviceID)
	case "":
	default:
		return nil, fmt.Errorf("look up service %s: generation %q: want %q, %q or empty", serviceID, generation, GenerationV1, GenerationV2)
	}
	if err := validateID("service", serviceID); err != nil {
		return nil, fmt.Errorf("look up service: %w", err)
	}
	s, err := c.GetServiceV2(ctx, serviceID)
	if err == nil {
		return s, nil
	}
	var v2err *APIError
	if !errors.As(err, &v2err) || !notV2(v2err.StatusCode) {
		return nil, err
	}
	c.log.DebugContext(ctx, "not a v2 service; reading it as v1", "service_id", serviceID, "v2_status", v2err.StatusCode, "v2_code", v2err.Code)
	s, err = c.GetService(ctx, serviceID)
	if err != nil {
		return nil, fmt.Errorf("%w (v2 details answered %s)", err, v2err.summary())
	}
	return s, nil
}

// notV2 reports whether a v2 details status means "not a v2 service here".
func notV2(status int) bool {
	return status == http.StatusBadRequest || status == http.StatusForbidden || status == http.StatusNotFound
}

// ServicesV2 iterates over every v2 service of the project (GET
// /v2/{project_id}/services), 500 per request at offsets 0, 500, 1000,
// ..., oldest first (sort_key create_at, sort_dir ASC: creation times do
// not change, so services created or updated while it pages cannot shift
// the pages; the API's default, update_at DESC, would move an updated
// service onto a page already read). Entries have Generation GenerationV2
// and no DeploymentName, DeployTimeoutMinutes or ErrorMsg (the list does
// not carry them: read GetServiceV2).
//
// It stops at total, on a short or empty page, or on a page whose every
// id was already yielded (one warning: the server may ignore offset). On
// an error it yields (Service{}, err) and stops; a 403 (IsForbidden) is
// how a token with v1 rights only is answered.
func (c *Client) ServicesV2(ctx context.Context) iter.Seq2[Service, error] {
	return func(yield func(Service, error) bool) {
		seen := map[string]struct{}{}
		for offset := 0; ; offset += v2Limit {
			total, svcs, err := c.listServicesV2(ctx, offset)
			if err != nil {
				yield(Service{}, err)
				return
			}
			if !c.yieldServicesV2(ctx, yield, seen, offset, total, svcs) {
				return
			}
		}
	}
}

// listServicesV2 reads one page of the v2 service list.
func (c *Client) listServicesV2(ctx context.Context, offset int) (int, []Service, error) {
	v := url.Values{}
	v.Set("limit", strconv.Itoa(v2Limit))
	v.Set("offset", strconv.Itoa(offset))
	v.Set("sort_key", v2SortCreateAt)
	v.Set("sort_dir", v2SortAsc)
	body, err := c.get(ctx, c.v2ServicesPath(), v)
	if err != nil {
		return 0, nil, fmt.Errorf("list v2 services: %w", err)
	}
	total, svcs, err := decodeServicesPageV2(body)
	if err != nil {
		return 0, nil, fmt.Errorf("list v2 services: %w", err)
	}
	return total, svcs, nil
}

// yieldServicesV2 yields a page's new services and reports whether paging
// goes on.
func (c *Client) yieldServicesV2(ctx context.Context, yield func(Service, error) bool, seen map[string]struct{}, offset, total int, svcs []Service) bool {
	fresh := 0
	for _, s := range svcs {
		if _, dup := seen[s.ServiceID]; dup {
			continue
		}
		seen[s.ServiceID] = struct{}{}
		fresh++
		if !yield(s, nil) {
			return false
		}
	}
	if len(svcs) > 0 && fresh == 0 {
		c.log.WarnContext(ctx, "v2 services paging stopped: the server returned a page already seen "+
			"(it may ignore offset or report a wrong total)",
			"offset", offset, "total", total, "count", len(svcs), "reason", reasonAllSeen)
		return false
	}
	return c.v2More(ctx, "services", "", offset, total, len(svcs))
}

// v2More reports whether a v2 listing goes on after a page of n records at
// offset. Offsets must be multiples of the limit, so a short page cannot
// be followed by a request for the rest: it ends paging, with a warning
// when total says that records remain (a server capping its pages).
func (c *Client) v2More(ctx context.Context, what, serviceID string, offset, total, n int) bool {
	switch {
	case n == 0:
		return false
	case total > 0 && offset+v2Limit >= total:
		return false
	case n < v2Limit:
		if total > offset+n {
			args := []any{"offset", offset, "total", total, "count", n, "limit", v2Limit}
			if serviceID != "" {
				args = append(args, "service_id", serviceID)
			}
			c.log.WarnContext(ctx, "v2 "+what+" paging stopped at a page shorter than the limit before total; "+
				"the rest cannot be asked for (offset must be a multiple of limit)", args...)
		}
		return false
	}
	return true
}

// EventsV2 iterates over a v2 service's event records (GET
// /v2/{project_id}/services/{service_id}/events), newest first: sort_key
// update_at, sort_dir DESC, limit 500, offsets 0, 500, 1000, ...
//
// Why DESC (MODELARTS-V2.md, "Read order"): ModelArts updates a record in
// place when its event repeats, so records move while they are paged.
// Read ascending, a record already read that is updated moves to the end
// and shifts an unread one back onto a page already read: skipped, and
// possibly never read again. Read descending, updates and new records move
// to the front: later pages only repeat records (dropped here by id), and
// a record updated mid-read carries an update_at that the next read, from
// the newest update_at seen, gets. For the same reason no end_time is sent
// (a record updated past it mid-read would drop out and shift the pages)
// and no start_time either (the field it filters on is undocumented: if it
// were create_at, a repeat of an old record would never come back); the
// iterator stops by update_at itself.
//
// Every record is yielded once per iteration, translated (see Event): a
// record whose id was already yielded is dropped (records without an id
// are told apart by their type, texts and create_at). It stops:
//   - at the first record with update_at (LastOccurTime) < since; since 0
//     reads everything;
//   - once offset reaches total, or on a short or empty page;
//   - on a page that brings nothing new (every record already yielded): a
//     server that ignores offset answers like that. One warning is logged,
//     as Events does.
//
// On an error it yields (Event{}, err) and stops. No request is sent
// after the loop stops.
func (c *Client) EventsV2(ctx context.Context, serviceID string, since int64) iter.Seq2[Event, error] {
	return func(yield func(Event, error) bool) {
		if err := validateID("service", serviceID); err != nil {
			yield(Event{}, fmt.Errorf("list v2 events: %w", err))
			return
		}
		if since < 0 {
			yield(Event{}, fmt.Errorf("list v2 events for %s: negative since %d", serviceID, since))
			return
		}
		seen := newRecordSet()
		for offset := 0; ; offset += v2Limit {
			total, evs, err := c.listEventsV2(ctx, serviceID, offset)
			if err != nil {
				yield(Event{}, err)
				return
			}
			fresh := 0
			for _, ev := range evs {
				if since > 0 && ev.LastOccurTime < since {
					return
				}
				if !seen.add(ev) {
					continue
				}
				fresh++
				if !yield(ev, nil) {
					return
				}
			}
			if len(evs) > 0 && fresh == 0 {
				c.log.WarnContext(ctx, "v2 events paging stopped: the server returned a page already seen "+
					"(it may ignore offset or report a wrong total)",
					"service_id", serviceID, "offset", offset, "total", total, "count", len(evs), "reason", reasonAllSeen)
				if len(evs) >= v2Limit {
					yield(Event{}, fmt.Errorf("list v2 events for %s: %w", serviceID, ErrIncomplete))
				}
				return
			}
			if !c.v2More(ctx, "events", serviceID, offset, total, len(evs)) {
				if len(evs) > 0 && len(evs) < v2Limit && total > offset+len(evs) {
					// A short page before total: the rest cannot be asked
					// for (offset must be a multiple of limit), so the read
					// is cut short, not complete.
					yield(Event{}, fmt.Errorf("list v2 events for %s: %w", serviceID, ErrIncomplete))
				}
				return
			}
		}
	}
}

// listEventsV2 reads one page of v2 events.
func (c *Client) listEventsV2(ctx context.Context, serviceID string, offset int) (int, []Event, error) {
	v := url.Values{}
	v.Set("limit", strconv.Itoa(v2Limit))
	v.Set("offset", strconv.Itoa(offset))
	v.Set("sort_key", v2SortUpdateAt)
	v.Set("sort_dir", v2SortDesc)
	body, err := c.get(ctx, c.v2ServicePath(serviceID)+"/events", v)
	if err != nil {
		return 0, nil, fmt.Errorf("list v2 events for %s: %w", serviceID, err)
	}
	total, evs, err := decodeEventsPageV2(body)
	if err != nil {
		return 0, nil, fmt.Errorf("list v2 events for %s: %w", serviceID, err)
	}
	return total, evs, nil
}

// recordSet remembers the v2 records an iteration has yielded: by id, or,
// for a record without one, by a hash of its type, texts and create_at.
type recordSet struct {
	seed   maphash.Seed
	ids    map[string]struct{}
	hashes map[uint64]struct{}
}

func newRecordSet() *recordSet {
	return &recordSet{seed: maphash.MakeSeed(), ids: map[string]struct{}{}, hashes: map[uint64]struct{}{}}
}

// add records ev and reports whether it is new.
func (s *recordSet) add(ev Event) bool {
	if ev.ID != "" {
		if _, dup := s.ids[ev.ID]; dup {
			return false
		}
		s.ids[ev.ID] = struct{}{}
		return true
	}
	var h maphash.Hash
	h.SetSeed(s.seed)
	var n [8]byte
	for _, f := range [...]string{ev.EventType, ev.EventInfo, ev.EventInfoCN} {
		binary.LittleEndian.PutUint64(n[:], uint64(len(f)))
		h.Write(n[:])
		h.WriteString(f)
	}
	binary.LittleEndian.PutUint64(n[:], uint64(ev.OccurTime))
	h.Write(n[:])
	k := h.Sum64()
	if _, dup := s.hashes[k]; dup {
		return false
	}
	s.hashes[k] = struct{}{}
	return true
}

// PodEvents returns the events of every pod of every instance of a v2
// deployment (instance_name and name "all"), deploymentName being
// Service.DeploymentName (an instance group's name). from and to (ms since
// the epoch) bound the window and are sent together or not at all, as the
// API requires: from == 0 && to == 0 sends neither; one of them alone, a
// negative value or from > to is an error and no request is sent.
func (c *Client) PodEvents(ctx context.Context, serviceID, deploymentName string, from, to int64) ([]PodEvent, error) {
	if err := validateID("service", serviceID); err != nil {
		return nil, fmt.Errorf("list pod events: %w", err)
	}
	if err := validateID("deployment", deploymentName); err != nil {
		return nil, fmt.Errorf("list pod events for %s: %w", serviceID, err)
	}
	var v url.Values
	switch {
	case from == 0 && to == 0:
	case from <= 0 || to <= 0 || from > to:
		return nil, fmt.Errorf("list pod events for %s/%s: window %d..%d: want both ends > 0 and start <= end, or neither", serviceID, deploymentName, from, to)
	default:
		v = url.Values{}
		v.Set("start_time", strconv.FormatInt(from, 10))
		v.Set("end_time", strconv.FormatInt(to, 10))
	}
	path := c.v2ServicePath(serviceID) + "/deployments/" + deploymentName + "/instances/all/pods/all/events"
	body, err := c.get(ctx, path, v)
	if err != nil {
		return nil, fmt.Errorf("list pod events for %s/%s: %w", serviceID, deploymentName, err)
	}
	evs, err := decodePodEvents(body)
	if err != nil {
		return nil, fmt.Errorf("list pod events for %s/%s: %w", serviceID, deploymentName, err)
	}
	return evs, nil
}
