package setup

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"os"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/modelarts-notifier/modelarts-notifier/eventsapi"
	"github.com/modelarts-notifier/modelarts-notifier/functions/checkpoint"
	"github.com/modelarts-notifier/modelarts-notifier/notifier"
	"github.com/modelarts-notifier/modelarts-notifier/notifier/route"
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
	ds, _, err := c.RoutedDestinations(log, hc, extra...)
	return ds, err
}

// RoutedDestinations is Destinations with ROUTES applied: the table that
// decides who hears what (nil without ROUTES: everyone hears everything),
// and, after the configured destinations, a Slack bot destination for each
// slack-bot:CHANNEL the document names (the configured bot's token posting
// to that channel, recorded as "slack-bot:CHANNEL").
func (c *Common) RoutedDestinations(log *slog.Logger, hc *http.Client, extra ...notifier.Destination) ([]notifier.Destination, *route.Table, error) {
	o := notifier.DestinationOptions{HTTPClient: hc, Version: Version, Logger: log}
	ds, err := c.buildDestinations(o)
	if err != nil {
		return nil, nil, err
	}
	tb, err := c.routeTable(ds)
	if err != nil {
		return nil, nil, err
	}
	for _, ch := range tb.Channels() {
		vars := maps.Clone(map[string]string(c.DestinationVars))
		vars["SLACK_CHANNEL"] = strings.TrimPrefix(ch, "slack-bot:")
		bot, err := notifier.Registry()[slices.IndexFunc(notifier.Registry(), func(k notifier.DestinationKind) bool { return k.Name == "slack-bot" })].New(vars, o)
		if err != nil {
			return nil, nil, &ConfigError{Var: route.Variable, Reason: fmt.Sprintf("%s: %v", ch, err)}
		}
		ds = append(ds, bot...)
	}
	return append(append([]notifier.Destination(nil), extra...), ds...), tb, nil
}

// LoadRoutes reads only what routing needs, the destinations' variables
// and ROUTES (from the environment, after LoadSecrets), and returns the
// destinations and the table, as RoutedDestinations does. It calls no API
// and needs no ModelArts configuration: poller -route-test uses it.
func LoadRoutes(log *slog.Logger) ([]notifier.Destination, *route.Table, error) {
	c := &Common{}
	c.Routes = os.Getenv("ROUTES")
	c.readDestinationVars()
	return c.RoutedDestinations(log, nil)
}

// routeTable parses ROUTES against the configured destinations ds.
// Destination names are unique with or without ROUTES.
func (c *Common) routeTable(ds []notifier.Destination) (*route.Table, error) {
	var rds []route.Destination
	for _, d := range ds {
		if d.Kind != "" {
			rds = append(rds, route.Destination{Key: d.Name, Name: d.RouteName(), Kind: d.Kind})
		}
	}
	if err := uniqueRouteNames(rds); err != nil {
		return nil, err
	}
	if strings.TrimSpace(c.Routes) == "" {
		return nil, nil
	}
	var kinds []string
	for _, k := range notifier.Kinds {
		kinds = append(kinds, string(k))
	}
	kinds = append(kinds, "project.report")
	tb, err := route.Parse(c.Routes, rds, slices.Compact(kinds), notifier.PhaseNames)
	if err != nil {
		return nil, &ConfigError{Var: route.Variable, Reason: strings.TrimPrefix(err.Error(), route.Variable+": ")}
	}
	return tb, nil
}

// uniqueRouteNames refuses two destinations ROUTES would call alike.
func uniqueRouteNames(ds []route.Destination) error {
	for i, d := range ds {
		for _, o := range ds[:i] {
			if o.Name == d.Name {
				return &ConfigError{Var: route.Variable, Reason: fmt.Sprintf("two destinations are named %q", d.Name)}
			}
		}
	}
	return nil
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
		awsCfg, err := config.LoadDefaultConfig(ctx, config.WithHTTPClient(checkpoint.NewHTTPClient()))
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
