package watch

import (
	"context"
	"fmt"
	"sync"

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
		if pl.settled {
			continue // saved while the others were read
		}
		cp, complete := settle(pl.base, pl.next, pl.refs, names, d.delivered, d.threads, p.cfg.Overlap)
		if !complete {
			out.errs = append(out.errs, fmt.Errorf("service %s: not every notification was delivered; its checkpoint stays", pl.svc.ServiceID))
		}
		if cp.Equal(pl.loaded.cp) {
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
		p.cache[id] = cachedCheckpoint{cp: *batch[i], ok: true} // nothing else holds it now
		out.writes++
	}
	return out
}

// earlySaver saves, while other services are still being read, the
// checkpoints of services with nothing to deliver, when the store writes
// item by item (checkpoint.PerItem): the writes overlap the reads instead
// of following them. nil for other stores (a file is written once, at the
// end).
func (p *Poller) earlySaver(ctx context.Context) *saver {
	if pi, ok := p.store.(checkpoint.PerItem); !ok || !pi.PerItem() {
		return nil
	}
	s := &saver{p: p, ch: make(chan *checkpoint.Checkpoint, p.cfg.Concurrency)}
	for range p.cfg.Concurrency {
		s.wg.Go(func() {
			for cp := range s.ch {
				err := p.store.SaveMany(ctx, []*checkpoint.Checkpoint{cp})[0]
				p.cacheMu.Lock()
				if err != nil {
					delete(p.cache, cp.ServiceID)
				} else {
					p.cache[cp.ServiceID] = cachedCheckpoint{cp: *cp, ok: true} // nothing else holds it now
				}
				p.cacheMu.Unlock()
				s.mu.Lock()
				if err != nil {
					s.errs = append(s.errs, fmt.Errorf("save checkpoint of %s: %w", cp.ServiceID, err))
				} else {
					s.writes++
				}
				s.mu.Unlock()
			}
		})
	}
	return s
}

// saver is earlySaver's pool of writers.
type saver struct {
	p      *Poller
	ch     chan *checkpoint.Checkpoint
	wg     sync.WaitGroup
	mu     sync.Mutex
	writes int
	errs   []error
}

// offer takes pl when nothing due from it is left to deliver: its
// checkpoint is final now (and marked settled), and saved when it changed.
func (s *saver) offer(pl *plan) {
	if pl == nil || s.p.pending(pl) {
		return
	}
	cp, complete := settle(pl.base, pl.next, pl.refs, nil, nil, nil, s.p.cfg.Overlap)
	if !complete {
		return
	}
	pl.settled = true
	if !cp.Equal(pl.loaded.cp) {
		s.ch <- &cp
	}
}

// wait closes the pool and returns what it saved and the errors.
func (s *saver) wait() (int, []error) {
	close(s.ch)
	s.wg.Wait()
	return s.writes, s.errs
}
