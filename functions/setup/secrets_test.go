package setup

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
)

// secretsManager is a stand-in for AWS Secrets Manager's JSON 1.1 API
// (GetSecretValue), so the real SDK client is exercised.
func secretsManager(t *testing.T, arn, value string) *secretsmanager.Client {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if r.Header.Get("X-Amz-Target") != "secretsmanager.GetSecretValue" {
			http.Error(w, "unexpected target", http.StatusBadRequest)
			return
		}
		if !strings.HasPrefix(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256 ") {
			http.Error(w, "unsigned", http.StatusForbidden)
			return
		}
		var in struct{ SecretId string }
		_ = json.Unmarshal(body, &in)
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		if in.SecretId != arn {
			w.WriteHeader(http.StatusBadRequest)
			_, _ = io.WriteString(w, `{"__type":"ResourceNotFoundException","message":"Secrets Manager can't find the specified secret."}`)
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"ARN": arn, "Name": "n", "SecretString": value, "VersionId": "v1"})
	}))
	t.Cleanup(srv.Close)
	return secretsmanager.New(secretsmanager.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(srv.URL),
		Credentials:  credentials.NewStaticCredentialsProvider("AKID", "SECRET", ""),
	})
}

const arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:modelarts-notifier-AbCdEf"

func TestApplySecretsFillsUnsetVariables(t *testing.T) {
	setEnv(t, map[string]string{"SLACK_BOT_TOKEN": "xoxb-from-env"})
	sm := secretsManager(t, arn, `{"MODELARTS_TOKEN":"tok-from-secret","SLACK_BOT_TOKEN":"xoxb-from-secret","WEBHOOK_SECRET":"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}`)
	set, err := ApplySecrets(context.Background(), sm, arn)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(set, ",") != "MODELARTS_TOKEN,WEBHOOK_SECRET" {
		t.Errorf("set %v", set)
	}
	if os.Getenv("MODELARTS_TOKEN") != "tok-from-secret" || os.Getenv("SLACK_BOT_TOKEN") != "xoxb-from-env" {
		t.Errorf("environment wins over the secret; got token %q bot %q", os.Getenv("MODELARTS_TOKEN"), os.Getenv("SLACK_BOT_TOKEN"))
	}
}

func TestApplySecretsErrors(t *testing.T) {
	tests := []struct{ name, arn, value, want string }{
		{"not found", arn + "x", `{}`, "read the secret"},
		{"not json", arn, `tok-s3cr3t`, "not a JSON object"},
		{"unknown key", arn, `{"AWS_SECRET_ACCESS_KEY":"s3cr3t"}`, "AWS_SECRET_ACCESS_KEY"},
		{"not a string", arn, `{"MODELARTS_TOKEN":42}`, "MODELARTS_TOKEN is not a string"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			setEnv(t, nil)
			_, err := ApplySecrets(context.Background(), secretsManager(t, arn, tt.value), tt.arn)
			if err == nil || !strings.Contains(err.Error(), "SECRETS_ARN") || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to name SECRETS_ARN and say %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "s3cr3t") {
				t.Errorf("error shows the secret's value: %v", err)
			}
		})
	}
}
