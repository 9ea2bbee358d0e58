package notifier

import (
	"encoding/json"
	"errors"
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
	SendConfig
}

// SlackWebhook posts to a Slack incoming webhook: one message per
// notification, or one digest when more than a few are due at once. At
// most one message per second. A thread-only notification
// ([ThreadOnly]) is acknowledged without a message (an incoming webhook
// has no parent message or thread).
type SlackWebhook struct{ *messenger }

var _ Notifier = (*SlackWebhook)(nil)

// NewSlackWebhook checks cfg and returns a Slack incoming-webhook
// destination. Errors name SLACK_WEBHOOK_URL but never show it.
func NewSlackWebhook(cfg SlackWebhookConfig, logger *slog.Logger) (*SlackWebhook, error) {
	u, err := parseEndpoint("SLACK_WEBHOOK_URL", cfg.URL)
	if err != nil {
		return nil, err
	}
	s := newSender("slack-webhook", cfg.SendConfig, logger).paced(0, slackWindows...)
	s.secrets = urlSecrets(u)
	return &SlackWebhook{newMessenger(s, slackWebhookFormat{target: u.String()})}, nil
}

// slackWebhookFormat is Block Kit posted to an incoming webhook.
type slackWebhookFormat struct{ target string }

func (f slackWebhookFormat) message(n Notification) (any, bool, error) {
	blocks, text, cut := SlackBlocks(n)
	body, err := slackWebhookBody(blocks, text)
	return body, cut, err
}

func (f slackWebhookFormat) digest(ns []Notification) (any, bool, error) {
	blocks, text, cut := DigestBlocks(ns)
	body, err := slackWebhookBody(blocks, text)
	return body, cut, err
}

// slackWebhookBody is the JSON an incoming webhook takes: the blocks, the
// fallback text, no unfurling.
func slackWebhookBody(blocks []slack.Block, text string) ([]byte, error) {
	no := false
	return json.Marshal(slack.WebhookMessage{
		Text:        text,
		Blocks:      &slack.Blocks{BlockSet: blocks},
		UnfurlLinks: &no,
		UnfurlMedia: &no,
	})
}

func (f slackWebhookFormat) request(_ time.Time, msg any) (outbound, error) {
	return outbound{url: f.target, body: msg.([]byte)}, nil
}

// answer: a 2xx is delivered; anything else is decided by [Classify], with
// the error string Slack answered (invalid_payload, no_service, ...).
func (f slackWebhookFormat) answer(status int, raw []byte, h http.Header, now time.Time) error {
	err := statusAnswer(status, raw, h, now)
	var de *DeliveryError
	if errors.As(err, &de) {
		de.SlackError = slackErrorString(de.Body)
	}
	return err
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
