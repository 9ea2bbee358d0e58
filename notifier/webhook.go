package notifier

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
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
	// HTTPClient sends the requests; nil means a client with a 15 s timeout.
	// Redirects are never followed, with this client or the default (a 3xx
	// is a permanent failure); the notifier uses a copy of it for that.
	HTTPClient *http.Client `json:"-"`
	// Version goes into the User-Agent, "modelarts-notifier/<version>".
	Version string
	// Now stamps webhook-timestamp; nil means time.Now.
	Now func() time.Time `json:"-"`
	// Sleep waits between retries; nil means [Sleep]. Tests fake it.
	Sleep func(ctx context.Context, d time.Duration) error `json:"-"`
	// Retry bounds the retries of one notification.
	Retry RetryPolicy
}

// Webhook POSTs each notification as JSON to a URL, with Standard Webhooks
// headers: webhook-id (the notification's ID, the same on every retry),
// webhook-timestamp and, with a secret, webhook-signature.
type Webhook struct {
	url     *url.URL
	key     []byte
	client  *http.Client
	agent   string
	clock   clock
	retry   RetryPolicy
	secrets []string
	logger  *slog.Logger
}

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
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	client := httpClient(cfg.HTTPClient)
	secrets := urlSecrets(u)
	if cfg.Secret != "" {
		secrets = append(secrets, cfg.Secret, strings.TrimPrefix(cfg.Secret, "whsec_"))
	}
	return &Webhook{
		url:     u,
		key:     key,
		client:  client,
		agent:   userAgent(cfg.Version),
		clock:   newClock(cfg.Now, cfg.Sleep),
		retry:   cfg.Retry,
		secrets: secrets,
		logger:  logger.With("destination", "webhook", "host", u.Host),
	}, nil
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

// Notify POSTs each notification on its own, retrying transient failures.
// Once one has used up its retries on a network error, a timeout or a 5xx,
// the rest fail at once with [ErrDestinationDown]. A ParentUpdate
// notification is acknowledged without a request. Each body is at most
// [MaxWebhookBody] bytes (see [TruncateEvent]; events are left out, and
// counted, when they do not fit).
func (w *Webhook) Notify(ctx context.Context, ns []Notification) []Result {
	return withoutParentUpdates(ns, func(ns []Notification) []Result { return w.notify(ctx, ns) })
}

func (w *Webhook) notify(ctx context.Context, ns []Notification) []Result {
	results := make([]Result, len(ns))
	var skip error // why the rest are not attempted
	for i, n := range ns {
		if skip != nil {
			results[i] = Result{ID: n.ID, Err: fmt.Errorf("webhook: deliver %s: %w", n.ID, skip)}
			continue
		}
		results[i] = Result{ID: n.ID, Err: w.send(ctx, n)}
		if err := results[i].Err; err != nil {
			w.logger.WarnContext(ctx, "webhook delivery failed", "id", n.ID, "type", n.Kind, "err", err)
			if skip = skipRest(ctx, n.ID, err); skip != nil && i+1 < len(ns) {
				w.logger.WarnContext(ctx, "webhook looks down; not attempting the rest", "notifications", len(ns)-i-1)
			}
		} else {
			w.logger.DebugContext(ctx, "webhook delivered", "id", n.ID, "type", n.Kind)
		}
	}
	return results
}

func (w *Webhook) send(ctx context.Context, n Notification) error {
	if n.ID == "" {
		return errors.New("webhook: notification has no ID")
	}
	body, shortened, err := webhookBody(n)
	if err != nil {
		return permanent(fmt.Errorf("webhook: encode %s: %w", n.ID, err))
	}
	if shortened {
		w.logger.InfoContext(ctx, "webhook body shortened to fit", "id", n.ID, "bytes", len(body), "limit", MaxWebhookBody)
	}
	err = w.retry.do(ctx, w.clock, func(ctx context.Context) error {
		now := w.clock.now()
		h := http.Header{}
		h.Set("User-Agent", w.agent)
		h.Set("webhook-id", n.ID)
		h.Set("webhook-timestamp", strconv.FormatInt(now.Unix(), 10))
		if w.key != nil {
			h.Set("webhook-signature", Sign(w.key, n.ID, now, body))
		}
		return post(ctx, w.client, w.url.String(), h, body, now)
	})
	if err != nil {
		return scrub(fmt.Errorf("webhook: deliver %s: %w", n.ID, err), w.secrets...)
	}
	return nil
}

// Sign returns the Standard Webhooks signature header value for a message:
// "v1," and the base64 HMAC-SHA256, under key, of "{id}.{timestamp}.{body}".
func Sign(key []byte, id string, timestamp time.Time, body []byte) string {
	mac := hmac.New(sha256.New, key)
	fmt.Fprintf(mac, "%s.%d.", id, timestamp.Unix())
	mac.Write(body)
	return "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
}
