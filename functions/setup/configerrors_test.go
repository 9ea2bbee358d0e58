package setup

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// configErrorVars returns the variables err names, in order, checking that
// it is a ConfigErrors whose text is one line per variable.
func configErrorVars(t *testing.T, err error) []string {
	t.Helper()
	var ces ConfigErrors
	if !errors.As(err, &ces) {
		t.Fatalf("err = %v (%T), want ConfigErrors", err, err)
	}
	lines := strings.Split(err.Error(), "\n")
	if want := fmt.Sprintf("configuration: %d problems:", len(ces)); lines[0] != want {
		t.Errorf("first line %q, want %q", lines[0], want)
	}
	var vars []string
	for i, e := range ces {
		vars = append(vars, e.Var)
		if i+1 >= len(lines) || lines[i+1] != "  "+e.Var+": "+e.Reason {
			t.Errorf("line %d of %q does not name %s", i+2, err, e.Var)
		}
	}
	if len(lines) != len(ces)+1 {
		t.Errorf("%d lines for %d problems: %q", len(lines), len(ces), err)
	}
	// errors.As finds each problem, the first first.
	var ce *ConfigError
	if !errors.As(err, &ce) || ce != ces[0] {
		t.Errorf("errors.As(*ConfigError) = %v, want the first problem", ce)
	}
	return vars
}

// Regression (issue 17): an empty environment took three runs to learn
// that the project id and the credentials are both missing. One error now
// lists both (and, in Lambda, the checkpoint table and the destination).
func TestEmptyEnvironmentListsEveryMissingVariable(t *testing.T) {
	setEnv(t, nil)
	_, err := LoadPoller(false)
	if diff := cmp.Diff([]string{"MODELARTS_PROJECT_ID", "MODELARTS_TOKEN"}, configErrorVars(t, err)); diff != "" {
		t.Errorf("variables named (-want +got):\n%s", diff)
	}
	const want = "configuration: 2 problems:\n" +
		"  MODELARTS_PROJECT_ID: required, not set\n" +
		"  MODELARTS_TOKEN: no ModelArts credentials: set MODELARTS_TOKEN, or HUAWEICLOUD_DOMAIN_NAME + HUAWEICLOUD_USERNAME + HUAWEICLOUD_PASSWORD, or HUAWEICLOUD_ACCESS_KEY + HUAWEICLOUD_SECRET_KEY"
	if err.Error() != want {
		t.Errorf("error text:\n%s\nwant:\n%s", err, want)
	}

	_, err = LoadPoller(true)
	if diff := cmp.Diff([]string{"MODELARTS_PROJECT_ID", "MODELARTS_TOKEN", "CHECKPOINT_TABLE", "SLACK_WEBHOOK_URL"}, configErrorVars(t, err)); diff != "" {
		t.Errorf("in Lambda, variables named (-want +got):\n%s", diff)
	}

	_, err = LoadReport()
	if diff := cmp.Diff([]string{"MODELARTS_PROJECT_ID", "MODELARTS_TOKEN"}, configErrorVars(t, err)); diff != "" {
		t.Errorf("report: variables named (-want +got):\n%s", diff)
	}
}

// Several bad values: every one is named, once, in one error; a value
// that does not parse is not reported a second time by the checks of its
// (zero) value; no secret shows.
func TestSeveralBadValuesOneError(t *testing.T) {
	setEnv(t, map[string]string{
		"MODELARTS_REGION":      "mars",
		"MODELARTS_PROJECT_ID":  "abc",
		"MODELARTS_API":         "v3",
		"MODELARTS_CONCURRENCY": "many", // does not parse: not also "0: want 1 to 256"
		"HUAWEICLOUD_PASSWORD":  "pw-s3cr3t-3",
		"WEBHOOK_SECRET":        "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
		"FEISHU_WEBHOOK_URLS":   "http://relay.example.com/hook/s3cr3t-9",
		"WECOM_WEBHOOK_URLS":    "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?k=s3cr3t-13",
		"LOG_LEVEL":             "loud",
		"STALL_THRESHOLDS":      "warmup=5m",
		"FIRST_RUN_LOOKBACK":    "soon", // does not parse: not also "must be a positive duration"
		"CHECKPOINT_TABLE":      "a b",
	})
	_, err := LoadPoller(true)
	got := configErrorVars(t, err)
	want := []string{
		// values that do not parse, in the order of the variables
		"MODELARTS_CONCURRENCY", "STALL_THRESHOLDS", "FIRST_RUN_LOOKBACK",
		// then the checks of the values
		"MODELARTS_REGION", "MODELARTS_PROJECT_ID", "MODELARTS_API",
		"HUAWEICLOUD_DOMAIN_NAME", "HUAWEICLOUD_USERNAME",
		"WEBHOOK_SECRET", "FEISHU_WEBHOOK_URLS", "WECOM_WEBHOOK_URLS",
		"LOG_LEVEL", "CHECKPOINT_TABLE",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("variables named (-want +got):\n%s\n%s", diff, err)
	}
	for _, leak := range []string{"s3cr3t", "MfKQ9r8G", "relay.example.com"} {
		if strings.Contains(err.Error(), leak) {
			t.Errorf("the error shows a secret (%q):\n%s", leak, err)
		}
	}
	for _, want := range []string{"  MODELARTS_CONCURRENCY: invalid value", "  FEISHU_WEBHOOK_URLS: URL #1: http:// is refused except on loopback",
		"  WECOM_WEBHOOK_URLS: URL #1: URL has no key", "  HUAWEICLOUD_USERNAME: required with IAM password authentication"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the error lacks %q:\n%s", want, err)
		}
	}
}

// One bad value keeps its one-line message: "configuration: VAR: reason".
func TestOneBadValueOneLine(t *testing.T) {
	setEnv(t, with(base(), "LOG_LEVEL", "loud"))
	_, err := LoadPoller(false)
	var ce *ConfigError
	if !errors.As(err, &ce) || err.Error() != `configuration: LOG_LEVEL: "loud" is not one of debug, info, warn, error` {
		t.Errorf("err = %q (%T)", err, err)
	}
	var ces ConfigErrors
	if errors.As(err, &ces) {
		t.Errorf("one problem came as ConfigErrors: %v", err)
	}
}

// Every line of -h's variables fits in UsageWidth columns; a word wider
// than a line (the thresholds' default) breaks after a comma.
func TestUsageWidth(t *testing.T) {
	for name, spec := range map[string]any{"poller": &Poller{}, "report": &Report{}} {
		var buf bytes.Buffer
		if err := Usage(&buf, spec); err != nil {
			t.Fatal(err)
		}
		for line := range strings.Lines(buf.String()) {
			line = strings.TrimSuffix(line, "\n")
			if c := columns(line); c > UsageWidth || strings.Contains(line, "\t") {
				t.Errorf("%s: %d columns: %q", name, c, line)
			}
		}
	}
	got := wrap("per-phase stall thresholds default: image_build=30m,environment=10m,scheduling=15m 告警告警", "  ", 30)
	want := []string{
		"  per-phase stall thresholds",
		"  default: image_build=30m,",
		"  environment=10m,",
		"  scheduling=15m 告警告警",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("wrap (-want +got):\n%s", diff)
	}
	for _, l := range got {
		if columns(l) > 30 {
			t.Errorf("%q is %d columns", l, columns(l))
		}
	}
	if got := wrap(strings.Repeat("x", 25), "", 10); !slices.Equal(got, []string{"xxxxxxxxxx", "xxxxxxxxxx", "xxxxx"}) {
		t.Errorf("a word without commas: %q", got)
	}
	if columns("告警 ok") != 7 {
		t.Errorf("columns(告警 ok) = %d, want 7", columns("告警 ok"))
	}
}
