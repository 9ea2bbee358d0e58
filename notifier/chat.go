package notifier

// What the chat destinations (Microsoft Teams, Feishu/Lark, DingTalk and
// WeCom) share: the send loop (one message per notification, or one digest),
// the per-robot rate limit, the reading of answers that report a failure in
// their body, and a platform-neutral view of a summary that each platform
// renders in its own markup.

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// PlatformError is an answer in which a chat platform refused a message in
// its own words: Feishu's "code", or DingTalk's or WeCom's "errcode", other
// than 0, whatever the HTTP status (they answer 200 for most refusals, and
// Feishu 400 for some). It never holds a URL, a token or a secret.
type PlatformError struct {
	// Platform is "feishu", "dingtalk" or "wecom".
	Platform string
	// StatusCode is the HTTP status of the answer.
	StatusCode int
	// Code is the platform's error code, e.g. DingTalk's 130101.
	Code int
	// Msg is the platform's message (at most 512 bytes, valid UTF-8).
	Msg string
	// RateLimited: the code is one the platform documents as "too many
	// messages"; the destination pauses and retries.
	RateLimited bool
	// Busy: the code says the platform is busy (-1); retried like a 5xx.
	Busy bool
}

func (e *PlatformError) Error() string {
	s := fmt.Sprintf("status %d: %s code %d", e.StatusCode, e.Platform, e.Code)
	if e.Msg != "" {
		s += fmt.Sprintf(": %q", e.Msg)
	}
	if e.RateLimited {
		s += " (rate limited)"
	}
	return s
}

// Verdict is the retry decision for the error: Retry when the platform is
// rate limiting or busy, Permanent for every other code (a bad signature, a
// missing keyword, an invalid token, a malformed message, ...).
func (e *PlatformError) Verdict() Verdict {
	if e.RateLimited || e.Busy {
		return Retry
	}
	return Permanent
}

// asAttemptError is how a PlatformError goes back to the shared retry loop:
// as it is when it is worth retrying (the loop retries any error that is
// neither a *DeliveryError nor marked permanent), marked permanent otherwise.
func (e *PlatformError) asAttemptError() error {
	if e.Verdict() == Retry {
		return e
	}
	return permanent(e)
}

// rateLimited reports whether err is a platform's "too many messages"
// answer: the destination is busy, not down, and the rest of a batch goes
// on (paced) rather than failing with ErrDestinationDown.
func rateLimited(err error) bool {
	var pe *PlatformError
	return errors.As(err, &pe) && pe.RateLimited
}

// maxReplyBytes bounds how much of an answer is read to find its code.
const maxReplyBytes = 16 << 10

// codeAnswer is what a platform's JSON answer says: its code, when the body
// had one, and its message.
type codeAnswer struct {
	code *int
	msg  string
}

// judgeAnswer is the shared decision for a platform that reports in a JSON
// code: a 2xx whose code is 0 is delivered; a 2xx whose code is not 0 is a
// *PlatformError (retried when class says it is rate limiting or busy); a
// 2xx without a code is not the platform's answer (a proxy's page?) and
// fails permanently. Any other status is a *DeliveryError as for every
// destination ([Classify]: 429 and 5xx retried, with Retry-After), except
// that a 4xx carrying a rate-limit code (Feishu answers 400 with 9499) is
// retried as the PlatformError it is.
func judgeAnswer(platform string, status int, raw []byte, h http.Header, now time.Time, a codeAnswer, class func(code int) (rateLimited, busy bool)) error {
	if Classify(status) == Delivered {
		if a.code == nil {
			return permanent(&DeliveryError{StatusCode: status, Body: "not a " + platform + " answer: " + readBounded(bytes.NewReader(raw))})
		}
		if *a.code == 0 {
			return nil
		}
		return platformError(platform, status, *a.code, a.msg, class).asAttemptError()
	}
	if Classify(status) == Permanent && a.code != nil && *a.code != 0 {
		if pe := platformError(platform, status, *a.code, a.msg, class); pe.RateLimited {
			return pe
		}
	}
	return &DeliveryError{
		StatusCode: status,
		Body:       readBounded(bytes.NewReader(raw)),
		RetryAfter: parseRetryAfter(h.Get("Retry-After"), now),
	}
}

func platformError(platform string, status, code int, msg string, class func(int) (bool, bool)) *PlatformError {
	msg, _ = cutBytes(strings.TrimSpace(msg), maxErrorBody)
	rl, busy := class(code)
	return &PlatformError{Platform: platform, StatusCode: status, Code: code, Msg: msg, RateLimited: rl, Busy: busy}
}

// rateWindow allows at most n messages in any span of per.
type rateWindow struct {
	n   int
	per time.Duration
}

// chatDeadlineMargin: a message is not started when less than this is left
// before the context's deadline (the Lambda would end while it is sent).
const chatDeadlineMargin = time.Second

// rateLimiter keeps one robot within its platform's documented rate limits
// (e.g. DingTalk's 20 a minute), over sliding windows, and pauses it after
// the platform said "too fast". Times come from clock, so tests use a fake
// one. It is safe for concurrent use.
type rateLimiter struct {
	mu      sync.Mutex
	clock   clock
	windows []rateWindow
	sent    []time.Time // send times, oldest first, within the longest window
	until   time.Time   // no message before this
}

func newRateLimiter(clk clock, windows ...rateWindow) *rateLimiter {
	return &rateLimiter{clock: clk, windows: windows}
}

// next is the earliest time from now at which a message fits every window.
// The caller holds mu.
func (l *rateLimiter) next(now time.Time) time.Time {
	slot := now
	if l.until.After(slot) {
		slot = l.until
	}
	for _, w := range l.windows {
		in := 0
		for _, t := range l.sent {
			if t.After(slot.Add(-w.per)) {
				in++
			}
		}
		if in >= w.n && len(l.sent) >= w.n {
			// Wait until the n-th most recent send leaves the window.
			if t := l.sent[len(l.sent)-w.n].Add(w.per); t.After(slot) {
				slot = t
			}
		}
	}
	return slot
}

// free is how many messages the windows of a minute or more let go now:
// beyond it, a batch would wait for minutes, and goes as one digest
// instead. Shorter windows (Teams' 4 a second) only pace a batch.
func (l *rateLimiter) free() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.clock.now()
	if l.until.After(now) {
		return 0
	}
	free := -1
	for _, w := range l.windows {
		if w.per < time.Minute {
			continue
		}
		in := 0
		for _, t := range l.sent {
			if t.After(now.Add(-w.per)) {
				in++
			}
		}
		if f := max(w.n-in, 0); free < 0 || f < free {
			free = f
		}
	}
	if free < 0 {
		return 1 << 30 // no long window
	}
	return free
}

// wait blocks until a message may be sent and books it. It refuses (with
// ErrDeadlineNear, permanent) when the slot leaves less than
// chatDeadlineMargin before ctx's deadline.
func (l *rateLimiter) wait(ctx context.Context) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.clock.now()
	slot := l.next(now)
	if dl, ok := ctx.Deadline(); ok {
		if left := dl.Sub(slot); left < chatDeadlineMargin {
			return permanent(fmt.Errorf("%w (%s left; the next message may go in %s)", ErrDeadlineNear,
				max(dl.Sub(now), 0).Round(time.Millisecond), slot.Sub(now).Round(time.Millisecond)))
		}
	}
	if d := slot.Sub(now); d > 0 {
		if err := l.clock.sleep(ctx, d); err != nil {
			return permanent(err)
		}
		now = l.clock.now()
	}
	l.sent = append(l.sent, now)
	var longest time.Duration
	for _, w := range l.windows {
		longest = max(longest, w.per)
	}
	drop := 0
	for drop < len(l.sent) && !l.sent[drop].After(now.Add(-longest)) {
		drop++
	}
	l.sent = l.sent[drop:]
	return nil
}

// pause stops messages for d from now (after a "too fast" answer).
func (l *rateLimiter) pause(d time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if t := l.clock.now().Add(d); t.After(l.until) {
		l.until = t
	}
}

// chatFormat is what one platform contributes to a chatBot: its messages
// and how it sends and reads them.
type chatFormat interface {
	// message renders one notification (already Bounded), within the
	// platform's size limit; cut reports whether text was cut or left out.
	message(n Notification) (msg any, cut bool, err error)
	// digest renders many notifications as one message.
	digest(ns []Notification) (msg any, cut bool, err error)
	// request is the URL and body of one attempt at now (signed, when the
	// platform signs).
	request(now time.Time, msg any) (target string, body []byte, err error)
	// answer judges the platform's answer to one attempt.
	answer(status int, raw []byte, h http.Header, now time.Time) error
}

// chatBot is a chat destination: a chatFormat, sent with the shared retry
// decision, the platform's rate limit and a digest when many notifications
// are due at once.
type chatBot struct {
	platform string // "teams", "feishu", ...: logs and errors
	target   string // the webhook URL (a secret)
	format   chatFormat
	client   *http.Client
	agent    string
	clock    clock
	limiter  *rateLimiter
	pauseFor time.Duration // how long a rate-limit answer stops messages
	retry    RetryPolicy
	digestAt int
	secrets  []string
	logger   *slog.Logger
}

// chatCommon are the settings every chat destination's config has.
type chatCommon struct {
	HTTPClient      *http.Client
	Version         string
	Now             func() time.Time
	Sleep           func(ctx context.Context, d time.Duration) error
	Retry           RetryPolicy
	DigestThreshold int
}

func newChatBot(platform string, u *url.URL, f chatFormat, c chatCommon, pauseFor time.Duration, windows []rateWindow, secrets []string, logger *slog.Logger) *chatBot {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	clk := newClock(c.Now, c.Sleep)
	return &chatBot{
		platform: platform,
		target:   u.String(),
		format:   f,
		client:   httpClient(c.HTTPClient),
		agent:    userAgent(c.Version),
		clock:    clk,
		limiter:  newRateLimiter(clk, windows...),
		pauseFor: pauseFor,
		retry:    c.Retry,
		digestAt: digestThreshold(c.DigestThreshold),
		secrets:  append(urlSecrets(u), secrets...),
		logger:   logger.With("destination", platform, "host", u.Hostname()),
	}
}

// Notify sends each notification as a message, or all of them as one
// digest when there are more than the digest threshold or more than the
// robot's per-minute rate limit lets through now; a digest's outcome is every
// notification's outcome. ParentUpdate notifications are acknowledged
// without a message (chat robots cannot edit a parent message) and count
// toward nothing. When the deadline is too near for another message
// ([ErrDeadlineNear]) or the robot looks down ([ErrDestinationDown]), the
// rest fail without being attempted; a rate-limited robot is not "down".
func (b *chatBot) Notify(ctx context.Context, ns []Notification) []Result {
	return withoutParentUpdates(ns, func(ns []Notification) []Result { return b.notify(ctx, ns) })
}

func (b *chatBot) notify(ctx context.Context, ns []Notification) []Result {
	results := make([]Result, len(ns))
	if len(ns) > 1 && (len(ns) > b.digestAt || len(ns) > b.limiter.free()) {
		ids := make([]string, len(ns))
		for i, n := range ns {
			ids[i] = n.ID
		}
		var err error
		msg, cut, ferr := b.format.digest(ns)
		if ferr != nil {
			err = fmt.Errorf("%s: render digest: %w", b.platform, ferr)
		} else {
			b.logCut(ctx, cut, "digest")
			err = b.send(ctx, "digest", msg)
		}
		for i, n := range ns {
			results[i] = Result{ID: n.ID, Err: err}
		}
		if err != nil {
			b.logger.WarnContext(ctx, b.platform+" delivery failed", "id", "digest", "ids", ids, "err", err)
		} else {
			b.logger.DebugContext(ctx, b.platform+" digest delivered", "ids", ids)
		}
		return results
	}
	var skip error // why the rest are not attempted
	for i, n := range ns {
		results[i].ID = n.ID
		if skip != nil {
			results[i].Err = fmt.Errorf("%s: deliver %s: %w", b.platform, n.ID, skip)
			continue
		}
		msg, cut, err := b.format.message(n)
		if err != nil {
			err = fmt.Errorf("%s: render %s: %w", b.platform, n.ID, err)
		} else {
			b.logCut(ctx, cut, n.ID)
			err = b.send(ctx, n.ID, msg)
		}
		results[i].Err = err
		if err == nil {
			b.logger.DebugContext(ctx, b.platform+" delivered", "id", n.ID, "type", n.Kind)
			continue
		}
		b.logger.WarnContext(ctx, b.platform+" delivery failed", "id", n.ID, "type", n.Kind, "err", err)
		if !rateLimited(err) {
			if skip = skipRest(ctx, n.ID, err); skip != nil && i+1 < len(ns) {
				b.logger.WarnContext(ctx, b.platform+" not attempting the rest", "notifications", len(ns)-i-1)
			}
		}
	}
	return results
}

func (b *chatBot) logCut(ctx context.Context, cut bool, id string) {
	if cut {
		b.logger.InfoContext(ctx, b.platform+" message truncated to fit its limits", "id", id)
	}
}

// send delivers one message: paced by the limiter, retried with the shared
// retry decision, signed afresh on every attempt.
func (b *chatBot) send(ctx context.Context, id string, msg any) error {
	err := b.retry.do(ctx, b.clock, func(ctx context.Context) error {
		if err := b.limiter.wait(ctx); err != nil {
			return err
		}
		now := b.clock.now()
		target, body, err := b.format.request(now, msg)
		if err != nil {
			return permanent(fmt.Errorf("encode message: %w", err))
		}
		err = b.post(ctx, target, body, now)
		if rateLimited(err) {
			b.limiter.pause(b.pauseFor)
		}
		return err
	})
	if err != nil {
		return scrub(fmt.Errorf("%s: deliver %s: %w", b.platform, id, err), b.secrets...)
	}
	return nil
}

// post sends one JSON POST and has the format judge the answer. Network
// errors come back with their URL redacted.
func (b *chatBot) post(ctx context.Context, target string, body []byte, now time.Time) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return permanent(errors.New("build request")) // err would show the URL
	}
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	req.Header.Set("User-Agent", b.agent)
	resp, err := b.client.Do(req)
	if err != nil {
		return redactURL(err)
	}
	defer drain(resp.Body)
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, maxReplyBytes))
	err = b.format.answer(resp.StatusCode, raw, resp.Header, now)
	var pe *PlatformError
	if errors.As(err, &pe) {
		pe.Msg = scrubText(pe.Msg, b.secrets)
	}
	return err
}

// ShortHash is the first 8 hex digits of the SHA-256 of s: destination
// names are derived from it (e.g. "feishu-1a2b3c4d"), so that checkpoints
// can tell destinations apart without ever holding their URLs.
func ShortHash(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:4])
}

// EscapeChat makes ModelArts text inert in the markup of Teams, Feishu,
// DingTalk and WeCom: it repairs invalid UTF-8, drops control characters,
// folds whitespace onto one line, and replaces the characters every
// mention and link syntax of those platforms needs with their full-width
// look-alikes: "<" and ">" (Feishu's <at user_id="all">, WeCom's
// <@userid>, Teams' <at>, HTML), "[" and "]" (markdown links and images)
// and "@" (DingTalk's and WeCom's @mobile, @all, @所有人). A look-alike
// cannot be turned back into markup by any renderer, unlike a backslash or
// an entity, which these platforms do not all document.
func EscapeChat(s string) string { return chatEscaper.Replace(oneLine(s)) }

var chatEscaper = strings.NewReplacer("<", "＜", ">", "＞", "[", "［", "]", "］", "@", "＠")

// safeLinkURL reports whether u may be shown as a link: https, short, and
// free of characters that could end or break out of link markup.
func safeLinkURL(u string) bool {
	if !strings.HasPrefix(u, "https://") || len(u) > 500 || strings.ContainsAny(u, " <>[]()|\"'`\\\n\r\t") {
		return false
	}
	p, err := url.Parse(u)
	return err == nil && p.Host != ""
}

// cutContent cuts s, when longer than limit bytes, on a rune boundary so
// that it and truncationMark fit in limit bytes, and reports whether it did.
func cutContent(s string, limit int) (string, bool) {
	if len(s) <= limit {
		return s, false
	}
	keep := max(limit-len(truncationMark), 0)
	for keep > 0 && !utf8.RuneStart(s[keep]) {
		keep--
	}
	return s[:keep] + truncationMark, true
}

// Budgets of a chat message, from generous to tight: a message is rendered
// at the first that fits the platform's size limit.
type chatBudget struct {
	events     int // abnormal (and warning) events shown, the newest
	eventRunes int // one event's text
	pods       int // pod events shown, the newest
	errorRunes int // error_msg, hint
}

var chatBudgets = []chatBudget{
	{events: 10, eventRunes: 500, pods: 10, errorRunes: 1500},
	{events: 5, eventRunes: 300, pods: 5, errorRunes: 800},
	{events: 3, eventRunes: 200, pods: 3, errorRunes: 400},
	{events: 1, eventRunes: 120, pods: 1, errorRunes: 200},
	{events: 0, eventRunes: 0, pods: 0, errorRunes: 120},
}

// Fixed bounds of a chat message's own lines, in runes.
const (
	chatTitleRunes = 200
	chatFactRunes  = 300
	chatTimesRunes = 600
)

// chatFact is one label and value (not escaped).
type chatFact struct{ Label, Value string }

// chatLine is one event (not escaped): its time, a label ("warning"), its
// text, its second text (event_info_cn) and its count mark.
type chatLine struct{ When, Label, Text, Text2, Count string }

// chatPhase is one row of the timeline.
type chatPhase struct{ Icon, Name, Duration, Status string }

// chatView is a summary laid out for a chat message, platform-neutral and
// not yet escaped: every text is cleaned to one line and cut to the budget.
type chatView struct {
	Kind          Kind
	Icon, Title   string
	Facts         []chatFact
	Deadline      string
	Phases        []chatPhase
	Error, Hint   string
	HelpURL       string // safe to link, or ""
	EventsHeading string
	Events        []chatLine
	PodHeading    string
	PodEvents     []chatLine
	PodError      string
	Times         string
	cut           bool
}

func (v *chatView) fit(s string, max int) string {
	s, cut := truncateRunes(s, max)
	v.cut = v.cut || cut
	return s
}

// chatKindIcon marks a kind in titles and digests.
func chatKindIcon(k Kind) string {
	switch k {
	case KindSucceeded:
		return "✅"
	case KindFailed:
		return "❌"
	case KindStalled:
		return "⏳"
	case KindRecovered:
		return "▶️"
	case KindAbnormal:
		return "⚠️"
	case KindReport:
		return "📋"
	}
	return "🔔"
}

// chatPhaseIcon marks a phase status in the timeline.
func chatPhaseIcon(s PhaseStatus) string {
	switch s {
	case PhaseSucceeded:
		return "✅"
	case PhaseFailed:
		return "❌"
	case PhaseStalled:
		return "⏳"
	case PhaseRunning:
		return "🔄"
	}
	return "⚪"
}

// newChatView lays n out within b. n's summary must already be Bounded.
func newChatView(n Notification, b chatBudget) chatView {
	s := n.Summary
	v := chatView{Kind: n.Kind, Icon: chatKindIcon(n.Kind)}
	v.Title = v.fit(n.Kind.Title()+": "+oneLine(serviceName(s)), chatTitleRunes)
	dur := ""
	if s.DurationMS != nil {
		dur = FormatDuration(*s.DurationMS)
	}
	for _, f := range []chatFact{
		{"Service", oneLine(serviceName(s))},
		{"Status", outcome(s)},
		{"Phase", oneLine(s.Phase)},
		{"Model", oneLine(s.Model)},
		{"Duration", dur},
		{"ModelArts status", serviceStatusText(s)},
		{"Service ID", oneLine(s.ServiceID)},
	} {
		if f.Value != "" {
			f.Value = v.fit(f.Value, chatFactRunes)
			v.Facts = append(v.Facts, f)
		}
	}
	v.Deadline = failsAtText(s, failsAtRef(n))
	for _, p := range s.Phases {
		v.Phases = append(v.Phases, chatPhase{
			Icon:     chatPhaseIcon(p.Status),
			Name:     v.fit(oneLine(p.Name), 64),
			Duration: duration(p.DurationMS),
			Status:   v.fit(oneLine(string(p.Status)), 32),
		})
	}
	if s.ErrorMsg != "" {
		v.Error = v.fit(oneLine(s.ErrorMsg), b.errorRunes)
	}
	if s.Hint != "" {
		v.Hint = v.fit(oneLine(s.Hint), b.errorRunes)
	}
	if safeLinkURL(s.HelpURL) {
		v.HelpURL = s.HelpURL
	}
	if k := len(s.AbnormalEvents); k > 0 {
		shown := s.AbnormalEvents[max(k-b.events, 0):]
		v.EventsHeading = fmt.Sprintf("%s (%d)", eventsHeading(s.AbnormalEvents), k)
		v.EventsHeading += shownNote(len(shown), k)
		if len(shown) < k {
			v.cut = true
		}
		for _, e := range shown {
			first, second := eventTexts(e)
			l := chatLine{When: eventTime(e), Text: v.fit(first, b.eventRunes), Count: countMark(e.EventCount)}
			if isWarning(e) {
				l.Label = "warning"
			}
			if second != "" {
				l.Text2 = v.fit(second, b.eventRunes)
			}
			v.Events = append(v.Events, l)
		}
	}
	if k := len(s.PodEvents); k > 0 {
		total := k + s.PodEventsOmitted
		shown := s.PodEvents[max(k-b.pods, 0):]
		v.PodHeading = fmt.Sprintf("Pod events (%d)", total) + shownNote(len(shown), total)
		if len(shown) < k {
			v.cut = true
		}
		for _, p := range shown {
			v.PodEvents = append(v.PodEvents, chatLine{
				When:  humanTime(podEventTime(p)),
				Text:  v.fit(podEventText(p), b.eventRunes),
				Count: podCountMark(p.Count),
			})
		}
	}
	if s.PodEventsError != "" {
		v.PodError = v.fit(podEventsErrorText(s), max(b.errorRunes, 200))
	}
	v.Times = v.fit(chatTimes(n), chatTimesRunes)
	return v
}

// shownNote says how many of total are shown, when not all are.
func shownNote(shown, total int) string {
	switch {
	case shown == total:
		return ""
	case shown == 0:
		return ", not shown (too long for one message)"
	}
	return fmt.Sprintf(", the last %d", shown)
}

// chatTimes is the closing line: when the deployment started and ended,
// when this was notified, and the project.
func chatTimes(n Notification) string {
	var parts []string
	s := n.Summary
	if t := humanTime(s.StartedAt); t != "" {
		parts = append(parts, "Started "+t)
	}
	if t := humanTime(s.EndedAt); t != "" {
		parts = append(parts, "ended "+t)
	}
	if t := humanTime(n.Timestamp); t != "" {
		parts = append(parts, "notified "+t)
	}
	if p := oneLine(s.ProjectID); p != "" {
		parts = append(parts, "project "+p)
	}
	if len(parts) == 0 {
		return string(n.Kind)
	}
	parts[0] = strings.ToUpper(parts[0][:1]) + parts[0][1:]
	return strings.Join(parts, " · ")
}

// Digest budgets: notifications listed, and runes of the event quoted for
// each, from generous to tight.
var chatDigestBudgets = []struct{ items, eventRunes int }{
	{20, 300}, {20, 120}, {10, 80}, {5, 0}, {1, 0},
}

// chatDigestItem is one notification in a digest (not escaped): its icon,
// its line, its last abnormal event and its newest pod event (or why pod
// events could not be read), each possibly empty.
type chatDigestItem struct{ Icon, Line, Event, Pod string }

// chatDigest is many notifications laid out as one message.
type chatDigest struct {
	Title  string // "🔔 7 ModelArts notifications"
	Counts string // "2 deployment.failed, 1 service.abnormal"
	Items  []chatDigestItem
	More   int // notifications not listed
	cut    bool
}

// boundAll is ns with every summary Bounded (a copy), so that a digest,
// rendered at several budgets, bounds each summary once.
func boundAll(ns []Notification) []Notification {
	out := make([]Notification, len(ns))
	for i, n := range ns {
		n.Summary = n.Summary.Bounded()
		out[i] = n
	}
	return out
}

// newChatDigest lays ns out, listing at most items of them with at most
// eventRunes of their last events. Their summaries must already be
// Bounded (boundAll).
func newChatDigest(ns []Notification, items, eventRunes int) chatDigest {
	d := chatDigest{Title: fmt.Sprintf("🔔 %d ModelArts notifications", len(ns))}
	counts := map[Kind]int{}
	for _, n := range ns {
		counts[n.Kind]++
	}
	var parts []string
	for _, k := range Kinds {
		if c := counts[k]; c > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", c, k))
		}
	}
	d.Counts = strings.Join(parts, ", ")
	fit := func(s string, max int) string {
		s, cut := truncateRunes(s, max)
		d.cut = d.cut || cut
		return s
	}
	for i, n := range ns {
		if i == items {
			d.More = len(ns) - items
			d.cut = true
			break
		}
		s := n.Summary
		line := fmt.Sprintf("%s: %s, %s", n.Kind.Title(), oneLine(serviceName(s)), outcome(s)) + afterDuration(s, outcome(s))
		if fa := failsAtText(s, failsAtRef(n)); fa != "" {
			line += " · " + fa
		}
		it := chatDigestItem{Icon: chatKindIcon(n.Kind), Line: fit(line, chatTitleRunes+100)}
		if eventRunes > 0 {
			if k := len(s.AbnormalEvents); k > 0 {
				last := s.AbnormalEvents[k-1]
				it.Event = fit(eventText(last), eventRunes) + countMark(last.EventCount)
			}
			if k := len(s.PodEvents); k > 0 {
				it.Pod = "Pod " + fit(podEventText(s.PodEvents[k-1]), eventRunes) + podCountMark(s.PodEvents[k-1].Count)
			} else if s.PodEventsError != "" {
				it.Pod = fit(podEventsErrorText(s), eventRunes)
			}
		} else if len(s.AbnormalEvents) > 0 || len(s.PodEvents) > 0 {
			d.cut = true
		}
		d.Items = append(d.Items, it)
	}
	return d
}

// fitChat renders at the first budget whose message's measured size is
// within limit bytes and reports whether anything was cut. When none fits,
// it returns the last rendering and ok false.
func fitChat[T any](levels int, render func(level int) (msg T, cut bool), size func(any) int, limit int) (msg T, cut, ok bool) {
	for level := range levels {
		msg, cut = render(level)
		if size(msg) <= limit {
			return msg, cut || level > 0, true
		}
	}
	return msg, true, false
}
