package notifier

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"time"

	"github.com/slack-go/slack"
)

// SlackWebhookConfig configures a Slack incoming webhook (SLACK_WEBHOOK_URL).
type SlackWebhookConfig struct {
	// URL is the incoming webhook, https://hooks.slack.com/services/...
	// It is a secret: it never appears in errors or logs.
	URL string `json:"-"`
	// HTTPClient sends the requests; nil means a client with a 15 s timeout.
	// Redirects are never followed, with this client or the default (a 3xx
	// is a permanent failure); the notifier uses a copy of it for that.
	HTTPClient *http.Client `json:"-"`
	// Version goes into the User-Agent.
	Version string
	// Now and Sleep pace and space retries; nil means the real clock.
	Now   func() time.Time                                 `json:"-"`
	Sleep func(ctx context.Context, d time.Duration) error `json:"-"`
	// Retry bounds the retries of one message.
	Retry RetryPolicy
	// DigestThreshold: more notifications than this in one Notify call are
	// sent as one digest (default 5).
	DigestThreshold int
}

// SlackWebhook posts to a Slack incoming webhook: one message per
// notification, or one digest when more than a few are due at once. At
// most one message per second.
type SlackWebhook struct {
	url      string
	client   *http.Client
	agent    string
	clock    clock
	pacer    *pacer
	retry    RetryPolicy
	digestAt int
	secrets  []string
	logger   *slog.Logger
}

var _ Notifier = (*SlackWebhook)(nil)

// NewSlackWebhook checks cfg and returns a Slack incoming-webhook
// destination. Errors name SLACK_WEBHOOK_URL but never show it.
func NewSlackWebhook(cfg SlackWebhookConfig, logger *slog.Logger) (*SlackWebhook, error) {
	u, err := parseEndpoint("SLACK_WEBHOOK_URL", cfg.URL)
	if err != nil {
		return nil, err
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	client := httpClient(cfg.HTTPClient)
	clk := newClock(cfg.Now, cfg.Sleep)
	return &SlackWebhook{
		url:      u.String(),
		client:   client,
		agent:    userAgent(cfg.Version),
		clock:    clk,
		pacer:    &pacer{clock: clk, every: messageInterval},
		retry:    cfg.Retry,
		digestAt: digestThreshold(cfg.DigestThreshold),
		secrets:  urlSecrets(u),
		logger:   logger.With("destination", "slack-webhook"),
	}, nil
}

func digestThreshold(n int) int {
	if n <= 0 {
		return defaultDigestThreshold
	}
	return n
}

// Notify sends each notification as a message, or all of them as one
// digest when there are more than the threshold; a digest's outcome is
// every notification's outcome. When the deadline is too near for another
// message ([ErrDeadlineNear]) or the webhook looks down
// ([ErrDestinationDown]), the rest fail without being attempted. A
// ParentUpdate notification is acknowledged without a message (an
// incoming webhook has no parent message to update) and does not count
// toward the digest threshold.
func (s *SlackWebhook) Notify(ctx context.Context, ns []Notification) []Result {
	return withoutParentUpdates(ns, func(ns []Notification) []Result { return s.notify(ctx, ns) })
}

func (s *SlackWebhook) notify(ctx context.Context, ns []Notification) []Result {
	results := make([]Result, len(ns))
	if len(ns) > s.digestAt {
		blocks, text, cut := DigestBlocks(ns)
		s.logCut(ctx, cut, "digest")
		err := s.send(ctx, blocks, text)
		for i, n := range ns {
			results[i] = Result{ID: n.ID, Err: err}
		}
		s.logResult(ctx, "digest", len(ns), err)
		return results
	}
	var skip error // why the rest are not attempted
	for i, n := range ns {
		if skip != nil {
			results[i] = Result{ID: n.ID, Err: fmt.Errorf("slack webhook: %s: %w", n.ID, skip)}
			continue
		}
		blocks, text, cut := SlackBlocks(n)
		s.logCut(ctx, cut, n.ID)
		results[i] = Result{ID: n.ID, Err: s.send(ctx, blocks, text)}
		s.logResult(ctx, n.ID, 1, results[i].Err)
		skip = skipRest(ctx, n.ID, results[i].Err)
	}
	return results
}

func (s *SlackWebhook) logCut(ctx context.Context, cut bool, id string) {
	if cut {
		s.logger.InfoContext(ctx, "slack message truncated to fit Slack's limits", "id", id)
	}
}

func (s *SlackWebhook) logResult(ctx context.Context, id string, count int, err error) {
	if err != nil {
		s.logger.WarnContext(ctx, "slack delivery failed", "id", id, "notifications", count, "err", err)
	}
}

func (s *SlackWebhook) send(ctx context.Context, blocks []slack.Block, text string) error {
	no := false
	body, err := json.Marshal(slack.WebhookMessage{
		Text:        text,
		Blocks:      &slack.Blocks{BlockSet: blocks},
		UnfurlLinks: &no,
		UnfurlMedia: &no,
	})
	if err != nil {
		return fmt.Errorf("slack webhook: encode message: %w", err)
	}
	h := http.Header{"User-Agent": {s.agent}}
	err = s.retry.do(ctx, s.clock, func(ctx context.Context) error {
		if err := s.pacer.wait(ctx); err != nil {
			return err
		}
		err := post(ctx, s.client, s.url, h, body, s.clock.now())
		var de *DeliveryError
		if errors.As(err, &de) {
			de.SlackError = slackErrorString(de.Body)
		}
		return err
	})
	if err != nil {
		return scrub(fmt.Errorf("slack webhook: %w", err), s.secrets...)
	}
	return nil
}

// slackErrorRE matches the error strings Slack answers with
// (invalid_payload, no_service, channel_is_archived, ...).
var slackErrorRE = regexp.MustCompile(`^[a-z][a-z0-9_]{1,63}$`)

// slackErrorString finds Slack's error string in a response body: the
// plain text of an incoming webhook, or the "error" of a Web API answer.
func slackErrorString(body string) string {
	if slackErrorRE.MatchString(body) {
		return body
	}
	var r struct {
		OK    bool   `json:"ok"`
		Error string `json:"error"`
	}
	if json.Unmarshal([]byte(body), &r) == nil && !r.OK && slackErrorRE.MatchString(r.Error) {
		return r.Error
	}
	return ""
}

// slackAPIURL is the Web API base when SLACK_API_URL is empty.
const slackAPIURL = "https://slack.com/api/"

// apiBase checks a Web API base URL and gives it the trailing slash
// slack-go expects.
func apiBase(raw string) (*url.URL, error) {
	if raw == "" {
		raw = slackAPIURL
	}
	u, err := parseEndpoint("SLACK_API_URL", raw)
	if err != nil {
		return nil, err
	}
	if u.Path == "" || u.Path[len(u.Path)-1] != '/' {
		u.Path += "/"
	}
	return u, nil
}
