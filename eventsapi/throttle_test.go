package eventsapi_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/modelarts-notifier/modelarts-notifier/eventsapi"
	"github.com/modelarts-notifier/modelarts-notifier/eventsapi/eventsapitest"
)

// manualClock is a fake clock: time moves only when the test advances it,
// and Sleep blocks until it has moved far enough (or ctx ends).
//
// A sleeper is parked once it has seen the clock's current time and is
// blocked until a later one: Advance unparks every sleeper, and each parks
// again (Parked) once it has seen the new time and found it too early.
// A test waits for sleepers to park, not for real time to pass.
type manualClock struct {
	mu      sync.Mutex
	t       time.Time
	changed chan struct{}
	seq     int
	parked  map[int]time.Time // the end of each parked sleeper's Sleep
}

func newManualClock() *manualClock {
	return &manualClock{t: time.Now(), changed: make(chan struct{}), parked: map[int]time.Time{}}
}

func (c *manualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *manualClock) Sleep(ctx context.Context, d time.Duration) error {
	c.mu.Lock()
	end := c.t.Add(d)
	c.seq++
	id := c.seq
	for {
		if !c.t.Before(end) {
			c.mu.Unlock()
			return nil
		}
		ch := c.changed
		c.parked[id] = end
		c.mu.Unlock()
		select {
		case <-ch: // Advance unparked it
		case <-ctx.Done():
			c.mu.Lock()
			delete(c.parked, id)
			c.mu.Unlock()
			return context.Cause(ctx)
		}
		c.mu.Lock()
	}
}

func (c *manualClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
	clear(c.parked)
	close(c.changed)
	c.changed = make(chan struct{})
}

// Parked returns when each parked sleeper will wake, in order.
func (c *manualClock) Parked() []time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]time.Time, 0, len(c.parked))
	for _, end := range c.parked {
		out = append(out, end)
	}
	slices.SortFunc(out, time.Time.Compare)
	return out
}

// waitFor polls cond (real time) for up to 20 s. The conditions are states
// the code under test must reach (sleepers parked, a request sent), never a
// guess of how long something takes: the time limit only bounds a test
// whose code never gets there.
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

// sentRequest is a request the client sent, at a time on the fake clock.
type sentRequest struct {
	Path string
	At   time.Time
}

// sendLog is the client's transport: it logs each request as the client
// sends it (before the server sees it), and can hold requests before
// passing them on, until the test releases them.
type sendLog struct {
	next http.RoundTripper
	now  func() time.Time
	mu   sync.Mutex
	sent []sentRequest
	hold bool
	held []chan struct{}
}

func (s *sendLog) RoundTrip(req *http.Request) (*http.Response, error) {
	s.mu.Lock()
	s.sent = append(s.sent, sentRequest{Path: req.URL.Path, At: s.now()})
	var gate chan struct{}
	if s.hold {
		gate = make(chan struct{})
		s.held = append(s.held, gate)
	}
	s.mu.Unlock()
	if gate != nil {
		select {
		case <-gate:
		case <-req.Context().Done():
			return nil, context.Cause(req.Context())
		}
	}
	return s.next.RoundTrip(req)
}

// Sent returns the requests sent so far, in order.
func (s *sendLog) Sent() []sentRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.sent)
}

// Hold makes every request sent from now on wait for Release.
func (s *sendLog) Hold() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hold = true
}

// Held returns how many requests are held.
func (s *sendLog) Held() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.held)
}

// Release passes n held requests (all, and stops holding, if n < 0) on
// to the server, the first held first.
func (s *sendLog) Release(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if n < 0 {
		n, s.hold = len(s.held), false
	}
	for _, gate := range s.held[:n] {
		close(gate)
	}
	s.held = s.held[n:]
}

// since returns each time as an offset from t0, for messages.
func since(t0 time.Time, times []time.Time) []time.Duration {
	out := make([]time.Duration, len(times))
	for i, at := range times {
		out[i] = at.Sub(t0)
	}
	return out
}

// throttleFake returns a fake on clk with services s0..s{n-1} and a client
// of it on clk whose Retry-After cap is a minute. The client sends through
// the returned sendLog.
func throttleFake(t *testing.T, clk *manualClock, n int, edit ...func(*eventsapi.Config)) (*eventsapitest.Server, *eventsapi.Client, *sendLog) {
	t.Helper()
	srv := newFake(t, eventsapitest.WithClock(clk.Now))
	for i := range n {
		id := fmt.Sprintf("s%d", i)
		srv.AddService(id, id, eventsapi.StatusRunning)
	}
	log := &sendLog{next: srv.Client().Transport, now: clk.Now}
	edit = append([]func(*eventsapi.Config){func(cfg *eventsapi.Config) {
		cfg.MaxRetryAfter = time.Minute
		cfg.HTTPClient = &http.Client{Transport: log}
	}}, edit...)
	c := newClient(t, srv, edit...)
	eventsapi.SetClock(c, clk.Now, clk.Sleep)
	return srv, c, log
}

// sentAt returns the times (on the fake clock) at which the client sent
// its requests for service id.
func sentAt(srv *eventsapitest.Server, log *sendLog, id string) []time.Time {
	var out []time.Time
	for _, r := range log.Sent() {
		if r.Path == "/v1/"+srv.ProjectID+"/services/"+id {
			out = append(out, r.At)
		}
	}
	return out
}

// parkedUntil reports whether the clock's parked sleepers are n, each
// until end.
func parkedUntil(clk *manualClock, n int, end time.Time) bool {
	p := clk.Parked()
	if len(p) != n {
		return false
	}
	for _, at := range p {
		if !at.Equal(end) {
			return false
		}
	}
	return true
}

// TestThrottleIsShared: 8 readers share a client; the first request to
// reach the server is answered 429 with Retry-After 1 while the others are
// in flight (held by the transport until the 429 has opened the window).
// Every reader's next request then waits for the window (the throttled
// reader's retry included): no request is sent during it beyond those
// already in flight. After it, the readers go at full speed.
func TestThrottleIsShared(t *testing.T) {
	const readers, calls = 8, 3
	clk := newManualClock()
	t0 := clk.Now()
	srv, c, log := throttleFake(t, clk, readers)
	srv.Fail(1, eventsapitest.Fault{Status: 429, RetryAfter: "1"})
	log.Hold()

	var wg sync.WaitGroup
	errs := make(chan error, readers*calls)
	for i := range readers {
		wg.Go(func() {
			for range calls {
				if _, err := c.GetService(ctxT(t), fmt.Sprintf("s%d", i)); err != nil {
					errs <- err
				}
			}
		})
	}
	// Every reader's first request is in flight; one reaches the server
	// and gets the 429, whose retry waits for the window.
	waitFor(t, "every reader's first request to be sent", func() bool { return log.Held() == readers })
	log.Release(1)
	waitFor(t, "the 429 to open the window, or a request sent", func() bool {
		return c.Stats().Throttled == 1 && len(clk.Parked()) == 1 || len(log.Sent()) > readers
	})
	if n := len(log.Sent()); n != readers {
		t.Fatalf("%d requests were sent before the window ended, want %d (the 429 and those in flight)", n, readers)
	}
	if !parkedUntil(clk, 1, t0.Add(time.Second)) {
		t.Errorf("the throttled request waits until t0+%v, want t0+1s", since(t0, clk.Parked()))
	}
	// The others are answered; each reader's next request waits for the
	// window, or (if the throttle failed) is sent.
	log.Release(-1)
	waitFor(t, "every reader to wait for the window, or a request sent during it", func() bool {
		return len(clk.Parked()) == readers || len(log.Sent()) > readers
	})
	if n := len(log.Sent()); n != readers {
		t.Fatalf("%d requests were sent before the window ended, want %d (the 429 and those in flight)", n, readers)
	}
	if !parkedUntil(clk, readers, t0.Add(time.Second)) {
		t.Errorf("requests wait until t0+%v, want %d until t0+1s", since(t0, clk.Parked()), readers)
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
	// Each reader sent its first request at t0 and every later one at the
	// end of the window; one reader (the throttled one) sent one more.
	retried := 0
	for i := range readers {
		id := fmt.Sprintf("s%d", i)
		times := sentAt(srv, log, id)
		if len(times) == calls+1 {
			retried++
		} else if len(times) != calls {
			t.Errorf("%s: %d requests, want %d or %d", id, len(times), calls, calls+1)
			continue
		}
		if !times[0].Equal(t0) {
			t.Errorf("%s: first request at %v, want t0", id, times[0].Sub(t0))
		}
		for _, at := range times[1:] {
			if !at.Equal(t0.Add(time.Second)) {
				t.Errorf("%s: request at t0+%v, want t0+1s (the end of the window)", id, at.Sub(t0))
			}
		}
	}
	if retried != 1 {
		t.Errorf("%d readers sent a retry, want 1", retried)
	}
	// After the window: no more waits, every call done.
	if st := c.Stats(); st.Throttled != 1 || st.ThrottledWaits != readers || st.Failures != 0 {
		t.Errorf("stats %+v, want no wait after the window", st)
	}
	if n := len(log.Sent()); n != readers*calls+1 {
		t.Errorf("%d requests, want %d (one retry)", n, readers*calls+1)
	}
}

// TestThrottleWithoutRetryAfter: a 429 without Retry-After holds every
// request for the backoff delay of the throttled one (the base delay here,
// with its jitter).
func TestThrottleWithoutRetryAfter(t *testing.T) {
	clk := newManualClock()
	t0 := clk.Now()
	srv, c, log := throttleFake(t, clk, 2, func(cfg *eventsapi.Config) {
		cfg.RetryBaseDelay, cfg.RetryMaxDelay = time.Second, 10*time.Second
	})
	srv.Fail(1, eventsapitest.Fault{Status: 429, Code: eventsapi.CodeGatewayThrottled})

	var wg sync.WaitGroup
	var errA, errB error
	wg.Go(func() { _, errA = c.GetService(ctxT(t), "s0") })
	waitFor(t, "the throttled request to wait, or be sent again", func() bool { return len(clk.Parked()) == 1 || len(log.Sent()) > 1 })
	wg.Go(func() { _, errB = c.GetService(ctxT(t), "s1") })
	waitFor(t, "the second request to wait, or be sent", func() bool { return len(clk.Parked()) == 2 || len(log.Sent()) > 1 })
	if n := len(log.Sent()); n != 1 {
		t.Fatalf("%d requests sent during the window, want 1", n)
	}
	// Both wait for the window: the backoff delay, jittered by ±20 %.
	p := clk.Parked()
	if !p[0].Equal(p[1]) || p[0].Before(t0.Add(800*time.Millisecond)) || p[0].After(t0.Add(1200*time.Millisecond)) {
		t.Errorf("requests wait until t0+%v and t0+%v, want one window of 1 s ± 20 %%", p[0].Sub(t0), p[1].Sub(t0))
	}
	clk.Advance(1200 * time.Millisecond) // base delay + 20 % jitter
	wg.Wait()
	if errA != nil || errB != nil {
		t.Fatal(errA, errB)
	}
	for _, id := range []string{"s0", "s1"} {
		times := sentAt(srv, log, id)
		if last := times[len(times)-1]; !last.Equal(t0.Add(1200 * time.Millisecond)) {
			t.Errorf("%s sent at t0+%v, want after the window (t0+1.2s)", id, last.Sub(t0))
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
	srv, c, log := throttleFake(t, clk, 2)
	srv.Fail(1, eventsapitest.Fault{Status: 429, RetryAfter: "1"})
	srv.Fail(1, eventsapitest.Fault{Status: 429, RetryAfter: "3"})

	var wg sync.WaitGroup
	var errA, errB error
	wg.Go(func() { _, errA = c.GetService(ctxT(t), "s0") })
	waitFor(t, "the first window, or the retry sent", func() bool { return len(clk.Parked()) == 1 || len(log.Sent()) > 1 })
	if n := len(log.Sent()); n != 1 {
		t.Fatalf("%d requests sent during the first window, want 1", n)
	}
	clk.Advance(time.Second)
	waitFor(t, "the second 429", func() bool { return c.Stats().Throttled == 2 && len(clk.Parked()) == 1 })
	wg.Go(func() { _, errB = c.GetService(ctxT(t), "s1") })
	waitFor(t, "the second request to wait, or be sent", func() bool { return len(clk.Parked()) == 2 || len(log.Sent()) > 2 })
	if !parkedUntil(clk, 2, t0.Add(4*time.Second)) {
		t.Errorf("requests wait until t0+%v, want both until t0+4s", since(t0, clk.Parked()))
	}
	// t0+3s: each request wakes, sees the window still open (until
	// t0+4s) and waits again; one that does not is sent now.
	clk.Advance(2 * time.Second)
	waitFor(t, "both requests to wait again, or one to be sent", func() bool { return len(clk.Parked()) == 2 || len(log.Sent()) > 2 })
	if n := len(log.Sent()); n != 2 {
		t.Fatalf("%d requests sent before the extended window ended, want 2", n)
	}
	if !parkedUntil(clk, 2, t0.Add(4*time.Second)) {
		t.Errorf("at t0+3s requests wait until t0+%v, want both until t0+4s", since(t0, clk.Parked()))
	}
	clk.Advance(time.Second)
	wg.Wait()
	if errA != nil || errB != nil {
		t.Fatal(errA, errB)
	}
	if got := sentAt(srv, log, "s1"); len(got) != 1 || !got[0].Equal(t0.Add(4*time.Second)) {
		t.Errorf("s1 requests at t0+%v, want one at t0+4s", since(t0, got))
	}
	if st := c.Stats(); st.Throttled != 2 || st.ThrottledWaits != 3 {
		t.Errorf("stats %+v, want 2 throttled answers and 3 waits", st)
	}
}

// TestThrottleExtendedWhileWaiting: a 429 that extends the window holds
// the requests already waiting for it too: at the end of the first window
// they wait again, for the rest of the extended one.
func TestThrottleExtendedWhileWaiting(t *testing.T) {
	clk := newManualClock()
	t0 := clk.Now()
	srv, c, log := throttleFake(t, clk, 3)
	srv.Fail(1, eventsapitest.Fault{Status: 429, RetryAfter: "1", Path: "/services/s0"})
	srv.Fail(1, eventsapitest.Fault{Status: 429, RetryAfter: "3", Path: "/services/s1"})
	log.Hold()

	var wg sync.WaitGroup
	errs := make([]error, 3)
	get := func(i int) {
		wg.Go(func() { _, errs[i] = c.GetService(ctxT(t), fmt.Sprintf("s%d", i)) })
	}
	// s0 and s1 are sent at t0 and held in flight, s0 first.
	get(0)
	waitFor(t, "s0 to be sent", func() bool { return log.Held() == 1 })
	get(1)
	waitFor(t, "s1 to be sent", func() bool { return log.Held() == 2 })
	// s0's 429 opens a window until t0+1s: its retry and s2 wait for it.
	log.Release(1)
	waitFor(t, "s0's 429, or its retry sent", func() bool {
		return c.Stats().Throttled == 1 && len(clk.Parked()) == 1 || len(log.Sent()) > 2
	})
	get(2)
	waitFor(t, "s2 to wait, or be sent", func() bool { return len(clk.Parked()) == 2 || len(log.Sent()) > 2 })
	// s1's 429, still inside that window, extends it to t0+3s.
	log.Release(-1)
	waitFor(t, "s1's 429, or a request sent", func() bool {
		return c.Stats().Throttled == 2 && len(clk.Parked()) == 3 || len(log.Sent()) > 2
	})
	if n := len(log.Sent()); n != 2 {
		t.Fatalf("%d requests sent inside the window, want 2 (s0 and s1 at t0)", n)
	}
	// t0+1s, the end of the first window: the requests waiting for it
	// wait again, until t0+3s; one that does not is sent now.
	clk.Advance(time.Second)
	waitFor(t, "every request to wait again, or one to be sent", func() bool { return len(clk.Parked()) == 3 || len(log.Sent()) > 2 })
	if got := log.Sent(); len(got) != 2 {
		for _, r := range got[2:] {
			t.Errorf("request %s sent at t0+%v, inside the extended window (until t0+3s)", r.Path, r.At.Sub(t0))
		}
		t.FailNow()
	}
	if !parkedUntil(clk, 3, t0.Add(3*time.Second)) {
		t.Errorf("at t0+1s requests wait until t0+%v, want 3 until t0+3s", since(t0, clk.Parked()))
	}
	clk.Advance(2 * time.Second)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("s%d: %v", i, err)
		}
	}
	for i, want := range [][]time.Time{{t0, t0.Add(3 * time.Second)}, {t0, t0.Add(3 * time.Second)}, {t0.Add(3 * time.Second)}} {
		if got := sentAt(srv, log, fmt.Sprintf("s%d", i)); !slices.EqualFunc(got, want, time.Time.Equal) {
			t.Errorf("s%d sent at t0+%v, want t0+%v", i, since(t0, got), since(t0, want))
		}
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
	t0 := clk.Now()
	srv, c, log := throttleFake(t, clk, 2, func(cfg *eventsapi.Config) {
		cfg.MaxRetryAfter, cfg.MaxRetryDuration = 3*time.Hour, 3*time.Hour
	})
	srv.Fail(1, eventsapitest.Fault{Status: 429, RetryAfter: "7200"})
	done := make(chan error, 1)
	go func() { _, err := c.GetService(ctxT(t), "s0"); done <- err }()
	waitFor(t, "the window, or the retry sent", func() bool { return len(clk.Parked()) == 1 || len(log.Sent()) > 1 })

	// The deadline is in real time, an hour away; the window ends two
	// hours after the fake clock's start (a little before now).
	// It must fail at once: if it waits (parks) or is sent instead, the
	// test fails then, rather than when the hour is up.
	ctx, cancel := context.WithTimeout(ctxT(t), time.Hour)
	defer cancel()
	res := make(chan error, 1)
	go func() { _, err := c.GetService(ctx, "s1"); res <- err }()
	var err error
	returned := false
	waitFor(t, "s1 to fail, wait or be sent", func() bool {
		select {
		case err = <-res:
			returned = true
		default:
		}
		return returned || len(clk.Parked()) > 1 || len(log.Sent()) > 1
	})
	if !returned {
		t.Fatalf("s1 did not fail at once: %d requests sent, waits until t0+%v", len(log.Sent()), since(t0, clk.Parked()))
	}
	want := "get service s1: not sent: throttled for another 7200000 ms, past the context deadline " +
		"(after HTTP 429 ModelArts.2799: Too many requests. Try again later. (request id fake-00000001))"
	if err == nil || err.Error() != want {
		t.Errorf("err = %v\nwant  %s", err, want)
	}
	if !errors.Is(err, context.DeadlineExceeded) || !eventsapi.IsThrottled(err) {
		t.Errorf("err %v: want it to match context.DeadlineExceeded and IsThrottled", err)
	}
	if n, s := len(log.Sent()), len(clk.Parked()); n != 1 || s != 1 {
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
