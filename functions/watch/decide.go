package watch

import (
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/modelarts-notifier/modelarts-notifier/eventsapi"
	"github.com/modelarts-notifier/modelarts-notifier/functions/checkpoint"
	"github.com/modelarts-notifier/modelarts-notifier/functions/timeline"
	"github.com/modelarts-notifier/modelarts-notifier/notifier"
)

// decision is one notification decide found due: what it is about, its
// ID, and what the checkpoint needs to remember of it. Routing then says
// where it goes; its summary is built afterwards, once, with what the
// enrich stage read for it (notification).
type decision struct {
	id   string
	kind notifier.Kind
	// status and phase are what its summary says (phase "": the
	// deployment's own).
	status notifier.Status
	phase  string
	// dep is the deployment it is about (nil: runtime events), key names
	// it (its Slack thread). Both are dropped once the notification is
	// built.
	dep *timeline.Deployment
	key string
	// abnormal, when not nil, are the abnormal events it lists (a group)
	// instead of the deployment's.
	abnormal []eventsapi.Event
	thread   notifier.ThreadOnly
	// at is the occur_time (ms) that keeps the notification's Sent entry
	// alive in the checkpoint (and orders a run's notifications): the
	// deployment's newest event, or the abnormal events' newest. A
	// deployment read again later has an event at least that new, so its
	// entries are still there to stop a repeat.
	at int64
	// covers are the abnormal events it tells, recorded as told to the
	// destinations it reaches; heard are the destinations that were told
	// them already (by an earlier notification): it is not theirs.
	covers []cover
	heard  []string
	// within, when not nil, are the only destinations it may go to (a
	// thread reply: those that have the phase's notification); keepers
	// says whether it goes only to destinations that keep Slack threads
	// (a thread reply) or only to those that do not.
	within  []string
	keepers audience
	// targets are the destinations it goes to (nil: every destination),
	// set by routing (routeDue).
	targets []string
	// done is sentMuted or sentDropped when it goes nowhere; recorded says
	// an earlier poll already recorded that.
	done     string
	recorded bool
}

// due is a decision and the notification built for it.
type due struct {
	decision
	n notifier.Notification
}

// audience narrows a due notification to the destinations that keep
// Slack threads (notifier.KeepsThreads), or to the others.
type audience int8

const (
	anyDests    audience = iota
	onlyKeepers          // a thread reply: only where it can be told
	noKeepers            // what the others are owed of replies
)

// view is what one service's poll knows when it decides.
type view struct {
	projectID string
	svc       eventsapi.Service
	cp        checkpoint.Checkpoint
	first     bool  // a first poll: FIRST_RUN_LOOKBACK rules apply
	floor     int64 // events older than this are history (FirstRunFrom)
	firstAt   int64 // when the first poll ran (ms), while v.first
	overlap   time.Duration
	now       time.Time
	edge      map[string]bool
	// th are the service's stall thresholds (learned or configured), and
	// usual says per phase how each was set.
	th    timeline.Thresholds
	usual map[string]timeline.Usual
	// learner, on a v1 first poll that learns, takes the events before
	// the window as the read passes them.
	learner *learner
}

// isNew reports whether e was not handled by an earlier poll: it is not
// history (before the first poll's anchor), and on later polls newer than
// the read edge (minus the overlap) and not one of the events the
// checkpoint remembers at that edge.
func (v *view) isNew(e eventsapi.Event) bool {
	if activity(e) < v.floor {
		return false
	}
	if v.first {
		return true
	}
	if activity(e) < v.cp.ReadThrough-v.overlap.Milliseconds() {
		return false
	}
	return !v.edge[checkpoint.EdgeKey(timeline.Fingerprint(e))]
}

// decide turns a service's timeline into the notifications that are due
// now, as decisions. It is deterministic: the same timeline and
// checkpoint give the same decisions with the same IDs, which is what
// makes re-sends after a crash carry the same webhook-id.
func decide(v *view, tl timeline.Timeline) []decision {
	var out []decision
	sentAnywhere := func(id string) bool { return len(v.cp.Sent[id].Destinations) > 0 }

	// On a first poll only the most recent deployment counts: no history
	// flood. Polls that repeat a first poll (its delivery is not complete)
	// keep what it found due: the deployment that was the most recent when
	// it ran, and every deployment with events from then on.
	firstLatest := -1
	for i, d := range tl.Deployments {
		if d.Start <= v.firstAt {
			firstLatest = i
		}
	}
	for i := range tl.Deployments {
		d := &tl.Deployments[i]
		fresh := i == firstLatest || d.LastEventAt >= v.firstAt
		if !v.first {
			fresh = d.Start == v.cp.DeploymentStart && d.Start != 0 || slices.ContainsFunc(d.Events, v.isNew)
		}
		if !fresh {
			continue
		}
		key := deploymentKey(v.svc.ServiceID, d.Start)
		add := func(kind notifier.Kind, status notifier.Status, phase string, parts ...string) {
			out = append(out, decision{id: notificationID(append([]string{key, string(kind)}, parts...)...),
				kind: kind, status: status, phase: phase, dep: d, key: key, at: d.LastEventAt})
		}

		// Recoveries: a phase we said had stalled has since ended. A stall
		// alert that reached only some destinations before the phase moved
		// on stays due for the others (the poll skips those that have it),
		// so every destination hears both.
		for _, ph := range d.Phases {
			if ph.Status == notifier.PhaseSucceeded && sentAnywhere(notificationID(key, string(notifier.KindStalled), ph.Name)) {
				add(notifier.KindStalled, notifier.StatusStalled, ph.Name, ph.Name)
				add(notifier.KindRecovered, notifier.StatusRecovered, ph.Name, ph.Name)
			}
		}

		switch {
		case d.Stopped:
			// A stop ends the deployment with no notification of its own;
			// a Slack parent message, where one exists, says so. Its kind
			// is not sent as such: only the parent is updated.
			if hasParent(v.cp, key) {
				out = append(out, decision{id: notificationID(key, "stopped"), kind: notifier.KindStalled, status: d.Outcome.Status(),
					dep: d, key: key, at: d.LastEventAt, thread: notifier.ParentUpdate})
			}
		case d.Outcome == notifier.OutcomeFailed:
			add(notifier.KindFailed, notifier.StatusFailed, "")
			continue // its abnormal events are part of the failure summary
		case d.Outcome == notifier.OutcomeSucceeded:
			add(notifier.KindSucceeded, notifier.StatusSucceeded, "")
		case d.Outcome == notifier.OutcomeStalled:
			add(notifier.KindStalled, notifier.StatusStalled, d.Phase, d.Phase)
		}

		out = append(out, v.phaseGroups(key, d)...)
	}

	// Runtime events: the new abnormal ones make one notification, listing
	// them (more than one only where earlier polls told some destinations
	// of some of them: see byHeard).
	var fresh []eventsapi.Event
	for _, e := range tl.RuntimeAbnormal {
		if v.isNew(e) {
			fresh = append(fresh, e)
		}
	}
	for _, g := range chunks(v.byHeard(fresh, v.runtimeCover)) {
		out = append(out, decision{id: groupID(g.covers, v.svc.ServiceID, string(notifier.KindAbnormal), "runtime"),
			kind: notifier.KindAbnormal, status: notifier.StatusAbnormal, abnormal: g.evs, at: g.at(), covers: g.covers, heard: g.heard})
	}
	return out
}

// decision is g as a decision about abnormal events of the deployment d
// (key) in phase, listing g's events, its ID made of parts and g's covers.
func (g heardGroup) decision(d *timeline.Deployment, key, phase string, parts ...string) decision {
	return decision{id: groupID(g.covers, append([]string{key, string(notifier.KindAbnormal)}, parts...)...),
		kind: notifier.KindAbnormal, status: notifier.StatusAbnormal, phase: phase, dep: d, key: key,
		abnormal: g.evs, at: g.at(), covers: g.covers, heard: g.heard}
}

// phaseGroups are the service.abnormal notifications of a deployment that
// goes on (its failure's abnormal events are part of the failure
// summary): one per phase of the deployment, sent at the phase's first
// abnormal events and listing those of the phase read so far (its ID is
// the deployment's and the phase's, so the same whatever poll re-derives
// it). Abnormal events of a phase whose notification was already told
// are no new notification: the deployment's next summary lists them, and
// a thread reply (a Slack bot's alone) tells them now, once per message
// (repeats of one message, "Back-off pulling image" every few seconds,
// are told by the first).
func (v *view) phaseGroups(key string, d *timeline.Deployment) []decision {
	type group struct {
		phase      string
		evs, fresh []eventsapi.Event
	}
	var groups []*group
	for i, e := range d.Abnormal {
		if d.Failure != nil && *d.Failure == e || activity(e) < v.floor {
			continue
		}
		p := d.AbnormalPhase[i]
		k := slices.IndexFunc(groups, func(g *group) bool { return g.phase == p })
		if k < 0 {
			k = len(groups)
			groups = append(groups, &group{phase: p})
		}
		g := groups[k]
		g.evs = append(g.evs, e)
		if v.isNew(e) {
			g.fresh = append(g.fresh, e)
		}
	}
	var out []decision
	// One cover per message: a retrying deployment repeats one message a
	// thousand times.
	covers := map[string]string{}
	coverOf := func(e eventsapi.Event) string {
		c, ok := covers[e.EventInfo]
		if !ok {
			c = deploymentCover(key, e)
			covers[e.EventInfo] = c
		}
		return c
	}
	// A deployment closed with no summary of its own (stopped, closed by
	// a running status its events do not confirm, or superseded by the
	// next) has no next summary to list what only its thread replies told.
	quiet := d.End != 0 && d.Outcome != notifier.OutcomeSucceeded && d.Outcome != notifier.OutcomeFailed
	for _, g := range groups {
		if quiet {
			out = append(out, v.owed(d, key, g.phase, g.evs, coverOf)...)
		}
		if len(g.fresh) == 0 {
			continue
		}
		// It lists each message of the phase once (its first event; a
		// repeat adds nothing), at most a summary's worth: the messages
		// listed are those it tells.
		id := notificationID(key, string(notifier.KindAbnormal), "phase", g.phase)
		u := decision{id: id, kind: notifier.KindAbnormal, status: notifier.StatusAbnormal, phase: g.phase, dep: d, key: key,
			abnormal: []eventsapi.Event{}, at: activity(g.evs[len(g.evs)-1])}
		for _, e := range g.evs {
			c := coverOf(e)
			if len(u.abnormal) < timeline.MaxSummaryEvents && !slices.ContainsFunc(u.covers, func(x cover) bool { return x.id == c }) {
				u.abnormal = append(u.abnormal, e)
				u.covers = append(u.covers, cover{id: c, at: activity(e)})
			}
		}
		// Destinations told every message of the news already (by an
		// earlier release's per-message notification) need not hear it.
		u.heard = v.heardAll(g.fresh, coverOf)
		out = append(out, u)
		toldTo := v.realDests(id)
		done := len(toldTo) == 0 && len(v.cp.Sent[id].Destinations) > 0 // muted or dropped
		if len(toldTo) == 0 && !done {
			continue
		}
		for _, r := range chunks(v.byHeard(g.fresh, coverOf)) {
			if done {
				// The phase's notification was muted or dropped: its news
				// since then is a notification of its own (routed, and
				// muted, again).
				out = append(out, r.decision(d, key, g.phase, "more", g.phase))
				continue
			}
			// Told: news is a reply in the thread of those that have the
			// phase's notification.
			reply := r.decision(d, key, g.phase, "reply", g.phase)
			reply.thread, reply.within, reply.keepers = notifier.ThreadReply, toldTo, onlyKeepers
			out = append(out, reply)
		}
	}
	return out
}

// owed is what the destinations without threads (all but the Slack bot)
// are owed of a phase of a deployment that closed with no summary of its
// own: the messages of the phase (evs) that only thread replies told, one
// service.abnormal listing them, for those that have the phase's
// notification (the others get that, which lists every message).
func (v *view) owed(d *timeline.Deployment, key, phase string, evs []eventsapi.Event, coverOf func(eventsapi.Event) string) []decision {
	toldTo := v.realDests(notificationID(key, string(notifier.KindAbnormal), "phase", phase))
	if len(toldTo) == 0 {
		return nil
	}
	var out []decision
	for _, r := range chunks(v.byHeard(evs, coverOf)) {
		u := r.decision(d, key, phase, "more", phase)
		u.within, u.keepers = toldTo, noKeepers
		out = append(out, u)
	}
	return out
}

// realDests are the destinations notification id reached (not the marks
// of one muted or dropped).
func (v *view) realDests(id string) []string {
	var out []string
	for _, d := range v.cp.Sent[id].Destinations {
		if d != sentMuted && d != sentDropped {
			out = append(out, d)
		}
	}
	return out
}

// heardAll are the destinations told every one of evs (their covers).
func (v *view) heardAll(evs []eventsapi.Event, coverOf func(eventsapi.Event) string) []string {
	var out []string
	for i, e := range evs {
		h := v.realDests(coverOf(e))
		if i == 0 {
			out = h
			continue
		}
		out = slices.DeleteFunc(out, func(d string) bool { return !slices.Contains(h, d) })
	}
	return out
}

// told reports whether notification id reached a destination.
func (v *view) told(id string) bool {
	return slices.ContainsFunc(v.cp.Sent[id].Destinations, func(d string) bool { return d != sentMuted && d != sentDropped })
}

// A cover is an abnormal event as the checkpoint remembers telling it:
// the Sent entry of its ID lists the destinations that were told it, in
// whichever notification (see settle). A deployment's abnormal events are
// remembered per message (repeats of one message are one), runtime ones
// per event.
type cover struct {
	id string
	at int64 // the event's activity: keeps the entry until the window passes it
}

// deploymentCover is the cover ID of abnormal event e of the deployment
// key: its message (the ID earlier releases notified it under).
func deploymentCover(key string, e eventsapi.Event) string {
	return notificationID(key, string(notifier.KindAbnormal), messageKey(e.EventInfo))
}

// runtimeCover is the cover ID of runtime event e: the event's own (the ID
// earlier releases notified it under), or, dated within a deployment the
// status ended (the read window has moved past its start), its message's
// in that deployment, as when it was read with it: a v2 record that
// repeats is never told again under a second ID.
func (v *view) runtimeCover(e eventsapi.Event) string {
	if se := v.cp.StatusEnd; se.Start != 0 && e.OccurTime >= se.Start && e.OccurTime <= se.Through {
		return deploymentCover(deploymentKey(v.svc.ServiceID, se.Start), e)
	}
	return notificationID(v.svc.ServiceID, string(notifier.KindAbnormal), runtimeKey(e))
}

// heardGroup is abnormal events whose covers were told to the same
// destinations (heard; none for news).
type heardGroup struct {
	heard  []string
	evs    []eventsapi.Event
	covers []cover
}

// at is the newest activity of g's events.
func (g heardGroup) at() int64 {
	var t int64
	for _, e := range g.evs {
		t = max(t, activity(e))
	}
	return t
}

// byHeard splits evs by the destinations that were told each (its cover's
// Sent entry), in order of first appearance. News is one group. Events
// told some destinations but not others (a poll whose delivery partly
// failed) are another, due to the others alone, with the ID their
// notification had: it lists the same events. Events recorded muted or
// dropped, and a cover's repeats, are left out.
func (v *view) byHeard(evs []eventsapi.Event, coverOf func(eventsapi.Event) string) []heardGroup {
	var out []heardGroup
	seen := map[string]bool{}
	for _, e := range evs {
		c := coverOf(e)
		if seen[c] {
			continue
		}
		seen[c] = true
		heard := v.cp.Sent[c].Destinations
		if slices.Contains(heard, sentMuted) || slices.Contains(heard, sentDropped) {
			continue
		}
		k := slices.IndexFunc(out, func(g heardGroup) bool { return slices.Equal(g.heard, heard) })
		if k < 0 {
			k = len(out)
			out = append(out, heardGroup{heard: heard})
		}
		out[k].evs = append(out[k].evs, e)
		out[k].covers = append(out[k].covers, cover{id: c, at: activity(e)})
	}
	return out
}

// chunks splits groups longer than a summary lists
// (timeline.MaxSummaryEvents) into groups that it lists whole.
func chunks(groups []heardGroup) []heardGroup {
	const n = timeline.MaxSummaryEvents
	var out []heardGroup
	for _, g := range groups {
		for len(g.evs) > n {
			out = append(out, heardGroup{heard: g.heard, evs: g.evs[:n:n], covers: g.covers[:n:n]})
			g.evs, g.covers = g.evs[n:], g.covers[n:]
		}
		out = append(out, g)
	}
	return out
}

// groupID is the ID of a notification that tells the events of covers:
// for a single runtime event its cover's own ID (what earlier releases
// sent it under), else one derived from parts and every cover, so that a
// group re-derived with the same events has the same ID, and one with
// other events another. A reply or a phase's news (parts name which) never
// takes a cover's ID: it would share it with the other, or a mute recorded
// under it would hide the message itself.
func groupID(covers []cover, parts ...string) string {
	if len(covers) == 1 && parts[len(parts)-1] == "runtime" {
		return covers[0].id
	}
	for _, c := range covers {
		parts = append(parts, c.id)
	}
	return notificationID(parts...)
}

// notification builds the notification of decision dec: its summary,
// built here once from the deployment (or the runtime events) and what
// the service, the learned durations and the enrich stage (pods: the
// deployment's pod events, when read for it) add.
func (v *view) notification(dec decision, base *notifier.Summary, pods *podEvents) notifier.Notification {
	var s notifier.Summary
	switch {
	case dec.dep == nil:
		s = withService(timeline.RuntimeSummary(v.projectID, v.svc, dec.abnormal), v.svc)
	default:
		s = *base
		s.Status = dec.status
		if dec.phase != "" {
			s.Phase = dec.phase
		}
		if dec.abnormal != nil {
			s.AbnormalEvents = timeline.Events(dec.abnormal)
		}
		if dec.thread != notifier.ParentUpdate {
			s = withUsual(s, v.usual, dec.kind)
		}
		if pods != nil {
			s.PodEvents, s.PodEventsError = pods.evs, pods.err
		}
	}
	// Its Slack parent message is each destination's own (deliver:
	// parentOf, through notifier.DeliverThreads).
	return notifier.Notification{ID: dec.id, Kind: dec.kind, Timestamp: notifier.At(v.now), DeploymentKey: dec.key, Thread: dec.thread, Summary: s}
}

// notifications builds the notification of each decision (see
// notification), one deployment summary per deployment. The decisions
// let go of their deployment and events: the plan holds the
// notifications until delivery, not the timeline.
func (v *view) notifications(decs []decision, pods map[string]*podEvents) []due {
	out := make([]due, len(decs))
	bases := map[string]*notifier.Summary{}
	for i, dec := range decs {
		base := bases[dec.key]
		if base == nil && dec.dep != nil {
			s := deploymentSummary(v.projectID, v.svc, *dec.dep, v.now)
			base = &s
			bases[dec.key] = base
		}
		var p *podEvents
		if dec.kind == notifier.KindFailed || dec.kind == notifier.KindStalled {
			p = pods[dec.id]
		}
		n := v.notification(dec, base, p)
		dec.dep, dec.abnormal = nil, nil
		out[i] = due{decision: dec, n: n}
	}
	return out
}

// deploymentKey names one deployment of one service: it groups its
// notifications (one Slack thread) and is stable across polls.
func deploymentKey(serviceID string, start int64) string {
	return serviceID + "/" + strconv.FormatInt(start, 10)
}

// notificationID derives a stable Standard Webhooks message id from the
// parts that identify a notification.
func notificationID(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return "msg_" + hex.EncodeToString(h.Sum(nil)[:16])
}

// messageKey is an event text with what varies between repeats of one
// message (numbers, case, spacing) taken out.
func messageKey(info string) string {
	var b strings.Builder
	digit, space := false, false
	for _, r := range strings.ToLower(strings.ToValidUTF8(info, "")) {
		switch {
		case unicode.IsDigit(r):
			if !digit {
				b.WriteByte('#')
			}
			digit, space = true, false
		case unicode.IsSpace(r):
			if !space {
				b.WriteByte(' ')
			}
			digit, space = false, true
		default:
			b.WriteRune(r)
			digit, space = false, false
		}
	}
	return strings.TrimSpace(b.String())
}

// runtimeKey identifies a runtime event for its notification: a v2
// record by its id (a repeat is no new notification), a v1 event by its
// fingerprint.
func runtimeKey(e eventsapi.Event) string {
	if e.ID != "" {
		return "v2:" + e.ID
	}
	return timeline.Fingerprint(e)
}

// withService adds what only the service details say: the generation and
// the raw status (v2).
func withService(s notifier.Summary, svc eventsapi.Service) notifier.Summary {
	s.Generation = svc.Generation
	s.ServiceStatusRaw = svc.RawStatus
	s.DeployTimeoutMinutes = svc.DeployTimeoutMinutes
	return s
}

// deploymentSummary is d's summary with what the service details add and,
// for a deployment still under way, when ModelArts itself will fail it
// (its start plus the deploy timeout). Polls and reports both use it.
func deploymentSummary(projectID string, svc eventsapi.Service, d timeline.Deployment, now time.Time) notifier.Summary {
	s := withService(d.Summary(projectID, svc, now), svc)
	if !d.Stopped && !d.Unconfirmed && (d.Outcome == notifier.OutcomeInProgress || d.Outcome == notifier.OutcomeStalled) && svc.DeployTimeoutMinutes > 0 {
		s.FailsAt = notifier.FromMillis(d.Start + int64(svc.DeployTimeoutMinutes)*time.Minute.Milliseconds())
	}
	return s
}
