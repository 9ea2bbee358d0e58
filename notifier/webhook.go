package notifier

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// WebhookConfig configures a generic webhook destination.
type WebhookConfig struct {
	// URL receives the POSTs; https, or http on a loopback host.
	URL string `json:"-"`
	// Secret is the Standard Webhooks signing secret, "whsec_<base64>"
	// (WEBHOOK_SECRET). Empty: requests are not signed.
	Secret string `json:"-"`
	SendConfig
}

// Webhook POSTs each notification as JSON to a URL, with Standard Webhooks
// headers: webhook-id (the notification's ID, the same on every retry),
// webhook-timestamp and, with a secret, webhook-signature. Each body is at
// most [MaxWebhookBody] bytes (see [TruncateEvent]; events are left out,
// and counted, when they do not fit). It never digests and is not paced;
// once a notification has used up its retries on a network error, a
// timeout or a 5xx, the rest fail at once with [ErrDestinationDown]. A
// thread-only notification ([ThreadOnly]) is acknowledged without a request.
type Webhook struct{ *messenger }

var _ Notifier = (*Webhook)(nil)

// NewWebhook checks cfg and returns a webhook destination. An invalid URL
// or secret is an error that names the setting (WEBHOOK_URLS,
// WEBHOOK_SECRET) but never shows its value.
func NewWebhook(cfg WebhookConfig, logger *slog.Logger) (*Webhook, error) {
	u, _, err := checkURL("WEBHOOK_URLS", cfg.URL)
	if err != nil {
		return nil, err
	}
	var key []byte
	if cfg.Secret != "" {
		if key, err = parseWebhookSecret(cfg.Secret); err != nil {
			return nil, err
		}
	}
	s := newSender("webhook", cfg.SendConfig, logger, "host", u.Host)
	s.secrets = urlSecrets(u)
	if cfg.Secret != "" {
		s.secrets = append(s.secrets, cfg.Secret, strings.TrimPrefix(cfg.Secret, "whsec_"))
	}
	return &Webhook{newMessenger(s, webhookFormat{target: u.String(), key: key})}, nil
}

// parseWebhookSecret decodes "whsec_<base64>" (the prefix is optional, as
// in the reference libraries).
func parseWebhookSecret(s string) ([]byte, error) {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(s, "whsec_"))
	if err != nil || len(key) == 0 {
		return nil, errors.New("WEBHOOK_SECRET: not a valid whsec_<base64> secret")
	}
	return key, nil
}

// webhookFormat is the JSON body of one notification, with Standard
// Webhooks headers, signed under key when there is one.
type webhookFormat struct {
	target string
	key    []byte
}

// webhookMessage is a rendered notification: its body, and its ID for the
// webhook-id header and the signature.
type webhookMessage struct {
	id   string
	body []byte
}

func (f webhookFormat) message(n Notification) (any, bool, error) {
	if n.ID == "" {
		return nil, false, errors.New("notification has no ID")
	}
	body, shortened, err := webhookBody(n)
	return webhookMessage{id: n.ID, body: body}, shortened, err
}

func (f webhookFormat) request(now time.Time, msg any) (outbound, error) {
	m := msg.(webhookMessage)
	h := http.Header{}
	h.Set("webhook-id", m.id)
	h.Set("webhook-timestamp", strconv.FormatInt(now.Unix(), 10))
	if f.key != nil {
		h.Set("webhook-signature", Sign(f.key, m.id, now, m.body))
	}
	return outbound{url: f.target, header: h, body: m.body}, nil
}

func (f webhookFormat) answer(status int, raw []byte, h http.Header, now time.Time) error {
	return statusAnswer(status, raw, h, now)
}

// Sign returns the Standard Webhooks signature header value for a message:
// "v1," and the base64 HMAC-SHA256, under key, of "{id}.{timestamp}.{body}".
func Sign(key []byte, id string, timestamp time.Time, body []byte) string {
	mac := hmac.New(sha256.New, key)
	fmt.Fprintf(mac, "%s.%d.", id, timestamp.Unix())
	mac.Write(body)
	return "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
}
