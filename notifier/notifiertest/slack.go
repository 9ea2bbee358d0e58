package notifiertest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// Slack's limits that SlackAPI checks, in characters.
const (
	MaxSlackBlocks      = 50
	MaxSlackHeaderText  = 150
	MaxSlackSectionText = 3000
	MaxSlackFields      = 10
	MaxSlackFieldText   = 2000
	MaxSlackElements    = 10 // elements of a context block
	MaxSlackText        = 40000
)

// SlackCall is one Web API call SlackAPI answered.
type SlackCall struct {
	Method   string // chat.postMessage or chat.update
	Channel  string
	TS       string // chat.update: the message updated
	ThreadTS string
	Text     string
	Blocks   string // JSON
}

// SlackAPI is a stand-in for Slack's Web API: chat.postMessage and
// chat.update, answering like Slack (a ts per posted message) and recording
// each call. It checks the token (a bearer header or a form field), and
// checks every message against Slack's limits and for unescaped "<!", "<@"
// or "<http" (a mention or a forged link): a message that fails is still
// answered ok, and what was wrong is listed by Violations. A call with a
// wrong token is answered invalid_auth and listed too.
type SlackAPI struct {
	*httptest.Server
	token  string
	faults *faultQueue

	mu         sync.Mutex
	seq        int
	calls      []SlackCall
	violations []string
}

// NewSlackAPI starts a Slack stand-in that accepts token. Point the bot's
// API URL at its URL. It is closed when t's test ends.
func NewSlackAPI(t testing.TB, token string) *SlackAPI {
	t.Helper()
	s := &SlackAPI{token: token, faults: newFaultQueue()}
	mux := http.NewServeMux()
	mux.HandleFunc("/chat.postMessage", s.handle("chat.postMessage"))
	mux.HandleFunc("/chat.update", s.handle("chat.update"))
	s.Server = httptest.NewServer(mux)
	t.Cleanup(s.Close)
	return s
}

// Close ends any hanging request, then shuts the server down.
func (s *SlackAPI) Close() {
	s.faults.stop()
	s.Server.Close()
}

// Fail makes the next n calls suffer f, after any faults already pending:
// faults are consumed in the order they were added. A fault applies before
// the token is checked.
func (s *SlackAPI) Fail(n int, f Fault) { s.faults.add(n, f) }

// ClearFaults drops every pending fault.
func (s *SlackAPI) ClearFaults() { s.faults.clear() }

func (s *SlackAPI) handle(method string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		fault := s.faults.next()
		switch fault {
		case TooManyRequests:
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusTooManyRequests)
			return
		case ServerError:
			w.WriteHeader(http.StatusInternalServerError)
			return
		case Hang:
			s.faults.hang(r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		if err := r.ParseForm(); err != nil {
			fmt.Fprint(w, `{"ok":false,"error":"invalid_form_data"}`)
			return
		}
		if r.Header.Get("Authorization") != "Bearer "+s.token && r.Form.Get("token") != s.token {
			s.violate(method + ": invalid_auth")
			fmt.Fprint(w, `{"ok":false,"error":"invalid_auth"}`)
			return
		}
		c := SlackCall{
			Method: method, Channel: r.Form.Get("channel"), TS: r.Form.Get("ts"),
			ThreadTS: r.Form.Get("thread_ts"), Text: r.Form.Get("text"), Blocks: r.Form.Get("blocks"),
		}
		problems := CheckSlackMessage(c.Text, c.Blocks)
		s.mu.Lock()
		s.seq++
		ts := c.TS
		if method == "chat.postMessage" {
			ts = fmt.Sprintf("1700000000.%06d", s.seq)
		}
		s.calls = append(s.calls, c)
		for _, p := range problems {
			s.violations = append(s.violations, method+": "+p)
		}
		s.mu.Unlock()
		if fault == AcceptAndHang {
			s.faults.hang(r)
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"ok": true, "channel": c.Channel, "ts": ts})
	}
}

func (s *SlackAPI) violate(why string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.violations = append(s.violations, why)
}

// Calls returns every call answered so far, in order.
func (s *SlackAPI) Calls() []SlackCall {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]SlackCall(nil), s.calls...)
}

// Take returns the calls answered since the last Take and forgets them.
func (s *SlackAPI) Take() []SlackCall {
	s.mu.Lock()
	defer s.mu.Unlock()
	got := s.calls
	s.calls = nil
	return got
}

// Violations returns what was wrong with the calls so far, one line each.
func (s *SlackAPI) Violations() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.violations...)
}

// CheckSlackMessage reports what in a message (its text and its blocks as
// JSON, either may be empty) breaks Slack's limits or would mention people
// or forge a link: nil when all is well.
func CheckSlackMessage(text, blocksJSON string) []string {
	var problems []string
	if text == "" && blocksJSON == "" {
		problems = append(problems, "no text and no blocks")
	}
	if n := len([]rune(text)); n > MaxSlackText {
		problems = append(problems, fmt.Sprintf("text of %d characters", n))
	}
	if p := unescaped(text); p != "" {
		problems = append(problems, fmt.Sprintf("unescaped %s in the text", p))
	}
	if blocksJSON == "" {
		return problems
	}
	type textObject struct {
		Type string `json:"type"`
		Text string `json:"text"`
	}
	var blocks []struct {
		Type     string            `json:"type"`
		Text     *textObject       `json:"text"`
		Fields   []textObject      `json:"fields"`
		Elements []json.RawMessage `json:"elements"`
	}
	if err := json.Unmarshal([]byte(blocksJSON), &blocks); err != nil {
		return append(problems, "blocks: "+err.Error())
	}
	if len(blocks) > MaxSlackBlocks {
		problems = append(problems, fmt.Sprintf("%d blocks", len(blocks)))
	}
	check := func(what string, o textObject, max int) {
		if n := len([]rune(o.Text)); n > max {
			problems = append(problems, fmt.Sprintf("%s text of %d characters", what, n))
		}
		if p := unescaped(o.Text); p != "" {
			problems = append(problems, fmt.Sprintf("unescaped %s in %s text", p, what))
		}
	}
	for _, b := range blocks {
		if b.Text != nil {
			limit := MaxSlackSectionText
			if b.Type == "header" {
				limit = MaxSlackHeaderText
			}
			check(b.Type, *b.Text, limit)
		}
		if len(b.Fields) > MaxSlackFields {
			problems = append(problems, fmt.Sprintf("%s with %d fields", b.Type, len(b.Fields)))
		}
		for _, f := range b.Fields {
			check(b.Type+" field", f, MaxSlackFieldText)
		}
		if len(b.Elements) > MaxSlackElements {
			problems = append(problems, fmt.Sprintf("%s with %d elements", b.Type, len(b.Elements)))
		}
		for _, raw := range b.Elements {
			var e textObject // an element that is not a text object has no text to check
			if json.Unmarshal(raw, &e) == nil {
				check(b.Type+" element", e, MaxSlackSectionText)
			}
		}
	}
	return problems
}

// unescaped returns the first markup in s that mentions people or makes a
// link ("<!", "<@", "<http"), or "".
func unescaped(s string) string {
	for _, m := range []string{"<!", "<@", "<http"} {
		if strings.Contains(s, m) {
			return m
		}
	}
	return ""
}
