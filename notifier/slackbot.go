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
	SendConfig
}

// SlackBot posts through the Slack Web API. A deployment has one parent
// message, updated in place (chat.update) as it moves on; what changed is
// posted in its thread, failures broadcast to the channel too. Runtime
// notifications (no DeploymentKey) are plain channel messages. At most one
// message per second; more than a few notifications at once make one
// digest, with the details in its thread.
type SlackBot struct {
	api     *slack.Client
	channel string
	stage   *sender
}

var (
	_ Notifier  = (*SlackBot)(nil)
	_ deliverer = (*SlackBot)(nil)
)

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
	s := newSender("slack-bot", cfg.SendConfig, logger, "channel", cfg.Channel).paced(0, slackWindows...)
	s.secrets = []string{cfg.Token}
	// slack-go keeps only the status of a failed answer; the transport
	// keeps what the retry decision needs (status, Retry-After, body).
	client := s.client
	transport := client.Transport
	if transport == nil {
		transport = http.DefaultTransport
	}
	client.Transport = capturingTransport{base: transport}
	return &SlackBot{
		api:     slack.New(cfg.Token, slack.OptionAPIURL(base.String()), slack.OptionHTTPClient(client)),
		channel: cfg.Channel,
		stage:   s,
	}, nil
}

// Notify delivers ns in order, through the send stage (see [sender.run]).
// Result.ThreadTS is the deployment's parent message (new or known) for
// deployment notifications. In a digest, notifications share the digest's
// outcome and keep their known parent.
//
// The Slack bot is the one destination that delivers thread-only
// notifications ([ThreadOnly]): a ParentUpdate only updates its
// deployment's parent message (chat.update) to say the deployment was
// stopped; a ThreadReply only replies in the thread. Without a known
// parent, or when the parent is gone, either is acknowledged without a
// message (neither gets a new parent). They are never part of a digest
// and do not count toward its threshold: they are sent after it.
func (b *SlackBot) Notify(ctx context.Context, ns []Notification) []Result {
	return b.stage.run(ctx, ns, b)
}

// parentGone says that chat.update failed because the message is gone.
func parentGone(err error) bool {
	var de *DeliveryError
	return errors.As(err, &de) && (de.SlackError == "message_not_found" || de.SlackError == "cant_update_message")
}

// thread makes a thread-only notification's change (see [ThreadOnly]): a
// ParentUpdate updates the parent message of a deployment whose service
// was stopped; a ThreadReply replies in the thread. A parent that is gone
// is left so.
func (b *SlackBot) thread(ctx context.Context, n Notification) Result {
	var err error
	if n.Thread == ThreadReply {
		blocks, text, cut := slackDetailBlocks(n)
		b.stage.logCut(ctx, cut, n.ID)
		_, err = b.post(ctx, blocks, text, n.ThreadTS, false)
	} else {
		blocks, text, cut := slackStoppedBlocks(n)
		b.stage.logCut(ctx, cut, n.ID)
		err = b.update(ctx, n.ThreadTS, blocks, text)
	}
	if parentGone(err) {
		b.stage.logger.InfoContext(ctx, "slack parent message is gone; a thread-only notification gets no new one", "id", n.ID, "thread_ts", n.ThreadTS)
		err = nil
	}
	return Result{ID: n.ID, Err: err, ThreadTS: n.ThreadTS}
}

// deliver posts a runtime notification to the channel; a deployment's
// updates its parent message (n.ThreadTS; a new one when there is none or
// it is gone) and says in its thread what changed.
func (b *SlackBot) deliver(ctx context.Context, n Notification) Result {
	blocks, text, cut := SlackBlocks(n)
	b.stage.logCut(ctx, cut, n.ID)
	if n.DeploymentKey == "" {
		_, err := b.post(ctx, blocks, text, "", false)
		return Result{ID: n.ID, Err: err}
	}
	parent := n.ThreadTS
	if parent != "" {
		err := b.update(ctx, parent, blocks, text)
		switch {
		case parentGone(err):
			b.stage.logger.InfoContext(ctx, "slack parent message is gone; posting a new one", "id", n.ID, "thread_ts", parent)
			parent = ""
		case err != nil:
			return Result{ID: n.ID, Err: err, ThreadTS: parent}
		}
	}
	if parent == "" {
		ts, err := b.post(ctx, blocks, text, "", false)
		return Result{ID: n.ID, Err: err, ThreadTS: ts}
	}
	// The parent now shows the new state; the thread says what changed.
	dblocks, dtext, cut := slackDetailBlocks(n)
	b.stage.logCut(ctx, cut, n.ID)
	_, err := b.post(ctx, dblocks, dtext, parent, n.Kind == KindFailed)
	return Result{ID: n.ID, Err: err, ThreadTS: parent}
}

// deliverDigest posts one digest message and, in its thread, the details
// of the notifications it lists (at most maxDigestItems: one message a
// second, so a long batch would outlast the run; the digest says how many
// more there were). The digest's outcome is everyone's, since the digest
// is what delivers them; a failed detail is logged, and the details stop
// when the deadline is too near or Slack looks down.
func (b *SlackBot) deliverDigest(ctx context.Context, ns []Notification) error {
	blocks, text, cut := DigestBlocks(ns)
	b.stage.logCut(ctx, cut, "digest")
	ts, err := b.post(ctx, blocks, text, "", false)
	if err != nil {
		return err
	}
	details := ns[:min(len(ns), maxDigestItems)]
	for i, n := range details {
		dblocks, dtext, cut := SlackBlocks(n)
		b.stage.logCut(ctx, cut, n.ID)
		_, derr := b.post(ctx, dblocks, dtext, ts, false)
		if derr == nil {
			continue
		}
		b.stage.logger.WarnContext(ctx, "slack digest detail failed", "id", n.ID, "err", derr)
		if why := skipRest(ctx, n.ID, derr); why != nil || ctx.Err() != nil {
			if left := len(details) - i - 1; left > 0 {
				b.stage.logger.WarnContext(ctx, "slack digest details stopped", "not_posted", left, "why", cmp.Or(why, ctx.Err()))
			}
			break
		}
	}
	return nil
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

// call sends one Web API call through the send stage (paced, retried),
// turning slack-go's errors into *DeliveryError for the shared retry
// decision.
func (b *SlackBot) call(ctx context.Context, fn func(ctx context.Context) error) error {
	err := b.stage.send(ctx, func(ctx context.Context) error {
		c := &capture{}
		err := fn(context.WithValue(ctx, captureKey{}, c))
		return b.apiError(err, c)
	})
	return scrub(err, b.stage.secrets...)
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
			RetryAfter: retryAfter(c.retryAfter, b.stage.clock.now()),
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

var (
	_ threadKeeper = (*SlackBot)(nil)
	_ ThreadKeeper = (*SlackBot)(nil)
)

// KeepsThreads is true: the Slack bot delivers thread-only notifications.
func (b *SlackBot) KeepsThreads() bool { return true }
