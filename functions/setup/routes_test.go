package setup

import (
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/modelarts-notifier/modelarts-notifier/notifier"
	"github.com/modelarts-notifier/modelarts-notifier/notifier/route"
)

// Named entries, ROUTES, and a Slack bot in a second channel, through the
// functions' start-up path.
func TestRoutedDestinations(t *testing.T) {
	env := with(base(),
		"WEBHOOK_URLS", "pager=https://pager.example.com/hook,nlp-alerts=https://nlp.example.com/hook,https://other.example.com/hook",
		"SLACK_BOT_TOKEN", "xoxb-s3cr3t", "SLACK_CHANNEL", "C0PLATFORM",
		"ROUTES", `
routes:
  - match: {service: ["bert-*"]}
    to: [nlp-alerts, "slack-bot:#nlp"]
  - match: {type: [deployment.failed]}
    to: [pager]
default: [slack-bot]
`)
	setEnv(t, env)
	c, err := LoadPoller(false)
	if err != nil {
		t.Fatal(err)
	}
	ds, tb, err := c.RoutedDestinations(slog.New(slog.DiscardHandler), nil)
	if err != nil {
		t.Fatal(err)
	}
	names := destNames(t, ds)
	// Recorded names are the URLs' hashes whether named or not: naming an
	// entry re-sends nothing.
	plain := with(base(), "WEBHOOK_URLS", "https://pager.example.com/hook,https://nlp.example.com/hook,https://other.example.com/hook",
		"SLACK_BOT_TOKEN", "xoxb-s3cr3t", "SLACK_CHANNEL", "C0PLATFORM", "ROUTES", "")
	setEnv(t, plain)
	c2, err := LoadPoller(false)
	if err != nil {
		t.Fatal(err)
	}
	ds2, err := c2.Destinations(slog.New(slog.DiscardHandler), nil)
	if err != nil {
		t.Fatal(err)
	}
	if want := append(destNames(t, ds2), "slack-bot:#nlp *notifier.SlackBot"); !slices.Equal(names, want) {
		t.Fatalf("named destinations %v, want the unnamed ones' %v and the second channel", names, want)
	}
	names = nil
	for _, d := range ds {
		names = append(names, d.Name)
	}
	now := time.Date(2026, 12, 9, 12, 0, 0, 0, time.UTC)
	d := tb.Route(route.Query{ServiceName: "bert-ner", Type: "deployment.failed"}, now)
	if !slices.Equal(d.To, []string{names[2], "slack-bot:#nlp"}) {
		t.Errorf("bert-ner failed goes to %v, want nlp-alerts (%s) and slack-bot:#nlp", d.To, names[2])
	}
	d = tb.Route(route.Query{ServiceName: "yolo", Type: "deployment.failed"}, now)
	if !slices.Equal(d.To, []string{names[1]}) {
		t.Errorf("yolo failed goes to %v, want pager (%s)", d.To, names[1])
	}
	d = tb.Route(route.Query{ServiceName: "yolo", Type: "deployment.succeeded"}, now)
	if !slices.Equal(d.To, []string{"slack-bot:C0PLATFORM"}) {
		t.Errorf("default goes to %v", d.To)
	}
}

// A bad ROUTES document stops start-up with one message naming ROUTES and
// where in it, alongside the other problems.
func TestRoutesErrors(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want string
	}{
		{"unknown destination", with(base(), "WEBHOOK_URLS", "pager=https://p.example.com/h", "ROUTES", "default: [pagr]"),
			`ROUTES: default: unknown destination "pagr"`},
		{"unknown field", with(base(), "WEBHOOK_URLS", "https://p.example.com/h", "ROUTES", "routes:\n  - match: {sevice: a}\n    to: [all]\n"),
			"ROUTES: "},
		{"route number and field", with(base(), "WEBHOOK_URLS", "https://p.example.com/h", "ROUTES", "routes:\n  - match: {service: a}\n    to: [all]\n  - match: {phase: pull}\n    to: [all]\n"),
			`ROUTES: route 2: match: phase: unknown phase "pull"`},
		{"a bad entry name", with(base(), "WEBHOOK_URLS", "Pager=https://p.example.com/h"),
			"WEBHOOK_URLS: URL #1: the name before"},
		{"a kind as a name", with(base(), "WEBHOOK_URLS", "teams=https://p.example.com/h"),
			`WEBHOOK_URLS: URL #1: the name "teams" is a destination kind`},
		{"a name twice", with(base(), "WEBHOOK_URLS", "a=https://p.example.com/h,a=https://q.example.com/h"),
			`WEBHOOK_URLS: URL #2: the name "a" is given to URL #1 too`},
		{"one name, two variables", with(base(), "WEBHOOK_URLS", "a=https://p.example.com/h", "TEAMS_WEBHOOK_URLS", "a=https://q.example.com/h", "ROUTES", "default: [a]"),
			`ROUTES: two destinations are named "a"`},
		{"one name, two variables, no ROUTES", with(base(), "WEBHOOK_URLS", "a=https://p.example.com/h", "TEAMS_WEBHOOK_URLS", "a=https://q.example.com/h"),
			`ROUTES: two destinations are named "a"`},
		{"along with another problem", with(base(), "MODELARTS_CONCURRENCY", "0", "WEBHOOK_URLS", "https://p.example.com/h", "ROUTES", "default: [x]"),
			"MODELARTS_CONCURRENCY"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			setEnv(t, tc.env)
			_, err := LoadPoller(false)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to say %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "example.com") {
				t.Fatalf("the error shows a URL: %v", err)
			}
		})
	}
}

func TestConsoleURLVariable(t *testing.T) {
	setEnv(t, with(base(), "CONSOLE_URL", "https://console.example.com/{servce_id}"))
	if _, err := LoadPoller(false); err == nil || !strings.Contains(err.Error(), "CONSOLE_URL: unknown placeholder {servce_id}") {
		t.Fatalf("err = %v", err)
	}
	setEnv(t, with(base(), "CONSOLE_URL", "https://console.example.com/{service_id}", "MODELARTS_REGION", "ap-southeast-1"))
	c, err := LoadPoller(false)
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Console().URL(notifierValues("s1")); got != "https://console.example.com/s1" {
		t.Fatalf("console URL %q", got)
	}
	setEnv(t, with(base(), "CONSOLE_URL", "", "MODELARTS_REGION", "ap-southeast-1"))
	c, _ = LoadPoller(false)
	if got := c.Console().URL(notifierValues("s1")); !strings.HasPrefix(got, "https://console-intl.huaweicloud.com/") {
		t.Fatalf("default outside cn-: %q", got)
	}
}

func notifierValues(id string) notifier.ConsoleValues {
	return notifier.ConsoleValues{Region: "ap-southeast-1", ServiceID: id}
}
