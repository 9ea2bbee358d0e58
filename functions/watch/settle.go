package watch

import (
	"context"
	"fmt"

	"github.com/modelarts-notifier/modelarts-notifier/functions/checkpoint"
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
	var batch []*checkpoint.Checkpoint
	var owners []*plan
	for _, pl := range plans {
		cp, complete := settle(pl.base, pl.next, pl.due, names, d.delivered, d.threads, p.cfg.Overlap)
		if !complete {
			out.errs = append(out.errs, fmt.Errorf("service %s: not every notification was delivered; its checkpoint stays", pl.svc.ServiceID))
		}
		if cp.Equal(pl.loaded) {
			continue // a quiet poll writes nothing
		}
		batch = append(batch, &cp)
		owners = append(owners, pl)
	}
	if len(batch) == 0 {
		return out
	}
	errs := p.store.SaveMany(saveCtx, batch)
	p.cacheMu.Lock()
	defer p.cacheMu.Unlock()
	for i, err := range errs {
		id := owners[i].svc.ServiceID
		if err != nil {
			delete(p.cache, id) // read it from the store next time
			out.errs = append(out.errs, fmt.Errorf("save checkpoint of %s: %w", id, err))
			continue
		}
		p.cache[id] = cachedCheckpoint{cp: batch[i].Clone(), ok: true}
		out.writes++
	}
	return out
}
