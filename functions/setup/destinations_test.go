package setup

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/modelarts-notifier/modelarts-notifier/notifier"
)

// kindEnvs configure one destination kind each, with the names (and types)
// of the destinations it must build. The names are what checkpoints
// record: the old kinds' are pinned literally, so that they never change.
var kindEnvs = []struct {
	kind string
	env  map[string]string
	want []string
}{
	{"slack-webhook", map[string]string{"SLACK_WEBHOOK_URL": "https://hooks.slack.com/services/T0/B0/s3cr3t-4"},
		[]string{"slack-webhook *notifier.SlackWebhook"}},
	{"slack-bot", map[string]string{"SLACK_BOT_TOKEN": "xoxb-s3cr3t-5", "SLACK_CHANNEL": "C1"},
		[]string{"slack-bot:C1 *notifier.SlackBot"}},
	{"webhook", map[string]string{"WEBHOOK_URLS": " https://a.example/hook , https://b.example/hook", "WEBHOOK_SECRET": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"},
		[]string{"webhook-7225f113 *notifier.Webhook", "webhook-fba25401 *notifier.Webhook"}},
	{"teams", map[string]string{"TEAMS_WEBHOOK_URLS": "https://prod.westus.logic.azure.com/workflows/1?sig=s3cr3t-8"},
		[]string{"teams-" + notifier.ShortHash("https://prod.westus.logic.azure.com/workflows/1?sig=s3cr3t-8") + " *notifier.Teams"}},
	{"feishu", map[string]string{
		"FEISHU_WEBHOOK_URLS": "https://open.feishu.cn/open-apis/bot/v2/hook/s3cr3t-9,https://open.larksuite.com/open-apis/bot/v2/hook/s3cr3t-9",
		"FEISHU_SECRET":       "s3cr3t-10"},
		[]string{
			"feishu-" + notifier.ShortHash("https://open.feishu.cn/open-apis/bot/v2/hook/s3cr3t-9") + " *notifier.Feishu",
			"feishu-" + notifier.ShortHash("https://open.larksuite.com/open-apis/bot/v2/hook/s3cr3t-9") + " *notifier.Feishu",
		}},
	{"dingtalk", map[string]string{
		"DINGTALK_WEBHOOK_URLS": "https://oapi.dingtalk.com/robot/send?access_token=s3cr3t-11",
		"DINGTALK_SECRET":       "SECs3cr3t-12", "DINGTALK_KEYWORD": "告警"},
		[]string{"dingtalk-" + notifier.ShortHash("https://oapi.dingtalk.com/robot/send?access_token=s3cr3t-11") + " *notifier.DingTalk"}},
	{"wecom", map[string]string{"WECOM_WEBHOOK_URLS": "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=s3cr3t-13"},
		[]string{"wecom-" + notifier.ShortHash("https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=s3cr3t-13") + " *notifier.WeCom"}},
}

func destNames(t *testing.T, ds []notifier.Destination) []string {
	t.Helper()
	var out []string
	for _, d := range ds {
		out = append(out, fmt.Sprintf("%s %T", d.Name, d.Notifier))
		if strings.Contains(d.Name, "s3cr3t") {
			t.Errorf("destination name %q holds a secret", d.Name)
		}
	}
	return out
}

// Every kind of the registry has a case here.
func TestKindEnvsCoverTheRegistry(t *testing.T) {
	var kinds, covered []string
	for _, k := range notifier.Registry() {
		kinds = append(kinds, k.Name)
	}
	for _, k := range kindEnvs {
		covered = append(covered, k.kind)
	}
	if diff := cmp.Diff(kinds, covered); diff != "" {
		t.Errorf("kinds without a configuration test (-registry +tested):\n%s", diff)
	}
}

// Each kind, configured from the environment, builds its destinations
// with their stable names, after the extra ones; in Lambda it is a
// destination enough.
func TestDestinationsFromEnvironment(t *testing.T) {
	for _, k := range kindEnvs {
		t.Run(k.kind, func(t *testing.T) {
			env := with(base(), "CHECKPOINT_TABLE", "cp1")
			for n, v := range k.env {
				env[n] = v
			}
			setEnv(t, env)
			c, err := LoadPoller(true)
			if err != nil {
				t.Fatal(err)
			}
			if !c.HasDestination() {
				t.Error("HasDestination = false")
			}
			term := notifier.Destination{Name: "terminal", Notifier: notifier.NewTerminal(&bytes.Buffer{}, false)}
			ds, err := c.Destinations(slog.New(slog.DiscardHandler), nil, term)
			if err != nil {
				t.Fatal(err)
			}
			want := append([]string{"terminal *notifier.Terminal"}, k.want...)
			if diff := cmp.Diff(want, destNames(t, ds)); diff != "" {
				t.Errorf("destinations (-want +got):\n%s", diff)
			}
		})
	}
}

func TestAllKindsAtOnce(t *testing.T) {
	env := base()
	var want []string
	for _, k := range kindEnvs {
		for n, v := range k.env {
			env[n] = v
		}
		want = append(want, k.want...)
	}
	setEnv(t, env)
	c, err := LoadReport()
	if err != nil {
		t.Fatal(err)
	}
	ds, err := c.Destinations(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, destNames(t, ds)); diff != "" {
		t.Errorf("destinations (-want +got):\n%s", diff)
	}
}

// Each kind's secret variables, from a SECRETS_ARN secret (its
// non-secret ones from the environment), build the same destinations.
func TestDestinationsFromSecret(t *testing.T) {
	for _, k := range kindEnvs {
		t.Run(k.kind, func(t *testing.T) {
			secret, env := map[string]string{}, base()
			for _, v := range notifier.RegistryVars() {
				val, ok := k.env[v.Name]
				switch {
				case !ok:
				case v.Secret:
					secret[v.Name] = val
				default:
					env[v.Name] = val
				}
			}
			if len(secret) == 0 {
				t.Fatal("the kind has no secret variable")
			}
			setEnv(t, env)
			js, _ := json.Marshal(secret)
			set, err := ApplySecrets(context.Background(), secretsManager(t, arn, string(js)), arn)
			if err != nil {
				t.Fatal(err)
			}
			if len(set) != len(secret) {
				t.Errorf("set %v, want every key of %s", set, js)
			}
			c, err := LoadPoller(false)
			if err != nil {
				t.Fatal(err)
			}
			ds, err := c.Destinations(nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(k.want, destNames(t, ds)); diff != "" {
				t.Errorf("destinations (-want +got):\n%s", diff)
			}
		})
	}
}

// Bad values that came from the secret stop start-up naming each
// variable, and not the values.
func TestBadSecretValueNamesTheVariable(t *testing.T) {
	setEnv(t, base())
	sm := secretsManager(t, arn, `{"FEISHU_WEBHOOK_URLS":"https://open.feishu.cn/open-apis/im/v1/s3cr3t-9","DINGTALK_SECRET":"SECs3cr3t-12"}`)
	if _, err := ApplySecrets(context.Background(), sm, arn); err != nil {
		t.Fatal(err)
	}
	_, err := LoadPoller(false)
	var ce *ConfigError
	if !errors.As(err, &ce) || ce.Var != "FEISHU_WEBHOOK_URLS" || !strings.Contains(err.Error(), "not a custom bot webhook") {
		t.Fatalf("err = %v, want FEISHU_WEBHOOK_URLS named", err)
	}
	if !strings.Contains(err.Error(), "\n  DINGTALK_SECRET: set, but DINGTALK_WEBHOOK_URLS is empty") {
		t.Errorf("err = %v, want DINGTALK_SECRET named too", err)
	}
	if strings.Contains(err.Error(), "s3cr3t") {
		t.Errorf("error shows a value: %v", err)
	}
}

// SECRETS_ARN holds secret variables only: the registry says which.
func TestSecretVarsFollowTheRegistry(t *testing.T) {
	for _, v := range notifier.RegistryVars() {
		if got := strings.Contains(" "+strings.Join(SecretVars, " ")+" ", " "+v.Name+" "); got != v.Secret {
			t.Errorf("%s: in SecretVars = %v, secret = %v", v.Name, got, v.Secret)
		}
	}
	setEnv(t, nil)
	_, err := ApplySecrets(context.Background(), secretsManager(t, arn, `{"DINGTALK_KEYWORD":"告警"}`), arn)
	if err == nil || !strings.Contains(err.Error(), `key "DINGTALK_KEYWORD", which is not one of`) {
		t.Errorf("err = %v, want the non-secret DINGTALK_KEYWORD refused", err)
	}
}

// -h and the README's reference list every variable of the registry,
// once, with its description, secret ones marked: a row added to the
// registry is documented, or this (and TestReadmeVariableReference)
// fails.
func TestUsageAndReferenceListTheRegistry(t *testing.T) {
	var ref bytes.Buffer
	if err := Reference(&ref); err != nil {
		t.Fatal(err)
	}
	outputs := map[string]string{"README reference": ref.String()}
	for name, spec := range map[string]any{"poller -h": &Poller{}, "report -h": &Report{}} {
		var buf bytes.Buffer
		if err := Usage(&buf, spec); err != nil {
			t.Fatal(err)
		}
		outputs[name] = usageRows(buf.String())
	}
	for name, out := range outputs {
		for _, v := range notifier.RegistryVars() {
			row := regexp.MustCompile(`(?m)^\|? ?` + "`?" + v.Name + "`?" + `[ |].*$`)
			rows := row.FindAllString(out, -1)
			if len(rows) != 1 {
				t.Errorf("%s: %d rows for %s, want 1", name, len(rows), v.Name)
				continue
			}
			if !strings.Contains(rows[0], v.Desc) || strings.Contains(rows[0], "(secret)") != v.Secret {
				t.Errorf("%s: row %q lacks the description of %s, or its secrecy (%v)", name, rows[0], v.Name, v.Secret)
			}
		}
	}
	if err := Usage(&bytes.Buffer{}, Poller{}); err == nil {
		t.Error("Usage of a struct value (not a pointer): no error")
	}
}

// usageRows joins each variable of Usage's output (its name on a line,
// its wrapped meaning and default indented below) into one row: "NAME
// meaning default: ...".
func usageRows(out string) string {
	var b strings.Builder
	for line := range strings.Lines(out) {
		line = strings.TrimRight(line, "\n")
		switch {
		case strings.HasPrefix(line, "      "):
			b.WriteString(" " + strings.TrimSpace(line))
		case strings.HasPrefix(line, "  "):
			if b.Len() > 0 {
				b.WriteString("\n")
			}
			b.WriteString(strings.TrimSpace(line))
		}
	}
	return b.String() + "\n"
}
