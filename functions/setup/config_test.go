package setup

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/modelarts-notifier/modelarts-notifier/functions/timeline"
	"github.com/modelarts-notifier/modelarts-notifier/notifier"
)

// configVars are every variable the functions read (the destination kinds'
// from notifier.Registry); each test starts from a clean slate.
var configVars = append(baseVars, registryNames()...)

// baseVars are the variables of the configuration structs themselves.
var baseVars = []string{
	"MODELARTS_REGION", "MODELARTS_ENDPOINT", "MODELARTS_PROJECT_ID", "MODELARTS_SERVICE_IDS", "MODELARTS_TOKEN",
	"HUAWEICLOUD_IAM_ENDPOINT", "HUAWEICLOUD_DOMAIN_NAME", "HUAWEICLOUD_USERNAME", "HUAWEICLOUD_PASSWORD",
	"HUAWEICLOUD_ACCESS_KEY", "HUAWEICLOUD_SECRET_KEY", "HUAWEICLOUD_SECURITY_TOKEN",
	"SECRETS_ARN", "CHECKPOINT_TABLE", "CHECKPOINT_FILE",
	"SLACK_WEBHOOK_URL", "SLACK_BOT_TOKEN", "SLACK_CHANNEL", "SLACK_API_URL",
	"WEBHOOK_URLS", "WEBHOOK_SECRET", "STALL_THRESHOLDS", "FIRST_RUN_LOOKBACK", "LOG_LEVEL",
	"MODELARTS_API", "MODELARTS_CONCURRENCY",
}

func registryNames() []string {
	var out []string
	for _, v := range notifier.RegistryVars() {
		out = append(out, v.Name)
	}
	return out
}

func setEnv(t *testing.T, kv map[string]string) {
	t.Helper()
	for _, k := range configVars {
		t.Setenv(k, "")
		os.Unsetenv(k)
	}
	for k, v := range kv {
		t.Setenv(k, v)
	}
}

func base() map[string]string {
	return map[string]string{
		"MODELARTS_PROJECT_ID": "0123456789abcdef0123456789abcdef",
		"MODELARTS_TOKEN":      "tok-s3cr3t-1",
	}
}

func with(kv map[string]string, more ...string) map[string]string {
	out := map[string]string{}
	for k, v := range kv {
		out[k] = v
	}
	for i := 0; i+1 < len(more); i += 2 {
		out[more[i]] = more[i+1]
	}
	return out
}

func TestLoadPollerDefaults(t *testing.T) {
	setEnv(t, base())
	c, err := LoadPoller(false)
	if err != nil {
		t.Fatal(err)
	}
	if c.Region != "cn-north-4" || c.Endpoint != "https://modelarts.cn-north-4.myhuaweicloud.com" {
		t.Errorf("region/endpoint = %q %q", c.Region, c.Endpoint)
	}
	if c.FirstRunLookback.D() != time.Hour || c.CheckpointFile != DefaultCheckpointFile || c.LogLevel != "info" {
		t.Errorf("defaults: lookback %v file %q level %q", c.FirstRunLookback, c.CheckpointFile, c.LogLevel)
	}
	if c.StallThresholds.String() != timeline.DefaultThresholds().String() {
		t.Errorf("thresholds = %v", c.StallThresholds)
	}
}

func TestLoadPollerValues(t *testing.T) {
	setEnv(t, with(base(),
		"MODELARTS_SERVICE_IDS", " a1 , b2,,c3 ",
		"STALL_THRESHOLDS", "image_pull=5m",
		"FIRST_RUN_LOOKBACK", "2d",
		"CHECKPOINT_TABLE", "checkpoints",
		"WEBHOOK_URLS", "https://a.example/hook,https://b.example/hook",
		"WEBHOOK_SECRET", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
		"LOG_LEVEL", "DEBUG",
	))
	c, err := LoadPoller(true)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(c.ServiceIDs, "|"); got != "a1|b2|c3" {
		t.Errorf("service ids = %q", got)
	}
	if c.StallThresholds.For("image_pull") != 5*time.Minute || c.StallThresholds.For("image_build") != 30*time.Minute {
		t.Errorf("thresholds = %v", c.StallThresholds)
	}
	if c.FirstRunLookback.String() != "2d" {
		t.Errorf("lookback prints as %q, want 2d (as written)", c.FirstRunLookback)
	}
	if c.FirstRunLookback.D() != 48*time.Hour || c.CheckpointTable != "checkpoints" || c.DestinationVars["WEBHOOK_URLS"] == "" {
		t.Errorf("config = %+v", c)
	}
}

// Every bad value stops start-up with one error naming the variable and
// never quoting a secret.
func TestBadValuesNameTheVariable(t *testing.T) {
	tests := []struct {
		name     string
		env      map[string]string
		lambda   bool
		wantVar  string
		wantText string
	}{
		{"project missing", map[string]string{"MODELARTS_TOKEN": "tok-s3cr3t-1"}, false, "MODELARTS_PROJECT_ID", "required"},
		{"project with slash", with(base(), "MODELARTS_PROJECT_ID", "a/../b"), false, "MODELARTS_PROJECT_ID", ".."},
		{"service id with space", with(base(), "MODELARTS_SERVICE_IDS", "ok,bad id"), false, "MODELARTS_SERVICE_IDS", "white space"},
		{"region", with(base(), "MODELARTS_REGION", "mars"), false, "MODELARTS_REGION", "region"},
		{"http endpoint", with(base(), "MODELARTS_ENDPOINT", "http://modelarts.example.com"), false, "MODELARTS_ENDPOINT", "http://"},
		{"no credentials", map[string]string{"MODELARTS_PROJECT_ID": "0123456789abcdef0123456789abcdef"}, false, "MODELARTS_TOKEN", "no ModelArts credentials"},
		{"two credentials", with(base(), "HUAWEICLOUD_ACCESS_KEY", "AK", "HUAWEICLOUD_SECRET_KEY", "SK-s3cr3t-2"), false, "HUAWEICLOUD_ACCESS_KEY", "a static token (MODELARTS_TOKEN) and AK/SK signing"},
		{"iam and aksk", map[string]string{"MODELARTS_PROJECT_ID": "0123456789abcdef0123456789abcdef", "HUAWEICLOUD_USERNAME": "u",
			"HUAWEICLOUD_SECRET_KEY": "SK-s3cr3t-2"}, false, "HUAWEICLOUD_SECRET_KEY", "IAM password auth (HUAWEICLOUD_DOMAIN_NAME/USERNAME/PASSWORD) and AK/SK signing"},
		{"project id not hex", with(base(), "MODELARTS_PROJECT_ID", "abc"), false, "MODELARTS_PROJECT_ID", "32 hexadecimal"},
		{"lookback in days too long", with(base(), "FIRST_RUN_LOOKBACK", "8d"), false, "FIRST_RUN_LOOKBACK", "at most 7d"},
		{"iam incomplete", map[string]string{"MODELARTS_PROJECT_ID": "0123456789abcdef0123456789abcdef", "HUAWEICLOUD_USERNAME": "u", "HUAWEICLOUD_PASSWORD": "pw-s3cr3t-3"}, false, "HUAWEICLOUD_DOMAIN_NAME", "required"},
		{"aksk without sk", map[string]string{"MODELARTS_PROJECT_ID": "0123456789abcdef0123456789abcdef", "HUAWEICLOUD_ACCESS_KEY": "AK"}, false, "HUAWEICLOUD_SECRET_KEY", "required"},
		{"lookback", with(base(), "FIRST_RUN_LOOKBACK", "soon"), false, "FIRST_RUN_LOOKBACK", "invalid"},
		{"lookback negative", with(base(), "FIRST_RUN_LOOKBACK", "-1h"), false, "FIRST_RUN_LOOKBACK", "positive"},
		{"thresholds", with(base(), "STALL_THRESHOLDS", "image_pull=fast"), false, "STALL_THRESHOLDS", "image_pull"},
		{"thresholds phase", with(base(), "STALL_THRESHOLDS", "warmup=5m"), false, "STALL_THRESHOLDS", "warmup"},
		{"slack webhook http", with(base(), "SLACK_WEBHOOK_URL", "http://hooks.example.com/services/T/B/s3cr3t-4"), false, "SLACK_WEBHOOK_URL", "http://"},
		{"bot without channel", with(base(), "SLACK_BOT_TOKEN", "xoxb-s3cr3t-5"), false, "SLACK_CHANNEL", "required"},
		{"channel without bot", with(base(), "SLACK_CHANNEL", "C1"), false, "SLACK_BOT_TOKEN", "required"},
		{"webhook url", with(base(), "WEBHOOK_URLS", "https://ok.example/h,ftp://x.example/s3cr3t-6"), false, "WEBHOOK_URLS", "#2"},
		{"secret without urls", with(base(), "WEBHOOK_SECRET", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"), false, "WEBHOOK_SECRET", "WEBHOOK_URLS"},
		{"service id twice", with(base(), "MODELARTS_SERVICE_IDS", "a1,b2,a1"), false, "MODELARTS_SERVICE_IDS", "twice"},
		{"lookback too long", with(base(), "FIRST_RUN_LOOKBACK", "9000h"), false, "FIRST_RUN_LOOKBACK", "at most"},
		{"webhook secret prefix", with(base(), "WEBHOOK_URLS", "https://a.example/h", "WEBHOOK_SECRET", "s3cr3t-7"), false, "WEBHOOK_SECRET", "whsec_"},
		{"webhook secret base64", with(base(), "WEBHOOK_URLS", "https://a.example/h", "WEBHOOK_SECRET", "whsec_s3cr3t-7!!"), false, "WEBHOOK_SECRET", "base64"},
		{"log level", with(base(), "LOG_LEVEL", "loud"), false, "LOG_LEVEL", "loud"},
		{"api generation", with(base(), "MODELARTS_API", "v3"), false, "MODELARTS_API", "auto, v1 or v2"},
		{"concurrency zero", with(base(), "MODELARTS_CONCURRENCY", "0"), false, "MODELARTS_CONCURRENCY", "1 to 256"},
		{"concurrency word", with(base(), "MODELARTS_CONCURRENCY", "many"), false, "MODELARTS_CONCURRENCY", "invalid"},
		{"table name", with(base(), "CHECKPOINT_TABLE", "a b"), false, "CHECKPOINT_TABLE", "table name"},
		{"lambda without table", with(base(), "WEBHOOK_URLS", "https://a.example/h"), true, "CHECKPOINT_TABLE", "Lambda"},
		{"lambda without destination", with(base(), "CHECKPOINT_TABLE", "cp1"), true, "SLACK_WEBHOOK_URL", "no destination configured: set SLACK_WEBHOOK_URL, SLACK_BOT_TOKEN, WEBHOOK_URLS, TEAMS_WEBHOOK_URLS, FEISHU_WEBHOOK_URLS, DINGTALK_WEBHOOK_URLS or WECOM_WEBHOOK_URLS"},
		{"slack api url http", with(base(), "SLACK_BOT_TOKEN", "xoxb-s3cr3t-5", "SLACK_CHANNEL", "C1", "SLACK_API_URL", "http://slack.example/api/s3cr3t"), false, "SLACK_API_URL", "http://"},
		{"webhook url repeated", with(base(), "WEBHOOK_URLS", "https://a.example/s3cr3t,https://a.example/s3cr3t"), false, "WEBHOOK_URLS", "URL #2 repeats URL #1"},
		{"teams http", with(base(), "TEAMS_WEBHOOK_URLS", "http://prod.westus.logic.azure.com/workflows/1?sig=s3cr3t-8"), false, "TEAMS_WEBHOOK_URLS", "URL #1: http:// is refused except on loopback"},
		{"teams connector", with(base(), "TEAMS_WEBHOOK_URLS", "https://x.webhook.office.com/webhookb2/s3cr3t-8"), false, "TEAMS_WEBHOOK_URLS", "Office 365 connector"},
		{"feishu wrong path", with(base(), "FEISHU_WEBHOOK_URLS", "https://open.feishu.cn/open-apis/bot/v2/hook/s3cr3t-9,https://open.larksuite.com/open-apis/im/v1/s3cr3t-9"), false, "FEISHU_WEBHOOK_URLS", "URL #2: not a custom bot webhook"},
		{"feishu relay on http", with(base(), "FEISHU_WEBHOOK_URLS", "http://relay.example.com/open-apis/bot/v2/hook/s3cr3t-9"), false, "FEISHU_WEBHOOK_URLS", "http:// is refused except on loopback"},
		{"feishu http", with(base(), "FEISHU_WEBHOOK_URLS", "http://open.feishu.cn/open-apis/bot/v2/hook/s3cr3t-9"), false, "FEISHU_WEBHOOK_URLS", "http://"},
		{"feishu secret without urls", with(base(), "FEISHU_SECRET", "s3cr3t-10"), false, "FEISHU_SECRET", "set, but FEISHU_WEBHOOK_URLS is empty"},
		{"feishu secret line break", with(base(), "FEISHU_WEBHOOK_URLS", "https://open.feishu.cn/open-apis/bot/v2/hook/s3cr3t-9", "FEISHU_SECRET", "s3cr3t-10\nx"), false, "FEISHU_SECRET", "line break"},
		{"dingtalk wrong path", with(base(), "DINGTALK_WEBHOOK_URLS", "https://oapi.dingtalk.com/robot/other?access_token=s3cr3t-11"), false, "DINGTALK_WEBHOOK_URLS", "not a custom robot webhook"},
		{"dingtalk no token", with(base(), "DINGTALK_WEBHOOK_URLS", "https://oapi.dingtalk.com/robot/send?x=s3cr3t-11"), false, "DINGTALK_WEBHOOK_URLS", "no access_token"},
		{"dingtalk secret without urls", with(base(), "DINGTALK_SECRET", "SECs3cr3t-12"), false, "DINGTALK_SECRET", "set, but DINGTALK_WEBHOOK_URLS is empty"},
		{"dingtalk keyword without urls", with(base(), "DINGTALK_KEYWORD", "告警"), false, "DINGTALK_KEYWORD", "set, but DINGTALK_WEBHOOK_URLS is empty"},
		{"dingtalk keyword too long", with(base(), "DINGTALK_WEBHOOK_URLS", "https://oapi.dingtalk.com/robot/send?access_token=s3cr3t-11", "DINGTALK_KEYWORD", strings.Repeat("k", 201)), false, "DINGTALK_KEYWORD", "200 bytes"},
		{"wecom http", with(base(), "WECOM_WEBHOOK_URLS", "http://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=s3cr3t-13"), false, "WECOM_WEBHOOK_URLS", "http://"},
		{"wecom no key", with(base(), "WECOM_WEBHOOK_URLS", "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?k=s3cr3t-13"), false, "WECOM_WEBHOOK_URLS", "no key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			setEnv(t, tt.env)
			_, err := LoadPoller(tt.lambda)
			var ce *ConfigError
			if !errors.As(err, &ce) {
				t.Fatalf("err = %v, want a *ConfigError", err)
			}
			if ce.Var != tt.wantVar || !strings.Contains(err.Error(), tt.wantText) {
				t.Errorf("err = %q, want it to name %s and say %q", err, tt.wantVar, tt.wantText)
			}
			if strings.Contains(err.Error(), "s3cr3t") {
				t.Errorf("error leaks a secret value: %q", err)
			}
			// A destination kind's error names its variable once (the
			// registry's message, mapped onto ConfigError).
			if slices.Contains(registryNames(), tt.wantVar) && strings.Count(err.Error(), tt.wantVar) != 1 && !strings.Contains(tt.wantText, tt.wantVar) {
				t.Errorf("%q names %s more than once", err, tt.wantVar)
			}
		})
	}
}

func TestSecretsAreRedacted(t *testing.T) {
	setEnv(t, with(base(),
		"SLACK_BOT_TOKEN", "xoxb-s3cr3t-5", "SLACK_CHANNEL", "C1",
		"WEBHOOK_URLS", "https://a.example/hook/s3cr3t-6",
		"WEBHOOK_SECRET", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
		"SLACK_WEBHOOK_URL", "https://hooks.slack.com/services/T0/B0/s3cr3t-4",
		"TEAMS_WEBHOOK_URLS", "https://prod.westus.logic.azure.com/workflows/1?sig=s3cr3t-8",
		"FEISHU_WEBHOOK_URLS", "https://open.feishu.cn/open-apis/bot/v2/hook/s3cr3t-9",
		"FEISHU_SECRET", "s3cr3t-10",
		"DINGTALK_WEBHOOK_URLS", "https://oapi.dingtalk.com/robot/send?access_token=s3cr3t-11",
		"DINGTALK_SECRET", "SECs3cr3t-12",
		"DINGTALK_KEYWORD", "告警",
		"WECOM_WEBHOOK_URLS", "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=s3cr3t-13",
	))
	c, err := LoadPoller(false)
	if err != nil {
		t.Fatal(err)
	}
	var text, js, group bytes.Buffer
	slog.New(slog.NewJSONHandler(&group, nil)).Info("destinations", "vars", c.DestinationVars)
	slog.New(slog.NewTextHandler(&text, nil)).Info("config", "config", c)
	slog.New(slog.NewJSONHandler(&js, nil)).Info("config", "config", c)
	for name, out := range map[string]string{
		"text log": text.String(), "json log": js.String(), "group log": group.String(),
		"%v": fmt.Sprintf("%v", c), "%+v": fmt.Sprintf("%+v", c), "%#v": fmt.Sprintf("%#v", c),
	} {
		for _, secret := range []string{"s3cr3t", "MfKQ9r8G"} {
			if strings.Contains(out, secret) {
				t.Errorf("%s shows a secret: %s", name, out)
			}
		}
	}
	if !strings.Contains(js.String(), "0123456789abcdef0123456789abcdef") {
		t.Errorf("json log lost the non-secret project id: %s", js.String())
	}
	for name, out := range map[string]string{"text log": text.String(), "json log": js.String(), "group log": group.String(), "%+v": fmt.Sprintf("%+v", c), "%#v": fmt.Sprintf("%#v", c)} {
		for _, shown := range []string{"C1", "告警", "TEAMS_WEBHOOK_URLS"} {
			if !strings.Contains(out, shown) {
				t.Errorf("%s lost the non-secret %q: %s", name, shown, out)
			}
		}
	}
}

func TestUsageListsEveryVariable(t *testing.T) {
	var buf bytes.Buffer
	if err := Usage(&buf, &Poller{}); err != nil {
		t.Fatal(err)
	}
	for _, v := range baseVars {
		if !strings.Contains(buf.String(), v) {
			t.Errorf("usage lacks %s", v)
		}
	}
	for _, want := range []string{"1h", "image_build=30m,environment=10m", ".modelarts-notifier/checkpoints.json (outside Lambda)"} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("usage lacks the default %q", want)
		}
	}
}
