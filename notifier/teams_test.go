package notifier

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// teamsWorkflow is a stand-in for a Workflows webhook: it takes a message
// with one Adaptive Card attachment and answers 202, and refuses anything
// else with 400 as a flow's trigger schema does.
func teamsWorkflow(t *testing.T) *chatRecorder {
	return newChatRecorder(t, func(w http.ResponseWriter, r *http.Request, body []byte) {
		var m struct {
			Type        string `json:"type"`
			Attachments []struct {
				ContentType string `json:"contentType"`
				Content     struct {
					Type    string            `json:"type"`
					Version string            `json:"version"`
					Body    []json.RawMessage `json:"body"`
				} `json:"content"`
			} `json:"attachments"`
		}
		if r.URL.Query().Get("sig") != chatToken || json.Unmarshal(body, &m) != nil || m.Type != "message" || len(m.Attachments) != 1 ||
			m.Attachments[0].ContentType != "application/vnd.microsoft.card.adaptive" || m.Attachments[0].Content.Type != "AdaptiveCard" ||
			len(m.Attachments[0].Content.Body) == 0 {
			w.WriteHeader(http.StatusBadRequest)
			_, _ = w.Write([]byte(`{"error":{"code":"TriggerInputSchemaMismatch"}}`))
			return
		}
		w.WriteHeader(http.StatusAccepted)
	})
}

func TestTeamsPostsAdaptiveCards(t *testing.T) {
	rec := teamsWorkflow(t)
	clk := newFakeClock()
	d := chatKinds[0].build(t, rec.URL, clk, nil, nil, RetryPolicy{})
	for i, r := range d.Notify(t.Context(), append(fixtures(), v2Fixtures()...)) {
		if r.Err != nil {
			t.Errorf("notification %d: %v", i, r.Err)
		}
	}
	if got := rec.hits.Load(); got != 1 {
		t.Errorf("%d requests for 9 notifications, want 1 digest", got)
	}
	for i, r := range d.Notify(t.Context(), fixtures()[:2]) {
		if r.Err != nil {
			t.Errorf("notification %d: %v", i, r.Err)
		}
	}
	if got := rec.hits.Load(); got != 3 {
		t.Errorf("%d requests, want 3", got)
	}
}

func TestTeamsURLs(t *testing.T) {
	tests := []struct{ url, wantErr string }{
		{"https://prod-01.westus.logic.azure.com:443/workflows/0f1e/triggers/manual/paths/invoke?api-version=2016-06-01&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig=" + chatToken, ""},
		{"https://default0f1e.01.environment.api.powerplatform.com:443/powerautomate/automations/direct/workflows/0f1e/triggers/manual/paths/invoke?api-version=1&sig=" + chatToken, ""},
		{"https://contoso.webhook.office.com/webhookb2/0f1e/IncomingWebhook/" + chatToken, "TEAMS_WEBHOOK_URLS: an Office 365 connector URL"},
		{"https://outlook.office.com/webhook/" + chatToken, "TEAMS_WEBHOOK_URLS: an Office 365 connector URL"},
		{"http://prod-01.westus.logic.azure.com/workflows/x?sig=" + chatToken, "TEAMS_WEBHOOK_URLS: http://"},
		{"::", "TEAMS_WEBHOOK_URLS: not a valid URL"},
	}
	for _, tt := range tests {
		_, err := NewTeams(TeamsConfig{URL: tt.url}, nil)
		if (err == nil) != (tt.wantErr == "") || (err != nil && !strings.HasPrefix(err.Error(), tt.wantErr)) {
			t.Errorf("NewTeams(%.60s) = %v, want %q", tt.url, err, tt.wantErr)
		}
		if err != nil && strings.Contains(err.Error(), chatToken) {
			t.Errorf("error shows the URL: %v", err)
		}
	}
}

// TestTeamsHelpLink: a safe help URL becomes a Troubleshooting button; an
// unsafe one is left out.
func TestTeamsHelpLink(t *testing.T) {
	n := fixture(KindFailed)
	n.Summary.Hint = "Pick another flavor or pool, or wait."
	n.Summary.HelpURL = "https://support.huaweicloud.com/intl/en-us/modelarts_faq/modelarts_05_0110.html"
	msg, _, err := teamsCard(n)
	if err != nil {
		t.Fatal(err)
	}
	if a := msg.Attachments[0].Content.Actions; len(a) != 1 || a[0].URL != n.Summary.HelpURL || a[0].Type != "Action.OpenUrl" {
		t.Errorf("actions = %+v", a)
	}
	n.Summary.HelpURL = "javascript:alert(1)"
	msg, _, _ = teamsCard(n)
	if a := msg.Attachments[0].Content.Actions; len(a) != 0 {
		t.Errorf("unsafe URL linked: %+v", a)
	}
}
