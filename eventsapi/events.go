package eventsapi

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/maphash"
	"iter"
	"net/url"
	"slices"
	"strconv"
	"sync"
)

// Query values of the events and service list APIs.
const (
	OrderAsc        = "asc"
	OrderDesc       = "desc"
	SortByOccurTime = "occur_time"
	// DefaultLimit is the API's default and largest page size.
	DefaultLimit = 1000
)

// EventsQuery are the query parameters of GET .../events. Zero values are
// not sent, so the API's defaults apply (no filter, offset 0, limit 1000,
// sort_by occur_time, order desc).
type EventsQuery struct {
	// EventType filters by type: EventTypeNormal or EventTypeAbnormal.
	EventType string
	// StartTime and EndTime filter by occur_time, in milliseconds since
	// the epoch (0: unset).
	StartTime int64
	EndTime   int64
	// Offset is the index of the first record (see PRODUCT.md: the API
	// calls it a "start page", but it is paged as a record index).
	Offset int
	// Limit is the page size: 0 (the API's default of 1000) up to
	// DefaultLimit. A larger value is an error, not a request: a server
	// that caps pages would quietly answer with fewer events.
	Limit int
	// SortBy is the sort field (the API's default is occur_time).
	SortBy string
	// Order is OrderAsc or OrderDesc (the API's default is desc).
	Order string

	// Expect, when set, is told by Events (it is no query parameter) how
	// many events the read will yield, as the first page's total_count
	// says, before the first event is yielded; not when the server
	// reports none. A caller can make room for them all at once.
	Expect func(total int)
}

func (q EventsQuery) values() (url.Values, error) {
	v := url.Values{}
	switch q.EventType {
	case "":
	case EventTypeNormal, EventTypeAbnormal:
		v.Set("event_type", q.EventType)
	default:
		return nil, fmt.Errorf("event type %q: want %q or %q", q.EventType, EventTypeNormal, EventTypeAbnormal)
	}
	if q.StartTime < 0 || q.EndTime < 0 || q.Offset < 0 || q.Limit < 0 {
		return nil, fmt.Errorf("negative start_time, end_time, offset or limit")
	}
	if q.Limit > DefaultLimit {
		return nil, fmt.Errorf("limit %d: want at most %d", q.Limit, DefaultLimit)
	}
	if q.StartTime != 0 {
		v.Set("start_time", strconv.FormatInt(q.StartTime, 10))
	}
	if q.EndTime != 0 {
		v.Set("end_time", strconv.FormatInt(q.EndTime, 10))
	}
	if q.Offset != 0 {
		v.Set("offset", strconv.Itoa(q.Offset))
	}
	if q.Limit != 0 {
		v.Set("limit", strconv.Itoa(q.Limit))
	}
	if q.SortBy != "" {
		v.Set("sort_by", q.SortBy)
	}
	if err := checkOrder(q.Order); err != nil {
		return nil, err
	}
	if q.Order != "" {
		v.Set("order", q.Order)
	}
	return v, nil
}

func checkOrder(o string) error {
	switch o {
	case "", OrderAsc, OrderDesc:
		return nil
	}
	return fmt.Errorf("order %q: want %q or %q", o, OrderAsc, OrderDesc)
}

// ListEvents returns one page of a service's events.
func (c *Client) ListEvents(ctx context.Context, serviceID string, q EventsQuery) (*EventsPage, error) {
	if err := validateID("service", serviceID); err != nil {
		return nil, fmt.Errorf("list events: %w", err)
	}
	v, err := q.values()
	if err != nil {
		return nil, fmt.Errorf("list events for %s: %w", serviceID, err)
	}
	// The body is read into a buffer kept for the next page: the decoded
	// page holds copies of what it needs.
	buf := pageBuffers.Get().(*bytes.Buffer)
	defer putPageBuffer(buf)
	body, err := c.getInto(ctx, c.servicePath(serviceID)+"/events", v, buf)
	if err != nil {
		return nil, fmt.Errorf("list events for %s: %w", serviceID, err)
	}
	page, err := DecodeEventsPage(body)
	if err != nil {
		return nil, fmt.Errorf("list events for %s: %w", serviceID, err)
	}
	return page, nil
}

// pageBuffers holds the buffers ListEvents reads bodies into.
var pageBuffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// maxPooledBody is the largest buffer kept for another page: a 1,000-event
// page takes a few hundred KB.
const maxPooledBody = 1 << 20

func putPageBuffer(b *bytes.Buffer) {
	if b.Cap() <= maxPooledBody {
		b.Reset()
		pageBuffers.Put(b)
	}
}

// Events iterates over every event matching q, across pages. It forces
// order=asc and sort_by=occur_time, so that events that arrive while it
// pages are appended at the end instead of shifting the pages, and treats
// offset as a record index: it starts at q.Offset and advances by the
// number of events received. On an error it yields (Event{}, err) and
// stops.
//
// It stops paging:
//   - on an empty page;
//   - when the API reports total_count, once offset reaches it (a page
//     shorter than asked for is not the end: a server may cap its pages
//     below the limit); without total_count, after a short page;
//   - when a page brings nothing new (the same events as the previous
//     page, or only events this iteration already yielded): a server that
//     ignores offset, or claims a total_count it does not have, answers
//     like that. Such a page is not yielded; the iterator reads on by time
//     instead (start_time = the newest occur_time yielded, offset 0),
//     yielding only events it has not yielded, and pages on from there.
//     If that brings nothing new the read is complete, unless the page was
//     full (more events at one millisecond than a page holds): then the
//     last element is (Event{}, err) with errors.Is(err, ErrIncomplete).
//     Each walk logs one warning naming the service, the offset, the
//     total_count claimed and the reason.
//
// Every event of every other page is yielded, in the server's order: a
// page with some events already yielded and some new ones is yielded
// whole, repeats included, and paging goes on. Yielded events are
// remembered as 64-bit hashes of their three fields (a few bytes each).
// Identical events on one page are all yielded; a page made only of exact
// repeats of earlier events ends paging.
//
// Nothing here bounds how many events a server that keeps sending new ones
// can yield: a caller that wants a cap stops the loop (break) when it has
// read enough. No request is sent after the loop stops.
func (c *Client) Events(ctx context.Context, serviceID string, q EventsQuery) iter.Seq2[Event, error] {
	return func(yield func(Event, error) bool) {
		q.Order, q.SortBy = OrderAsc, SortByOccurTime
		if q.Limit == 0 {
			q.Limit = DefaultLimit
		}
		seen := newEventSet()
		var prev []Event
		var last int64 // the newest occur_time yielded
		walked := false
		for {
			page, err := c.ListEvents(ctx, serviceID, q)
			if err != nil {
				yield(Event{}, err)
				return
			}
			n := len(page.Events)
			if n == 0 {
				return
			}
			if reason := seen.repeated(prev, page.Events); reason != "" {
				if walked {
					// Read on from the newest event and still nothing new.
					// A full page of it means more events at one
					// millisecond than a page holds: there may be more.
					if n >= q.Limit {
						yield(Event{}, fmt.Errorf("list events for %s: %w", serviceID, ErrIncomplete))
					}
					return
				}
				// The server may ignore offset (or report a wrong
				// total_count): read on by time, from the newest event
				// yielded. One request tells: nothing new means the read
				// was complete.
				c.log.WarnContext(ctx, "events paging: the server returned a page already seen "+
					"(it may ignore offset or report a wrong total_count); reading on by start_time",
					"service_id", serviceID, "offset", q.Offset, "total_count", page.TotalCount,
					"count", n, "reason", reason)
				q.StartTime, q.Offset, walked = last, 0, true
				prev = nil
				continue
			}
			if q.Expect != nil && page.TotalCount > 0 {
				q.Expect(page.TotalCount)
				q.Expect = nil // once
			}
			fresh := false
			for _, ev := range page.Events {
				if walked && seen.has(ev) {
					continue // read before the walk
				}
				fresh = true
				last = max(last, ev.OccurTime)
				if !yield(ev, nil) {
					return
				}
			}
			q.Offset += n
			if lastPage(n, q.Limit, q.Offset, page.TotalCount) {
				return // the last page is never compared with a next one: not remembered
			}
			seen.add(page.Events)
			prev = page.Events
			if walked && fresh {
				walked = false // progress: a repeat may walk again
			}
		}
	}
}

// ErrIncomplete ends (wrapped, as the last element) an Events or EventsV2
// iteration that stopped before the end: the server answered a full page
// with events already read (it ignores offset), so there may be events it
// never gave. Every event it did give was yielded; a caller treats the read
// as cut short (read on next time) rather than failed.
var ErrIncomplete = errors.New("the events read was cut short: the server repeats a full page of events already read; the rest is read next time")

// Reasons Events gives for ending paging on a page that brings nothing new.
const (
	reasonSamePage = "the page holds the same events as the previous page"
	reasonAllSeen  = "every event of the page was already read"
)

// eventSet remembers the events an iteration has yielded, as 64-bit
// hashes, so that tens of thousands of events (some with long event_info)
// stay small.
type eventSet struct {
	seed maphash.Seed
	keys map[uint64]struct{}
}

func newEventSet() *eventSet {
	return &eventSet{seed: maphash.MakeSeed(), keys: map[uint64]struct{}{}}
}

func (s *eventSet) key(ev Event) uint64 {
	var h maphash.Hash
	h.SetSeed(s.seed)
	// Length prefixes keep ("ab", "c") and ("a", "bc") apart.
	var n [8]byte
	binary.LittleEndian.PutUint64(n[:], uint64(len(ev.EventType)))
	h.Write(n[:])
	h.WriteString(ev.EventType)
	binary.LittleEndian.PutUint64(n[:], uint64(len(ev.EventInfo)))
	h.Write(n[:])
	h.WriteString(ev.EventInfo)
	binary.LittleEndian.PutUint64(n[:], uint64(ev.OccurTime))
	h.Write(n[:])
	return h.Sum64()
}

func (s *eventSet) has(ev Event) bool {
	_, ok := s.keys[s.key(ev)]
	return ok
}

func (s *eventSet) add(evs []Event) {
	for _, ev := range evs {
		s.keys[s.key(ev)] = struct{}{}
	}
}

// repeated returns why page brings nothing new after prev, the previous
// page, or "" when it has at least one event not yet seen. An empty page
// is not repeated.
func (s *eventSet) repeated(prev, page []Event) string {
	if len(page) == 0 {
		return ""
	}
	if slices.Equal(prev, page) {
		return reasonSamePage
	}
	for _, ev := range page {
		if _, ok := s.keys[s.key(ev)]; !ok {
			return ""
		}
	}
	return reasonAllSeen
}

// lastPage reports whether paging is over after a page of n records that
// brought offset to next. A total of 0 is taken as absent (the decoder
// cannot tell the two apart): then a page shorter than limit is the last.
// When total is known, a short page is not the end (the server may cap its
// pages below limit), but an empty page always is, so that a total_count
// that never matches the records cannot loop forever.
func lastPage(n, limit, next, total int) bool {
	if n == 0 {
		return true
	}
	if total > 0 {
		return next >= total
	}
	return n < limit
}

func (c *Client) servicePath(serviceID string) string {
	return "/v1/" + c.projectID + "/services/" + serviceID
}
