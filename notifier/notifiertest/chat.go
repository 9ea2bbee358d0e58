package notifiertest

// Stand-ins for the chat platforms package notifier posts to: Microsoft
// Teams Workflows webhooks, Feishu/Lark custom bots, DingTalk custom robots
// and WeCom group robots. Each is one ChatServer: it checks every request as
// its platform does (credential in the URL, signature, size limit, message
// shape) and refuses mention or link markup, answering refusals with the
// platform's own error answer; it keeps the platform's per-minute rate
// limit on its clock (answering the platform's "too fast" when exceeded); it
// can be told to fail the next requests (Fail) with the platform's
// rate-limit answer (TooManyRequests), its busy answer (ServerError), or a
// hang; and it records each message it accepted, parsed back into what a
// reader sees: a single notification (kind, service, phase, start) or a
// digest (its counts by kind and the notifications it lists).
//
// The platform bodies carry no notification id. What identifies a
// notification in them is what a reader sees: the kind (the title), the
// service id and phase (facts), the deployment's start (the closing line)
// and, for abnormal events, the event's text and time. A digest names each
// notification by kind, service and outcome (phase included) and quotes its
// last event; past its budget it lists only the first ones ("… and N more"),
// but its counts by kind always cover all of them.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/modelarts-notifier/modelarts-notifier/notifier"
)

// Chat platforms.
const (
	PlatformTeams    = "teams"
	PlatformFeishu   = "feishu"
	PlatformDingTalk = "dingtalk"
	PlatformWeCom    = "wecom"
)

// Platform limits the stand-ins enforce.
const (
	// MaxTeamsRequest: Teams takes "about 28 KB" a message; the stand-in
	// refuses bodies above 28 KiB with 413 Request Entity Too Large.
	MaxTeamsRequest = 28 << 10
	// MaxFeishuRequest: Feishu's custom bots take request bodies of at most
	// 20 KB.
	MaxFeishuRequest = 20 << 10
	// MaxDingTalkMarkdown: DingTalk refuses a markdown text above 20,000
	// bytes (errcode 460101, "message too long").
	MaxDingTalkMarkdown = 20_000
	// MaxWeComMarkdown: WeCom's markdown content is at most 4,096 bytes
	// (errcode 40058).
	MaxWeComMarkdown = 4096
)

// ChatConfig configures a chat stand-in.
type ChatConfig struct {
	// Secret is the bot's signing secret (Feishu, DingTalk): every request
	// must then be signed with it. "": the bot does not sign.
	Secret string
	// Keyword is a DingTalk keyword-security robot's keyword: every message
	// must contain it.
	Keyword string
	// Now is the platform's clock: signature timestamps must be within an
	// hour of it, and the per-minute rate limit is counted on it. nil: the
	// real clock.
	Now func() time.Time
	// Round stamps each accepted message (as WithRound does).
	Round func() int64
}

// ChatItem is one notification as a chat message shows it.
type ChatItem struct {
	Kind notifier.Kind
	// Service is the service name in the title or digest line.
	Service string
	// ServiceID is the "Service ID" fact (single messages only).
	ServiceID string
	// Phase is the "Phase" fact, or the phase a digest line names.
	Phase string
	// Started is the deployment's start as the closing line shows it
	// ("2030-01-07 09:12:10 UTC"; single messages only, "" for runtime
	// events).
	Started string
	// Text is every line that belongs to it, joined with "\n".
	Text string
}

// ChatMessage is one message a chat stand-in accepted.
type ChatMessage struct {
	Platform string
	Round    int64
	At       time.Time // on the stand-in's clock
	Body     []byte
	// Lines is the text as a reader sees it, one line each, markup taken
	// out.
	Lines []string
	// Digest: the message stands for several notifications.
	Digest bool
	// Total is how many notifications a digest says it holds; Counts them
	// by kind.
	Total  int
	Counts map[notifier.Kind]int
	// Items is a single message's notification, or the notifications a
	// digest lists.
	Items []ChatItem
	// More is how many notifications a digest holds but does not list.
	More int
}

// ChatServer is a chat platform stand-in on loopback.
type ChatServer struct {
	*httptest.Server
	// WebhookURL is the URL to configure the destination with (it holds
	// the bot's credential).
	WebhookURL string
	// Platform is one of PlatformTeams, PlatformFeishu, PlatformDingTalk
	// and PlatformWeCom.
	Platform string

	cfg    ChatConfig
	token  string
	faults *faultQueue
	p      chatPlatform

	mu        sync.Mutex
	msgs      []ChatMessage
	rejected  []string
	throttled []string
	requests  int
	accepted  []time.Time // for the rate limit
	flip      int
}

// chatPlatform is what differs between the platforms.
type chatPlatform interface {
	// path is the webhook's path and query for token.
	path(token string) string
	// check refuses a request that is not what the platform takes:
	// why it was refused (a line for Rejected) and the platform's answer.
	check(s *ChatServer, r *http.Request, body []byte, now time.Time) (why string, ans chatAnswer)
	// lines is what a reader sees of an accepted body.
	lines(body []byte) ([]string, error)
	// perMinute is the platform's per-minute rate limit (0: none).
	perMinute() int
	// answers: accepted, rate limited (n picks among variants), busy.
	ok() chatAnswer
	rateLimited(n int) chatAnswer
	busy(n int) chatAnswer
}

// chatAnswer is an HTTP answer.
type chatAnswer struct {
	status int
	header map[string]string
	body   string // JSON, or "" for none
}

func (a chatAnswer) write(w http.ResponseWriter) {
	for k, v := range a.header {
		w.Header().Set(k, v)
	}
	if a.body != "" {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
	}
	w.WriteHeader(a.status)
	if a.body != "" {
		_, _ = io.WriteString(w, a.body)
	}
}

// codeAnswer is a 200 (or status) answer with a JSON body.
func codeAnswer(status int, body string) chatAnswer { return chatAnswer{status: status, body: body} }

func newChatServer(t testing.TB, platform string, p chatPlatform, cfg ChatConfig) *ChatServer {
	t.Helper()
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	s := &ChatServer{Platform: platform, cfg: cfg, p: p, faults: newFaultQueue(),
		token: platform + "-token-" + strconv.FormatInt(time.Now().UnixNano()%1_000_000, 36)}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	s.WebhookURL = s.URL + p.path(s.token)
	t.Cleanup(s.Close)
	return s
}

// Close ends any hanging request, then shuts the server down.
func (s *ChatServer) Close() {
	s.faults.stop()
	s.Server.Close()
}

// Fail makes the next n requests suffer f, after any faults already
// pending: TooManyRequests answers the platform's rate-limit answer,
// ServerError its busy answer, Hang and AcceptAndHang as for every
// stand-in. A fault applies before any check.
func (s *ChatServer) Fail(n int, f Fault) { s.faults.add(n, f) }

// ClearFaults drops every pending fault.
func (s *ChatServer) ClearFaults() { s.faults.clear() }

func (s *ChatServer) serve(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	s.requests++
	s.flip++
	flip := s.flip
	s.mu.Unlock()
	fault := s.faults.next()
	switch fault {
	case TooManyRequests:
		s.p.rateLimited(flip).write(w)
		return
	case ServerError:
		s.p.busy(flip).write(w)
		return
	case Hang:
		s.faults.hang(r)
		return
	}
	now := s.cfg.Now()
	if why, ans := s.p.check(s, r, body, now); why != "" {
		s.mu.Lock()
		s.rejected = append(s.rejected, why)
		s.mu.Unlock()
		ans.write(w)
		return
	}
	lines, err := s.p.lines(body)
	if err != nil {
		s.mu.Lock()
		s.rejected = append(s.rejected, "malformed: "+err.Error())
		s.mu.Unlock()
		http.Error(w, "malformed", http.StatusBadRequest)
		return
	}
	msg := parseChatLines(lines)
	msg.Platform, msg.Body, msg.At = s.Platform, body, now
	if s.cfg.Round != nil {
		msg.Round = s.cfg.Round()
	}
	s.mu.Lock()
	if n := s.p.perMinute(); n > 0 {
		in := 0
		for _, at := range s.accepted {
			if at.After(now.Add(-time.Minute)) {
				in++
			}
		}
		if in >= n {
			s.throttled = append(s.throttled, fmt.Sprintf("%s: more than %d messages within a minute (at %s)", s.Platform, n, now.UTC().Format(time.RFC3339)))
			s.mu.Unlock()
			s.p.rateLimited(flip).write(w)
			return
		}
	}
	s.accepted = append(s.accepted, now)
	s.msgs = append(s.msgs, msg)
	s.mu.Unlock()
	if fault == AcceptAndHang {
		s.faults.hang(r)
		return
	}
	s.p.ok().write(w)
}

// Messages returns every message accepted so far, in arrival order.
func (s *ChatServer) Messages() []ChatMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]ChatMessage(nil), s.msgs...)
}

// Take returns the messages accepted since the last Take and forgets them.
func (s *ChatServer) Take() []ChatMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	got := s.msgs
	s.msgs = nil
	return got
}

// Rejected returns why each refused request was refused: a wrong
// credential or signature, a message over the platform's limits, mention
// or link markup, a malformed body.
func (s *ChatServer) Rejected() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.rejected...)
}

// Throttled lists the requests refused for exceeding the platform's
// per-minute rate limit (injected faults are not listed).
func (s *ChatServer) Throttled() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.throttled...)
}

// Requests counts the requests received, faulted ones included.
func (s *ChatServer) Requests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests
}

// ---- parsing what a reader sees ----

// kindByTitle maps a kind's title ("Deployment failed") to the kind.
var kindByTitle = func() map[string]notifier.Kind {
	m := map[string]notifier.Kind{}
	for _, k := range notifier.Kinds {
		m[k.Title()] = k
	}
	return m
}()

var (
	digestTitle  = regexp.MustCompile(`^(\d+) ModelArts notifications$`)
	digestCount  = regexp.MustCompile(`(\d+) ((?:deployment|service)\.[a-z_]+)`)
	digestMore   = regexp.MustCompile(`^… and (\d+) more$`)
	outcomePhase = regexp.MustCompile(`(?:^|, )(?:failed in|stalled in|recovered, now in|in progress,) ([a-z_]+)`)
	keywordMark  = regexp.MustCompile(`^【[^】]*】`)
)

// cleanLine takes markdown emphasis, quote marks, heading marks and WeCom
// font tags out of a line.
func cleanLine(s string) string {
	s = strings.TrimSpace(s)
	s = strings.TrimPrefix(s, "#### ")
	s = strings.TrimPrefix(s, "> ")
	s = strings.ReplaceAll(s, "**", "")
	s = strings.ReplaceAll(s, `<font color="comment">`, "")
	s = strings.ReplaceAll(s, "</font>", "")
	return strings.TrimSpace(s)
}

// stripIcon drops a keyword mark and a leading emoji ("❌ ").
func stripIcon(s string) string {
	s = keywordMark.ReplaceAllString(s, "")
	if r, _ := utf8.DecodeRuneInString(s); r != utf8.RuneError && !unicode.IsLetter(r) && !unicode.IsDigit(r) {
		if i := strings.IndexByte(s, ' '); i > 0 {
			return s[i+1:]
		}
	}
	return s
}

// titleItem reads "Deployment failed: svc" (icon stripped).
func titleItem(s string) (ChatItem, bool) {
	title, rest, ok := strings.Cut(s, ": ")
	if !ok {
		return ChatItem{}, false
	}
	k, ok := kindByTitle[title]
	if !ok {
		return ChatItem{}, false
	}
	return ChatItem{Kind: k, Service: rest}, true
}

// parseChatLines reads a message's lines: a digest ("N ModelArts
// notifications", the counts, one line per listed notification followed by
// its quotes) or a single notification (title, facts, closing line).
func parseChatLines(raw []string) ChatMessage {
	var lines []string
	for _, l := range raw {
		for part := range strings.SplitSeq(l, "\n") {
			if c := cleanLine(part); c != "" {
				lines = append(lines, c)
			}
		}
	}
	m := ChatMessage{Lines: lines}
	if len(lines) == 0 {
		return m
	}
	title := stripIcon(lines[0])
	if g := digestTitle.FindStringSubmatch(title); g != nil {
		m.Digest = true
		m.Total, _ = strconv.Atoi(g[1])
		m.Counts = map[notifier.Kind]int{}
		rest := lines[1:]
		if len(rest) > 0 && digestCount.MatchString(rest[0]) {
			for _, c := range digestCount.FindAllStringSubmatch(rest[0], -1) {
				n, _ := strconv.Atoi(c[1])
				m.Counts[notifier.Kind(c[2])] += n
			}
			rest = rest[1:]
		}
		for _, l := range rest {
			if g := digestMore.FindStringSubmatch(l); g != nil {
				m.More, _ = strconv.Atoi(g[1])
				continue
			}
			if it, ok := titleItem(stripIcon(l)); ok {
				name, outcome, _ := strings.Cut(it.Service, ", ")
				it.Service = name
				if g := outcomePhase.FindStringSubmatch(", " + outcome); g != nil {
					it.Phase = g[1]
				}
				it.Text = l
				m.Items = append(m.Items, it)
				continue
			}
			if n := len(m.Items); n > 0 {
				m.Items[n-1].Text += "\n" + l
			}
		}
		return m
	}
	it, ok := titleItem(title)
	if !ok {
		return m
	}
	for _, l := range lines[1:] {
		switch {
		case strings.HasPrefix(l, "Service ID: "):
			it.ServiceID = strings.TrimPrefix(l, "Service ID: ")
		case strings.HasPrefix(l, "Phase: "):
			it.Phase = strings.TrimPrefix(l, "Phase: ")
		case strings.HasPrefix(l, "Started "):
			started, _, _ := strings.Cut(strings.TrimPrefix(l, "Started "), " · ")
			it.Started = started
		}
	}
	it.Text = strings.Join(lines, "\n")
	m.Items = []ChatItem{it}
	return m
}

// ---- markup checks shared by the platforms ----

// linkMarkup reports a markdown link or image in s whose label is not
// one of the product's own ("Troubleshooting", to an https page).
func linkMarkup(s string) string {
	for i := 0; ; {
		j := strings.Index(s[i:], "](")
		if j < 0 {
			return ""
		}
		at := i + j
		open := strings.LastIndexByte(s[:at], '[')
		if open < 0 || s[open+1:at] != "Troubleshooting" || !strings.HasPrefix(s[at+2:], "https://") {
			end := min(len(s), at+40)
			return fmt.Sprintf("markdown link %q", s[max(open, 0):end])
		}
		i = at + 2
	}
}

// atMarkup reports "@" mention markup in markdown text: the platforms
// (DingTalk, WeCom) turn "@mobile", "@all" and "@所有人" into mentions;
// the product writes no "@" of its own.
func atMarkup(s string) string {
	if i := strings.IndexByte(s, '@'); i >= 0 {
		end := min(len(s), i+20)
		return fmt.Sprintf("unescaped @ in %q", s[i:end])
	}
	return ""
}

// jsonStrings walks a JSON document in order and calls fn with each
// string value and the key it is under ("" in arrays).
func jsonStrings(body []byte, fn func(key, value string)) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	type frame struct {
		object bool
		key    string
		expect bool // object: the next string is a key
	}
	var stack []frame
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		top := len(stack) - 1
		switch v := tok.(type) {
		case json.Delim:
			switch v {
			case '{', '[':
				if top >= 0 && stack[top].object {
					stack[top].expect = true
				}
				stack = append(stack, frame{object: v == '{', expect: v == '{'})
			default:
				stack = stack[:top]
			}
			continue
		case string:
			if top >= 0 && stack[top].object && stack[top].expect {
				stack[top].key = v
				stack[top].expect = false
				continue
			}
			key := ""
			if top >= 0 && stack[top].object {
				key = stack[top].key
			}
			fn(key, v)
		}
		if top >= 0 && stack[top].object {
			stack[top].expect = true
		}
	}
}
