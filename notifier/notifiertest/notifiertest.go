package notifiertest

import (
	"io"
	"net/http"
	"sync"

	"github.com/modelarts-notifier/modelarts-notifier/notifier"
)

// Fault is what a stand-in does to one request instead of answering it.
type Fault int

const (
	// TooManyRequests answers 429 with Retry-After: 1.
	TooManyRequests Fault = iota + 1
	// ServerError answers 503 (WebhookReceiver) or 500 (SlackAPI).
	ServerError
	// Hang never answers: it waits until the client gives up or the
	// stand-in is closed. The request is not accepted (not recorded).
	Hang
	// AcceptAndHang accepts the request (records it, as a receiver that
	// acted on it would) and then hangs like Hang.
	AcceptAndHang
)

func (f Fault) String() string {
	switch f {
	case TooManyRequests:
		return "429"
	case ServerError:
		return "5xx"
	case Hang:
		return "hang"
	case AcceptAndHang:
		return "accept-and-hang"
	}
	return "none"
}

// faultQueue hands out injected faults in order, and ends hangs when the
// stand-in closes.
type faultQueue struct {
	mu   sync.Mutex
	q    []Fault
	quit chan struct{}
	once sync.Once
}

func newFaultQueue() *faultQueue { return &faultQueue{quit: make(chan struct{})} }

func (f *faultQueue) add(n int, k Fault) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for range n {
		f.q = append(f.q, k)
	}
}

// next consumes the next fault (0 when none is pending).
func (f *faultQueue) next() Fault {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.q) == 0 {
		return 0
	}
	k := f.q[0]
	f.q = f.q[1:]
	return k
}

func (f *faultQueue) clear() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.q = nil
}

// hang waits until the client gives up or the stand-in closes. The body
// must have been read: only then does the server notice the client
// hanging up (the request's context ends).
func (f *faultQueue) hang(r *http.Request) {
	_, _ = io.Copy(io.Discard, r.Body)
	select {
	case <-r.Context().Done():
	case <-f.quit:
	}
}

// stop ends every hang, now and later.
func (f *faultQueue) stop() { f.once.Do(func() { close(f.quit) }) }

// Delivery is one notification a destination accepted.
type Delivery struct {
	// ID is the webhook-id header (Recorder: the Result's ID).
	ID   string
	Kind notifier.Kind    // the payload's "type"
	Data notifier.Summary // the payload's "data"
	// Body is the request body as received (Recorder: nil).
	Body []byte
	// Round is what WithRound's function returned when it arrived (0
	// without WithRound): e.g. the number of the poll it arrived during.
	Round int64
}

// Option configures a WebhookReceiver or a Recorder.
type Option func(*options)

type options struct {
	round func() int64
}

// WithRound stamps every Delivery with round()'s value at arrival.
func WithRound(round func() int64) Option {
	return func(o *options) { o.round = round }
}

func (o options) roundNow() int64 {
	if o.round == nil {
		return 0
	}
	return o.round()
}

func makeOptions(opts []Option) options {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	return o
}
