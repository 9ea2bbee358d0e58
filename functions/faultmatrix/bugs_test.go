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
const (
	// bugTruncatedRead: a read that ends early is taken for a whole one.
	bugTruncatedRead = "truncated-read"
	// bugFutureJoinsDeployment: a future-dated event joins every later
	// deployment of its service.
	bugFutureJoinsDeployment = "future-joins-deployment"
)

type knownBug struct {
	name  string
	seeds []uint64
	what  string
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
		`"Insufficient resources" event, already sent as the deployment's, is sent again under a second id.`},
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
		`the future date: statusTime returns LastEventAt.)`},
}

// bugsFlag is the triggers a run may contain: every fixed bug's, unless
// -faultmatrix.bug names some (then only those).
func bugsFlag(t *testing.T) map[string]bool {
	out := map[string]bool{}
	if strings.TrimSpace(*flagBug) == "" {
		for _, b := range knownBugs {
			out[b.name] = true
		}
		return out
	}
	for name := range strings.SplitSeq(*flagBug, ",") {
		if name = strings.TrimSpace(name); name == "" {
			continue
		}
		if !slices.ContainsFunc(knownBugs, func(b knownBug) bool { return b.name == name }) {
			t.Fatalf("-faultmatrix.bug=%s: not a known bug", name)
		}
		out[name] = true
	}
	return out
}

// TestFaultMatrixRegressions runs the seeds that showed each fixed bug,
// with its trigger on.
func TestFaultMatrixRegressions(t *testing.T) {
	for _, b := range knownBugs {
		t.Run(b.name, func(t *testing.T) {
			for _, seed := range b.seeds {
				t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
					runSeed(t, seed, map[string]bool{b.name: true})

				})
			}
		})
	}
}
