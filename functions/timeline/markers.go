package timeline

// The marker table: every word and phrase the classifier knows, as data.
//
// Each row is matched case-insensitively (ASCII folding) on the event text
// after normalisation: ASCII letters are lower-cased and every run of other
// ASCII bytes (spaces, punctuation) becomes one space, so "Back-off",
// "back off" and "timed\tout" are matched by "back-off" and "timed out".
// A row with word set matches whole words only (English: "error" matches
// "Error: xxx", not "errorless"); other rows match as substrings, which is
// how every Chinese row is matched (Chinese has no word boundaries). Bytes
// of multi-byte UTF-8 characters count as word bytes, so an English word
// glued to Chinese text is not a whole word.
//
// source names the key of the source in shared/MODELARTS-EVENT-TEXT.md
// (A1 the API example, U1/U2 the console event tables, T1-T11 the
// troubleshooting pages, E1 the error codes, M1 the model events, K1-K4
// Kubernetes wording), or "variant" for console variations the product
// has always accepted. example is the documented phrase the row comes from;
// markers_test.go classifies each one.

// kind is what a row says, as bits; a text's kinds are the union of its
// rows'.
type kind uint32

const (
	kStart        kind = 1 << iota // a deployment start marker
	kPhase                         // names phase (a begin marker; with kSuccess an end marker)
	kWeak                          // names phase, but does not begin an implicit deployment (pod-level wording)
	kSuccess                       // a success word: the phase named ended
	kCreated                       // "created", "built": the image phase ended
	kStarted                       // the word "started"
	kBeing                         // "being started": progressive, nothing started yet
	kRunning                       // "is running"
	kRunningOut                    // "is running out" (of memory): not running
	kFailure                       // failure wording
	kTerminal                      // final failure wording: a failure even when retry or insufficient wording is present
	kRetry                         // says it will be retried (or is retried by ModelArts or Kubernetes)
	kInsufficient                  // insufficient resources: retried by ModelArts
	kAbnormal                      // abnormal wording
	kService                       // "service" anywhere
	kServiceWord                   // the word "service" (at the start: the text is about the service)
	kDeploy                        // "deploy"
	kCreat                         // "creat"
	kImage                         // "image"

	// kStructure are the words that say nothing alone.
	kStructure = kService | kServiceWord | kDeploy | kCreat | kImage
)

// Phase references in the table: 0 names no phase.
const (
	noPhase = iota
	onImageBuild
	onEnvironment
	onScheduling
	onImagePull
	onModelStartup
)

// hintID names a hint; a lower id is more specific and wins when a text
// matches several.
type hintID uint8

const (
	hintNone hintID = iota
	hintDEW
	hintStorage
	hintNoModule
	hintOOM
	hintWarmup
	hintImagePull
	hintImageBuild
	hintProbe
	hintCrashLoop
	hintRollback
	hintRolledBack
	hintInsufficient
	hintAffinity
	hintPodStart
	hintTimeout
	hintStartFailed
	hintQuota
	hintAbnormalInstances
	numHints
)

// hint is a short remedy and, where Huawei documents one, its
// troubleshooting page in English (en, the international site's en-us
// page) and in Chinese (zh, the Chinese site's page), either of which may
// be missing.
type hint struct {
	text   string
	en, zh string
	source string
}

// url is h's page for a text in Chinese (zh) or not: the page in that
// language when Huawei has one, else the other one (a page in the other
// language helps more than none).
func (h hint) url(zh bool) string {
	if zh && h.zh != "" || h.en == "" {
		return h.zh
	}
	return h.en
}

// Troubleshooting pages (MODELARTS-EVENT-TEXT.md gives their addresses;
// the Chinese-only pages are given there as .md, served as .html). The
// international site serves a page at /intl/en-us/; the Chinese site at
// the root. A page's other languages (th-th, es-us) are never linked.
const (
	urlT1EN  = "https://support.huaweicloud.com/intl/en-us/trouble-modelarts/modelarts_05_3155.html"
	urlT3EN  = "https://support.huaweicloud.com/intl/en-us/modelarts_faq/modelarts_05_0026.html"
	urlT4EN  = "https://support.huaweicloud.com/intl/en-us/trouble-modelarts/modelarts_13_0065.html"
	urlT4ZH  = "https://support.huaweicloud.com/trouble-modelarts/modelarts_13_0065.html"
	urlT5ZH  = "https://support.huaweicloud.com/trouble-modelarts/modelarts_13_0049.html"
	urlT6EN  = "https://support.huaweicloud.com/intl/en-us/trouble-modelarts/inference2.0-modelarts-0060.html"
	urlT6ZH  = "https://support.huaweicloud.com/trouble-modelarts/modelarts_13_0048.html"
	urlT7ZH  = "https://support.huaweicloud.com/trouble-modelarts/modelarts_13_0047.html"
	urlT8ZH  = "https://support.huaweicloud.com/trouble-modelarts/modelarts_13_0063.html"
	urlT9ZH  = "https://support.huaweicloud.com/trouble-modelarts/modelarts_13_0195.html"
	urlT11EN = "https://support.huaweicloud.com/intl/en-us/trouble-modelarts/modelarts_05_3154.html"
	urlT11ZH = "https://support.huaweicloud.com/trouble-modelarts/modelarts_13_0045.html"
	urlM1ZH  = "https://support.huaweicloud.com/usermanual-standard-modelarts/inference-modelarts-0118.html"
)

var hints = [numHints]hint{
	hintDEW: {"The DEW secret the service uses is missing, or holds no usable AK/SK: check the secret in Data Encryption Workshop.",
		"", urlT5ZH, "T5"},
	hintStorage: {"The SFS Turbo file system the service mounts is unavailable: check its status and the service's storage settings.",
		"", urlT5ZH, "T5"},
	hintNoModule: {"The inference code imports a module the image does not have: declare the dependency in the model's config.json (or install it in a custom image).",
		"", "", "T10"},
	hintOOM: {"The model ran out of memory: choose a flavor with more memory, or reduce the model's memory use.",
		"", urlT9ZH, "T9 K2"},
	hintWarmup: {"Model warm-up failed: check that the warm-up file configured for the model exists and is valid.",
		"", urlT8ZH, "T8"},
	hintImagePull: {"Pulling the image failed: the model or image may be too large, or the image may be missing or not accessible in SWR.",
		"", urlT9ZH, "T2 T9 K1"},
	hintImageBuild: {"Building the model image failed: check the model's config.json (dependencies, runtime) and the build log.",
		"", urlM1ZH, "U1 M1"},
	hintProbe: {"The health check failed: make sure the model listens on the configured port and health-check path, and allow it enough time to start.",
		urlT11EN, urlT11ZH, "T11 K3 K4"},
	hintCrashLoop: {"The container keeps exiting and is restarted: the service logs show the model's startup error.",
		urlT3EN, "", "T3 K2"},
	hintRollback: {"The update failed and so did its rollback (often waiting for resources): check the resource pool, then update the service again.",
		urlT6EN, urlT6ZH, "U1 T6"},
	hintRolledBack: {"The update failed; ModelArts rolled the service back to its previous version, which keeps running.",
		"", "", "U1"},
	hintInsufficient: {"Not enough free resources for the selected flavor: wait until resources are released (ModelArts retries), or pick another flavor or resource pool.",
		urlT1EN, "", "U1 T1 E1 T5 K4"},
	hintAffinity: {"The pod could not be scheduled: check the pool's free resources and the model's warm-up or affinity settings.",
		"", urlT7ZH, "T7"},
	hintPodStart: {"The pod's container does not start, so the service stays deploying: the Pod events tab shows why.",
		urlT3EN, "", "T3"},
	hintTimeout: {"ModelArts failed the deployment when it exceeded its deploy timeout: the phase it was in shows where it hung (often a slow model or a failing health check).",
		urlT11EN, urlT11ZH, "U1 U2 T5 T9 T11"},
	hintStartFailed: {"The service did not start: usual causes are an image pull failure, insufficient resources or memory, or an error in the model's code (see the logs).",
		"", urlT9ZH, "U1 T9"},
	hintQuota: {"The service was stopped because a quota was exceeded: raise the quota or free resources, then start it again.",
		"", "", "U1"},
	hintAbnormalInstances: {"Some instances are unhealthy and ModelArts replaces them itself: if it persists, check the service logs.",
		urlT4EN, urlT4ZH, "T4"},
}

// phaseHints is the hint of an abnormal event that names a phase but
// matched no row with a hint of its own.
var phaseHints = [numPhases]hintID{
	imageBuild:   hintImageBuild,
	environment:  hintNone,
	scheduling:   hintInsufficient,
	imagePull:    hintImagePull,
	modelStartup: hintStartFailed,
}

// marker is one row of the table.
type marker struct {
	text    string // lower-case; normalised like event text before matching
	word    bool   // whole words only
	kinds   kind
	phase   int // noPhase or on…: the phase the text names
	hint    hintID
	source  string
	example string
}

var markers = []marker{
	// Deployment start markers.
	{text: "start to deploy", kinds: kStart, source: "A1", example: "start to deploy service"},
	{text: "starts to deploy", kinds: kStart, source: "U1", example: "The service starts to deploy."},
	{text: "start deploying", kinds: kStart, source: "variant", example: "Start deploying service"},
	{text: "starting to deploy", kinds: kStart, source: "variant", example: "Starting to deploy service"},
	{text: "started to deploy", kinds: kStart, source: "variant", example: "Service started to deploy"},
	{text: "begin to deploy", kinds: kStart, source: "variant", example: "Begin to deploy service"},
	{text: "begins to deploy", kinds: kStart, source: "variant", example: "The service begins to deploy."},

	// Phase markers: a text naming a phase begins it, with a success word
	// it ends it. When a text names several phases, the last phase wins.
	{text: "building image", kinds: kPhase, phase: onImageBuild, source: "A1", example: "building image for model [TF 3.0.0]"},
	{text: "build image", kinds: kPhase, phase: onImageBuild, source: "A1", example: "model (TF 3.0.0) build image success"},
	{text: "build the image", kinds: kPhase, phase: onImageBuild, source: "M1", example: "构建镜像失败。 Failed to build the image."},
	{text: "image build", kinds: kPhase, phase: onImageBuild, source: "variant", example: "Image build started."},
	{text: "image starts to create", kinds: kPhase, phase: onImageBuild, source: "U1", example: "The image starts to create."},
	{text: "image creat", kinds: kPhase, phase: onImageBuild, source: "U1", example: "The image created."},
	{text: "failed to create model image", kinds: kPhase | kFailure, phase: onImageBuild, hint: hintImageBuild, source: "U1",
		example: "Failed to create model image xxx. For details, see logs :\nxxx."},
	{text: "failed to create the image", kinds: kPhase | kFailure, phase: onImageBuild, hint: hintImageBuild, source: "U1",
		example: "Failed to create the image."},
	{text: "failed to build the image", kinds: kPhase | kFailure, phase: onImageBuild, hint: hintImageBuild, source: "M1",
		example: "构建镜像失败。 Failed to build the image."},
	{text: "构建镜像", kinds: kPhase, phase: onImageBuild, source: "M1", example: "构建镜像失败。 Failed to build the image."},
	{text: "构建镜像失败", kinds: kPhase | kFailure, phase: onImageBuild, hint: hintImageBuild, source: "M1", example: "构建镜像失败。"},

	{text: "environment", kinds: kPhase, phase: onEnvironment, source: "A1", example: "[TF 3.0.0] prepare environment success"},

	{text: "schedul", kinds: kPhase, phase: onScheduling, source: "A1 T1", example: "[TF 3.0.0] schedule resource success"},
	{text: "调度", kinds: kPhase, phase: onScheduling, source: "T7 T9", example: "Pod调度失败"},
	{text: "调度失败", kinds: kPhase | kFailure, phase: onScheduling, source: "T7 T9", example: "提示资源不足，服务调度失败"},
	{text: "pod调度失败", kinds: kPhase | kFailure, phase: onScheduling, hint: hintAffinity, source: "T7", example: "Pod调度失败"},
	{text: "didn't match pod affinity", kinds: kPhase | kAbnormal | kRetry, phase: onScheduling, hint: hintAffinity, source: "T7",
		example: "0/3 nodes are available: 3 node(s) didn't match pod affinity rules."},
	{text: "failedscheduling", word: true, kinds: kPhase | kAbnormal | kRetry, phase: onScheduling, source: "K4",
		example: "FailedScheduling: 0/2 nodes are available: 1 Insufficient nvidia.com/gpu."},

	{text: "pull", kinds: kPhase, phase: onImagePull, source: "A1", example: "[TF 3.0.0] pulling model image"},
	{text: "failed to pull image", kinds: kPhase | kFailure, phase: onImagePull, hint: hintImagePull, source: "T2 K1",
		example: "failed to pull image, retry later"},
	{text: "拉取镜像", kinds: kPhase, phase: onImagePull, source: "T9", example: "拉取镜像失败"},
	{text: "拉取镜像失败", kinds: kPhase | kFailure, phase: onImagePull, hint: hintImagePull, source: "T9", example: "提示拉取镜像失败"},
	{text: "errimagepull", word: true, kinds: kPhase | kAbnormal | kRetry, phase: onImagePull, hint: hintImagePull, source: "K1",
		example: "Error: ErrImagePull"},
	{text: "imagepullbackoff", word: true, kinds: kPhase | kAbnormal | kRetry, phase: onImagePull, hint: hintImagePull, source: "K1",
		example: "Error: ImagePullBackOff"},
	{text: "back-off pulling image", kinds: kPhase | kAbnormal | kRetry, phase: onImagePull, hint: hintImagePull, source: "K1 K4",
		example: `Back-off pulling image "flask-app-2-4-pod:latest"`},

	{text: "starting model", kinds: kPhase, phase: onModelStartup, source: "A1", example: "[TF 3.0.0] starting model"},
	{text: "start model", kinds: kPhase, phase: onModelStartup, source: "variant", example: "[TF 3.0.0] start model success"},
	{text: "model start", kinds: kPhase, phase: onModelStartup, source: "variant", example: "Model started successfully."},
	{text: "starting the model", kinds: kPhase, phase: onModelStartup, source: "variant", example: "Starting the model."},
	{text: "start the model", kinds: kPhase, phase: onModelStartup, source: "variant", example: "Failed to start the model."},
	{text: "start service", kinds: kPhase, phase: onModelStartup, source: "U1", example: "Failed to start service xxx."},
	{text: "failed to start service", kinds: kPhase | kFailure, phase: onModelStartup, hint: hintStartFailed, source: "U1",
		example: "Failed to start service xxx."},
	{text: "启动失败", kinds: kPhase | kFailure, phase: onModelStartup, hint: hintStartFailed, source: "T9", example: "服务启动失败"},
	// "stays deploying": ModelArts keeps trying (T3), not a failure by itself.
	{text: "start the pod container", kinds: kPhase | kRetry, phase: onModelStartup, hint: hintPodStart, source: "T3",
		example: "Failed to start the pod container in deployment [%s]."},
	{text: "no module named", kinds: kPhase | kWeak | kFailure, phase: onModelStartup, hint: hintNoModule, source: "T10",
		example: "ModuleNotFoundError: No module named 'model_service.tfserving_model_service'"},
	{text: "内存不足", kinds: kPhase | kWeak | kAbnormal, phase: onModelStartup, hint: hintOOM, source: "T9", example: "提示内存不足"},
	{text: "out of memory", kinds: kPhase | kWeak | kAbnormal, phase: onModelStartup, hint: hintOOM, source: "K2", example: "Out of memory"},
	{text: "oomkilled", word: true, kinds: kPhase | kWeak | kAbnormal | kRetry, phase: onModelStartup, hint: hintOOM, source: "K2",
		example: "OOMKilled"},
	{text: "crashloopbackoff", word: true, kinds: kPhase | kWeak | kAbnormal | kRetry, phase: onModelStartup, hint: hintCrashLoop,
		source: "K2", example: "Error: CrashLoopBackOff"},
	{text: "back-off restarting failed container", kinds: kPhase | kWeak | kAbnormal | kRetry, phase: onModelStartup,
		hint: hintCrashLoop, source: "K2", example: "Back-off restarting failed container"},
	{text: "readiness probe failed", kinds: kPhase | kWeak | kAbnormal | kRetry, phase: onModelStartup, hint: hintProbe, source: "K4",
		example: `Readiness probe failed: Get "http://10.244.1.25:8080/ready": dial tcp 10.244.1.25:8080: connect: connection refused`},
	{text: "liveness probe failed", kinds: kPhase | kWeak | kAbnormal | kRetry, phase: onModelStartup, hint: hintProbe, source: "K3 K4",
		example: "Liveness probe failed: HTTP probe failed with statuscode: 500"},
	{text: "failed liveness probe", kinds: kPhase | kWeak | kAbnormal | kRetry, phase: onModelStartup, hint: hintProbe, source: "K4",
		example: "Container app-container failed liveness probe, will be restarted"},
	{text: "warmup", kinds: kPhase | kWeak | kAbnormal, phase: onModelStartup, hint: hintWarmup, source: "T8",
		example: "ModelArts.8504: The model warmup file does not exist"},

	// Success and lifecycle words (whole words).
	{text: "success", word: true, kinds: kSuccess, source: "A1", example: "[TF 3.0.0] pull image success"},
	{text: "succeeded", word: true, kinds: kSuccess, source: "variant", example: "Image build succeeded."},
	{text: "successful", word: true, kinds: kSuccess, source: "variant", example: "Image build successful."},
	{text: "successfully", word: true, kinds: kSuccess, source: "variant", example: "Model started successfully."},
	{text: "succeed", word: true, kinds: kSuccess, source: "variant", example: "Image build did succeed."},
	{text: "succeeds", word: true, kinds: kSuccess, source: "variant", example: "Image build succeeds."},
	{text: "completed", word: true, kinds: kSuccess, source: "variant", example: "Image build completed."},
	{text: "complete", word: true, kinds: kSuccess, source: "variant", example: "Image build complete."},
	{text: "done", word: true, kinds: kSuccess, source: "variant", example: "Image build done."},
	{text: "finished", word: true, kinds: kSuccess, source: "variant", example: "Image build finished."},
	{text: "created", word: true, kinds: kCreated, source: "U1", example: "The image created."},
	{text: "built", word: true, kinds: kCreated, source: "variant", example: "Image built."},
	{text: "started", word: true, kinds: kStarted, source: "U1", example: "Service xxx started."},
	{text: "being started", word: true, kinds: kBeing, source: "U1", example: "The service is being started."},
	{text: "is running", word: true, kinds: kRunning, source: "PRODUCT.md", example: "Service service-07085 is running."},
	{text: "is running out", word: true, kinds: kRunningOut, source: "variant", example: "Instance 0 is running out of memory."},

	// Failure words. English: whole words; Chinese: substrings.
	{text: "fail", word: true, kinds: kFailure, source: "PRODUCT.md", example: "Deployment fail"},
	{text: "fails", word: true, kinds: kFailure, source: "T1", example: "the service deployment fails"},
	{text: "failed", word: true, kinds: kFailure, source: "U1", example: "Service xxx failed. Error: xxx"},
	{text: "failing", word: true, kinds: kFailure, source: "variant", example: "Image pull failing"},
	{text: "failure", word: true, kinds: kFailure, source: "T6", example: "upgrade rollback failure and insufficient resources"},
	{text: "failures", word: true, kinds: kFailure, source: "T11", example: "health check failures"},
	{text: "error", word: true, kinds: kFailure, source: "U1", example: "Service xxx failed. Error: xxx"},
	{text: "errors", word: true, kinds: kFailure, source: "variant", example: "3 errors"},
	{text: "timed out", word: true, kinds: kFailure, source: "U1", example: "Service deployment timed out. Error: xxx"},
	{text: "失败", kinds: kFailure, source: "U2", example: "服务部署失败，%s。"},
	{text: "超时", kinds: kFailure, source: "U2", example: "服务部署超时，错误信息：服务部署时间超过%s分钟，设置为失败。"},
	// Final wording: the deployment failed, whatever else the text says.
	{text: "deployment timed out", word: true, kinds: kFailure | kTerminal, hint: hintTimeout, source: "U1",
		example: "Service deployment timed out. Error: xxx"},
	{text: "设置为失败", kinds: kFailure | kTerminal, hint: hintTimeout, source: "U2",
		example: "服务部署超时，错误信息：服务部署时间超过%s分钟，设置为失败。"},
	{text: "服务部署超时", kinds: kFailure | kTerminal, hint: hintTimeout, source: "U2",
		example: "服务部署超时，错误信息：服务部署时间超过%s分钟，设置为失败。"},
	{text: "部署时间超过", kinds: kFailure | kTerminal, hint: hintTimeout, source: "U2 T5", example: "部署【XXX】创建失败。部署时间超过20分钟"},
	{text: "服务部署失败", kinds: kFailure | kTerminal, source: "U2", example: "服务部署失败，%s。"},
	{text: "创建失败", kinds: kFailure | kTerminal, source: "T5", example: "部署【XXX】创建失败。"},
	{text: "rollback failed", word: true, kinds: kFailure, hint: hintRollback, source: "U1",
		example: "Failed to update the service. The rollback failed."},
	{text: "rollback failure", word: true, kinds: kFailure, hint: hintRollback, source: "T6",
		example: "upgrade rollback failure and insufficient resources"},
	{text: "升级回滚失败", kinds: kFailure, hint: hintRollback, source: "T6", example: "升级回滚失败"},
	{text: "has been rolled back", word: true, kinds: kAbnormal, hint: hintRolledBack, source: "U1",
		example: "Failed to update the service. The update has been rolled back."},

	// Retry wording: failure wording that also says it is retried is
	// abnormal, not a failure, while the deployment goes on.
	{text: "retry later", word: true, kinds: kRetry | kAbnormal, source: "T1 T2", example: "Schedule failed due to insufficient resources. Retry later."},
	{text: "try again later", word: true, kinds: kRetry | kAbnormal, source: "U1", example: "The batch service failed. Try again later. Error: xxx"},
	{text: "try later", word: true, kinds: kRetry | kAbnormal, source: "E1", example: "Insufficient resources. Please try later."},
	{text: "稍后重试", kinds: kRetry | kAbnormal, source: "E1", example: "资源不足，请稍后重试。"},
	{text: "back-off", word: true, kinds: kRetry | kAbnormal, source: "K1 K2", example: `Back-off pulling image "<image>"`},
	{text: "backoff", kinds: kRetry | kAbnormal, source: "K1", example: "Error: ImagePullBackOff"},
	{text: "will be restarted", word: true, kinds: kRetry | kAbnormal, source: "K4", example: "Container app-container failed liveness probe, will be restarted"},
	{text: "rpc error", word: true, kinds: kRetry | kAbnormal, source: "K1",
		example: `Failed to pull image "<image>": rpc error: code = Unknown desc = ...`},
	// ModelArts starts new instances itself (T4).
	{text: "abnormal instances", word: true, kinds: kRetry | kAbnormal, hint: hintAbnormalInstances, source: "T4",
		example: "Service error. There are XXX abnormal instances."},

	// Insufficient resources: scheduling, retried by ModelArts until it
	// gives up (T1: three retries).
	{text: "insufficient", kinds: kPhase | kInsufficient | kAbnormal, phase: onScheduling, hint: hintInsufficient, source: "U1",
		example: "Insufficient resources. Wait until idle resources are sufficient."},
	{text: "insufficient resources", word: true, kinds: kPhase | kInsufficient | kAbnormal, phase: onScheduling, hint: hintInsufficient,
		source: "U1 T1", example: "Schedule failed due to insufficient resources. Retry later."},
	{text: "insufficient nvidia.com/gpu", word: true, kinds: kPhase | kInsufficient | kAbnormal | kRetry, phase: onScheduling,
		hint: hintInsufficient, source: "K4", example: "0/2 nodes are available: 1 Insufficient nvidia.com/gpu."},
	{text: "nodes are available", word: true, kinds: kPhase | kInsufficient | kAbnormal | kRetry, phase: onScheduling,
		hint: hintInsufficient, source: "K4", example: "0/2 nodes are available: 1 Insufficient nvidia.com/gpu."},
	{text: "no resources are available", word: true, kinds: kPhase | kInsufficient | kAbnormal, phase: onScheduling,
		hint: hintInsufficient, source: "T1", example: "ModelArts.3976: No resources are available for the selected specification."},
	{text: "modelarts.3976", word: true, kinds: kPhase | kInsufficient | kAbnormal, phase: onScheduling, hint: hintInsufficient,
		source: "T1", example: "ModelArts.3976: No resources are available for the selected specification."},
	{text: "modelarts.3952", word: true, kinds: kPhase | kInsufficient | kAbnormal, phase: onScheduling, hint: hintInsufficient,
		source: "E1", example: "ModelArts.3952: Insufficient resources. Please try later."},
	{text: "had taint", word: true, kinds: kPhase | kInsufficient | kAbnormal, phase: onScheduling, hint: hintInsufficient,
		source: "T1", example: "x node(s) had taint {node.kubernetes.io/disk-pressure: }"},
	{text: "no space", word: true, kinds: kPhase | kWeak | kInsufficient | kAbnormal, phase: onScheduling, hint: hintInsufficient,
		source: "T1", example: "No space"},
	{text: "资源不足", kinds: kPhase | kInsufficient | kAbnormal, phase: onScheduling, hint: hintInsufficient, source: "T6 T9 E1",
		example: "资源不足，请稍后重试。"},
	{text: "资源池资源不足", kinds: kPhase | kInsufficient | kAbnormal, phase: onScheduling, hint: hintInsufficient, source: "T5",
		example: "部署【XXX】创建失败。资源池资源不足"},

	// Other abnormal wording.
	{text: "quota exceed", kinds: kAbnormal, hint: hintQuota, source: "U1",
		example: "The service is stopped because the quota exceeds the upper limit."},
	{text: "exceeds the upper limit", word: true, kinds: kAbnormal, hint: hintQuota, source: "U1",
		example: "The service is stopped because the quota exceeds the upper limit."},
	{text: "stopped because", word: true, kinds: kAbnormal, source: "U1",
		example: "The service is stopped because the quota exceeds the upper limit."},
	{text: "unhealthy", kinds: kAbnormal, source: "variant", example: "instance is unhealthy"},
	{text: "异常", kinds: kAbnormal, source: "U2 T4", example: "服务异常，不正常的实例数为XXX"},
	{text: "服务异常", kinds: kAbnormal, hint: hintAbnormalInstances, source: "T4", example: "服务异常，不正常的实例数为XXX"},
	{text: "不正常的实例", kinds: kAbnormal, hint: hintAbnormalInstances, source: "T4", example: "服务异常，不正常的实例数为XXX"},
	{text: "不可用", kinds: kAbnormal, source: "T5", example: "sfs turbo 不可用"},
	{text: "dew凭据", kinds: kAbnormal, hint: hintDEW, source: "T5", example: "DEW凭据中未解析到AK/SK或者解析到的AK/SK不可用"},
	{text: "sfs turbo", kinds: kAbnormal, hint: hintStorage, source: "T5", example: "sfs turbo 不可用"},
	{text: "modelarts.8504", word: true, kinds: kPhase | kWeak | kAbnormal, phase: onModelStartup, hint: hintWarmup, source: "T8",
		example: "ModelArts.8504: The model warmup file does not exist"},
	{text: "modelarts.8505", word: true, kinds: kPhase | kWeak | kAbnormal, phase: onModelStartup, hint: hintWarmup, source: "T8",
		example: "ModelArts.8505: The model warmup task status is not successful"},

	// Structure words the rules combine (see classify).
	{text: "service", kinds: kService, source: "U1", example: "Service xxx started."},
	{text: "service", word: true, kinds: kServiceWord, source: "U1", example: "Service xxx started."},
	{text: "deploy", kinds: kDeploy, source: "variant", example: "Service deployed successfully."},
	{text: "creat", kinds: kCreat, source: "U1", example: "Failed to create model image xxx."},
	{text: "image", kinds: kImage, source: "U1", example: "Failed to create model image xxx."},
}
