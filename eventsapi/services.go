package eventsapi

import (
	"context"
	"fmt"
	"iter"
	"net/url"
	"strconv"
)

// ServicesQuery are the query parameters of GET /v1/{project_id}/services.
// Zero values are not sent.
type ServicesQuery struct {
	// Offset is the index of the first record; Limit the page size (at
	// most 1000; 0: the API's default).
	Offset int
	Limit  int
	// SortBy is the sort field, e.g. "publish_at" (the API's default) or
	// "service_name".
	SortBy string
	// Order is OrderAsc or OrderDesc.
	Order string
	// Optional filters.
	ServiceName string
	Status      string
	InferType   string
	WorkspaceID string
}

func (q ServicesQuery) values() (url.Values, error) {
	if q.Offset < 0 || q.Limit < 0 || q.Limit > DefaultLimit {
		return nil, fmt.Errorf("offset %d, limit %d: want offset >= 0 and 0 <= limit <= %d", q.Offset, q.Limit, DefaultLimit)
	}
	if err := checkOrder(q.Order); err != nil {
		return nil, err
	}
	v := url.Values{}
	if q.Offset != 0 {
		v.Set("offset", strconv.Itoa(q.Offset))
	}
	if q.Limit != 0 {
		v.Set("limit", strconv.Itoa(q.Limit))
	}
	for _, kv := range [...]struct{ k, v string }{
		{"sort_by", q.SortBy}, {"order", q.Order}, {"service_name", q.ServiceName},
		{"status", q.Status}, {"infer_type", q.InferType}, {"workspace_id", q.WorkspaceID},
	} {
		if kv.v != "" {
			v.Set(kv.k, kv.v)
		}
	}
	return v, nil
}

// GetService returns a service's details. A missing service is an
// *APIError for which IsNotFound is true.
func (c *Client) GetService(ctx context.Context, serviceID string) (*Service, error) {
	if err := validateID("service", serviceID); err != nil {
		return nil, fmt.Errorf("get service: %w", err)
	}
	body, err := c.get(ctx, c.servicePath(serviceID), nil)
	if err != nil {
		return nil, fmt.Errorf("get service %s: %w", serviceID, err)
	}
	s, err := decodeService(body)
	if err != nil {
		return nil, fmt.Errorf("get service %s: %w", serviceID, err)
	}
	if s.ServiceID == "" {
		s.ServiceID = serviceID
	}
	return s, nil
}

// ListServices returns one page of the project's services.
func (c *Client) ListServices(ctx context.Context, q ServicesQuery) (*ServicesPage, error) {
	v, err := q.values()
	if err != nil {
		return nil, fmt.Errorf("list services: %w", err)
	}
	body, err := c.get(ctx, "/v1/"+c.projectID+"/services", v)
	if err != nil {
		return nil, fmt.Errorf("list services: %w", err)
	}
	page, err := decodeServicesPage(body)
	if err != nil {
		return nil, fmt.Errorf("list services: %w", err)
	}
	return page, nil
}

// Services iterates over every service of the project, oldest first
// (sort_by publish_at, order asc, so that services created while it pages
// do not shift the pages), 1000 per request. On an error it yields
// (Service{}, err) and stops.
func (c *Client) Services(ctx context.Context) iter.Seq2[Service, error] {
	return func(yield func(Service, error) bool) {
		q := ServicesQuery{Limit: DefaultLimit, SortBy: "publish_at", Order: OrderAsc}
		for {
			page, err := c.ListServices(ctx, q)
			if err != nil {
				yield(Service{}, err)
				return
			}
			for _, s := range page.Services {
				if !yield(s, nil) {
					return
				}
			}
			n := len(page.Services)
			q.Offset += n
			if lastPage(n, q.Limit, q.Offset, page.TotalCount) {
				return
			}
		}
	}
}
