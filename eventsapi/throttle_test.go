package eventsapi_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/modelarts-notifier/modelarts-notifier/eventsapi"
	"github.com/modelarts-notifier/modelarts-notifier/eventsapi/eventsapitest"
)

// manualClock is a fake clock: time moves only when the test advances it,
// and Sleep blocks until it has moved far enough (or ctx ends).
type manualClock struct {
	mu       sync.Mutex
	t        time.Time
	changed  chan struct{}
	sleepers int
}

func newManualClock() *manualClock {
	return &manualClock{t: time.Now(), changed: make(chan struct{})}
}

func (c *manualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *manualClock) Sleep(ctx context.Context, d time.Duration) error {
	c.mu.Lock()
	end := c.t.Add(d)
	c.sleepers++
	defer func() {
		c.mu.Lock()
		c.sleepers--
		c.mu.Unlock()
	}()
	for {
		if !c.t.Before(end) {
			c.mu.Unlock()
			return nil
		}
		ch := c.changed
		c.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return context.Cause(ctx)
		}
		c.mu.Lock()
	}
}

func (c *manualClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
	close(c.changed)
	c.changed = make(chan struct{})
}

func (c *manualClock) Sleepers() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.sleepers
}

// waitFor polls cond (real time) for up to 20 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// throttleFake returns a fake on clk with services s0..s{n-1} and a client
// of it on clk whose Retry-After cap is a minute.
func throttleFake(t *testing.T, clk *manualClock, n int, edit ...func(*eventsapi.Config)) (*eventsapitest.Server, *eventsapi.Client) {
	t.Helper()
	srv := newFake(t, eventsapitest.WithClock(clk.Now))
	for i := range n {
		id := fmt.Sprintf("s%d", i)
		srv.AddService(id, id, eventsapi.StatusRunning)
	}
	edit = append([]func(*eventsapi.Config){func(cfg *eventsapi.Config) { cfg.MaxRetryAfter = time.Minute }}, edit...)
	c := newClient(t, srv, edit...)
	eventsapi.SetClock(c, clk.Now, clk.Sleep)
	return srv, c
}

// requestsOf returns the arrival times (on the fake clock) of the requests
// for service id.
func requestsOf(srv *eventsapitest.Server, id string) []time.Time {
	var out []time.Time
	for _, r := range srv.Requests() {
		if r.Path == "/v1/"+srv.ProjectID+"/services/"+id {
			out = append(out, r.Time)
		}
	}
	return out
}

// TestThrottleIsShared: 8 readers share a client; the first request to
// arrive is answered 429 with Retry-After 1 while the others are in flight.
// Every reader's next request then waits for the window (the throttled
// reader's retry included): no request reaches the server during it
// beyond those already in flight. After it, the readers go at full speed.
func TestThrottleIsShared(t *testing.T) {
	const readers, calls = 8, 3
	clk := newManualClock()
	t0 := clk.Now()
	srv, c := throttleFake(t, clk, readers)
	srv.Fail(1, eventsapitest.Fault{Status: 429, RetryAfter: "1"})
	// The others stay in flight (real time) while the 429 is handled.
	srv.Fail(readers-1, eventsapitest.Fault{Latency: 300 * time.Millisecond})

	var wg sync.WaitGroup
	errs := make(chan error, readers*calls)
	start := make(chan struct{})
	for i := range readers {
		wg.Go(func() {
			<-start
			for range calls {
				if _, err := c.GetService(ctxT(t), fmt.Sprintf("s%d", i)); err != nil {
					errs <- err
				}
			}
		})
	}
	close(start)
	// Every reader ends up held by the window: the throttled one's retry,
	// and each other reader's next request (once its first is answered).
	waitFor(t, "every reader to wait for the window", func() bool { return clk.Sleepers() == readers })
	during := srv.Requests()
	if len(during) > readers {
		t.Errorf("%d requests reached the server before the window ended, want at most %d (the 429 and those in flight)", len(during), readers)
	}
	for _, r := range during {
		if !r.Time.Equal(t0) {
			t.Errorf("request %s at %v, want all at the start", r.Path, r.Time.Sub(t0))
		}
	}
	if st := c.Stats(); st.Throttled != 1 || st.ThrottledWaits != readers {
		t.Errorf("stats %+v, want 1 throttled answer and %d waits", st, readers)
	}

	clk.Advance(time.Second)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	for i := range readers {
		id := fmt.Sprintf("s%d", i)
		times := requestsOf(srv, id)
		// The first request was sent at t0 unless the window was already
		// open; every later one waited for it.
		first := 0
		if len(times) > 0 && times[0].Equal(t0) {
			first = 1
		}
		for _, at := range times[first:] {
			if at.Before(t0.Add(time.Second)) {
				t.Errorf("%s: request at %v, inside the window", id, at.Sub(t0))
			}
		}
	}
	// After the window: no more waits, every call done.
	if st := c.Stats(); st.Throttled != 1 || st.ThrottledWaits != readers || st.Failures != 0 {
		t.Errorf("stats %+v, want no wait after the window", st)
	}
	if n := len(srv.Requests()); n != readers*calls+1 {
		t.Errorf("%d requests, want %d (one retry)", n, readers*calls+1)
	}
}

// TestThrottleWithoutRetryAfter: a 429 without Retry-After holds every
// request for the backoff delay of the throttled one (the base delay here,
// with its jitter).
func TestThrottleWithoutRetryAfter(t *testing.T) {
	clk := newManualClock()
	t0 := clk.Now()
	srv, c := throttleFake(t, clk, 2, func(cfg *eventsapi.Config) {
		cfg.RetryBaseDelay, cfg.RetryMaxDelay = time.Second, 10*time.Second
	})
	srv.Fail(1, eventsapitest.Fault{Status: 429, Code: eventsapi.CodeGatewayThrottled})

	var wg sync.WaitGroup
	var errA, errB error
	wg.Go(func() { _, errA = c.GetService(ctxT(t), "s0") })
	waitFor(t, "the throttled request to wait", func() bool { return clk.Sleepers() == 1 })
	wg.Go(func() { _, errB = c.GetService(ctxT(t), "s1") })
	waitFor(t, "the second request to wait", func() bool { return clk.Sleepers() == 2 })
	if n := len(srv.Requests()); n != 1 {
		t.Errorf("%d requests during the window, want 1", n)
	}
	clk.Advance(1200 * time.Millisecond) // base delay + 20 % jitter
	wg.Wait()
	if errA != nil || errB != nil {
		t.Fatal(errA, errB)
	}
	for _, id := range []string{"s0", "s1"} {
		times := requestsOf(srv, id)
		last := times[len(times)-1]
		if last.Before(t0.Add(time.Second)) {
			t.Errorf("%s sent at %v, inside the window of the 1 s backoff delay", id, last.Sub(t0))
		}
	}
	if st := c.Stats(); st.Throttled != 1 || st.ThrottledWaits != 2 {
		t.Errorf("stats %+v", st)
	}
}

// TestThrottleWindowExtended: a further 429 extends the window, for every
// request.
func TestThrottleWindowExtended(t *testing.T) {
	clk := newManualClock()
	t0 := clk.Now()
	srv, c := throttleFake(t, clk, 2)
	srv.Fail(1, eventsapitest.Fault{Status: 429, RetryAfter: "1"})
	srv.Fail(1, eventsapitest.Fault{Status: 429, RetryAfter: "3"})

	var wg sync.WaitGroup
	var errA, errB error
	wg.Go(func() { _, errA = c.GetService(ctxT(t), "s0") })
	waitFor(t, "the first window", func() bool { return clk.Sleepers() == 1 })
	clk.Advance(time.Second)
	waitFor(t, "the second 429", func() bool { return c.Stats().Throttled == 2 && clk.Sleepers() == 1 })
	wg.Go(func() { _, errB = c.GetService(ctxT(t), "s1") })
	waitFor(t, "the second request to wait", func() bool { return clk.Sleepers() == 2 })
	clk.Advance(2 * time.Second) // t0+3s: the window lasts until t0+4s
	time.Sleep(20 * time.Millisecond)
	if n := len(srv.Requests()); n != 2 {
		t.Errorf("%d requests before the extended window ended, want 2", n)
	}
	clk.Advance(time.Second)
	wg.Wait()
	if errA != nil || errB != nil {
		t.Fatal(errA, errB)
	}
	if got := requestsOf(srv, "s1"); len(got) != 1 || !got[0].Equal(t0.Add(4*time.Second)) {
		t.Errorf("s1 requests at %v, want one at t0+4s", got)
	}
	if st := c.Stats(); st.Throttled != 2 || st.ThrottledWaits != 3 {
		t.Errorf("stats %+v, want 2 throttled answers and 3 waits", st)
	}
}

// TestThrottleDeadlineFailsFast: a request whose context ends before the
// window does is not sent and does not wait: it fails at once, matching
// context.DeadlineExceeded and IsThrottled.
func TestThrottleDeadlineFailsFast(t *testing.T) {
	clk := newManualClock()
	srv, c := throttleFake(t, clk, 2, func(cfg *eventsapi.Config) {
		cfg.MaxRetryAfter, cfg.MaxRetryDuration = 3*time.Hour, 3*time.Hour
	})
	srv.Fail(1, eventsapitest.Fault{Status: 429, RetryAfter: "7200"})
	done := make(chan error, 1)
	go func() { _, err := c.GetService(ctxT(t), "s0"); done <- err }()
	waitFor(t, "the window", func() bool { return clk.Sleepers() == 1 })

	// The deadline is in real time, an hour away; the window ends two
	// hours after the fake clock's start (a little before now).
	ctx, cancel := context.WithTimeout(ctxT(t), time.Hour)
	defer cancel()
	_, err := c.GetService(ctx, "s1")
	want := "get service s1: not sent: throttled for another 7200000 ms, past the context deadline " +
		"(after HTTP 429 ModelArts.2799: Too many requests. Try again later. (request id fake-00000001))"
	if err == nil || err.Error() != want {
		t.Errorf("err = %v\nwant  %s", err, want)
	}
	if !errors.Is(err, context.DeadlineExceeded) || !eventsapi.IsThrottled(err) {
		t.Errorf("err %v: want it to match context.DeadlineExceeded and IsThrottled", err)
	}
	if n, s := len(srv.Requests()), clk.Sleepers(); n != 1 || s != 1 {
		t.Errorf("%d requests, %d sleepers: the request must be neither sent nor held", n, s)
	}
	clk.Advance(2 * time.Hour)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if st := c.Stats(); st.Failures != 1 || st.ThrottledWaits != 1 {
		t.Errorf("stats %+v", st)
	}
}
