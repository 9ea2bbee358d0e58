package notifier

// The send stage every destination shares (STYLE 15, after Alertmanager's
// notify pipeline). For one destination and one Notify call it reads top
// to bottom:
//
//	hears       routing: does this destination hear the notification? (a hook: the next issue)
//	digests     many due at once, or more than the rate limit lets through: one digest
//	deliver     one by one, in order: render, pace, send, retry, read the answer
//	stopAfter   a dead destination, or a deadline too near: the rest are not attempted
//	logResult   one Result, and one log line, per notification
//
// A destination adds only what is its own: a format (how it renders a
// message and a digest, builds the request and reads the answer), or, for
// the Slack bot, a deliverer that posts and updates a deployment's parent
// message and replies in its thread, each message through the same stage.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"time"
)

// SendConfig is what every destination's config holds besides where it
// sends: how it sends.
type SendConfig struct {
	// HTTPClient sends the requests; nil means a client with a 15 s timeout.
	// Redirects are never followed, with this client or the default (a 3xx
	// is a permanent failure); the notifier uses a copy of it for that.
	HTTPClient *http.Client `json:"-"`
	// Version goes into the User-Agent, "modelarts-notifier/<version>"
	// (the Slack bot's requests carry slack-go's own).
	Version string
	// Now and Sleep tell the time, sign, pace and space retries; nil means
	// the real clock. Tests fake them.
	Now   func() time.Time                                 `json:"-"`
	Sleep func(ctx context.Context, d time.Duration) error `json:"-"`
	// Retry bounds the retries of one message.
	Retry RetryPolicy
	// DigestThreshold: more notifications than this in one Notify call are
	// sent as one digest (default 5). Generic webhooks never digest.
	DigestThreshold int
}

// defaultDigestThreshold: more notifications than this for one destination
// in one Notify call make one digest.
const defaultDigestThreshold = 5

func digestThreshold(n int) int {
	if n <= 0 {
		return defaultDigestThreshold
	}
	return n
}

// A format is what a destination kind that sends one HTTP message per
// notification adds to the send stage: how it renders a notification, the
// request that carries a message, and how it reads the answer.
type format interface {
	// message renders one notification; cut reports whether text was cut
	// or left out to fit the destination's limits.
	message(n Notification) (msg any, cut bool, err error)
	// request is the POST of one attempt at now (signed afresh, where the
	// destination signs).
	request(now time.Time, msg any) (outbound, error)
	// answer judges the answer to one attempt: nil when delivered, else an
	// error that the shared retry decision ([verdictOf]) retries or not.
	answer(status int, raw []byte, h http.Header, now time.Time) error
}

// A digester is a format that also renders many notifications as one
// message. A format that is not one never digests.
type digester interface {
	digest(ns []Notification) (msg any, cut bool, err error)
}

// outbound is the POST of one attempt.
type outbound struct {
	url    string
	header http.Header // Content-Type defaults to application/json
	body   []byte
}

// A threadKeeper is a deliverer that keeps one parent message per
// deployment (the Slack bot): it alone delivers thread-only notifications
// ([ThreadOnly]); for every other destination they are done unsent.
type threadKeeper interface {
	deliverer
	// thread makes the change n asks of its deployment's thread
	// (n.ThreadTS, never empty here).
	thread(ctx context.Context, n Notification) Result
}

// A deliverer delivers one notification, or a digest of many, with the
// messages that takes, each sent through [sender.send]. A messenger sends
// one message for each; the Slack bot posts or updates a deployment's
// parent message and replies in its thread.
type deliverer interface {
	// deliver delivers n; n.ThreadTS is its deployment's parent message as
	// known now (posted earlier in this call, else from the checkpoint).
	deliver(ctx context.Context, n Notification) Result
	// deliverDigest delivers ns as one digest: its outcome is theirs.
	deliverDigest(ctx context.Context, ns []Notification) error
}

// sender is the send stage of one destination.
type sender struct {
	name     string // "slack-webhook", "teams", ...: what logs and errors call it
	client   *http.Client
	agent    string
	clock    clock
	limiter  *rateLimiter  // paces messages; nil: unpaced (generic webhooks)
	pauseFor time.Duration // how long a "too fast" answer stops messages
	retry    RetryPolicy
	digestAt int      // more than this at once make one digest; 0: never
	secrets  []string // never in an error or a log line
	logger   *slog.Logger
	// route decides whether this destination hears a notification (see
	// hears); nil: every one. Routing (the next issue) sets it.
	route func(Notification) bool
}

// newSender is the stage for the destination name, configured by cfg,
// logging to logger narrowed with attrs (nil: no logs).
func newSender(name string, cfg SendConfig, logger *slog.Logger, attrs ...any) *sender {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &sender{
		name:     name,
		client:   httpClient(cfg.HTTPClient),
		agent:    userAgent(cfg.Version),
		clock:    newClock(cfg.Now, cfg.Sleep),
		retry:    cfg.Retry,
		digestAt: digestThreshold(cfg.DigestThreshold),
		logger:   logger.With(append([]any{"destination", name}, attrs...)...),
	}
}

// paced makes s keep the rate windows; pauseFor is how long a "too fast"
// answer stops messages.
func (s *sender) paced(pauseFor time.Duration, windows ...rateWindow) *sender {
	s.limiter = newRateLimiter(s.clock, windows...)
	s.pauseFor = pauseFor
	return s
}

// run is the send stage for one Notify call: it returns one Result per
// notification, in order. When there are more notifications than the
// digest threshold, or than the rate limit lets through now, they go as
// one digest (thread-only notifications never do, and do not count);
// otherwise one by one. A thread-only notification is acknowledged
// without a message unless the destination keeps parent messages (a
// [threadKeeper]) and its deployment has one. Once a delivery fails because the destination looks
// down ([ErrDestinationDown]) or the deadline is too near for another
// message ([ErrDeadlineNear]), the rest fail without being attempted; a
// rate-limited destination is busy, not down.
func (s *sender) run(ctx context.Context, ns []Notification, d deliverer) []Result {
	results := make([]Result, len(ns))
	var todo, group []int // indices in ns: heard; heard and not thread-only
	for i, n := range ns {
		results[i] = Result{ID: n.ID}
		if !s.hears(n) {
			continue // not this destination's: done (see hears)
		}
		todo = append(todo, i)
		if !n.ThreadOnly() {
			group = append(group, i)
		}
	}
	keeper, _ := d.(threadKeeper)
	var skip error // why the rest are not attempted
	if s.digests(len(group)) {
		var rs []Result
		rs, skip = s.deliverDigest(ctx, d, keeper != nil, pick(ns, group))
		for j, i := range group {
			results[i] = rs[j]
		}
		todo = slices.DeleteFunc(todo, func(i int) bool { return !ns[i].ThreadOnly() })
	}
	for j, r := range s.oneByOne(ctx, d, keeper, pick(ns, todo), skip) {
		results[todo[j]] = r
	}
	return results
}

// pick is the notifications of ns at the indices at.
func pick(ns []Notification, at []int) []Notification {
	out := make([]Notification, len(at))
	for j, i := range at {
		out[j] = ns[i]
	}
	return out
}

// oneByOne delivers ns one at a time, in order, and returns their Results.
// It carries each deployment's parent message from one notification to
// the next; once skip (from the start, or after a delivery) says why, the
// rest are not attempted. keeper is d when it keeps threads, else nil.
func (s *sender) oneByOne(ctx context.Context, d deliverer, keeper threadKeeper, ns []Notification, skip error) []Result {
	keeps := keeper != nil
	results := make([]Result, len(ns))
	parents := map[string]string{} // deployment key -> parent message, this call
	for k, n := range ns {
		results[k] = Result{ID: n.ID}
		if ts, ok := parents[n.DeploymentKey]; ok && n.DeploymentKey != "" {
			n.ThreadTS = ts
		}
		if n.ThreadOnly() && (!keeps || n.ThreadTS == "") {
			continue // no thread to change: acknowledged
		}
		if skip != nil {
			results[k] = s.result(n, keeps, fmt.Errorf("%s: deliver %s: %w", s.name, n.ID, skip))
			continue
		}
		var r Result
		if n.ThreadOnly() {
			r = keeper.thread(ctx, n)
		} else {
			r = d.deliver(ctx, n)
		}
		results[k] = r
		s.logResult(ctx, n, r.Err)
		if keeps && n.DeploymentKey != "" && r.ThreadTS != "" {
			parents[n.DeploymentKey] = r.ThreadTS
		}
		if skip = s.stopAfter(ctx, n.ID, r.Err); skip != nil && k+1 < len(ns) {
			s.logger.WarnContext(ctx, s.name+" not attempting the rest", "notifications", len(ns)-k-1, "why", skip)
		}
	}
	return results
}

// hears reports whether this destination is to hear n: the place where
// routing (ROUTES and mutes, per notification and destination; package
// route decides) sits in the stage, before anything is rendered or counted
// toward a digest. A notification not heard is done (a nil Err, never sent
// later). Until routing sets s.route, every destination hears every
// notification.
func (s *sender) hears(n Notification) bool { return s.route == nil || s.route(n) }

// digests reports whether k notifications due at once go as one digest.
func (s *sender) digests(k int) bool {
	if s.digestAt <= 0 || k < 2 {
		return false
	}
	return k > s.digestAt || (s.limiter != nil && k > s.limiter.free())
}

// result is n's Result for err, when it was not delivered on its own: a
// destination that keeps parent messages (keeps) keeps n's.
func (s *sender) result(n Notification, keeps bool, err error) Result {
	r := Result{ID: n.ID, Err: err}
	if keeps {
		r.ThreadTS = n.ThreadTS
	}
	return r
}

// deliverDigest delivers ns as one digest, logs its outcome and returns
// it as every notification's Result, and why the rest (thread-only
// notifications) are not attempted, if so.
func (s *sender) deliverDigest(ctx context.Context, d deliverer, keeps bool, ns []Notification) (results []Result, skip error) {
	ids := make([]string, len(ns))
	for i, n := range ns {
		ids[i] = n.ID
	}
	err := d.deliverDigest(ctx, ns)
	if err != nil {
		s.logger.WarnContext(ctx, s.name+" delivery failed", "id", "digest", "ids", ids, "err", err)
	} else {
		s.logger.DebugContext(ctx, s.name+" digest delivered", "ids", ids)
	}
	results = make([]Result, len(ns))
	for i, n := range ns {
		results[i] = s.result(n, keeps, err)
	}
	return results, s.stopAfter(ctx, "digest", err)
}

// stopAfter says why, after a delivery (of id) that got err, the rest are
// not attempted; nil when they are.
func (s *sender) stopAfter(ctx context.Context, id string, err error) error {
	if err == nil || rateLimited(err) {
		return nil
	}
	return skipRest(ctx, id, err)
}

func (s *sender) logResult(ctx context.Context, n Notification, err error) {
	if err != nil {
		s.logger.WarnContext(ctx, s.name+" delivery failed", "id", n.ID, "type", n.Kind, "err", err)
		return
	}
	s.logger.DebugContext(ctx, s.name+" delivered", "id", n.ID, "type", n.Kind)
}

func (s *sender) logCut(ctx context.Context, cut bool, id string) {
	if cut {
		s.logger.InfoContext(ctx, s.name+" message truncated to fit its limits", "id", id)
	}
}

// send makes one message's attempts: each paced by the rate limit and
// retried with the shared retry decision; a "too fast" answer pauses the
// destination. The error is not yet scrubbed.
func (s *sender) send(ctx context.Context, attempt func(ctx context.Context) error) error {
	return s.retry.do(ctx, s.clock, func(ctx context.Context) error {
		if s.limiter != nil {
			if err := s.limiter.wait(ctx); err != nil {
				return err
			}
		}
		err := attempt(ctx)
		if s.limiter != nil && rateLimited(err) {
			s.limiter.pause(s.pauseFor)
		}
		return err
	})
}

// maxReplyBytes bounds how much of an answer is read to judge it.
const maxReplyBytes = 16 << 10

// post makes one attempt: it sends o and has judge read the answer.
// Network errors come back with their URL redacted, a platform's message
// scrubbed of secrets.
func (s *sender) post(ctx context.Context, o outbound, now time.Time, judge func(status int, raw []byte, h http.Header, now time.Time) error) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, o.url, bytes.NewReader(o.body))
	if err != nil {
		return permanent(errors.New("build request")) // err would show the URL
	}
	for k, v := range o.header {
		req.Header[k] = v
	}
	if req.Header.Get("Content-Type") == "" {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("User-Agent", s.agent)
	resp, err := s.client.Do(req)
	if err != nil {
		return redactURL(err)
	}
	defer drain(resp.Body)
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, maxReplyBytes))
	err = judge(resp.StatusCode, raw, resp.Header, now)
	var pe *PlatformError
	if errors.As(err, &pe) {
		pe.Msg = scrubText(pe.Msg, s.secrets)
	}
	return err
}

// statusAnswer judges an answer by its status alone ([Classify]): a 2xx is
// delivered; anything else is a *DeliveryError (429 and 5xx retried, with
// the server's Retry-After).
func statusAnswer(status int, raw []byte, h http.Header, now time.Time) error {
	if Classify(status) == Delivered {
		return nil
	}
	return &DeliveryError{
		StatusCode: status,
		Body:       readBounded(bytes.NewReader(raw)),
		RetryAfter: retryAfter(h.Get("Retry-After"), now),
	}
}

// messenger is a destination that sends each notification, or a digest of
// many, as one HTTP message in its format.
type messenger struct {
	*sender
	format format
}

var _ deliverer = (*messenger)(nil)

func newMessenger(s *sender, f format) *messenger {
	if _, ok := f.(digester); !ok {
		s.digestAt = 0
	}
	return &messenger{sender: s, format: f}
}

// Notify runs ns through the send stage (see [sender.run]).
func (m *messenger) Notify(ctx context.Context, ns []Notification) []Result {
	return m.run(ctx, ns, m)
}

func (m *messenger) deliver(ctx context.Context, n Notification) Result {
	msg, cut, err := m.format.message(n)
	if err != nil {
		return Result{ID: n.ID, Err: permanent(fmt.Errorf("%s: render %s: %w", m.name, n.ID, err))}
	}
	m.logCut(ctx, cut, n.ID)
	return Result{ID: n.ID, Err: m.sendMessage(ctx, n.ID, msg)}
}

func (m *messenger) deliverDigest(ctx context.Context, ns []Notification) error {
	msg, cut, err := m.format.(digester).digest(ns)
	if err != nil {
		return permanent(fmt.Errorf("%s: render digest: %w", m.name, err))
	}
	m.logCut(ctx, cut, "digest")
	return m.sendMessage(ctx, "digest", msg)
}

// sendMessage sends one rendered message, its request built afresh (and
// signed anew) for every attempt.
func (m *messenger) sendMessage(ctx context.Context, id string, msg any) error {
	err := m.send(ctx, func(ctx context.Context) error {
		now := m.clock.now()
		o, err := m.format.request(now, msg)
		if err != nil {
			return permanent(fmt.Errorf("encode message: %w", err))
		}
		return m.post(ctx, o, now, m.format.answer)
	})
	if err != nil {
		return scrub(fmt.Errorf("%s: deliver %s: %w", m.name, id, err), m.secrets...)
	}
	return nil
}
