package watch

import (
	"context"
	"fmt"
)

// settled is the settle stage's outcome.
type settled struct {
	writes int
	errs   []error
}

// settleAll records, per service, what was delivered and (when everything
// due was) the advanced read edge. Writes use a context that survives the
// run's own cancellation for a moment: what was delivered must be recorded.
// A checkpoint that did not change is not written.
func (p *Poller) settleAll(ctx context.Context, plans []*plan, d deliveries) settled {
	var out settled
	saveCtx, cancel := saveContext(ctx)
	defer cancel()
	names := make([]string, len(p.dests))
	for i, dest := range p.dests {
		names[i] = dest.Name
	}
	for _, pl := range plans {
		cp, complete := settle(pl.base, pl.next, pl.due, names, d.delivered, d.threads, p.cfg.Overlap)
		if !complete {
			out.errs = append(out.errs, fmt.Errorf("service %s: not every notification was delivered; its checkpoint stays", pl.svc.ServiceID))
		}
		if cp.Equal(pl.loaded) {
			continue // a quiet poll writes nothing
		}
		if err := p.store.Save(saveCtx, &cp); err != nil {
			out.errs = append(out.errs, fmt.Errorf("save checkpoint of %s: %w", pl.svc.ServiceID, err))
			continue
		}
		out.writes++
	}
	return out
}
