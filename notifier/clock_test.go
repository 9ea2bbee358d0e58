package notifier

import (
	"context"
	"sync"
	"time"
)

// fakeClock is a clock for tests: Sleep advances it at once and records
// the wait, so nothing depends on the wall clock.
type fakeClock struct {
	mu     sync.Mutex
	t      time.Time
	sleeps []time.Duration
}

func newFakeClock() *fakeClock { return &fakeClock{t: time.Now()} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sleeps = append(c.sleeps, d)
	c.t = c.t.Add(d)
	if dl, ok := ctx.Deadline(); ok && !c.t.Before(dl) {
		return context.DeadlineExceeded
	}
	return nil
}

func (c *fakeClock) Sleeps() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]time.Duration(nil), c.sleeps...)
}

// newFakeClockAt is a fake clock showing t: a test sets the clock just
// before a context deadline that is, on the wall clock, far away.
func newFakeClockAt(t time.Time) *fakeClock { return &fakeClock{t: t} }
