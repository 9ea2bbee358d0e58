// Package timeline rebuilds ModelArts deployments from a service's events and
// classifies them: which deployments ran, how far each got through the five
// phases, and whether each succeeded, failed, stalled or is still in progress.
// It is pure: no I/O, no clock (the caller passes now), no logging.
//
// # How events are read
//
// Events are matched on their text, case-insensitively, by substring (ASCII
// folding; text in other scripts is kept but matches nothing). Real ModelArts
// text varies between console versions, so each rule accepts variations.
// Unknown text never fails anything: it is kept verbatim in the deployment's
// Events (or in Timeline.Runtime) and changes nothing else.
//
// Input events should be ascending by occur_time; Build sorts a copy stably
// when they are not (events at the same millisecond keep their input order).
// An event identical to another at the same millisecond (same type, text and
// time) is a duplicate and is kept once.
//
// # Deployments
//
//   - A deployment starts at a start marker: "start to deploy", "starts to
//     deploy", "start deploying", "starting to deploy", "started to deploy",
//     "begin(s) to deploy" ("start to deploy service", "The service starts to
//     deploy."). A new start ends any open deployment.
//   - Events before the first start marker that carry a phase marker begin an
//     implicit deployment (the window began mid-deployment) whose Start is the
//     first such event's time. There is at most one, at the window's start.
//   - A deployment ends at its terminal event: a failure event, or the end of
//     model startup. Events after it, up to the next start marker, belong to
//     no deployment: they are runtime events (Timeline.Runtime), as are events
//     before the first deployment.
//   - A deployment that is not the newest (Latest) and never ended was
//     superseded by the next start: its Outcome is in_progress (the outcome
//     was never recorded) and its End is the next deployment's Start.
//   - The service status applies to the Latest deployment only, and only while
//     it is open: a terminal event decides, the status does not override it.
//
// # Phases
//
// Each phase is found by the words of its events; an event that names a phase
// and a success word ("success", "succeeded", "successfully", "completed",
// "done", "finished"; also "created"/"built" for the image) ends it, one that
// names it without success or failure wording begins it:
//
//	image_build    "building image", "build image", "image build", "image starts to create", "creat…" + "image"
//	environment    "environment" ("preparing environment", "prepare environment success")
//	scheduling     "schedul…", "insufficient" (and it begins when environment ends)
//	image_pull     "pull" ("pulling model image", "pull image success")
//	model_startup  "starting model", "start model", "model start", "start service"
//
// A success word that qualifies "started" ("Image build task started
// successfully") begins the phase, it does not end it.
//
// Model startup also ends at "Service xxx started.", "... started
// successfully", "... is running" (not "is running out"), a deployment success
// ("deploy" with a success word), or, for the Latest deployment, the service
// status running (or concerning: it runs, some instances are unhealthy). Its
// end is the deployment's success. The wording counts only when it is about
// model startup or the service as a whole: the text names model startup,
// begins with "Service", or names no phase and says "service" or "deploy".
// "Image build task started successfully", "Environment preparation is
// running" or "Instance 0 started." end nothing. A phase noun inside the
// service's name ("Service pull-worker is running.") is not a phase.
//
// Phase times never go backwards: an event for an earlier phase than the
// current one changes nothing. A phase that begins ends every earlier phase
// still running (succeeded, at that time). A phase whose end is seen without
// its beginning begins where the previous phase ended (or where the
// deployment started), which is how scheduling begins at the end of
// environment. A phase with no events stays pending, with no times. When the
// service status running completes a deployment, the completion time is the
// service's transition_at (else update_time) when that is not before the
// deployment's last event nor after now, otherwise the last event's time.
//
// # Failures, abnormal events, stalls
//
//   - IsFailure: the text has the word "fail", "fails", "failed", "failing",
//     "failure(s)", "error(s)" or the words "timed out", as whole words
//     (not "errorless", not "no_error"), and is not an "Insufficient …" event.
//   - Insufficient resources are abnormal, never a failure by their text:
//     ModelArts retries scheduling until resources are free or it gives up.
//     Both "Insufficient resources. Wait until idle resources are
//     sufficient." and "Insufficient xxx. The scheduling failed.
//     Supplementary information: xxx" (which says "failed") are therefore
//     abnormal events (in the deployment's Abnormal list) in the
//     scheduling phase, while the deployment stays in progress. It fails only
//     when the service status becomes failed (then in the phase it was in,
//     usually scheduling) or a later event has failure wording; it may also
//     stall in scheduling, or recover and go on.
//   - IsAbnormal: event_type "abnormal" (any case), failure wording,
//     "insufficient", "quota exceed", "exceeds the upper limit", "stopped
//     because", "out of memory", "unhealthy".
//   - A failure event during a deployment fails it: Outcome failed, Failure is
//     that event, End its time. The failed phase is the phase running then;
//     if none was running, the next phase (it was waiting for it; it keeps no
//     times); if no phase had begun, none (Phase ""). A failure event naming a
//     later phase ("Failed to pull image") first begins that phase.
//   - The service status failed fails the Latest open deployment the same
//     way, at the status time (see above), with ErrorMsg = the service's
//     error_msg; if no phase had begun, the phase named by error_msg, if any.
//     ErrorMsg is also set when the Latest deployment failed by an event and
//     the service status is failed.
//   - The service status stopped, stopping, deleting or finished closes the
//     Latest open deployment at the status time (Stopped, End set); its
//     Outcome stays in progress and it is no notification of its own. A
//     stopped deployment never pins the read window.
//   - Every abnormal event of a deployment is in its Abnormal list, whether or
//     not it failed the deployment.
//   - Stall: the Latest deployment is open, the service is still deploying
//     (status deploying, pending or waiting), and now minus its last event is
//     longer than the threshold of the phase it is in: Outcome stalled, that
//     phase's status stalled, and an open Stall (Until 0). The phase it is in
//     is the running one, or, between phases, the next one (a deployment
//     stuck right after its start marker is stalled in image_build).
//   - Gaps between two events of a deployment that are longer than the
//     current phase's threshold are recorded as closed Stalls (Until set) in
//     every deployment: the next event is a recovery.
//
// # Summaries
//
// Deployment.Summary converts a deployment for the notifier. Durations of an
// open deployment or phase run up to now (a phase of a superseded deployment
// up to that deployment's End); a phase that never began has no duration.
// Events and abnormal events are capped to the most recent MaxSummaryEvents
// to bound a webhook's size; the capped Events keep the deployment's first
// event. RuntimeSummary has status abnormal, no phase and an empty phase list
// (runtime events belong to no deployment).
package timeline
