package setup

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// Issue 21: the template schedules the daily project report
// (ReportSchedule, default cron(0 1 * * ? *), 09:00 China Standard Time),
// posting {"since": "24h", "notify": true}; an empty ReportSchedule turns
// it off through a condition; the dashboard shows the report function.
func TestTemplateDailyReport(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(moduleRoot(t), "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	if p := node(&doc, "Parameters", "ReportSchedule", "Default"); p == nil || p.Value != "cron(0 1 * * ? *)" {
		t.Errorf("ReportSchedule's default is not cron(0 1 * * ? *): %v", p)
	}
	cond := node(&doc, "Conditions", "HasReportSchedule")
	if cond == nil || !strings.Contains(strings.Join(refs(cond), ","), "ReportSchedule") {
		t.Fatal("no condition HasReportSchedule on ReportSchedule")
	}
	ev := node(&doc, "Resources", "ReportFunction", "Properties", "Events", "DailyReport")
	if ev == nil || node(ev, "Type").Value != "Schedule" {
		t.Fatal("the report function has no DailyReport schedule")
	}
	props := node(ev, "Properties")
	var input struct {
		Since  string `json:"since"`
		Notify bool   `json:"notify"`
		ID     string `json:"service_id"`
	}
	if err := json.Unmarshal([]byte(node(props, "Input").Value), &input); err != nil || input.Since != "24h" || !input.Notify || input.ID != "" {
		t.Errorf("DailyReport's input %q (%v), want {\"since\": \"24h\", \"notify\": true}", node(props, "Input").Value, err)
	}
	for _, key := range []string{"Schedule", "State"} {
		if n := node(props, key); n == nil || n.Tag != "!If" || n.Content[0].Value != "HasReportSchedule" {
			t.Errorf("DailyReport's %s does not follow HasReportSchedule", key)
		}
	}
	if body := node(&doc, "Resources", "Dashboard", "Properties", "DashboardBody"); body == nil ||
		!strings.Contains(body.Content[0].Value, "${ReportFunction}") {
		t.Error("the dashboard shows nothing of the report function")
	}
}
