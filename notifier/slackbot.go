package notifier

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/slack-go/slack"
)

// SlackBotConfig configures Slack through the Web API with a bot token
// (SLACK_BOT_TOKEN, SLACK_CHANNEL, SLACK_API_URL).
type SlackBotConfig struct {
	// Token is the bot token, xoxb-...; it never appears in errors or logs.
	Token string `json:"-"`
	// Channel is the channel id (or name) to post to.
	Channel string
	// APIURL is the Web API base; empty means https://slack.com/api/.
	// Tests point it at a local server.
	APIURL string
	// HTTPClient sends the requests; nil means a client with a 15 s timeout.
	// Redirects are never followed, with this client or the default (a 3xx
	// is a permanent failure); the notifier uses a copy of it for that.
	HTTPClient *http.Client `json:"-"`
	// Now and Sleep pace and space retries; nil means the real clock.
	Now   func() time.Time                                 `json:"-"`
	Sleep func(ctx context.Context, d time.Duration) error `json:"-"`
	// Retry bounds the retries of one API call.
	Retry RetryPolicy
	// DigestThreshold: more notifications than this in one Notify call are
	// sent as one digest (default 5).
	DigestThreshold int
}

// SlackBot posts through the Slack Web API. A deployment has one parent
// message, updated in place (chat.update) as it moves on; what changed is
// posted in its thread, failures broadcast to the channel too. Runtime
// notifications (no DeploymentKey) are plain channel messages. At most one
// message per second; more than a few notifications at once make one
// digest, with the details in its thread.
type SlackBot struct {
	api      *slack.Client
	channel  string
	clock    clock
	pacer    *pacer
	retry    RetryPolicy
	digestAt int
	secrets  []string
	logger   *slog.Logger
}

var _ Notifier = (*SlackBot)(nil)

// NewSlackBot checks cfg and returns a Slack Web API destination.
func NewSlackBot(cfg SlackBotConfig, logger *slog.Logger) (*SlackBot, error) {
	if cfg.Token == "" {
		return nil, errors.New("SLACK_BOT_TOKEN: empty")
	}
	if cfg.Channel == "" {
		return nil, errors.New("SLACK_CHANNEL: empty")
	}
	base, err := apiBase(cfg.APIURL)
	if err != nil {
		return nil, err
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	// slack-go keeps only the status of a failed answer; the transport
	// keeps what the retry decision needs (status, Retry-After, body).
	client := httpClient(cfg.HTTPClient)
	transport := client.Transport
	if transport == nil {
		transport = http.DefaultTransport
	}
	client.Transport = capturingTransport{base: transport}
	clk := newClock(cfg.Now, cfg.Sleep)
	return &SlackBot{
		api:      slack.New(cfg.Token, slack.OptionAPIURL(base.String()), slack.OptionHTTPClient(client)),
		channel:  cfg.Channel,
		clock:    clk,
		pacer:    &pacer{clock: clk, every: messageInterval},
		retry:    cfg.Retry,
		digestAt: digestThreshold(cfg.DigestThreshold),
		secrets:  []string{cfg.Token},
		logger:   logger.With("destination", "slack-bot", "channel", cfg.Channel),
	}, nil
}

// Notify delivers ns in order. Result.ThreadTS is the deployment's parent
// message (new or known) for deployment notifications. In a digest,
// notifications share the digest's outcome and keep their known parent.
// When the deadline is too near for another message ([ErrDeadlineNear]) or
// Slack looks down ([ErrDestinationDown]), the rest fail without being
// attempted.
//
// A ParentUpdate notification only updates its deployment's parent message
// (chat.update) to say the deployment was stopped, with no thread reply;
// without a known parent, or when the parent is gone, it is acknowledged
// without a message (a stopped deployment gets no new parent). Parent
// updates are never part of a digest and do not count toward its
// threshold: they are sent after it.
func (b *SlackBot) Notify(ctx context.Context, ns []Notification) []Result {
	results, rest, at := splitParentUpdates(ns)
	parents := map[string]string{} // deployment key -> parent ts, this call
	var skip error                 // why the rest are not attempted
	todo := make([]int, len(ns))   // indices of ns still to send, in order
	for i := range todo {
		todo[i] = i
	}
	if len(rest) > b.digestAt {
		drs := b.digest(ctx, rest)
		for j, r := range drs {
			results[at[j]] = r
		}
		if len(drs) > 0 {
			skip = skipRest(ctx, "digest", drs[0].Err)
		}
		todo = todo[:0]
		for i, n := range ns {
			if n.ParentUpdate {
				todo = append(todo, i)
			}
		}
	}
	for _, i := range todo {
		n := ns[i]
		if n.ParentUpdate && parentOf(n, parents) == "" {
			results[i] = Result{ID: n.ID} // nothing to update
			continue
		}
		if skip != nil {
			results[i] = Result{ID: n.ID, Err: fmt.Errorf("slack: %s: %w", n.ID, skip), ThreadTS: n.ThreadTS}
			continue
		}
		results[i] = b.notifyOne(ctx, n, parents)
		if err := results[i].Err; err != nil {
			b.logger.WarnContext(ctx, "slack delivery failed", "id", n.ID, "type", n.Kind, "err", err)
			skip = skipRest(ctx, n.ID, err)
		}
	}
	return results
}

// parentOf is the deployment's parent message: the one posted earlier in
// this call, else the known one; "" when there is none.
func parentOf(n Notification, parents map[string]string) string {
	if n.DeploymentKey != "" {
		if ts, ok := parents[n.DeploymentKey]; ok {
			return ts
		}
	}
	return n.ThreadTS
}

// parentGone says that chat.update failed because the message is gone.
func parentGone(err error) bool {
	var de *DeliveryError
	return errors.As(err, &de) && (de.SlackError == "message_not_found" || de.SlackError == "cant_update_message")
}

// updateStopped updates the parent message of a deployment whose service
// was stopped; a parent that is gone is left so.
func (b *SlackBot) updateStopped(ctx context.Context, n Notification, parent string) Result {
	blocks, text, cut := slackStoppedBlocks(n)
	b.logCut(ctx, cut, n.ID)
	err := b.update(ctx, parent, blocks, text)
	if parentGone(err) {
		b.logger.InfoContext(ctx, "slack parent message is gone; a stopped deployment gets no new one", "id", n.ID, "thread_ts", parent)
		err = nil
	}
	return Result{ID: n.ID, Err: err, ThreadTS: parent}
}

func (b *SlackBot) notifyOne(ctx context.Context, n Notification, parents map[string]string) Result {
	if n.ParentUpdate {
		return b.updateStopped(ctx, n, parentOf(n, parents))
	}
	blocks, text, cut := SlackBlocks(n)
	b.logCut(ctx, cut, n.ID)
	if n.DeploymentKey == "" {
		_, err := b.post(ctx, blocks, text, "", false)
		return Result{ID: n.ID, Err: err}
	}
	parent := parentOf(n, parents)
	if parent != "" {
		err := b.update(ctx, parent, blocks, text)
		switch {
		case parentGone(err):
			b.logger.InfoContext(ctx, "slack parent message is gone; posting a new one", "id", n.ID, "thread_ts", parent)
			parent = ""
		case err != nil:
			return Result{ID: n.ID, Err: err, ThreadTS: parent}
		}
	}
	if parent == "" {
		ts, err := b.post(ctx, blocks, text, "", false)
		if err == nil {
			parents[n.DeploymentKey] = ts
		}
		return Result{ID: n.ID, Err: err, ThreadTS: ts}
	}
	parents[n.DeploymentKey] = parent
	// The parent now shows the new state; the thread says what changed.
	dblocks, dtext, cut := slackDetailBlocks(n)
	b.logCut(ctx, cut, n.ID)
	_, err := b.post(ctx, dblocks, dtext, parent, n.Kind == KindFailed)
	return Result{ID: n.ID, Err: err, ThreadTS: parent}
}

// digest posts one digest message and, in its thread, the details of the
// notifications it lists (at most maxDigestItems: one message a second, so
// a long batch would outlast the run; the digest says how many more there
// were). The digest's outcome is everyone's, since the digest is what
// delivers them; a failed detail is logged, and the details stop when the
// deadline is too near or Slack looks down.
func (b *SlackBot) digest(ctx context.Context, ns []Notification) []Result {
	blocks, text, cut := DigestBlocks(ns)
	b.logCut(ctx, cut, "digest")
	ts, err := b.post(ctx, blocks, text, "", false)
	if err == nil {
		details := ns[:min(len(ns), maxDigestItems)]
		for i, n := range details {
			dblocks, dtext, cut := SlackBlocks(n)
			b.logCut(ctx, cut, n.ID)
			_, derr := b.post(ctx, dblocks, dtext, ts, false)
			if derr == nil {
				continue
			}
			b.logger.WarnContext(ctx, "slack digest detail failed", "id", n.ID, "err", derr)
			if why := skipRest(ctx, n.ID, derr); why != nil || ctx.Err() != nil {
				if left := len(details) - i - 1; left > 0 {
					b.logger.WarnContext(ctx, "slack digest details stopped", "not_posted", left, "why", cmp.Or(why, ctx.Err()))
				}
				break
			}
		}
	} else {
		b.logger.WarnContext(ctx, "slack digest failed", "notifications", len(ns), "err", err)
	}
	results := make([]Result, len(ns))
	for i, n := range ns {
		results[i] = Result{ID: n.ID, Err: err, ThreadTS: n.ThreadTS}
	}
	return results
}

func (b *SlackBot) logCut(ctx context.Context, cut bool, id string) {
	if cut {
		b.logger.InfoContext(ctx, "slack message truncated to fit Slack's limits", "id", id)
	}
}

func msgOptions(blocks []slack.Block, text string) []slack.MsgOption {
	return []slack.MsgOption{
		slack.MsgOptionBlocks(blocks...),
		slack.MsgOptionText(text, false), // already escaped
		slack.MsgOptionDisableLinkUnfurl(),
		slack.MsgOptionDisableMediaUnfurl(),
	}
}

// post sends chat.postMessage (a thread reply when threadTS is set) and
// returns the new message's ts.
func (b *SlackBot) post(ctx context.Context, blocks []slack.Block, text, threadTS string, broadcast bool) (string, error) {
	opts := msgOptions(blocks, text)
	if threadTS != "" {
		opts = append(opts, slack.MsgOptionTS(threadTS))
		if broadcast {
			opts = append(opts, slack.MsgOptionBroadcast())
		}
	}
	var ts string
	err := b.call(ctx, func(ctx context.Context) error {
		_, t, err := b.api.PostMessageContext(ctx, b.channel, opts...)
		ts = t
		return err
	})
	if err != nil {
		return "", fmt.Errorf("slack chat.postMessage: %w", err)
	}
	return ts, nil
}

// update sends chat.update: blocks and text both, so the fallback follows.
func (b *SlackBot) update(ctx context.Context, ts string, blocks []slack.Block, text string) error {
	err := b.call(ctx, func(ctx context.Context) error {
		_, _, _, err := b.api.UpdateMessageContext(ctx, b.channel, ts, msgOptions(blocks, text)...)
		return err
	})
	if err != nil {
		return fmt.Errorf("slack chat.update: %w", err)
	}
	return nil
}

// call paces and retries one Web API call, turning slack-go's errors into
// *DeliveryError for the shared retry decision.
func (b *SlackBot) call(ctx context.Context, fn func(ctx context.Context) error) error {
	err := b.retry.do(ctx, b.clock, func(ctx context.Context) error {
		if err := b.pacer.wait(ctx); err != nil {
			return err
		}
		c := &capture{}
		err := fn(context.WithValue(ctx, captureKey{}, c))
		return b.apiError(err, c)
	})
	return scrub(err, b.secrets...)
}

// apiError classifies what slack-go returned, with what the transport saw.
func (b *SlackBot) apiError(err error, c *capture) error {
	if err == nil {
		return nil
	}
	var se slack.SlackErrorResponse
	if errors.As(err, &se) {
		return &DeliveryError{StatusCode: max(c.status, http.StatusOK), SlackError: se.Err}
	}
	if c.status != 0 && c.status != http.StatusOK {
		return &DeliveryError{
			StatusCode: c.status,
			SlackError: slackErrorString(c.body),
			Body:       c.body,
			RetryAfter: parseRetryAfter(c.retryAfter, b.clock.now()),
		}
	}
	if c.status == http.StatusOK {
		return permanent(fmt.Errorf("unreadable answer: %w", err))
	}
	return redactURL(err) // no answer: a network error, worth retrying
}

// capture is what capturingTransport saw of one answer.
type capture struct {
	status     int
	retryAfter string
	body       string // the start of a non-200 body
}

type captureKey struct{}

// capturingTransport records each answer's status, Retry-After and (when
// not 200) the start of its body into the request context's *capture. It
// presents any 2xx as 200, since slack-go takes only 200 for success while
// the shared retry decision takes every 2xx.
type capturingTransport struct{ base http.RoundTripper }

func (t capturingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	c, _ := req.Context().Value(captureKey{}).(*capture)
	if c != nil {
		c.status = resp.StatusCode
		c.retryAfter = resp.Header.Get("Retry-After")
		if resp.StatusCode != http.StatusOK {
			head, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
			c.body = readBounded(bytes.NewReader(head))
			resp.Body = struct {
				io.Reader
				io.Closer
			}{io.MultiReader(bytes.NewReader(head), resp.Body), resp.Body}
		}
	}
	if resp.StatusCode != http.StatusOK && Classify(resp.StatusCode) == Delivered {
		r := *resp
		r.StatusCode, r.Status = http.StatusOK, "200 OK"
		resp = &r
	}
	return resp, nil
}
