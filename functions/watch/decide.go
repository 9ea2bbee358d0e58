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

// due is one notification the poll decided to send, with what the
// checkpoint needs to remember about it.
type due struct {
	n notifier.Notification
	// at is the occur_time (ms) that keeps the notification's Sent entry
	// alive in the checkpoint (and orders a run's notifications): the
	// deployment's newest event, or the abnormal event's time. A deployment
	// read again later has an event at least that new, so its entries are
	// still there to stop a repeat.
	at int64
	// targets are the destinations it goes to (nil: every destination),
	// set by routing (routeDue).
	targets []string
	// done is sentMuted or sentDropped when it goes nowhere; recorded says
	// an earlier poll already recorded that.
	done     string
	recorded bool
}

// view is what one service's poll knows when it decides.
type view struct {
	projectID string
	svc       eventsapi.Service
	cp        checkpoint.Checkpoint
	first     bool  // a first poll: FIRST_RUN_LOOKBACK rules apply
	floor     int64 // events older than this are history (FirstRunFrom)
	firstAt   int64 // when the first poll ran (ms), while v.first
	// heldBack: a v2 read cut short (newest first): the older records were
	// not reached, so the read edge must not move.
	heldBack bool
	overlap  time.Duration
	now      time.Time
	edge     map[string]bool
	// th are the service's stall thresholds (learned or configured), and
	// usual says per phase how each was set.
	th    timeline.Thresholds
	usual map[string]timeline.Usual
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

// decide turns a service's timeline into the notifications that are due now.
// It is deterministic: the same timeline and checkpoint give the same
// notifications with the same IDs, which is what makes re-sends after a crash
// carry the same webhook-id.
func decide(v *view, tl timeline.Timeline) []due {
	var out []due
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
	for i, d := range tl.Deployments {
		fresh := i == firstLatest || d.LastEventAt >= v.firstAt
		if !v.first {
			fresh = d.Start == v.cp.DeploymentStart && d.Start != 0 || slices.ContainsFunc(d.Events, v.isNew)
		}
		if !fresh {
			continue
		}
		key := deploymentKey(v.svc.ServiceID, d.Start)
		summary := deploymentSummary(v.projectID, v.svc, d, v.now)
		add := func(kind notifier.Kind, status notifier.Status, phase string, parts ...string) {
			s := summary
			s.Status = status
			if phase != "" {
				s.Phase = phase
			}
			s = withUsual(s, v.usual, kind)
			out = append(out, v.notify(notificationID(append([]string{key, string(kind)}, parts...)...), kind, key, s, d.LastEventAt))
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
			// a Slack parent message, where one exists, says so.
			if ts := v.cp.Threads[key].TS; ts != "" {
				// Its kind is not sent as such: only the parent is updated.
				pu := v.notify(notificationID(key, "stopped"), notifier.KindStalled, key, summary, d.LastEventAt)
				pu.n.ThreadTS, pu.n.ParentUpdate = ts, true
				out = append(out, pu)
			}
		case d.Outcome == notifier.OutcomeFailed:
			add(notifier.KindFailed, notifier.StatusFailed, "")
			continue // its abnormal events are part of the failure summary
		case d.Outcome == notifier.OutcomeSucceeded:
			add(notifier.KindSucceeded, notifier.StatusSucceeded, "")
		case d.Outcome == notifier.OutcomeStalled:
			add(notifier.KindStalled, notifier.StatusStalled, d.Phase, d.Phase)
		}

		// Abnormal events of a deployment that goes on: one notification
		// per distinct message per deployment. ModelArts repeats some while
		// it retries ("Insufficient resources..." every few seconds): the
		// first tells, the repeats are transitions of nothing.
		told := map[string]bool{}
		for _, e := range d.Abnormal {
			if d.Failure != nil && *d.Failure == e {
				continue
			}
			if !v.isNew(e) {
				continue
			}
			id := notificationID(key, string(notifier.KindAbnormal), messageKey(e.EventInfo))
			if told[id] {
				continue
			}
			told[id] = true
			s := summary
			s.Status = notifier.StatusAbnormal
			s.AbnormalEvents = []notifier.Event{toEvent(e)}
			out = append(out, v.notify(id, notifier.KindAbnormal, key, s, activity(e)))
		}
	}

	// Runtime events: abnormal ones are reported, one notification each.
	// One dated within a deployment the status ended (the read window has
	// moved past its start) keeps that deployment's notification id, as
	// when it was read with it: a v2 record that repeats is never told
	// again under a second id.
	for _, e := range tl.Runtime {
		if !timeline.IsAbnormal(e) || !v.isNew(e) {
			continue
		}
		id := notificationID(v.svc.ServiceID, string(notifier.KindAbnormal), runtimeKey(e))
		if se := v.cp.StatusEnd; se.Start != 0 && e.OccurTime >= se.Start && e.OccurTime <= se.Through {
			id = notificationID(deploymentKey(v.svc.ServiceID, se.Start), string(notifier.KindAbnormal), messageKey(e.EventInfo))
		}
		out = append(out, v.notify(id, notifier.KindAbnormal, "", withService(timeline.RuntimeSummary(v.projectID, v.svc, []eventsapi.Event{e}), v.svc), activity(e)))
	}
	return out
}

// notify is the one constructor of a due notification: id, kind, the
// deployment it belongs to (key; "" for runtime events, which have no
// Slack thread), its summary and the time that keeps its Sent entry.
func (v *view) notify(id string, kind notifier.Kind, key string, s notifier.Summary, at int64) due {
	n := notifier.Notification{ID: id, Kind: kind, Timestamp: notifier.At(v.now), DeploymentKey: key, Summary: s}
	if key != "" {
		n.ThreadTS = v.cp.Threads[key].TS
	}
	return due{n: n, at: at}
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

func toEvent(e eventsapi.Event) notifier.Event {
	return notifier.TruncateEvent(notifier.Event{EventType: e.EventType, EventInfo: e.EventInfo, OccurTime: e.OccurTime,
		ID: e.ID, EventInfoCN: e.EventInfoCN, EventCount: e.Count, LastOccurTime: e.LastOccurTime})
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
