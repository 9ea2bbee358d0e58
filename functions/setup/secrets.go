package setup

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"sort"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/modelarts-notifier/modelarts-notifier/notifier"
)

// SecretVars are the variables a SECRETS_ARN secret may hold: the
// ModelArts credentials and every secret variable of notifier.Registry. A
// variable set in the environment wins over the secret's value.
var SecretVars = secretVars()

func secretVars() []string {
	vars := []string{
		"MODELARTS_TOKEN",
		"HUAWEICLOUD_DOMAIN_NAME", "HUAWEICLOUD_USERNAME", "HUAWEICLOUD_PASSWORD",
		"HUAWEICLOUD_ACCESS_KEY", "HUAWEICLOUD_SECRET_KEY", "HUAWEICLOUD_SECURITY_TOKEN",
		"ROUTES", // not a secret, but longer than Lambda's environment allows
	}
	for _, v := range notifier.RegistryVars() {
		if v.Secret {
			vars = append(vars, v.Name)
		}
	}
	return vars
}

// SecretsGetter is the part of the Secrets Manager client used here.
type SecretsGetter interface {
	GetSecretValue(ctx context.Context, in *secretsmanager.GetSecretValueInput, opts ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error)
}

// ApplySecrets reads the secret arn (a JSON object of SecretVars to
// strings) and sets each variable the environment does not already set. It
// returns the names it set. Errors name SECRETS_ARN or the offending key,
// never a value.
func ApplySecrets(ctx context.Context, sm SecretsGetter, arn string) ([]string, error) {
	out, err := sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(arn)})
	if err != nil {
		return nil, bad("SECRETS_ARN", "read the secret: %v", err)
	}
	if out.SecretString == nil {
		return nil, bad("SECRETS_ARN", "the secret has no string value (binary secrets are not supported)")
	}
	var values map[string]any
	if err := json.Unmarshal([]byte(*out.SecretString), &values); err != nil {
		return nil, bad("SECRETS_ARN", "the secret's value is not a JSON object")
	}
	keys := make([]string, 0, len(values))
	for k := range values {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var set []string
	for _, k := range keys {
		if !slices.Contains(SecretVars, k) {
			return nil, bad("SECRETS_ARN", "the secret holds key %q, which is not one of %v", k, SecretVars)
		}
		v, ok := values[k].(string)
		if !ok {
			return nil, bad("SECRETS_ARN", "the secret's key %s is not a string", k)
		}
		if _, inEnv := os.LookupEnv(k); inEnv {
			continue
		}
		if err := os.Setenv(k, v); err != nil {
			return nil, fmt.Errorf("set %s: %w", k, err)
		}
		set = append(set, k)
	}
	return set, nil
}
