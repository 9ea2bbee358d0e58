package setup

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/modelarts-notifier/modelarts-notifier/notifier"
)

// templateOmits are the non-secret destination variables the template does
// not set: SLACK_API_URL points the bot at a stand-in in tests.
var templateOmits = []string{"SLACK_API_URL"}

// envKeys lists the variable names of a config struct: its envconfig
// fields and the destination kinds' (notifier.Registry).
func envKeys(t reflect.Type) []string {
	var out []string
	for _, d := range varDocs(t) {
		out = append(out, d.name)
	}
	return out
}

// moduleRoot walks up to go.mod.
func moduleRoot(t *testing.T) string {
	t.Helper()
	dir, _ := os.Getwd()
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		if parent := filepath.Dir(dir); parent != dir {
			dir = parent
			continue
		}
		t.Fatal("go.mod not found")
	}
}

// node finds a mapping key's value.
func node(n *yaml.Node, path ...string) *yaml.Node {
	for _, key := range path {
		if n == nil {
			return nil
		}
		if n.Kind == yaml.DocumentNode {
			n = n.Content[0]
		}
		var next *yaml.Node
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == key {
				next = n.Content[i+1]
			}
		}
		n = next
	}
	return n
}

func keys(n *yaml.Node) []string {
	var out []string
	if n == nil {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		out = append(out, n.Content[i].Value)
	}
	return out
}

// refs collects every !Ref / !GetAtt / !Sub target below n.
func refs(n *yaml.Node) []string {
	var out []string
	var walk func(*yaml.Node)
	walk = func(n *yaml.Node) {
		switch n.Tag {
		case "!Ref", "!GetAtt":
			out = append(out, strings.Split(n.Value, ".")[0])
		}
		for _, c := range n.Content {
			walk(c)
		}
	}
	walk(n)
	return out
}

func TestTemplate(t *testing.T) {
	root := moduleRoot(t)
	raw, err := os.ReadFile(filepath.Join(root, "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("template.yaml does not parse: %v", err)
	}
	makefile, err := os.ReadFile(filepath.Join(root, "Makefile"))
	if err != nil {
		t.Fatal(err)
	}

	if got := node(&doc, "Transform").Value; got != "AWS::Serverless-2016-10-31" {
		t.Errorf("Transform = %q", got)
	}
	globals := node(&doc, "Globals", "Function")
	if node(globals, "Runtime").Value != "provided.al2023" || node(globals, "Architectures").Content[0].Value != "arm64" {
		t.Error("functions must run on provided.al2023, arm64")
	}
	globalEnv := keys(node(globals, "Environment", "Variables"))

	functions := map[string][]string{
		"PollerFunction": envKeys(reflect.TypeFor[Poller]()),
		"ReportFunction": envKeys(reflect.TypeFor[Report]()),
	}
	resources := node(&doc, "Resources")
	for name, known := range functions {
		fn := node(resources, name)
		if fn == nil {
			t.Fatalf("no %s", name)
		}
		// Every variable the template sets is one the function reads.
		env := append(slices.Clone(globalEnv), keys(node(fn, "Properties", "Environment", "Variables"))...)
		for _, v := range env {
			if !slices.Contains(known, v) {
				t.Errorf("%s: template sets %s, which the function does not read", name, v)
			}
		}
		// sam build runs `make build-<name>`.
		if node(fn, "Metadata", "BuildMethod").Value != "makefile" {
			t.Errorf("%s: BuildMethod is not makefile", name)
		}
		if !regexp.MustCompile(`(?m)^build-` + name + `:`).Match(makefile) {
			t.Errorf("Makefile has no build-%s target", name)
		}
		// Least privilege: only the table and the secret, only the actions needed.
		for _, pol := range node(fn, "Properties", "Policies").Content {
			for _, st := range node(pol, "Statement").Content {
				res := node(st, "Resource")
				for _, r := range refs(res) {
					if r != "CheckpointTable" && r != "NotifierSecret" {
						t.Errorf("%s: policy names %s", name, r)
					}
				}
				if res.Tag != "!Ref" && res.Tag != "!GetAtt" {
					t.Errorf("%s: a policy's resource is %q, not the table or the secret", name, res.Value)
				}
				for _, a := range node(st, "Action").Content {
					allowed := []string{"secretsmanager:GetSecretValue"}
					if name == "PollerFunction" {
						allowed = append(allowed, "dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:PutItem")
					}
					if !slices.Contains(allowed, a.Value) {
						t.Errorf("%s: action %s is not needed", name, a.Value)
					}
				}
			}
		}
	}
	// The destination kinds' variables reach the functions: a secret one
	// through the secret, whose description names it; any other through
	// a parameter in Globals.
	secretDesc := strings.Join(strings.Fields(node(resources, "NotifierSecret", "Properties", "Description").Value), " ")
	for _, v := range SecretVars {
		if !regexp.MustCompile(`\b` + v + `\b`).MatchString(secretDesc) {
			t.Errorf("NotifierSecret's Description does not name %s, a variable the secret may hold", v)
		}
	}
	for _, v := range notifier.RegistryVars() {
		if !v.Secret && !slices.Contains(templateOmits, v.Name) && !slices.Contains(globalEnv, v.Name) {
			t.Errorf("%s (not secret) is set by no parameter in Globals", v.Name)
		}
	}
	poller := node(resources, "PollerFunction", "Properties")
	if rc := node(poller, "ReservedConcurrentExecutions"); rc.Tag != "!If" || rc.Content[1].Value != "1" ||
		node(&doc, "Parameters", "PollerReservedConcurrency", "Default").Value != "1" {
		t.Error("the poller must not run twice at once by default (ReservedConcurrentExecutions 1)")
	}
	if node(poller, "EventInvokeConfig", "MaximumRetryAttempts").Value != "0" {
		t.Error("a failed poll must not be retried by Lambda (the next run re-derives it)")
	}
	for fn, group := range map[string]string{"PollerFunction": "PollerLogGroup", "ReportFunction": "ReportLogGroup"} {
		// The function names its log group (not the reverse), so the group
		// exists before the first invocation.
		if lg := node(resources, fn, "Properties", "LoggingConfig", "LogGroup"); lg == nil || lg.Value != group {
			t.Errorf("%s does not log to %s", fn, group)
		}
	}
	if node(poller, "Events", "Poll", "Type").Value != "Schedule" {
		t.Error("the poller has no schedule")
	}
	table := node(resources, "CheckpointTable", "Properties")
	if node(table, "BillingMode").Value != "PAY_PER_REQUEST" ||
		node(table, "PointInTimeRecoverySpecification", "PointInTimeRecoveryEnabled").Value != "true" {
		t.Error("the checkpoint table must be on-demand with point-in-time recovery")
	}
	if node(table, "KeySchema").Content[0].Content[1].Value != "service_id" {
		t.Error("the table's key must be service_id")
	}
	for _, r := range []string{"NotifierSecret", "PollerErrorsAlarm", "PollerMissedRunsAlarm", "PollerThrottlesAlarm", "Dashboard", "PollerLogGroup", "ReportLogGroup"} {
		if node(resources, r) == nil {
			t.Errorf("no %s", r)
		}
	}
	// The credentials outlive the stack, like the checkpoints.
	for _, r := range []string{"NotifierSecret", "CheckpointTable"} {
		if node(resources, r, "DeletionPolicy").Value != "Retain" || node(resources, r, "UpdateReplacePolicy").Value != "Retain" {
			t.Errorf("%s is not retained when the stack is deleted or replaced", r)
		}
	}
	// Every alarm says when it is over, too; a missed schedule is an alarm.
	for _, r := range []string{"PollerErrorsAlarm", "PollerMissedRunsAlarm", "PollerThrottlesAlarm"} {
		if node(resources, r, "Properties", "OKActions") == nil {
			t.Errorf("%s has no OKActions", r)
		}
	}
	if m := node(resources, "PollerMissedRunsAlarm", "Properties"); node(m, "MetricName").Value != "Invocations" ||
		node(m, "TreatMissingData").Value != "breaching" || node(m, "EvaluationPeriods").Value != "3" {
		t.Error("PollerMissedRunsAlarm must fire on 3 periods without an invocation")
	}
	// Tags on every resource that takes them (the dashboard takes none; the
	// functions get theirs from Globals).
	if node(&doc, "Globals", "Function", "Tags") == nil {
		t.Error("the functions carry no tags")
	}
	for _, r := range []string{"CheckpointTable", "NotifierSecret", "PollerLogGroup", "ReportLogGroup", "PollerErrorsAlarm", "PollerMissedRunsAlarm", "PollerThrottlesAlarm"} {
		if node(resources, r, "Properties", "Tags") == nil {
			t.Errorf("%s has no tags", r)
		}
	}
}

// TestTemplateLint runs cfn-lint (with the SAM translator), informational
// checks included, on template.yaml: clean, or the test says what it found.
func TestTemplateLint(t *testing.T) {
	lint, err := exec.LookPath("cfn-lint")
	if err != nil {
		t.Fatal("cfn-lint is not installed: pip install 'cfn-lint>=1.51' (it brings the SAM translator); `make lint` runs it too")
	}
	cmd := exec.Command(lint, "--include-checks", "I", "--", "template.yaml")
	cmd.Dir = moduleRoot(t)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("cfn-lint --include-checks I -- template.yaml: %v\n%s", err, out)
	}
}

// Issue 17: a failure waited up to five minutes before anyone heard of
// it. The poll runs every minute by default, and the missed-runs alarm's
// period matches it.
func TestTemplatePollsEveryMinute(t *testing.T) {
	b, err := os.ReadFile("../../template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Parameters map[string]struct {
			Default any `yaml:"Default"`
		} `yaml:"Parameters"`
	}
	if err := yaml.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(doc.Parameters["PollSchedule"].Default); got != "rate(1 minute)" {
		t.Errorf("PollSchedule default %q, want rate(1 minute)", got)
	}
	if got := fmt.Sprint(doc.Parameters["PollPeriodSeconds"].Default); got != "60" {
		t.Errorf("PollPeriodSeconds default %q, want 60", got)
	}
}
