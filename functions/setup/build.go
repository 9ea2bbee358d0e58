package setup

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"log/slog"
	"net/http"
	"os"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/modelarts-notifier/modelarts-notifier/eventsapi"
	"github.com/modelarts-notifier/modelarts-notifier/functions/checkpoint"
	"github.com/modelarts-notifier/modelarts-notifier/notifier"
)

// Version is the product version, in User-Agent headers. Set at build time
// with -ldflags "-X .../functions/setup.Version=...".
var Version = "dev"

// LoadSecrets fills secret variables from SECRETS_ARN, when it is set,
// before the configuration is read. It runs once, at cold start.
func LoadSecrets(ctx context.Context, log *slog.Logger) error {
	arn := os.Getenv("SECRETS_ARN")
	if arn == "" {
		return nil
	}
	awsCfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return bad("SECRETS_ARN", "load AWS configuration: %v", err)
	}
	set, err := ApplySecrets(ctx, secretsmanager.NewFromConfig(awsCfg), arn)
	if err != nil {
		return err
	}
	log.Info("secrets loaded", "variables", set)
	return nil
}

// NewClient builds the ModelArts client with the configured credentials.
func (c *Common) NewClient(hc *http.Client, log *slog.Logger) (*eventsapi.Client, error) {
	var auth eventsapi.Authenticator
	switch {
	case c.Token != "":
		auth = eventsapi.StaticToken(c.Token.Reveal())
	case c.AccessKey != "":
		auth = eventsapi.NewAKSK(c.AccessKey, c.SecretKey.Reveal(), c.SecurityToken.Reveal())
	default:
		var err error
		auth, err = eventsapi.NewIAMPasswordAuth(eventsapi.IAMConfig{
			Endpoint:   c.IAMEndpoint,
			DomainName: c.DomainName,
			Username:   c.Username,
			Password:   c.Password.Reveal(),
			ProjectID:  c.ProjectID,
			HTTPClient: hc,
		})
		if err != nil {
			return nil, bad("HUAWEICLOUD_IAM_ENDPOINT", "%v", err)
		}
	}
	client, err := eventsapi.New(eventsapi.Config{
		Endpoint:   c.Endpoint,
		ProjectID:  c.ProjectID,
		Auth:       auth,
		HTTPClient: hc,
		Logger:     log,
		UserAgent:  "modelarts-notifier/" + Version,
	})
	if err != nil {
		return nil, bad("MODELARTS_ENDPOINT", "%v", err)
	}
	return client, nil
}

// Destinations builds the configured notification destinations, after any
// extra ones (the terminal, outside Lambda). Each has a stable name that
// checkpoints record; a webhook's name is derived from a hash of its URL,
// so the URL never reaches the store.
func (c *Common) Destinations(log *slog.Logger, hc *http.Client, extra ...notifier.Destination) ([]notifier.Destination, error) {
	dests := append([]notifier.Destination(nil), extra...)
	if c.SlackWebhookURL != "" {
		n, err := notifier.NewSlackWebhook(notifier.SlackWebhookConfig{
			URL:        c.SlackWebhookURL.Reveal(),
			HTTPClient: hc,
			Version:    Version,
		}, log)
		if err != nil {
			return nil, bad("SLACK_WEBHOOK_URL", "%v", err)
		}
		dests = append(dests, notifier.Destination{Name: "slack-webhook", Notifier: n})
	}
	if c.SlackBotToken != "" {
		n, err := notifier.NewSlackBot(notifier.SlackBotConfig{
			Token:      c.SlackBotToken.Reveal(),
			Channel:    c.SlackChannel,
			APIURL:     c.SlackAPIURL,
			HTTPClient: hc,
		}, log)
		if err != nil {
			return nil, bad("SLACK_BOT_TOKEN", "%v", err)
		}
		dests = append(dests, notifier.Destination{Name: "slack-bot:" + c.SlackChannel, Notifier: n})
	}
	for i, u := range c.WebhookURLs {
		name := "webhook-" + shortHash(u.Reveal())
		n, err := notifier.NewWebhook(notifier.WebhookConfig{
			URL:        u.Reveal(),
			Secret:     c.WebhookSecret.Reveal(),
			HTTPClient: hc,
			Version:    Version,
		}, log)
		if err != nil {
			return nil, bad("WEBHOOK_URLS", "URL #%d: %v", i+1, err)
		}
		dests = append(dests, notifier.Destination{Name: name, Notifier: n})
	}
	return dests, nil
}

func shortHash(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:4])
}

// NewStore opens the checkpoint store: DynamoDB when CHECKPOINT_TABLE is
// set (the SDK honours AWS_ENDPOINT_URL_DYNAMODB), else the local file.
func (c *Poller) NewStore(ctx context.Context) (checkpoint.Store, error) {
	return openStore(ctx, c.CheckpointTable, c.CheckpointFile)
}

func openStore(ctx context.Context, table, file string) (checkpoint.Store, error) {
	if table != "" {
		awsCfg, err := config.LoadDefaultConfig(ctx)
		if err != nil {
			return nil, bad("CHECKPOINT_TABLE", "load AWS configuration: %v", err)
		}
		return checkpoint.NewDynamoDB(dynamodb.NewFromConfig(awsCfg), table), nil
	}
	st, err := checkpoint.NewFile(file)
	if err != nil {
		return nil, bad("CHECKPOINT_FILE", "%v", err)
	}
	return st, nil
}
