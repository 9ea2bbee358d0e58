package notifier

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/modelarts-notifier/modelarts-notifier/notifier/domain"
)

func sampleProject(services int) *ProjectReport {
	at := FromMillis(time.Date(2026, 12, 6, 9, 0, 0, 0, time.UTC).UnixMilli())
	r := &ProjectReport{Type: KindProjectReport, GeneratedAt: at, ProjectID: "0123456789abcdef0123456789abcdef", Since: "24h",
		From: FromMillis(at.UnixMilli() - 24*3600_000), To: at,
		Totals: domain.ProjectTotals{Services: services, Deployments: services, Succeeded: services - 2, Failed: 1, Stalled: 1},
		Phases: []domain.PhaseStats{{Name: PhaseImageBuild, Count: 5, MedianMS: 60_000, P90MS: 90_000, MaxMS: 95_000},
			{Name: PhaseImagePull, Count: 8, MedianMS: 120_000, P90MS: 480_000, MaxMS: 510_000}},
		Failures: []domain.FailureGroup{{Phase: PhaseScheduling, Hint: "Not enough free resources.", Count: 1, Services: []string{"bert-ner"}}},
	}
	for i := range services {
		d := int64(81_000)
		r.Services = append(r.Services, domain.ServiceEntry{ServiceID: fmt.Sprintf("svc-%03d", i), ServiceName: fmt.Sprintf("service-%03d-%s", i, strings.Repeat("x", 40)),
			ServiceStatus: "running", Deployments: 1,
			Latest: &Summary{ServiceName: "s", Status: StatusSucceeded, Phase: PhaseModelStartup, StartedAt: at, DurationMS: &d,
				Events: []Event{{EventType: "normal", EventInfo: strings.Repeat("e", 900), OccurTime: 1}}}})
	}
	return r
}

func TestProjectBars(t *testing.T) {
	if got := bar(60_000, 90_000, 480_000); utf8.RuneCountInString(got) != barCells || !strings.HasPrefix(got, "██▌░") {
		t.Errorf("bar = %q", got)
	}
	if got := bar(480_000, 480_000, 480_000); got != strings.Repeat("█", barCells) {
		t.Errorf("full bar = %q", got)
	}
	for _, r := range bar(123_456, 400_000, 480_000) {
		if r != ' ' && (r < 0x2580 || r > 0x259F) {
			t.Errorf("bar rune %U outside the block elements", r)
		}
	}
	var buf bytes.Buffer
	if err := RenderProjectReport(&buf, sampleProject(3)); err != nil {
		t.Fatal(err)
	}
	// The bars line up: every bar line has its bar at the same column.
	var cols []int
	for l := range strings.Lines(buf.String()) {
		if i := strings.IndexAny(l, "█▏▎▍▌▋▊▉░"); i >= 0 && strings.Contains(l, " n=") {
			cols = append(cols, utf8.RuneCountInString(l[:i]))
		}
	}
	if len(cols) != 2 || cols[0] != cols[1] {
		t.Errorf("bar columns %v:\n%s", cols, buf.String())
	}
}

// 60 services: the Slack message, the chat cards and the webhook body stay
// within their limits and say what they left out.
func TestProjectReportWithinLimits(t *testing.T) {
	r := sampleProject(60)
	n := Notification{ID: "r", Kind: KindProjectReport, Timestamp: r.GeneratedAt, Project: r}
	blocks, _, cut := SlackBlocks(n)
	if len(blocks) > maxBlocks {
		t.Errorf("%d Slack blocks", len(blocks))
	}
	b, _ := json.Marshal(blocks)
	var raw []struct {
		Text *struct{ Text string } `json:"text"`
	}
	_ = json.Unmarshal(b, &raw)
	for _, bl := range raw {
		if bl.Text != nil && utf8.RuneCountInString(bl.Text.Text) > maxSectionText {
			t.Errorf("a section of %d characters", utf8.RuneCountInString(bl.Text.Text))
		}
	}
	if cut && !strings.Contains(string(b), "more services") {
		t.Errorf("Slack cut the services without saying so")
	}
	body, shortened, err := webhookBody(n)
	if err != nil || len(body) > MaxWebhookBody {
		t.Fatalf("webhook body %d bytes, %v", len(body), err)
	}
	var got struct {
		Type string `json:"type"`
		Data struct {
			Services        []json.RawMessage `json:"services"`
			ServicesOmitted int               `json:"services_omitted"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatal(err)
	}
	if got.Type != "project.report" || len(got.Data.Services)+got.Data.ServicesOmitted != 60 || shortened != (got.Data.ServicesOmitted > 0) {
		t.Errorf("webhook: type %s, %d services + %d omitted (shortened %v)", got.Type, len(got.Data.Services), got.Data.ServicesOmitted, shortened)
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if err := compileSchema(t, true).Validate(inst); err != nil {
		t.Errorf("project report body does not match the schema: %v", err)
	}
	md, _ := markdownWithin(n, wecomFlavor, MaxWeComContent)
	if len(md) > MaxWeComContent || !strings.Contains(md, "more services") {
		t.Errorf("WeCom markdown %d bytes, says what it left out: %v", len(md), strings.Contains(md, "more services"))
	}
	if tm, _, err := teamsCard(n); err != nil || jsonSize(tm) > MaxTeamsBody {
		t.Errorf("Teams card %d bytes, %v", jsonSize(tm), err)
	}
	if fm, _, err := feishuCardMessage(n); err != nil || jsonSize(fm) > MaxFeishuBody {
		t.Errorf("Feishu card %d bytes, %v", jsonSize(fm), err)
	}
}
