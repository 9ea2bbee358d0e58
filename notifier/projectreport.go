package notifier

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/slack-go/slack"

	"github.com/modelarts-notifier/modelarts-notifier/notifier/domain"
)

// ProjectReport is a report of every watched service: see package domain.
type ProjectReport = domain.ProjectReport

// KindProjectReport is the kind of a posted project report.
const KindProjectReport = domain.KindProjectReport

// barCells is the width of a phase-duration bar.
const barCells = 20

// bars are the left-aligned eighth blocks U+258F..U+2588, 1/8 to 8/8.
var eighths = []rune{'▏', '▎', '▍', '▌', '▋', '▊', '▉', '█'}

// bar draws ms on a scale where full is barCells cells, in eighths of a
// cell, then pads with light shade (U+2591) up to upto (the p90), and with
// spaces to barCells: "█████▌░░░          ".
func bar(ms, upto, full int64) string {
	if full <= 0 {
		return strings.Repeat(" ", barCells)
	}
	scale := func(v int64) int { return int(min((v*barCells*8+full-1)/full, barCells*8)) }
	e := scale(ms)
	var b strings.Builder
	cells := 0
	for ; e >= 8; e -= 8 {
		b.WriteRune('█')
		cells++
	}
	if e > 0 {
		b.WriteRune(eighths[e-1])
		cells++
	}
	for p := (scale(upto) + 7) / 8; cells < p; cells++ {
		b.WriteRune('░')
	}
	for ; cells < barCells; cells++ {
		b.WriteByte(' ')
	}
	return b.String()
}

// projectView is what every rendering of a project report shows, in
// order: a title, the totals, the phase bars, the failures, what is
// stalled or deploying now, and a line per service.
type projectView struct {
	Title    string
	Window   string
	Totals   string
	Bars     []string // monospace lines
	Failures []string
	Now      []string // stalled or deploying now
	Services []string
	// Omitted counts services left out of Services.
	Omitted int
}

func newProjectView(r *ProjectReport) projectView {
	v := projectView{
		Title:  "Project report: " + oneLine(r.ProjectID),
		Window: fmt.Sprintf("last %s: %s to %s", oneLine(r.Since), humanTime(r.From), humanTime(r.To)),
	}
	t := r.Totals
	v.Totals = fmt.Sprintf("%d services, %d deployments: %d succeeded, %d failed, %d stalled, %d in progress, %d stopped; %d runtime abnormal events",
		t.Services, t.Deployments, t.Succeeded, t.Failed, t.Stalled, t.InProgress, t.Stopped, t.RuntimeAbnormal)
	if t.Unreadable > 0 {
		v.Totals += fmt.Sprintf("; %d services could not be read", t.Unreadable)
	}
	var full int64
	for _, p := range r.Phases {
		full = max(full, p.P90MS)
	}
	for _, p := range r.Phases {
		v.Bars = append(v.Bars, fmt.Sprintf("%-13s %s %6s  p90 %-6s max %-6s n=%d", p.Name, bar(p.MedianMS, p.P90MS, full),
			FormatDuration(p.MedianMS), FormatDuration(p.P90MS), FormatDuration(p.MaxMS), p.Count))
	}
	for _, f := range r.Failures {
		line := fmt.Sprintf("%d in %s: %s", f.Count, f.Phase, strings.Join(f.Services, ", "))
		if f.Hint != "" {
			line += " — " + f.Hint
		}
		v.Failures = append(v.Failures, oneLine(line))
	}
	for _, s := range r.Services {
		name := oneLine(cmp.Or(s.ServiceName, s.ServiceID))
		if s.Error != "" {
			v.Services = append(v.Services, fmt.Sprintf("%s · %s · could not be read: %s", name, oneLine(s.ServiceStatus), oneLine(s.Error)))
			continue
		}
		line := fmt.Sprintf("%s · %s", name, oneLine(s.ServiceStatus))
		if d := s.Latest; d != nil {
			line += " · latest " + outcomeLine(*d)
			if d.Status == StatusStalled || d.Status == StatusInProgress {
				v.Now = append(v.Now, fmt.Sprintf("%s: %s", name, outcomeLine(*d)))
			}
		} else {
			line += " · no deployment in the window"
		}
		if s.Deployments > 1 {
			line += fmt.Sprintf(" · %d deployments", s.Deployments)
		}
		if s.RuntimeAbnormal > 0 {
			line += fmt.Sprintf(" · %d runtime abnormal", s.RuntimeAbnormal)
		}
		v.Services = append(v.Services, line)
	}
	v.Omitted = r.ServicesOmitted
	return v
}

// outcomeLine is a deployment's outcome, phase, start and duration in a
// few words: "failed in scheduling, started 2026-12-06 09:00 UTC, 1m21s".
func outcomeLine(s Summary) string {
	out := oneLine(string(s.Status))
	if s.Phase != "" && s.Status != StatusSucceeded {
		out += " in " + oneLine(s.Phase)
	}
	if t := humanTime(s.StartedAt); t != "" {
		out += ", started " + t
	}
	if s.DurationMS != nil {
		out += ", " + FormatDuration(*s.DurationMS)
	}
	return out
}

// lines is the report as plain lines, for the terminal and chat text.
func (v projectView) lines() []string {
	out := []string{v.Title, v.Window, "", v.Totals}
	if len(v.Bars) > 0 {
		out = append(out, "", "Phase durations (median █, to p90 ░):")
		out = append(out, v.Bars...)
	}
	if len(v.Failures) > 0 {
		out = append(out, "", "Failures:")
		out = append(out, v.Failures...)
	}
	if len(v.Now) > 0 {
		out = append(out, "", "Stalled or deploying now:")
		out = append(out, v.Now...)
	}
	out = append(out, "", "Services:")
	out = append(out, v.Services...)
	if v.Omitted > 0 {
		out = append(out, fmt.Sprintf("… and %d more services", v.Omitted))
	}
	return out
}

// RenderProjectReport writes a project report for people.
func RenderProjectReport(w io.Writer, r *ProjectReport) error {
	_, err := io.WriteString(w, strings.Join(newProjectView(r).lines(), "\n")+"\n")
	return err
}

// projectBlocks is a project report as Slack blocks: the bars in a code
// block (they line up), the services in sections within Slack's limits;
// services that do not fit are counted in a last line.
func projectBlocks(r *ProjectReport) (blocks []slack.Block, fallback string, truncated bool) {
	v := newProjectView(r)
	b := blockBuilder{}
	b.header(":bar_chart: " + v.Title)
	b.section(EscapeSlack(v.Window + "\n" + v.Totals))
	if len(v.Bars) > 0 {
		b.section("*Phase durations* (median █, to p90 ░)\n```" + EscapeSlack(strings.Join(v.Bars, "\n")) + "```")
	}
	if len(v.Failures) > 0 {
		b.section("*Failures*\n" + EscapeSlack(strings.Join(v.Failures, "\n")))
	}
	if len(v.Now) > 0 {
		b.section("*Stalled or deploying now*\n" + EscapeSlack(strings.Join(v.Now, "\n")))
	}
	// Services, a section each up to maxSectionText, keeping a block for
	// the count of those left out.
	omitted := v.Omitted
	var cur []string
	flush := func() {
		if len(cur) > 0 {
			b.section(strings.Join(cur, "\n"))
			cur = nil
		}
	}
	for i, s := range v.Services {
		line := "• " + EscapeSlack(s)
		if len(b.blocks) >= maxBlocks-3 {
			omitted += len(v.Services) - i
			truncated = true
			break
		}
		if n := len(strings.Join(append(cur, line), "\n")); n > maxSectionText-50 {
			flush()
		}
		cur = append(cur, line)
	}
	flush()
	if omitted > 0 {
		b.context(fmt.Sprintf("… and %d more services (the report's JSON has them all)", omitted))
	}
	return b.done(), b.fit(v.Title+": "+v.Totals, maxFallback), truncated || b.truncated
}

// projectMarkdown is a project report as chat markdown within limit bytes:
// services that do not fit are counted in a last line.
func projectMarkdown(r *ProjectReport, f mdFlavor, limit int) (string, bool) {
	v := newProjectView(r)
	e := EscapeChat
	head := []string{"#### " + f.keywordMark() + "📊 " + e(v.Title), e(v.Window), e(v.Totals)}
	if len(v.Bars) > 0 {
		head = append(head, "**Phase durations** (median █, to p90 ░)")
		for _, l := range v.Bars {
			head = append(head, e(l))
		}
	}
	if len(v.Failures) > 0 {
		head = append(head, "**Failures**")
		for _, l := range v.Failures {
			head = append(head, e(l))
		}
	}
	if len(v.Now) > 0 {
		head = append(head, "**Stalled or deploying now**")
		for _, l := range v.Now {
			head = append(head, e(l))
		}
	}
	head = append(head, "**Services**")
	out := strings.Join(head, f.br)
	omitted := v.Omitted
	for i, s := range v.Services {
		line := f.br + "- " + e(s)
		if len(out)+len(line)+80 > limit {
			omitted += len(v.Services) - i
			break
		}
		out += line
	}
	if omitted > 0 {
		out += f.br + fmt.Sprintf("… and %d more services", omitted)
	}
	if len(out) > limit {
		out, _ = cutContent(out, limit)
	}
	return out, omitted > v.Omitted
}

// projectWebhookBody marshals a posted project report within
// MaxWebhookBody: services are left out from the end (the report lists
// problems first) and counted in services_omitted.
func projectWebhookBody(n Notification) ([]byte, bool, error) {
	r := *n.Project
	shortened := false
	for {
		body, err := json.Marshal(n.withProject(&r))
		if err != nil {
			return nil, false, err
		}
		if len(body) <= MaxWebhookBody {
			return body, shortened, nil
		}
		if len(r.Services) == 0 {
			return nil, true, fmt.Errorf("project report body of %d bytes exceeds %d bytes even without services", len(body), MaxWebhookBody)
		}
		shortened = true
		drop := max(1, len(r.Services)/8)
		r.Services = slices.Clone(r.Services[:len(r.Services)-drop])
		r.ServicesOmitted += drop
	}
}

// withProject is n carrying r.
func (n Notification) withProject(r *ProjectReport) Notification {
	n.Project = r
	return n
}

// projectTeams is a project report as an Adaptive Card: the bars in a
// monospace block, services counted when they do not fit.
func projectTeams(r *ProjectReport) (teamsMessage, bool, error) {
	rr := *r
	for {
		v := newProjectView(&rr)
		e := EscapeChat
		body := []acElement{heading("📊 " + e(v.Title)), textBlock(e(v.Window)), textBlock(e(v.Totals))}
		if len(v.Bars) > 0 {
			body = append(body, heading("Phase durations (median █, to p90 ░)"),
				acElement{Type: "TextBlock", Text: e(strings.Join(v.Bars, "\n")), FontType: "Monospace", Wrap: true})
		}
		for _, sec := range []struct {
			title string
			lines []string
		}{{"Failures", v.Failures}, {"Stalled or deploying now", v.Now}, {"Services", v.Services}} {
			if len(sec.lines) > 0 {
				body = append(body, heading(sec.title), textBlock(e(strings.Join(sec.lines, "\n"))))
			}
		}
		if v.Omitted > 0 {
			body = append(body, textBlock(fmt.Sprintf("… and %d more services", v.Omitted)))
		}
		msg := teamsEnvelope(body, nil)
		if jsonSize(msg) <= MaxTeamsBody || len(rr.Services) == 0 {
			return msg, rr.ServicesOmitted > r.ServicesOmitted, nil
		}
		drop := max(1, len(rr.Services)/8)
		rr.Services = rr.Services[:len(rr.Services)-drop]
		rr.ServicesOmitted += drop
	}
}

// projectFeishu is a project report as a Feishu card.
func projectFeishu(r *ProjectReport) (feishuMessage, bool, error) {
	rr := *r
	for {
		v := newProjectView(&rr)
		e := EscapeChat
		els := []feishuElement{feishuDiv(plain(e(v.Window + "\n" + v.Totals)))}
		if len(v.Bars) > 0 {
			els = append(els, feishuDiv(larkMD("**Phase durations** (median █, to p90 ░)")), feishuDiv(plain(e(strings.Join(v.Bars, "\n")))))
		}
		for _, sec := range []struct {
			title string
			lines []string
		}{{"Failures", v.Failures}, {"Stalled or deploying now", v.Now}, {"Services", v.Services}} {
			if len(sec.lines) > 0 {
				els = append(els, feishuDiv(larkMD("**"+sec.title+"**")), feishuDiv(plain(e(strings.Join(sec.lines, "\n")))))
			}
		}
		if v.Omitted > 0 {
			els = append(els, feishuDiv(plain(fmt.Sprintf("… and %d more services", v.Omitted))))
		}
		msg := feishuMessage{MsgType: "interactive", Card: feishuCard{
			Config:   feishuCardConfig{WideScreenMode: true},
			Header:   feishuHeader{Title: feishuText{Tag: "plain_text", Content: "📊 " + e(v.Title)}, Template: "blue"},
			Elements: els,
		}}
		if jsonSize(msg) <= MaxFeishuBody-feishuSignReserve || len(rr.Services) == 0 {
			return msg, rr.ServicesOmitted > r.ServicesOmitted, nil
		}
		drop := max(1, len(rr.Services)/8)
		rr.Services = rr.Services[:len(rr.Services)-drop]
		rr.ServicesOmitted += drop
	}
}
