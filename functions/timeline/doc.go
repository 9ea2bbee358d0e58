// Package timeline rebuilds ModelArts deployments from a service's events and
// classifies them: which deployments ran, how far each got through the five
// phases, and whether each succeeded, failed, stalled or is still in progress.
// It is pure: no I/O, no clock (the caller passes now), no logging.
//
// # How events are read
//
// Every word and phrase the rules use is a row of the marker table
// (markers.go), in English and Chinese, each citing the documented phrase it
// comes from (shared/MODELARTS-EVENT-TEXT.md: the API example, the console
// event tables, Huawei's troubleshooting pages, the v2 API's event_info_cn,
// Kubernetes pod wording). The table is compiled once into one automaton
// that reads a text in a single pass. Matching folds ASCII case and treats
// every run of ASCII punctuation and white space as one space ("Back-off"
// is "back off", "timed\tout" is "timed out"). English rows marked as words
// match whole words only ("error", not "errorless" or "no_error"); an ASCII
// word next to a non-ASCII character is a word of its own ("服务Error").
// Chinese rows match substrings (Chinese has no word boundaries). Real
// ModelArts text varies between console versions, so each rule accepts
// variations. Unknown text, in any language or none, never fails anything:
// it is kept verbatim in the deployment's Events (or in Timeline.Runtime)
// and changes nothing else.
//
// The text classified is event_info; v2's event_info_cn (Chinese) when
// event_info is empty, or when event_info matches no row (other than the
// structure words "service", "deploy", "image", "creat"): a v2 record whose
// English text says nothing known still counts by its Chinese one. When
// event_info matches, it alone decides.
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
//     Pod-level wording of model startup (OOMKilled, CrashLoopBackOff,
//     probe failures, "No module named", warm-up) and "No space" name their
//     phase but begin no implicit deployment: they are as likely at runtime.
//     Neither does any abnormal event that is no failure (retried wording,
//     "Failed to start the pod container ...", insufficient resources): a
//     deployment made of such events alone could only be closed by the
//     status, as a success the events never showed.
//   - A deployment ends at its terminal event: a failure event, or the end of
//     model startup. Events after it, up to the next start marker, belong to
//     no deployment: they are runtime events (Timeline.Runtime), as are events
//     before the first deployment.
//   - A deployment that is not the newest (Latest) and never ended was
//     superseded by the next start: its Outcome is in_progress (the outcome
//     was never recorded) and its End is the next deployment's Start.
//   - The service status applies to the Latest deployment only, and only while
//     it is open: a terminal event decides, the status does not override it.
//   - Implied deployment: when the service status says failed (status
//     failed, or v2's raw status ERROR) and no deployment is open (none at
//     all, or the Latest one succeeded), the first failure event among the
//     runtime events after the Latest deployment (else the first with
//     retried failure wording) becomes a failed deployment of its own
//     (Implied; it is the Latest; Start and End are its time; its only event
//     is that one, which leaves Timeline.Runtime). Its phase is the one its
//     text (or error_msg) names, else the one named by the newest earlier of
//     those runtime events, else PhaseUnknown. So "部署【x】创建失败。" alone,
//     with the status failed, is a failed deployment, never a silent runtime
//     event. A Latest deployment that failed by an event implies nothing.
//
// # Phases
//
// Each phase is found by the words of its events; an event that names a phase
// and a success word ("success", "succeeded", "successfully", "completed",
// "done", "finished"; also "created"/"built" for the image) ends it, one that
// names it without success word begins it (trouble, failure or abnormal
// wording, ends nothing). The main rows (markers.go has them all):
//
//	image_build    "building image", "build image", "image build", "image starts to create", "creat…" + "image", 构建镜像
//	environment    "environment" ("preparing environment", "prepare environment success")
//	scheduling     "schedul…", "insufficient", 调度, 资源不足, FailedScheduling, "nodes are available" (and it begins when environment ends)
//	image_pull     "pull" ("pulling model image", "pull image success", ErrImagePull, ImagePullBackOff), 拉取镜像
//	model_startup  "starting model", "start model", "model start", "start service", "start the pod container", 启动失败;
//	               pod wording (no implicit deployment): OOMKilled, "out of memory", 内存不足, CrashLoopBackOff,
//	               "Back-off restarting failed container", "Readiness/Liveness probe failed", "No module named", warm-up
//
// No documented Chinese phrase marks a phase's begin or success (no Chinese
// "pulling model image"): Chinese text names phases in its failures.
// A success word that qualifies "started" ("Image build task started
// successfully") begins the phase, it does not end it.
//
// Model startup also ends at "Service xxx started.", "... started
// successfully", "... is running" (not "is running out"), a deployment success
// ("deploy" with a success word), or, for the Latest deployment, the service
// status running (or concerning: it runs, some instances are unhealthy), but
// only once the deployment reached model startup (its begin marker, or the
// end of image pull): abnormal events alone never make a success. A Latest
// open deployment that the status running or concerning finds before model
// startup is closed at the status time with its outcome unknown
// (Unconfirmed; Outcome stays in progress, no notification of its own, it
// never pins the read window). Model startup's end is the deployment's
// success. The wording counts only when it is about
// model startup or the service as a whole: the text names model startup,
// begins with "Service", or names no phase and says "service" or "deploy".
// "Image build task started successfully", "Environment preparation is
// running", "Instance 0 started." or "The service is being started." end
// nothing. A phase noun inside the
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
//   - Failure wording: the whole words "fail", "fails", "failed", "failing",
//     "failure(s)", "error(s)", "timed out" (not "errorless", not
//     "no_error"), or the Chinese 失败, 超时 anywhere.
//   - IsFailure: failure wording that is neither about insufficient
//     resources nor retried; or final wording, a failure whatever else the
//     text says: "deployment timed out", 设置为失败 ("set to failed"),
//     服务部署超时, 服务部署失败, 部署时间超过 ("deployment exceeded N
//     minutes"), 创建失败 ("部署【x】创建失败。").
//   - Retries are not failures: failure wording that also says it will be
//     retried ("retry later", "Retry later", "try again later", "try later",
//     稍后重试, "Back-off"/"BackOff", "will be restarted") or that reports a
//     condition ModelArts or Kubernetes retries itself (ErrImagePull,
//     ImagePullBackOff, "rpc error" of a pull, probe failures,
//     CrashLoopBackOff, FailedScheduling, "0/N nodes are available", "Failed
//     to start the pod container" (T3: the service stays deploying), "There
//     are N abnormal instances" (T4: ModelArts replaces them)) is abnormal,
//     not a failure: the deployment goes on, and fails only by a later
//     failure event or the service status. "failed to pull image, retry
//     later" followed by "pull image success" … "Service x started." is a
//     success.
//   - Insufficient resources are abnormal, never a failure by their text:
//     ModelArts retries scheduling until resources are free or it gives up.
//     Both "Insufficient resources. Wait until idle resources are
//     sufficient." and "Insufficient xxx. The scheduling failed.
//     Supplementary information: xxx" (which says "failed") are therefore
//     abnormal events (in the deployment's Abnormal list) in the
//     scheduling phase, while the deployment stays in progress. It fails only
//     when the service status becomes failed (then in the phase it was in,
//     usually scheduling) or a later failure event (IsFailure); it may also
//     stall in scheduling, or recover and go on. Final wording still wins:
//     "部署【x】创建失败。资源池资源不足" fails (in scheduling).
//   - IsAbnormal: event_type "abnormal" or "warning" (v2; any case), failure
//     wording (retried or not), retry wording, insufficient resources, or
//     other abnormal rows: "quota exceed", "exceeds the upper limit",
//     "stopped because", "out of memory", "unhealthy", OOMKilled, 异常,
//     服务异常, 不正常的实例, 内存不足, 不可用, DEW凭据, "sfs turbo", …
//   - A failure event during a deployment fails it: Outcome failed, Failure is
//     that event, End its time. The failed phase is the phase running then;
//     if none was running, the next phase (it was waiting for it; it keeps no
//     times); if no phase had begun, none (Phase ""). A failure event naming a
//     later phase ("Failed to pull image") first begins that phase.
//   - The service status failed fails the Latest open deployment the same
//     way, at the status time (see above), with ErrorMsg = the service's
//     error_msg; if no phase had begun, the phase named by error_msg, if any.
//     ErrorMsg is also set when the Latest deployment failed by an event and
//     the service status is failed. v2's raw status ERROR (RawStatus
//     "ERROR", normalised to concerning) counts as failed: it wins over
//     concerning, which would otherwise end model startup as a success.
//   - The service status stopped, stopping, deleting or finished closes the
//     Latest open deployment at the status time (Stopped, End set); its
//     Outcome stays in progress and it is no notification of its own. A
//     stopped deployment never pins the read window.
//   - A deployment the status ended (stopped, failed with no failure
//     event, succeeded by running, Unconfirmed) has ByStatus set. Given
//     the StatusEnd a previous read recorded for it (BuildAfter), events
//     after its newest event then never join it: a runtime event after a
//     stop is a runtime event whatever the read window holds.
//   - Every abnormal event of a deployment is in its Abnormal list, whether or
//     not it failed the deployment.
//   - Activity: a deployment's LastEventAt is the newest OccurTime or
//     LastOccurTime of its events: a v2 record that keeps repeating
//     ("Insufficient resources" every minute) is activity. Events stay
//     ordered by OccurTime, their first occurrence.
//   - Stall: the Latest deployment is open, the service is still deploying
//     (status deploying, pending or waiting), and now minus LastEventAt is
//     longer than the threshold of the phase it is in: Outcome stalled, that
//     phase's status stalled, and an open Stall (Until 0). The phase it is in
//     is the running one, or, between phases, the next one (a deployment
//     stuck right after its start marker is stalled in image_build).
//   - Gaps between two events of a deployment that are longer than the
//     current phase's threshold are recorded as closed Stalls (Until set) in
//     every deployment: the next event is a recovery.
//
// # Hints
//
// Rows of the table that name a known trouble carry a hint: a short remedy
// and, where Huawei documents one, its troubleshooting page (insufficient
// resources: wait, or pick another flavor or pool; image pull: model or
// image too large, image missing; "No module named": the inference code's
// dependencies; timeouts, probes, out of memory, DEW secrets, SFS Turbo,
// rollbacks, abnormal instances, warm-up). When a text matches several, the
// most specific wins (markers.go orders them); an abnormal event that
// matches none but names a phase gets that phase's hint (image build, image
// pull, model startup; scheduling: insufficient resources). HintFor gives
// an abnormal event's hint (none for a normal one or unknown text).
// Deployment.Hint and HelpURL are those of its failure event, else (failed
// by the status) of the service's error_msg, else of its latest abnormal
// event that has one.
//
// # Identity
//
// Fingerprint identifies a v1 event by its type, text and time, and a v2
// record (ID set) by its ID and last occurrence: a repeat of a record is a
// changed record; v1 fingerprints never change (checkpoints store them).
//
// # Summaries
//
// Deployment.Summary converts a deployment for the domain. Durations of an
// open deployment or phase run up to now (a phase of a superseded deployment
// up to that deployment's End); a phase that never began has no duration.
// Events and abnormal events are capped to the most recent MaxSummaryEvents
// to bound a webhook's size; the capped Events keep the deployment's first
// event. RuntimeSummary has status abnormal, no phase and an empty phase list
// (runtime events belong to no deployment).
package timeline
