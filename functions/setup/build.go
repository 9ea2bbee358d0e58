package setup

import (
	"context"
	"errors"
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
// extra ones (the terminal, outside Lambda), in notifier.Registry order.
// Each has a stable name that checkpoints record ("slack-webhook",
// "slack-bot:<channel>", "webhook-<hash of the URL>", "feishu-<hash>", ...),
// so a URL never reaches the store.
func (c *Common) Destinations(log *slog.Logger, hc *http.Client, extra ...notifier.Destination) ([]notifier.Destination, error) {
	ds, err := c.buildDestinations(notifier.DestinationOptions{HTTPClient: hc, Version: Version, Logger: log})
	if err != nil {
		return nil, err
	}
	return append(append([]notifier.Destination(nil), extra...), ds...), nil
}

// buildDestinations builds every configured destination of every kind in
// notifier.Registry, with o. A bad value is a *ConfigError naming its
// variable; bad values of several kinds are ConfigErrors, one per kind.
func (c *Common) buildDestinations(o notifier.DestinationOptions) ([]notifier.Destination, error) {
	var all []notifier.Destination
	var p problems
	for _, k := range notifier.Registry() {
		ds, err := k.New(c.DestinationVars, o)
		var ve *notifier.VarError
		switch {
		case errors.As(err, &ve):
			p.add(&ConfigError{Var: ve.Var, Reason: ve.Msg})
		case err != nil:
			// Not the registry's contract: say nothing of the error, which
			// might show a value.
			p.bad(k.Vars[0].Name, "not a valid %s configuration", k.Name)
		}
		all = append(all, ds...)
	}
	if err := p.err(); err != nil {
		return nil, err
	}
	return all, nil
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
