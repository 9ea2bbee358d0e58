package notifiertest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

// NewTeams starts a Microsoft Teams Workflows webhook stand-in ("When a
// Teams webhook request is received"): the sig query parameter is the
// credential (401 without it); the body must be a message with one
// Adaptive Card attachment, at most MaxTeamsRequest bytes (413 beyond);
// a card that mentions (<at>, msteams.entities) or whose TextBlocks carry
// markdown links is refused (400). Accepted: 202 with no body. Rate
// limited: 429 with Retry-After: 1; busy: 502 or 503. Teams documents no
// per-minute limit (it throttles more than four requests a second, which
// the stand-in does not count). It is closed when t's test ends.
func NewTeams(t testing.TB, cfg ChatConfig) *ChatServer {
	t.Helper()
	return newChatServer(t, PlatformTeams, teamsStandIn{}, cfg)
}

type teamsStandIn struct{}

func (teamsStandIn) path(token string) string {
	return "/workflows/" + token + "/triggers/manual/paths/invoke?api-version=1&sig=" + token
}

func (teamsStandIn) perMinute() int { return 0 }

func (teamsStandIn) ok() chatAnswer { return chatAnswer{status: http.StatusAccepted} }

func (teamsStandIn) rateLimited(int) chatAnswer {
	return chatAnswer{status: http.StatusTooManyRequests, header: map[string]string{"Retry-After": "1"},
		body: `{"error":{"code":"TooManyRequests","message":"Rate limit is exceeded."}}`}
}

func (teamsStandIn) busy(n int) chatAnswer {
	return chatAnswer{status: []int{http.StatusBadGateway, http.StatusServiceUnavailable}[n%2]}
}

// teamsCard is the part of a Workflows message the stand-in reads.
type teamsCard struct {
	Type        string `json:"type"`
	Attachments []struct {
		ContentType string `json:"contentType"`
		Content     struct {
			Type    string            `json:"type"`
			Version string            `json:"version"`
			MSTeams map[string]any    `json:"msteams"`
			Body    []json.RawMessage `json:"body"`
		} `json:"content"`
	} `json:"attachments"`
}

type teamsElement struct {
	Type  string `json:"type"`
	Text  string `json:"text"`
	Facts []struct {
		Title string `json:"title"`
		Value string `json:"value"`
	} `json:"facts"`
	Inlines []struct {
		Type string `json:"type"`
		Text string `json:"text"`
	} `json:"inlines"`
}

func (teamsStandIn) card(body []byte) (teamsCard, error) {
	var c teamsCard
	if err := json.Unmarshal(body, &c); err != nil {
		return c, err
	}
	if c.Type != "message" || len(c.Attachments) != 1 || c.Attachments[0].ContentType != "application/vnd.microsoft.card.adaptive" ||
		c.Attachments[0].Content.Type != "AdaptiveCard" || len(c.Attachments[0].Content.Body) == 0 {
		return c, fmt.Errorf("not a message with one Adaptive Card")
	}
	return c, nil
}

func (p teamsStandIn) check(s *ChatServer, r *http.Request, body []byte, _ time.Time) (string, chatAnswer) {
	bad := func(status int, why string) (string, chatAnswer) {
		return "teams: " + why, chatAnswer{status: status, body: `{"error":{"code":"BadRequest","message":"` + http.StatusText(status) + `"}}`}
	}
	if r.Method != http.MethodPost || r.URL.Query().Get("sig") != s.token {
		return bad(http.StatusUnauthorized, "wrong or missing sig")
	}
	if len(body) > MaxTeamsRequest {
		return bad(http.StatusRequestEntityTooLarge, fmt.Sprintf("body of %d bytes (Request Entity Too Large)", len(body)))
	}
	c, err := p.card(body)
	if err != nil {
		return bad(http.StatusBadRequest, err.Error())
	}
	if _, ok := c.Attachments[0].Content.MSTeams["entities"]; ok {
		return bad(http.StatusBadRequest, "msteams.entities (a mention)")
	}
	var why string
	_ = jsonStrings(body, func(key, v string) {
		if why == "" && strings.Contains(strings.ToLower(v), "<at>") {
			why = fmt.Sprintf("mention markup <at> in %s %q", key, v)
		}
	})
	for _, raw := range c.Attachments[0].Content.Body {
		var el teamsElement
		if json.Unmarshal(raw, &el) == nil && el.Type == "TextBlock" && why == "" {
			if l := linkMarkup(el.Text); l != "" {
				why = l + " in a TextBlock"
			}
		}
	}
	if why != "" {
		return bad(http.StatusBadRequest, why)
	}
	return "", chatAnswer{}
}

func (p teamsStandIn) lines(body []byte) ([]string, error) {
	c, err := p.card(body)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, raw := range c.Attachments[0].Content.Body {
		var el teamsElement
		if err := json.Unmarshal(raw, &el); err != nil {
			return nil, err
		}
		switch el.Type {
		case "TextBlock":
			out = append(out, el.Text)
		case "FactSet":
			for _, f := range el.Facts {
				out = append(out, f.Title+": "+f.Value)
			}
		case "RichTextBlock":
			var b strings.Builder
			for _, in := range el.Inlines {
				b.WriteString(in.Text)
			}
			out = append(out, b.String())
		}
	}
	return out, nil
}
