package faultmatrix

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

// Product bugs the matrix found, now fixed. Their triggers are part of every
// run, and each keeps the seeds that showed it as a regression test
// (TestFaultMatrixRegressions):
//
//	go test ./functions/faultmatrix -run 'TestFaultMatrixRegressions/NAME' -v
//	go test ./functions/faultmatrix -run TestFaultMatrix -v -faultmatrix.seed=SEED -faultmatrix.trace
//
// truncated-read was fixed by eventsapi reading on by start_time when a
// page repeats (and ending with ErrIncomplete when it cannot), and watch
// handling a read cut short as a capped one (status not applied, old edge
// kept); future-joins-deployment by watch keeping events dated past now +
// 5 min out of every deployment.
//
// Product bugs the matrix found that are still open (open: true) keep a seed
// that shows each; their triggers are off (the runs pass) unless named:
//
//	go test ./functions/faultmatrix -run 'TestFaultMatrix$' -v -faultmatrix.open=NAME -faultmatrix.seed=SEED [flags]
//
// When one is fixed, set open to false: its trigger joins every run and its
// seeds become a regression test.
const (
	// bugTruncatedRead: a read that ends early is taken for a whole one.
	bugTruncatedRead = "truncated-read"
	// bugFutureJoinsDeployment: a future-dated event joins every later
	// deployment of its service.
	bugFutureJoinsDeployment = "future-joins-deployment"
	// bugV2ShortPage (open): a v2 events page shorter than the limit ends
	// the read as a whole one, although total says there is more.
	bugV2ShortPage = "v2-short-page"
	// bugImpliedFromRuntime (open): a failure-worded runtime event on a
	// service whose failed deployment was reported is taken for a new
	// failed deployment.
	bugImpliedFromRuntime = "implied-from-runtime"
	// bugV2PodsNewest: a v2 failure or stall notified after the
	// service's next deployment began reads the pod events of that one.
	bugV2PodsNewest = "v2-pods-newest-deployment"
	// bugStatusEndKeepsLaterEvents: a deployment ended by the
	// service status (stopped, or failed by the status alone) takes the
	// events that follow it.
	bugStatusEndKeepsLaterEvents = "status-end-keeps-later-events"
	// bugMutedAfterDelivered: a notification that every destination its
	// route names had acknowledged, derived again while a mute is in
	// force, is recorded muted and counted in notifications_muted.
	bugMutedAfterDelivered = "muted-after-delivered"
	// bugMutedPartlyTold: a notification told to some of its
	// destinations before a mute began, derived again under the mute,
	// never reaches the others and is not counted muted.
	bugMutedPartlyTold = "muted-partly-told"
	// bugStatusEndMissed (open): when the poll that first sees a status
	// that ends a deployment cannot record it (its read cut short or
	// failed, its checkpoint write failed), an event after the stop joins
	// the stopped deployment on the next poll.
	bugStatusEndMissed = "status-end-missed"
)

type knownBug struct {
	name  string
	seeds []uint64
	what  string
	// open: not fixed yet. Its trigger is off unless -faultmatrix.open
	// names it, and TestFaultMatrixRegressions skips it.
	open bool
	// flags are further flags its seeds need (open bugs).
	flags string
	// allTriggers: its seeds show it with every fixed bug's trigger on
	// (as TestFaultMatrix runs), not with its own alone.
	allTriggers bool
	// with are other fixed bugs whose triggers its seeds need.
	with []string
}

var knownBugs = []knownBug{
	{bugTruncatedRead, []uint64{28, 4, 18}, `A read cut short is taken for a whole one. With a server that ` +
		`ignores offset and answers short pages (fault "modelarts ignoring offset", pages of 2 to 5 events), ` +
		`eventsapi.Client.Events stops at the second request (the same page again) and ends the iteration ` +
		`as if every event was read: only a warning is logged (eventsapi/events.go, reasonSamePage). ` +
		`watch.readEvents (functions/watch/read.go) cannot tell (capped stays false), so build applies the ` +
		`current service status and now to a timeline that stops early, decide reports what that partial ` +
		`timeline says, and advance (functions/watch/lifecycle.go) moves ReadThrough over what was read, ` +
		`closes the deployment and rebuilds Edge from the events read only ("the read window always covers ` +
		`the edge": fingerprints of events after the last one read are dropped, future-dated ones too). ` +
		`Seed 28: svc-01 fails in image_pull at poll 27, read only up to scheduling: deployment.failed ` +
		`scheduling is sent, and at poll 28 the real failure event, now outside any deployment, as a runtime ` +
		`service.abnormal; the image_pull failure is never reported (the checkpoint reads past it). Seed 4: ` +
		`svc-00, pulling its image, is read only up to scheduling at poll 24 and reported ` +
		`deployment.stalled scheduling, then deployment.recovered scheduling, neither of which happened. ` +
		`Seed 18: svc-02, running since poll 11, is read at poll 11 only up to scheduling: reported ` +
		`succeeded and closed, so at poll 12 the rest of its events are runtime events, and its ` +
		`"Insufficient resources" event, already sent as the deployment's, is sent again under a second id.`, false, "", false, nil},
	{bugFutureJoinsDeployment, []uint64{2, 32}, `A runtime event dated ahead (an hour to a year) stays in ` +
		`every later read (start_time is before it), and timeline.Build sorts it after every event that ` +
		`really happened, so it falls into the next deployment of its service: watch.build ` +
		`(functions/watch/read.go) keeps every event at or after DeploymentStart, the future one included. ` +
		`(1) The open deployment's LastEventAt becomes the future date, so timeline's stall rule (finish: ` +
		`longer(d.LastEventAt, now, ...)) never fires: no stall of any later deployment is reported until ` +
		`the date passes, nor its recovery (seed 2: svc-00's event dated a year ahead at poll 18, a ` +
		`deployment from poll 19 stalled in environment for 13 minutes, no deployment.stalled; the checkpoint ` +
		`reads past the recovery's event undelivered at poll 34). (2) Its notification id changes with the ` +
		`deployment it falls into (decide, functions/watch/decide.go: a runtime abnormal's id is the ` +
		`service and the event's fingerprint, a deployment's abnormal id the deployment key and message): ` +
		`when a deployment start is read before every destination took it as a runtime service.abnormal, ` +
		`it is sent again under the deployment's id, which receivers cannot deduplicate (seed 32: svc-03's ` +
		`event dated 3 days ahead at poll 5, sent to the webhook as a runtime abnormal while Slack failed; ` +
		`at poll 6 the next deployment's start is read and it is due again as that deployment's abnormal ` +
		`event: the webhook gets it under two ids). (Failure and stop times, and so durations, also become ` +
		`the future date: statusTime returns LastEventAt.)`, false, "", false, nil},
	{bugV2ShortPage, []uint64{1}, `FIXED (EventsV2 ends a short page before total with ErrIncomplete; watch then holds a v2 read's edge, open deployment and runtime notifications back, since records are read newest first). A v2 read cut short was taken for a whole one. ` +
		`eventsapi.Client.EventsV2 ends without an error at a page shorter than its limit (500) even when total ` +
		`says there is more (v2More, eventsapi/v2.go, only logs "paging stopped at a page shorter than the limit ` +
		`before total"), so watch builds the timeline from the newest records alone and advances the checkpoint ` +
		`over them, as the v1 truncated-read did before its fix. Trigger: the fake answering v2 pages shorter than ` +
		`what a read needs (SetMaxPageSize below a v2 window, with "modelarts ignoring offset" or "lying ` +
		`total_count"); off by default (pageFloor). Seed 1: svc-03 (v2) starts deployment m6 at poll 17; at poll 20 ` +
		`the server ignores offset and answers pages of 2 to 5 records: the read ends at the first page, without ` +
		`the deployment's start, and the checkpoint drops it; at poll 21 its failure ("Service deployment timed ` +
		`out..." / 服务部署超时..., status ERROR) is read as runtime: two service.abnormal are sent, ` +
		`deployment.failed environment never is. (When offset must be a multiple of limit, a short page can be ` +
		`read on with limit = its length, or end with ErrIncomplete.)`, false, "", false, nil},
	{bugImpliedFromRuntime, []uint64{28}, `FIXED (a WARNING record never implies a failed deployment). A failure-worded runtime event on a service whose failed ` +
		`deployment was already reported becomes a second deployment.failed. timeline.Build's implied deployment ` +
		`(status failed, no deployment open in the read window: the failed one is older than the window) takes ` +
		`the first failure event among the runtime events, else the first with retried failure wording: ` +
		`ModelArts' documented alarm "Service error. There are N abnormal instances." (T4, a v2 WARNING here). ` +
		`Seed 28: svc-02 (v2) fails at poll 21 ("部署【svc-02-m1】创建失败。", FAILED) and deployment.failed ` +
		`image_build is sent; at poll 24 the status is still FAILED and a runtime WARNING "Service error. There ` +
		`are 1 abnormal instances." / "服务异常，不正常的实例数为1" arrives: it is sent as deployment.failed ` +
		`(phase unknown, a new id, started_at its own time), never as the service.abnormal it is. Trigger: such a ` +
		`WARNING on a service whose last deployment failed.`, false, "", false, nil},
	{bugV2PodsNewest, []uint64{50}, `FIXED (the pod events are read of the newest instance group created before the deployment ended, eventsapi.Service.DeploymentAt; none listed: the summary says so). A v2 failure or stall notified after the service's next ` +
		`deployment began reads the pod events of that deployment. The pod-events request names the service ` +
		`details' newest instance group (Service.DeploymentName), not the deployment notified, so a notification ` +
		`derived again after the next deployment began (a delivery retried, a checkpoint write that failed) asks ` +
		`the wrong deployment within the failed one's window: it gets none, and the summary carries neither ` +
		`pod_events nor pod_events_error. Seed 50: svc-01 (v2) fails in scheduling at poll 21 (pod event Warning ` +
		`FailedScheduling); the checkpoint write crashes; at poll 22, when deployment svc-01-m2 has begun, the ` +
		`failure is sent again (same id) without its pod events and without saying why. Its check is off by ` +
		`default: such deliveries are counted ("asked of a newer deployment").`, false, "", true, nil},
	{bugStatusEndKeepsLaterEvents, []uint64{5}, `FIXED (the checkpoint records the deployment the status ended and its newest event, StatusEnd, kept whether or not delivery succeeded; timeline.BuildAfter keeps later events out of it). A deployment ended by the service status (stopped, ` +
		`stopping, deleting, finished; or failed with no failure event) ends at its newest event, not at the ` +
		`status change, so an event that arrives after the stop joins it whenever the read window holds the ` +
		`deployment's events; which deployment it joins (the real one, an implicit one begun by the window's first ` +
		`phase marker, or none) depends on the window, so a v2 record that repeats is notified under a new id ` +
		`each time its attribution changes. Seed 5 (flags below): svc-01 (v2) is STOPPED at poll 11 (09:11:00) ` +
		`mid-deploy; at poll 12 a runtime WARNING record (09:11:10) arrives and is sent as the stopped ` +
		`deployment's service.abnormal (phase scheduling, ended_at 09:11:10); it repeats at polls 13 and 14 and, ` +
		`the window past the deployment, is sent again as a runtime service.abnormal under another id: receivers ` +
		`cannot deduplicate it. After a failure by the status alone, a later event joins the failed deployment, ` +
		`whose abnormal events are no notification of their own. Trigger: a runtime event as the next activity ` +
		`after such a deployment; off by default.`, false, "-faultmatrix.bug=truncated-read", false, []string{bugTruncatedRead}},
	{bugMutedAfterDelivered, []uint64{2, 7}, `FIXED (e751170: routeDue keeps a notification told somewhere as told ` +
		`when a mute is in force: its destinations are those that took it; nothing is sent, counted or recorded muted; ` +
		`every run now checks that no notification told somewhere is recorded muted). A notification every destination ` +
		`its route names had acknowledged was recorded muted, and counted in notifications_muted, when it was derived ` +
		`again while a mute was in force: watch.routeDue asked the router about every due notification not yet recorded ` +
		`muted or dropped, and decide derives such notifications again (a stall with its recovery and every poll after ` +
		`its phase ended while the deployment is open; a deployment's abnormal v2 record each time it repeats; anything ` +
		`of a service whose checkpoint another notification holds back); settle then replaced its Sent entry (the ` +
		`destinations that took it) with ~muted. Seed 2: svc-01 (v2, "nlp-ner-1-dev") stalls in image_build; its route ` +
		`(service svc-?1, generation v2) names only the Slack bot, which gets deployment.stalled at poll 13; mute 1 ` +
		`(svc-01, deployment.stalled, from 09:22:10Z) begins; at poll 23 (09:23) the deployment succeeds, the stall is ` +
		`derived again with its recovery, and was recorded muted and counted. Seed 7: svc-01's "Insufficient resources" ` +
		`record (v2, deployment m2) reaches all six destinations at poll 15 and repeats every poll; a mute of everything ` +
		`from 09:20 to 09:22 (17:20-17:22 Asia/Shanghai) recorded it muted at poll 20 and counted it. (Seeds 5, 24 and ` +
		`28 showed it too.)`, false, "", false, nil},
	{bugMutedPartlyTold, []uint64{28}, `A notification told to ` +
		`some of the destinations its route names, derived again while a mute is in force, never reaches the others and ` +
		`is not counted muted. watch.routeDue (functions/watch/route.go) takes a muted answer about a notification whose ` +
		`Sent entry lists any destination (len(got) > 0) as "told before the mute": its targets become the destinations ` +
		`that took it, so nothing is pending, settle finds it complete and the checkpoint moves on; deliver counts nothing ` +
		`and nothing is recorded. The destinations that missed it (a failed delivery, an outage) lose it, and ` +
		`notifications_muted does not say so: "every notification reaches exactly the destinations its route names, or is ` +
		`counted muted or dropped" does not hold. (Before e751170 it was recorded muted and counted.) Seed 28 (webhook down ` +
		`for the first 12 polls): svc-04's (v2, "nlp-qa-4-dev") history event "Instance restarted: out of memory ` +
		`(history)" reaches Slack, Teams, Feishu, DingTalk and WeCom during the outage, the webhook failing; at poll 12 ` +
		`(10:42, the webhook back) mute 3 (nlp-*, service.abnormal, 10:41:42Z to 10:42:51Z) is in force: the webhook is ` +
		`not sent it, Result.Muted is 0, svc-04's checkpoint moves on; the webhook never gets it. A fix needs to tell "told ` +
		`to every destination its route names" (done: nothing to count) from "told to some" (record muted and count, or ` +
		`hold the rest until the mute ends): the router's muted Decision has no destinations, so route.Table would have to ` +
		`say where the notification goes without the mute. Its check is off by default: such items are counted ("items ` +
		`muted (after a partial delivery)"). Fixed: route.Table.Route says where a muted notification would go ` +
		`(Decision.To), and routeDue records muted (and counts) one not told to all of them; a notification told to ` +
		`every destination its route names is still not recorded (muted-after-delivered).`, false, "", false, nil},
	{bugStatusEndMissed, []uint64{68}, `OPEN. When the poll that first reads a service status that ends a deployment ` +
		`(stopped, stopping, deleting, finished; or failed with no failure event) does not record it (its read cut short ` +
		`or held back, the read failing, or the checkpoint write failing), the next poll reads the status with the events ` +
		`that came after it, and records the end at the newest of them (StatusEnd.Through): an event after the stop joins ` +
		`the stopped deployment, the case status-end-keeps-later-events fixed for a poll that reads the status first. ` +
		`Under ROUTES it is routed as what it is not: a runtime abnormal event as the deployment's, with its phase ` +
		`(routes and mutes on phase or type see it so). Seed 68: svc-01 (v2, "rec-ranker-1") deployment m2 is DELETING at ` +
		`poll 35 (10:52), its newest event "[m2] starting model" at 10:51:10; the server ignores offset at that poll and ` +
		`the read is held back (ReadThrough, StatusEnd unchanged); at poll 36 the runtime event "Instance restarted: out ` +
		`of memory (#3)" (10:52:10) arrives: StatusEnd becomes {m2's start, 10:52:10} and the event is delivered as m2's ` +
		`service.abnormal in phase model_startup. (The status's own time, update_time or transition_at, could end the ` +
		`deployment instead.) Trigger: faults at the poll a status ends a deployment; off by default (such polls have ` +
		`none).`, true, "", false, nil},
}

// bugsFlag is the triggers a run may contain: every fixed bug's, unless
// -faultmatrix.bug names some (then only those), and the open bugs that
// -faultmatrix.open names.
func bugsFlag(t *testing.T) map[string]bool {
	out := map[string]bool{}
	names := func(flag, list string) []string {
		var out []string
		for name := range strings.SplitSeq(list, ",") {
			if name = strings.TrimSpace(name); name == "" {
				continue
			}
			if !slices.ContainsFunc(knownBugs, func(b knownBug) bool { return b.name == name }) {
				t.Fatalf("-faultmatrix.%s=%s: not a known bug", flag, name)
			}
			out = append(out, name)
		}
		return out
	}
	fixed := names("bug", *flagBug)
	for _, b := range knownBugs {
		if len(fixed) == 0 && !b.open {
			out[b.name] = true
		}
	}
	for _, name := range fixed {
		out[name] = true
	}
	for _, name := range names("open", *flagOpen) {
		out[name] = true
	}
	return out
}

// TestFaultMatrixRegressions runs the seeds that showed each fixed bug,
// with its trigger on. Open bugs are not among its subtests (they would
// fail); reproduce one with -faultmatrix.open=NAME and its seed.
func TestFaultMatrixRegressions(t *testing.T) {
	for _, b := range knownBugs {
		if b.open {
			continue
		}
		t.Run(b.name, func(t *testing.T) {
			for _, seed := range b.seeds {
				t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
					triggers := map[string]bool{b.name: true}
					for _, o := range b.with {
						triggers[o] = true
					}
					if b.allTriggers {
						for _, o := range knownBugs {
							triggers[o.name] = triggers[o.name] || !o.open
						}
					}
					runSeed(t, seed, triggers)
				})
			}
		})
	}
}
