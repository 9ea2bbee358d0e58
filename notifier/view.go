package notifier

// One view of a summary: what a notification shows, in which order, within
// which budget. Block Kit (blocks.go), the chat platforms (teams.go,
// feishu.go, chatmd.go) and the terminal (text.go) lay the same view out in
// their own markup and escape it for their own readers; none of them
// decides again what is shown.

import (
	"fmt"
	"math"
	"strings"
)

// noLimit shows every event, or a text uncut.
const noLimit = math.MaxInt

// viewBudget bounds what a view shows: the newest events and pod events,
// and how many runes of their texts and of the error and the hint. Slack
// cuts its texts again, escaped, to its own limits.
type viewBudget struct {
	events     int // abnormal (and warning) events shown, the newest
	eventRunes int // one event's text
	pods       int // pod events shown, the newest
	errorRunes int // error_msg, hint (and, at least 200, the pod events error)
}

// Budgets of each rendering. The chat platforms' ladder (chatBudgets) is
// tried from generous to tight until a message fits the platform's size.
var (
	// slackBudget: Slack quotes the newest ten events; its sections' limits
	// bound the texts (escaped).
	slackBudget = viewBudget{events: maxEvents, eventRunes: noLimit, pods: maxEvents, errorRunes: noLimit}
	// terminalBudget: a terminal shows every event, each cut to a readable
	// length.
	terminalBudget = viewBudget{events: noLimit, eventRunes: maxTextEvent, pods: noLimit, errorRunes: maxTextEvent}
)

// Fixed bounds of a view's own lines, in runes, whatever the budget.
const (
	viewTitleRunes  = 200
	viewFactRunes   = 300
	viewPhaseRunes  = 64 // a phase's name
	viewStatusRunes = 32 // a phase's status
)

// summaryView is a notification laid out for people, in no markup and not
// yet escaped: every text is cleaned to one line and cut to the budget.
// Renderers show its parts in this order: title, facts, deadline, timeline,
// error, hint and help link, abnormal events, pod events (or why they
// could not be read), times.
type summaryView struct {
	Kind Kind
	// Title is "Deployment failed: bert-serving".
	Title string
	// The facts: the service's name ("" when it has none) and id, the
	// outcome ("failed in scheduling"), the phase, the model, the duration
	// and the ModelArts status ("deploying (UPGRADING)"); "" when unknown.
	ServiceName, ServiceID string
	Outcome                string
	Phase, Model           string
	Duration               string
	ModelArts              string
	// Deadline says when ModelArts will fail the deployment (v2), or "".
	Deadline string
	// Usual says how long the phase usually takes and how its stall
	// threshold was set (stall and recovery notifications), or "".
	Usual string
	// Phases is the timeline; Between and Total, when the phases leave a
	// second or more over, the time between phases and the deployment's
	// total, so that the timeline adds up ("" otherwise).
	Phases         []phaseRow
	Between, Total string
	// Error is the service's error message, Hint the remedy for a known
	// failure class, HelpURL its documentation when it is safe to link
	// ([safeLinkURL]), else "".
	Error, Hint, HelpURL string
	// Console opens the service in the ModelArts console, when it is safe
	// to link ([safeLinkURL]), else "".
	Console string
	// Events are the abnormal and warning events, Pods the pod events;
	// PodError why pod events could not be read.
	Events, Pods eventList
	PodError     string
	// The times (humanTime) and the project.
	Started, Ended, Notified string
	Project                  string
	// cut: some text was cut, or some events left out.
	cut bool
}

// phaseRow is one row of the timeline.
type phaseRow struct {
	Name     string
	Status   PhaseStatus // for marks and colours
	State    string      // Status as text
	Duration string      // "2m15s", "-" when unknown
}

// eventList is the newest events of a summary, as many as the budget shows.
type eventList struct {
	Name  string // "Abnormal events", "Warning events", "Pod events"
	Total int    // how many there were
	Lines []eventLine
}

// Heading is "Abnormal events (12), the last 10": the name, how many
// there were and, when not all are shown, how many are.
func (l eventList) Heading() string {
	return fmt.Sprintf("%s (%d)", l.Name, l.Total) + shownNote(len(l.Lines), l.Total)
}

// eventLine is one event: its time (may be "" for a pod event), a label
// ("warning" or ""), its text, its second text (event_info_cn, when it
// says something else) and its count mark (" ×3", " (×3)").
type eventLine struct{ When, Label, Text, Text2, Count string }

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

func (v *summaryView) fit(s string, max int) string {
	s, cut := truncateRunes(s, max)
	v.cut = v.cut || cut
	return s
}

// Service is the name to show: the service's name, else its id.
func (v summaryView) Service() string {
	if v.ServiceName != "" {
		return v.ServiceName
	}
	return v.ServiceID
}

// newView lays n out within b. n's summary must already be Bounded.
func newView(n Notification, b viewBudget) summaryView {
	s := n.Summary
	v := summaryView{Kind: n.Kind}
	v.ServiceName = v.fit(oneLine(s.ServiceName), viewFactRunes)
	v.ServiceID = v.fit(oneLine(s.ServiceID), viewFactRunes)
	v.Title = v.fit(n.Kind.Title()+": "+oneLine(serviceName(s)), viewTitleRunes)
	v.Outcome = v.fit(outcome(s), viewFactRunes)
	v.Phase = v.fit(oneLine(s.Phase), viewFactRunes)
	v.Model = v.fit(oneLine(s.Model), viewFactRunes)
	if s.DurationMS != nil {
		v.Duration = FormatDuration(*s.DurationMS)
	}
	v.ModelArts = v.fit(serviceStatusText(s), viewFactRunes)
	v.Deadline = failsAtText(s, failsAtRef(n))
	v.Usual = usualText(s)
	for _, p := range s.Phases {
		v.Phases = append(v.Phases, phaseRow{
			Name:     v.fit(oneLine(p.Name), viewPhaseRunes),
			Status:   p.Status,
			State:    v.fit(oneLine(string(p.Status)), viewStatusRunes),
			Duration: duration(p.DurationMS),
		})
	}
	if gap, ok := betweenPhases(s); ok {
		v.Between, v.Total = FormatDuration(gap), FormatDuration(*s.DurationMS)
	}
	v.Error = v.fit(oneLine(s.ErrorMsg), b.errorRunes)
	v.Hint = v.fit(oneLine(s.Hint), b.errorRunes)
	if safeLinkURL(s.HelpURL) {
		v.HelpURL = s.HelpURL
	}
	if safeLinkURL(s.ConsoleURL) {
		v.Console = s.ConsoleURL
	}
	v.Events = v.events(s.AbnormalEvents, b)
	v.Pods = v.podEvents(s, b)
	if s.PodEventsError != "" {
		v.PodError = v.fit(podEventsErrorText(s), max(b.errorRunes, 200))
	}
	v.Started, v.Ended, v.Notified = humanTime(s.StartedAt), humanTime(s.EndedAt), humanTime(n.Timestamp)
	v.Project = v.fit(oneLine(s.ProjectID), viewFactRunes)
	return v
}

// events lists the newest abnormal (and warning) events within b.
func (v *summaryView) events(evs []Event, b viewBudget) eventList {
	k := len(evs)
	if k == 0 {
		return eventList{}
	}
	l := eventList{Name: eventsHeading(evs), Total: k}
	shown := evs[max(k-b.events, 0):]
	v.cut = v.cut || len(shown) < k
	for _, e := range shown {
		line, cut := newEventLine(e, b.eventRunes)
		v.cut = v.cut || cut
		l.Lines = append(l.Lines, line)
	}
	return l
}

// newEventLine is one event, its texts cut to runes; cut reports whether
// they were.
func newEventLine(e Event, runes int) (l eventLine, cut bool) {
	first, second := eventTexts(e)
	l = eventLine{When: eventTime(e), Count: countMark(e.EventCount)}
	l.Text, cut = truncateRunes(first, runes)
	if second != "" {
		var cut2 bool
		l.Text2, cut2 = truncateRunes(second, runes)
		cut = cut || cut2
	}
	if isWarning(e) {
		l.Label = "warning"
	}
	return l, cut
}

// podEvents lists the newest pod events within b; Total counts those the
// summary left out too.
func (v *summaryView) podEvents(s Summary, b viewBudget) eventList {
	k := len(s.PodEvents)
	if k == 0 {
		return eventList{}
	}
	l := eventList{Name: "Pod events", Total: k + s.PodEventsOmitted}
	shown := s.PodEvents[max(k-b.pods, 0):]
	v.cut = v.cut || len(shown) < k
	for _, p := range shown {
		l.Lines = append(l.Lines, eventLine{
			When:  humanTime(podEventTime(p)),
			Text:  v.fit(podEventText(p), b.eventRunes),
			Count: podCountMark(p.Count),
		})
	}
	return l
}

// timesLine is the closing line: "Started …, ended …, notified …, project
// …", with project shown as project says (markup, escaped), or the kind
// when there is nothing to say.
func (v summaryView) timesLine(project func(string) string) string {
	var parts []string
	if v.Started != "" {
		parts = append(parts, "Started "+v.Started)
	}
	if v.Ended != "" {
		parts = append(parts, "ended "+v.Ended)
	}
	if v.Notified != "" {
		parts = append(parts, "notified "+v.Notified)
	}
	if v.Project != "" {
		parts = append(parts, "project "+project(v.Project))
	}
	if len(parts) == 0 {
		return string(v.Kind)
	}
	parts[0] = strings.ToUpper(parts[0][:1]) + parts[0][1:]
	return strings.Join(parts, " · ")
}

// digestView is many notifications as one message: how many of each kind,
// then one item per notification, as many as the budget lists.
type digestView struct {
	Count  int    // notifications
	Counts string // "2 deployment.failed, 1 service.abnormal"
	Items  []digestItem
	More   int // notifications not listed
	cut    bool
}

// digestItem is one notification in a digest (not escaped): its kind and
// title, service, outcome (with its duration) and deadline, its last
// abnormal event and its newest pod event (or why pod events could not be
// read), each possibly empty.
type digestItem struct {
	Kind  Kind
	Title string
	// Line is the first line, "Deployment failed: bert, failed in
	// scheduling after 1m21s · ModelArts fails it at …", cut to the
	// budget; markup that sets the title apart builds it from the parts.
	Line              string
	Service, Outcome  string
	Deadline          string
	Event, EventCount string
	Pod, PodCount     string
	PodError          string
}

// EventQuote is the last abnormal event and its count, "" when none.
func (it digestItem) EventQuote() string {
	if it.Event == "" {
		return ""
	}
	return it.Event + it.EventCount
}

// PodQuote is "Pod " and the newest pod event and its count, or why pod
// events could not be read, "" when neither.
func (it digestItem) PodQuote() string {
	if it.Pod != "" {
		return "Pod " + it.Pod + it.PodCount
	}
	return it.PodError
}

// digestBudget bounds a digest: the notifications listed, the runes of
// each one's first line and of its last events (0: none quoted).
type digestBudget struct {
	items      int
	lineRunes  int
	eventRunes int
}

// slackDigestBudget: Slack lists twenty; its limits bound the texts
// (escaped).
var slackDigestBudget = digestBudget{items: maxDigestItems, lineRunes: noLimit, eventRunes: noLimit}

// newDigestView lays ns out within b.
func newDigestView(ns []Notification, b digestBudget) digestView {
	d := digestView{Count: len(ns)}
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
	for i, n := range ns {
		if i == b.items {
			d.More = len(ns) - b.items
			d.cut = true
			break
		}
		it, cut := newDigestItem(n, b)
		d.Items = append(d.Items, it)
		d.cut = d.cut || cut
	}
	return d
}

// newDigestItem lays one notification out for a digest within b; cut
// reports whether its line was cut or its events cut or left out.
func newDigestItem(n Notification, b digestBudget) (it digestItem, cut bool) {
	s := n.Summary.Bounded()
	it = digestItem{Kind: n.Kind, Title: n.Kind.Title(), Service: oneLine(serviceName(s)), Outcome: outcome(s) + afterDuration(s, outcome(s))}
	it.Deadline = failsAtText(s, failsAtRef(n))
	it.Line = it.Title + ": " + it.Service + ", " + it.Outcome
	if it.Deadline != "" {
		it.Line += " · " + it.Deadline
	}
	it.Line, cut = truncateRunes(it.Line, b.lineRunes)
	fit := func(s string) string {
		s, c := truncateRunes(s, b.eventRunes)
		cut = cut || c
		return s
	}
	if b.eventRunes == 0 {
		return it, cut || len(s.AbnormalEvents) > 0 || len(s.PodEvents) > 0
	}
	if k := len(s.AbnormalEvents); k > 0 {
		last := s.AbnormalEvents[k-1]
		it.Event, it.EventCount = fit(eventText(last)), countMark(last.EventCount)
	}
	if k := len(s.PodEvents); k > 0 {
		it.Pod, it.PodCount = fit(podEventText(s.PodEvents[k-1])), podCountMark(s.PodEvents[k-1].Count)
	} else if s.PodEventsError != "" {
		it.PodError = fit(podEventsErrorText(s))
	}
	return it, cut
}

// usualText says how long the summary's phase usually takes for this
// service and how its stall threshold was set, e.g. "image_pull usually
// takes 2m (median of 5 deployments); stall threshold 4m, learned from
// them", or "" when the summary carries no threshold.
func usualText(s Summary) string {
	if s.StallThresholdMS <= 0 || s.Phase == "" {
		return ""
	}
	th := FormatDuration(s.StallThresholdMS)
	for _, p := range s.Phases {
		if p.Name != s.Phase {
			continue
		}
		if p.UsualMS != nil && s.StallThresholdLearned {
			return fmt.Sprintf("%s usually takes %s (median of %d deployments); stall threshold %s, learned from them",
				oneLine(s.Phase), FormatDuration(*p.UsualMS), p.Samples, th)
		}
		if p.Samples > 0 {
			return fmt.Sprintf("stall threshold %s (STALL_THRESHOLDS): %d successful deployments of %s so far, 3 are needed to learn its usual time",
				th, p.Samples, oneLine(s.Phase))
		}
	}
	if s.StallThresholdLearned {
		return fmt.Sprintf("stall threshold %s, learned from this service's deployments", th)
	}
	return fmt.Sprintf("stall threshold %s (STALL_THRESHOLDS); no successful %s of this service to learn from yet", th, oneLine(s.Phase))
}
