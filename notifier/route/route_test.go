package route

import (
	"slices"
	"strings"
	"testing"
	"time"
)

var (
	kinds  = []string{"deployment.succeeded", "deployment.failed", "deployment.stalled", "deployment.recovered", "service.abnormal", "deployment.report", "project.report"}
	phases = []string{"image_build", "environment", "scheduling", "image_pull", "model_startup"}
	dests  = []Destination{
		{Key: "slack-webhook", Name: "slack-webhook", Kind: "slack-webhook"},
		{Key: "slack-bot:C0PLATFORM", Name: "slack-bot:C0PLATFORM", Kind: "slack-bot"},
		{Key: "webhook-1a2b3c", Name: "pager", Kind: "webhook"},
		{Key: "webhook-4d5e6f", Name: "nlp-alerts", Kind: "webhook"},
		{Key: "webhook-7a8b9c", Name: "webhook-7a8b9c", Kind: "webhook"},
		{Key: "feishu-0f0f0f", Name: "vision-feishu", Kind: "feishu"},
	}
)

func mustParse(t *testing.T, doc string) *Table {
	t.Helper()
	tb, err := Parse(doc, dests, kinds, phases)
	if err != nil {
		t.Fatal(err)
	}
	return tb
}

const threeTeams = `
routes:
  - match:
      service: ["bert-*", "ner-*"]
    to: [nlp-alerts, "slack-bot:#nlp"]
  - match:
      service: ["yolo-?", "5f1c2a8e-*"]
    to: [vision-feishu]
    continue: true
  - match:
      type: [deployment.failed, deployment.stalled]
    to: [pager]
  - match:
      service: ["scratch-*"]
    to: []
  - match:
      generation: v2
      phase: [image_pull]
    to: [webhook]
default: [slack-webhook, slack-bot]
mute:
  - service: ["bench-*"]
    until: 2026-12-27T00:00:00+08:00
  - service: ["*-dev"]
    days: [sat, sun]
    hours: "00:00-24:00"
    location: Asia/Shanghai
`

func TestRoute(t *testing.T) {
	tb := mustParse(t, threeTeams)
	now := time.Date(2026, 12, 9, 12, 0, 0, 0, time.UTC) // a Wednesday
	tests := []struct {
		name   string
		q      Query
		to     []string
		muted  bool
		routed bool
	}{
		{"glob on the name", Query{ServiceName: "bert-ner", Type: "deployment.succeeded"}, []string{"webhook-4d5e6f", "slack-bot:#nlp"}, false, true},
		{"first route decides: no continue", Query{ServiceName: "ner-zh", Type: "deployment.failed"}, []string{"webhook-4d5e6f", "slack-bot:#nlp"}, false, true},
		{"? is one character", Query{ServiceName: "yolo-8", Type: "deployment.succeeded"}, []string{"feishu-0f0f0f"}, false, true},
		{"? is exactly one", Query{ServiceName: "yolo-88", Type: "deployment.succeeded"}, []string{"slack-webhook", "slack-bot:C0PLATFORM"}, false, false},
		{"glob on the id", Query{ServiceName: "x", ServiceID: "5f1c2a8e-0d4b", Type: "service.abnormal"}, []string{"feishu-0f0f0f"}, false, true},
		{"continue adds the next match", Query{ServiceName: "yolo-8", Type: "deployment.failed"}, []string{"webhook-1a2b3c", "feishu-0f0f0f"}, false, true},
		{"type alone", Query{ServiceName: "other", Type: "deployment.stalled", Phase: "scheduling"}, []string{"webhook-1a2b3c"}, false, true},
		{"[] drops", Query{ServiceName: "scratch-1", Type: "deployment.failed"}, []string{"webhook-1a2b3c"}, false, true},
		{"[] drops what matched it", Query{ServiceName: "scratch-1", Type: "deployment.succeeded"}, []string{}, false, true},
		{"a kind is every destination of it", Query{ServiceName: "llm", Type: "deployment.succeeded", Phase: "image_pull", Generation: "v2"}, []string{"webhook-1a2b3c", "webhook-4d5e6f", "webhook-7a8b9c"}, false, true},
		{"generation must match", Query{ServiceName: "llm", Type: "deployment.succeeded", Phase: "image_pull", Generation: "v1"}, []string{"slack-webhook", "slack-bot:C0PLATFORM"}, false, false},
		{"default", Query{ServiceName: "llm", Type: "deployment.succeeded"}, []string{"slack-webhook", "slack-bot:C0PLATFORM"}, false, false},
		// Muted, To says where it would go without the mute.
		{"absolute mute", Query{ServiceName: "bench-3", Type: "deployment.failed"}, []string{"webhook-1a2b3c"}, true, true},
		{"recurring mute off on a weekday", Query{ServiceName: "ocr-dev", Type: "deployment.succeeded"}, []string{"slack-webhook", "slack-bot:C0PLATFORM"}, false, false},
		{"a project report has no service", Query{Type: "project.report"}, []string{"slack-webhook", "slack-bot:C0PLATFORM"}, false, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := tb.Route(tc.q, now)
			if d.Muted != tc.muted || d.Routed != tc.routed || !slices.Equal(d.To, tc.to) && !(len(d.To) == 0 && len(tc.to) == 0) {
				t.Fatalf("Route(%+v) = %+v; want to %v muted %v routed %v", tc.q, d, tc.to, tc.muted, tc.routed)
			}
		})
	}
	if got := tb.Channels(); !slices.Equal(got, []string{"slack-bot:#nlp"}) {
		t.Errorf("Channels() = %v", got)
	}
	if d := tb.Route(Query{ServiceName: "scratch-1", Type: "deployment.succeeded"}, now); !d.Dropped() {
		t.Errorf("to: [] is not dropped: %+v", d)
	}
}

func TestRouteNoDocument(t *testing.T) {
	tb, err := Parse("  \n", dests, kinds, phases)
	if err != nil || tb != nil {
		t.Fatalf("Parse(empty) = %v, %v", tb, err)
	}
	if d := tb.Route(Query{ServiceName: "x"}, time.Now()); d.Muted || d.To != nil {
		t.Fatalf("nil table: %+v", d)
	}
	// A document with only mutes sends everything else everywhere.
	tb = mustParse(t, `{"mute": [{"service": "x"}]}`)
	if d := tb.Route(Query{ServiceName: "y"}, time.Now()); len(d.To) != len(dests) {
		t.Fatalf("mute-only document: %+v", d)
	}
	if d := tb.Route(Query{ServiceName: "x"}, time.Now()); !d.Muted {
		t.Fatalf("a mute without times holds always: %+v", d)
	}
	// all and kinds.
	tb = mustParse(t, `{"routes": [{"match": {"type": "service.abnormal"}, "to": ["all"]}], "default": ["webhook"]}`)
	if d := tb.Route(Query{ServiceName: "y", Type: "deployment.failed"}, time.Now()); !slices.Equal(d.To, []string{"webhook-1a2b3c", "webhook-4d5e6f", "webhook-7a8b9c"}) {
		t.Fatalf("default webhook: %+v", d)
	}
	if d := tb.Route(Query{ServiceName: "y", Type: "service.abnormal"}, time.Now()); len(d.To) != len(dests) {
		t.Fatalf("all: %+v", d)
	}
	// An omitted type matches only routes that do not filter on it.
	if d := tb.Route(Query{ServiceName: "y"}, time.Now()); d.Routed {
		t.Fatalf("no type matched a type filter: %+v", d)
	}
}

func at(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestMutes(t *testing.T) {
	tb := mustParse(t, `
mute:
  - service: abs-*
    from: 2026-12-20T00:00:00+08:00
    until: 2026-12-27T00:00:00+08:00
  - service: night-*
    days: [fri]
    hours: "22:00-08:00"
    location: Asia/Shanghai
  - service: dst-*
    hours: "01:00-03:00"
    location: America/New_York
  - service: typed-*
    type: deployment.succeeded
`)
	tests := []struct {
		svc, typ, at string
		muted        bool
	}{
		{"abs-1", "", "2026-12-19T15:59:59Z", false},
		{"abs-1", "", "2026-12-19T16:00:00Z", true},
		{"abs-1", "", "2026-12-26T15:59:59Z", true},
		{"abs-1", "", "2026-12-26T16:00:00Z", false}, // a mute that ended
		// Friday 2026-12-11, Shanghai = UTC+8.
		{"night-1", "", "2026-12-11T13:59:00Z", false}, // Fri 21:59
		{"night-1", "", "2026-12-11T14:00:00Z", true},  // Fri 22:00
		{"night-1", "", "2026-12-11T23:59:00Z", true},  // Sat 07:59: the window started Friday
		{"night-1", "", "2026-12-12T00:00:00Z", false}, // Sat 08:00
		{"night-1", "", "2026-12-12T14:00:00Z", false}, // Sat 22:00: not a Friday
		{"night-1", "", "2026-12-10T23:00:00Z", false}, // Fri 07:00: Thursday's window, not muted
		// New York, DST ends 2026-11-01 at 02:00 (clocks back to 01:00).
		{"dst-1", "", "2026-11-01T04:59:00Z", false}, // 00:59 EDT
		{"dst-1", "", "2026-11-01T05:30:00Z", true},  // 01:30 EDT
		{"dst-1", "", "2026-11-01T06:30:00Z", true},  // 01:30 EST (again)
		{"dst-1", "", "2026-11-01T07:59:00Z", true},  // 02:59 EST
		{"dst-1", "", "2026-11-01T08:00:00Z", false}, // 03:00 EST
		{"dst-1", "", "2026-03-08T06:30:00Z", true},  // 01:30 EST, the night clocks go forward
		{"dst-1", "", "2026-03-08T07:00:00Z", false}, // 03:00 EDT: 02:00-03:00 never happened
		{"typed-1", "deployment.succeeded", "2026-12-11T00:00:00Z", true},
		{"typed-1", "deployment.failed", "2026-12-11T00:00:00Z", false},
		{"typed-1", "", "2026-12-11T00:00:00Z", false},
	}
	for _, tc := range tests {
		want := tc.muted
		d := tb.Route(Query{ServiceName: tc.svc, Type: tc.typ}, at(t, tc.at))
		if d.Muted != want {
			t.Errorf("%s %s at %s: muted %v, want %v", tc.svc, tc.typ, tc.at, d.Muted, want)
		}
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, doc string
		want      []string
	}{
		{"unknown field", "routes:\n  - match: {servce: [a]}\n    to: [all]\n", []string{"ROUTES: ", "servce"}},
		{"unknown top-level field", "rotes: []\n", []string{"ROUTES: ", "rotes"}},
		{"not yaml", "routes: [\n", []string{"ROUTES: "}},
		{"unknown destination", "routes:\n  - match: {service: a}\n    to: [nlp-alert]\n", []string{"ROUTES: route 1: to: unknown destination \"nlp-alert\" (known: slack-webhook, slack-bot:C0PLATFORM, pager, nlp-alerts"}},
		{"missing to", "routes:\n  - match: {service: a}\n", []string{"ROUTES: route 1: to: missing"}},
		{"bad type", "routes:\n  - match: {type: deployment.fail}\n    to: [all]\n", []string{"route 1: match: type: unknown notification type \"deployment.fail\""}},
		{"bad phase", "routes:\n  - match: {phase: pull}\n    to: [all]\n", []string{"route 1: match: phase: unknown phase \"pull\""}},
		{"bad generation", "routes:\n  - match: {generation: v3}\n    to: [all]\n", []string{"route 1: match: generation: \"v3\" is not v1 or v2"}},
		{"empty glob", "routes:\n  - match: {service: [\"\"]}\n    to: [all]\n", []string{"route 1: match: service: an empty glob"}},
		{"bad default", "default: [nobody]\n", []string{"ROUTES: default: unknown destination \"nobody\""}},
		{"kind not configured", "default: [teams]\n", []string{"ROUTES: default: \"teams\": no teams destination is configured"}},
		{"bad channel", "default: [\"slack-bot:nlp\"]\n", []string{"ROUTES: default: \"slack-bot:nlp\": not a channel"}},
		{"bad zone", "mute:\n  - location: Mars/Olympus\n", []string{"ROUTES: mute 1: location: \"Mars/Olympus\" is not an IANA time zone"}},
		{"bad until", "mute:\n  - until: tomorrow\n", []string{"ROUTES: mute 1: until: \"tomorrow\" is not an RFC 3339 time"}},
		{"until before from", "mute:\n  - from: 2026-12-27T00:00:00Z\n    until: 2026-12-20T00:00:00Z\n", []string{"mute 1: until: 2026-12-20T00:00:00Z is not after from"}},
		{"bad day", "mute:\n  - days: [funday]\n", []string{"ROUTES: mute 1: days: \"funday\" is not a day"}},
		{"bad hours", "mute:\n  - hours: \"25:00-26:00\"\n", []string{"ROUTES: mute 1: hours: \"25:00-26:00\""}},
		{"empty hours", "mute:\n  - hours: \"08:00-08:00\"\n", []string{"mute 1: hours: \"08:00-08:00\": an empty range"}},
		{"several at once", "routes:\n  - match: {phase: pull}\n    to: [x]\n  - match: {type: y}\n    to: []\n", []string{"ROUTES: 3 problems:", "route 1: match: phase", "route 1: to: unknown destination \"x\"", "route 2: match: type"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse(tc.doc, dests, kinds, phases)
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
		})
	}
}

func TestSlackBotChannelNeedsABot(t *testing.T) {
	_, err := Parse(`default: ["slack-bot:#nlp"]`, dests[2:], kinds, phases)
	if err == nil || !strings.Contains(err.Error(), "no Slack bot is configured") {
		t.Fatalf("err = %v", err)
	}
	// The configured bot's own channel is that destination, not another.
	tb := mustParse(t, `default: ["slack-bot:C0PLATFORM"]`)
	if len(tb.Channels()) != 0 {
		t.Fatalf("Channels() = %v", tb.Channels())
	}
}

func FuzzParse(f *testing.F) {
	f.Add(threeTeams)
	f.Add(`{"routes":[{"match":{"service":"*"},"to":[]}]}`)
	f.Fuzz(func(t *testing.T, doc string) {
		tb, err := Parse(doc, dests, kinds, phases)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "ROUTES: ") {
				t.Fatalf("error without ROUTES: %v", err)
			}
			return
		}
		tb.Route(Query{ServiceName: "a", Type: "deployment.failed"}, time.Now())
	})
}
