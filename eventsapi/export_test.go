package eventsapi

import (
	"context"
	"time"
)

// SetClock replaces the client's clock and its sleep (retry waits and the
// throttle window), so that tests run them on a fake clock. Call it before
// the client is used.
func SetClock(c *Client, now func() time.Time, sleep func(ctx context.Context, d time.Duration) error) {
	c.now, c.sleep = now, sleep
}
