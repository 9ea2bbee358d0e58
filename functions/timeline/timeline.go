package timeline

import (
	"cmp"
	"slices"
	"strings"
	"time"

	"github.com/modelarts-notifier/modelarts-notifier/eventsapi/model"
	"github.com/modelarts-notifier/modelarts-notifier/notifier/domain"
)

// PhaseUnknown is the phase of a failed deployment whose phase nothing
// names: an implied deployment (Deployment.Implied) whose failure event
// names no phase, after no event that names one. It is not one of the
// five phases (domain.PhaseNames): no PhaseSpan has it.
const PhaseUnknown = "unknown"

// Timeline is one service's events, rebuilt into deployments.
type Timeline struct {
	// Deployments are ascending by Start; the last one is Latest.
	Deployments []Deployment
	// Runtime holds the events outside any deployment, ascending, verbatim.
	Runtime []model.Event
	// RuntimeAbnormal are the abnormal ones (IsAbnormal) among Runtime,
	// ascending: classified once, as the timeline is built.
	RuntimeAbnormal []model.Event
}

// AddRuntime adds evs to the runtime events (and the abnormal ones among
// them to RuntimeAbnormal), keeping both ascending; of events at the same
// time, evs come first.
func (t *Timeline) AddRuntime(evs ...model.Event) {
	if len(evs) == 0 {
		return
	}
	t.Runtime = append(slices.Clone(evs), t.Runtime...)
	slices.SortStableFunc(t.Runtime, byTime)
	var abnormal []model.Event
	for _, e := range evs {
		if IsAbnormal(e) {
			abnormal = append(abnormal, e)
		}
	}
	if len(abnormal) > 0 {
		t.RuntimeAbnormal = append(abnormal, t.RuntimeAbnormal...)
		slices.SortStableFunc(t.RuntimeAbnormal, byTime)
	}
}

// Latest returns the newest deployment, the only one the service status
// applies to, or ok=false when there is none.
func (t Timeline) Latest() (d Deployment, ok bool) {
	if len(t.Deployments) == 0 {
		return Deployment{}, false
	}
	return t.Deployments[len(t.Deployments)-1], true
}

// Deployment is one deployment of a service and its five phases.
type Deployment struct {
	// Start is the start marker's occur_time (ms), or the first event's for
	// an implicit deployment. End is the terminal event's (or, when the
	// service status ended it, the status time; for a superseded deployment,
	// the next deployment's Start); 0 while it is open.
	Start, End int64
	// Outcome is domain.OutcomeSucceeded, StatusFailed, StatusStalled or
	// StatusInProgress.
	Outcome domain.Outcome
	// Phase is the failed or stalled phase, else the latest phase that began
	// ("" when none began; PhaseUnknown for an implied deployment whose
	// phase nothing names).
	Phase string
	// Phases are the five phases in domain.PhaseNames order.
	Phases [numPhases]PhaseSpan
	// Model names the model when the events do (e.g. "TF 3.0.0").
	Model string
	// Events are every event of this deployment, ascending, verbatim.
	Events []model.Event
	// Abnormal are its abnormal events (IsAbnormal), including a failure.
	Abnormal []model.Event
	// AbnormalPhase names, for each of Abnormal (same index), the phase it
	// happened in: the phase the deployment was in or waiting for, or a
	// later phase its text names ("Back-off pulling image" while
	// scheduling is image pull's). Grouping tells one problem once per
	// phase by it.
	AbnormalPhase []string
	// Failure is the event that failed it, if an event did.
	Failure *model.Event
	// ErrorMsg is the service's error_msg when the service status is failed
	// and this deployment (the Latest) failed.
	ErrorMsg string
	// LastEventAt is the time (ms) of its newest activity: the latest
	// OccurTime or LastOccurTime (a v2 record's last repeat) of its events.
	LastEventAt int64
	// Stalls are the gaps between events longer than the threshold of the
	// phase the deployment was in; the last one is open (Until 0) while the
	// deployment is stalled.
	Stalls []Stall
	// Latest marks the newest deployment of the timeline.
	Latest bool
	// Stopped is set when the service status (stopped, stopping, deleting,
	// finished) ended the deployment before it succeeded or failed: it is
	// closed (End is the status time) and its Outcome stays what it was
	// (in progress, or stalled when a stall had been seen). It is no
	// notification of its own.
	Stopped bool
	// Unconfirmed is set when the service status (running, concerning)
	// ended the deployment before its events showed model startup: the
	// service runs, but nothing says this deployment is what made it run
	// (its events may be a retry's, or the window missed the rest). It is
	// closed (End is the status time) and its Outcome stays what it was: a
	// summary never calls it a success. It is no notification of its own.
	Unconfirmed bool
	// ByStatus is set when the service status, not an event, ended the
	// deployment (a success by running, a failure by failed, a stop, or
	// Unconfirmed). Events that arrive after that belong to no deployment
	// begun at Start: see StatusEnd.
	ByStatus bool
	// Implied marks a failed deployment that no start or phase marker
	// began: the service status is failed (or v2 ERROR), no deployment was
	// open, and a failure event came after the last deployment (or there was
	// none). Its only event is that failure event; Start and End are its
	// time.
	Implied bool
	// Hint says what to do about the deployment's trouble and HelpURL is
	// Huawei's troubleshooting page for it (either may be empty): those of
	// its failure event, else (failed by the status) of the service's
	// error_msg, else of its latest abnormal event that has one. See
	// HintFor.
	Hint, HelpURL string
}

// PhaseSpan is one phase of a deployment. Start and End are occur_times
// (ms); 0 when not (yet) known. A phase that never began has no times.
type PhaseSpan struct {
	Name   string
	Status domain.PhaseStatus
	Start  int64
	End    int64
}

// Stall is a time a deployment went without events for longer than the
// threshold of the phase it was in.
type Stall struct {
	Phase string
	// Since is the time (ms) of the last event before the gap.
	Since int64
	// Until is the time (ms) of the next event, or 0 while still stalled.
	Until int64
}

// StatusEnd records that the service status ended the deployment that
// began at Start when its newest event was at Through (ms). A later
// Build given it keeps events after Through out of that deployment: they
// are runtime events (or begin a deployment of their own), whatever the
// read window holds. The zero value records nothing.
type StatusEnd struct {
	Start, Through int64
}

// Build rebuilds the deployments in events, one service's events ascending
// by occur_time (a stably sorted copy is used when they are not), given the
// service's current details svc and the current time now. th gives the stall
// thresholds (nil: the defaults). Build never panics and does not modify
// events; the returned events are copies. The rules are in the package
// documentation.
func Build(events []model.Event, svc model.Service, now time.Time, th Thresholds) Timeline {
	return BuildAfter(events, svc, now, th, StatusEnd{})
}

// BuildAfter is Build for a service whose deployment the status ended
// earlier (end, from a previous Build's Latest deployment with ByStatus):
// events after end.Through do not join the deployment that began at
// end.Start.
func BuildAfter(events []model.Event, svc model.Service, now time.Time, th Thresholds, end StatusEnd) Timeline {
	if !slices.IsSortedFunc(events, byTime) {
		events = slices.Clone(events)
		slices.SortStableFunc(events, byTime)
	}
	return build(events, svc, now, th, end)
}

// build is BuildAfter over sorted events.
func build(events []model.Event, svc model.Service, now time.Time, th Thresholds, end StatusEnd) Timeline {
	b := builder{th: th, buf: make([]model.Event, 0, len(events))}
	for i, e := range events {
		if duplicate(events, i) {
			continue
		}
		c := classify(e)
		switch {
		case c.start:
			b.closeSuperseded(e.OccurTime)
			b.begin(e.OccurTime)
		case b.open && end.Start != 0 && b.d.Start == end.Start && e.OccurTime > end.Through:
			// The status ended this deployment before e happened.
			b.runtime(e, c, len(events)-i)
			continue
		case b.open:
		case !b.have && c.marker && (!c.abnormal || c.failure):
			// implicit: the window began mid-deployment. Abnormal events
			// that are no failure (a retry, a pod that does not start yet)
			// begin none: they are as likely at runtime, and a deployment
			// made of them alone could only be closed by the status.
			b.begin(e.OccurTime)
		default:
			b.runtime(e, c, len(events)-i)
			continue
		}
		b.add(e, c)
	}
	b.finish(svc, now.UnixMilli())
	return b.tl
}

// runtime appends e (of class c) to the runtime events; left is how many
// events (e included) remain to be built. The first one sizes the slice
// for them all: a window of runtime events (the usual one) then takes one
// allocation instead of a dozen growing ones.
func (b *builder) runtime(e model.Event, c class, left int) {
	if b.tl.Runtime == nil {
		b.tl.Runtime = make([]model.Event, 0, left)
	}
	b.tl.Runtime = append(b.tl.Runtime, e)
	if c.abnormal {
		b.tl.RuntimeAbnormal = append(b.tl.RuntimeAbnormal, e)
	}
}

func byTime(a, b model.Event) int { return cmp.Compare(a.OccurTime, b.OccurTime) }

// duplicate reports whether events[i] equals an earlier event at the same
// millisecond.
func duplicate(events []model.Event, i int) bool {
	for j := i - 1; j >= 0 && events[j].OccurTime == events[i].OccurTime; j-- {
		if events[j] == events[i] {
			return true
		}
	}
	return false
}

// builder holds the state of Build.
type builder struct {
	th   Thresholds
	tl   Timeline
	buf  []model.Event // backing array of every deployment's Events
	from int           // index in buf of the open deployment's first event
	open bool          // d is open: it has no terminal event yet
	d    Deployment    // the newest deployment, open or not; valid when have
	have bool
	cur  int // index of the latest phase of d that began, or -1
	// runtimeFrom is len(tl.Runtime) when d began: runtime events from
	// there on came after d.
	runtimeFrom int
	// failHint and abnHint are the hints of d's failure event and of its
	// latest abnormal event that has one.
	failHint, abnHint hintRef
}

// hintRef is a hint and the language of the text it came from, which
// picks its page's language.
type hintRef struct {
	id hintID
	zh bool
}

func (h hintRef) text() string { return hints[h.id].text }
func (h hintRef) url() string  { return hints[h.id].url(h.zh) }

// begin starts a new deployment at t.
func (b *builder) begin(t int64) {
	b.flush()
	b.d = Deployment{Start: t, Outcome: domain.OutcomeInProgress}
	for i := range b.d.Phases {
		b.d.Phases[i] = PhaseSpan{Name: domain.PhaseNames[i], Status: domain.PhasePending}
	}
	b.have, b.open, b.cur = true, true, -1
	b.from = len(b.buf)
	b.runtimeFrom = len(b.tl.Runtime)
	b.failHint, b.abnHint = hintRef{}, hintRef{}
}

// closeSuperseded ends an open deployment superseded by a start at t.
func (b *builder) closeSuperseded(t int64) {
	if b.open {
		b.d.End = t
		b.open = false
	}
}

// flush appends the newest deployment to the timeline.
func (b *builder) flush() {
	if !b.have {
		return
	}
	b.d.Events = b.buf[b.from:len(b.buf):len(b.buf)]
	if b.cur >= 0 && b.d.Phase == "" {
		b.d.Phase = domain.PhaseNames[b.cur]
	}
	h := b.failHint
	if h.id == hintNone {
		h = b.abnHint
	}
	if b.d.Hint == "" {
		b.d.Hint, b.d.HelpURL = h.text(), h.url()
	}
	b.tl.Deployments = append(b.tl.Deployments, b.d)
	b.have, b.open = false, false
}

// add applies one event to the open deployment.
func (b *builder) add(e model.Event, c class) {
	d := &b.d
	if len(b.buf) > b.from { // not its first event: was the gap a stall?
		if w := b.waiting(); w >= 0 && longer(d.LastEventAt, e.OccurTime, b.th.of(w)) {
			d.Stalls = append(d.Stalls, Stall{Phase: domain.PhaseNames[w], Since: d.LastEventAt, Until: e.OccurTime})
		}
	}
	b.buf = append(b.buf, e)
	d.LastEventAt = max(d.LastEventAt, e.OccurTime, e.LastOccurTime)
	if c.abnormal {
		d.Abnormal = append(d.Abnormal, e)
		d.AbnormalPhase = append(d.AbnormalPhase, domain.PhaseNames[b.phaseOf(c)])
		if c.hint != hintNone {
			b.abnHint = hintRef{c.hint, chinese(textOf(e))}
		}
	}
	if d.Model == "" && c.marker && !c.abnormal {
		d.Model = parseModel(textOf(e))
	}
	t := e.OccurTime
	switch {
	case c.start:
	case c.end:
		b.endPhase(c.phase, t)
	case c.phase >= 0 && c.phase > b.cur && (!c.abnormal || c.failure):
		// An abnormal event that is no failure (a retry, a late runtime
		// event, a Kubernetes warning) says nothing of the earlier phases'
		// success: it begins no phase. A failure naming a later phase
		// begins it, to fail there.
		b.beginPhase(c.phase, t)
	}
	if c.done && b.open {
		b.endPhase(modelStartup, t)
	}
	if c.failure && b.open {
		f := e
		b.fail(t, &f)
		b.failHint = hintRef{c.hint, chinese(textOf(e))}
	}
}

// phaseOf is the phase an abnormal event of class c happened in, read
// before the event changes the deployment: the phase the deployment is in
// or waiting for, or the later phase the text names.
func (b *builder) phaseOf(c class) int {
	p := b.waiting()
	if p < 0 {
		p = max(b.cur, 0)
	}
	return max(p, c.phase)
}

// textOf is the text of e that is shown first: event_info, else
// event_info_cn.
func textOf(e model.Event) string {
	if e.EventInfo != "" {
		return e.EventInfo
	}
	return e.EventInfoCN
}

// waiting returns the phase the open deployment is in: the running phase,
// else the next one (between phases, or before the first), or -1.
func (b *builder) waiting() int {
	if b.cur >= 0 && b.d.Phases[b.cur].Status == domain.PhaseRunning {
		return b.cur
	}
	if b.cur+1 < numPhases {
		return b.cur + 1
	}
	return -1
}

// beginPhase begins phase p at t: every earlier phase still running ends
// (succeeded) at t. The caller checks p > b.cur.
func (b *builder) beginPhase(p int, t int64) {
	for i := range p {
		if ph := &b.d.Phases[i]; ph.Status == domain.PhaseRunning {
			ph.End, ph.Status = t, domain.PhaseSucceeded
		}
	}
	b.d.Phases[p].Start, b.d.Phases[p].Status = t, domain.PhaseRunning
	b.cur = p
}

// endPhase ends phase p (succeeded) at t. A phase ending without having
// begun begins where the previous phase ended (or the deployment started),
// or at t when an earlier phase is still running. The end of environment
// begins scheduling; the end of model startup is the deployment's success.
func (b *builder) endPhase(p int, t int64) {
	if p < b.cur || b.d.Phases[p].Status != domain.PhasePending && b.d.Phases[p].Status != domain.PhaseRunning {
		return // never backwards, never twice
	}
	if p > b.cur {
		at := b.d.Start
		for i := range p {
			switch ph := b.d.Phases[i]; ph.Status {
			case domain.PhaseRunning:
				at = t
			case domain.PhaseSucceeded:
				at = max(at, ph.End)
			}
		}
		b.beginPhase(p, min(at, t))
	}
	ph := &b.d.Phases[p]
	ph.End, ph.Status = t, domain.PhaseSucceeded
	switch p {
	case environment:
		b.beginPhase(scheduling, t)
	case modelStartup:
		b.d.Outcome, b.d.End = domain.OutcomeSucceeded, t
		b.open = false
	}
}

// inModelStartup reports whether the open deployment reached model
// startup: its begin marker arrived, or the phase before it (image pull)
// ended, so the deployment waits in model startup. Only then may the
// status running end it as a success.
func (b *builder) inModelStartup() bool {
	return b.d.Phases[modelStartup].Status == domain.PhaseRunning ||
		b.d.Phases[imagePull].Status == domain.PhaseSucceeded
}

// fail ends the open deployment as failed at t, by the event f (nil when the
// service status failed it).
func (b *builder) fail(t int64, f *model.Event) {
	d := &b.d
	d.Outcome, d.End, d.Failure = domain.OutcomeFailed, t, f
	if b.cur >= 0 {
		p := b.waiting()
		if p < 0 {
			p = b.cur
		}
		ph := &d.Phases[p]
		if ph.Status == domain.PhaseRunning {
			ph.End = t
		}
		ph.Status = domain.PhaseFailed
		d.Phase = ph.Name
	}
	b.open = false
}

// failedStatus reports whether svc says its deployment failed: status
// failed, or the v2 status ERROR (which eventsapi normalises to concerning,
// a running service otherwise).
func failedStatus(svc model.Service) bool {
	return svc.Status == model.StatusFailed || svc.RawStatus == model.RawStatusError
}

// finish applies the service status to the newest deployment, when it is
// still open, and marks it Latest; or, when the status says failed and no
// deployment was open, implies a failed deployment from a failure event
// after the newest one.
func (b *builder) finish(svc model.Service, now int64) {
	failed := failedStatus(svc)
	if failed && (!b.have || !b.open && b.d.Outcome != domain.OutcomeFailed) && b.imply(svc) {
		return
	}
	if !b.have {
		return
	}
	d := &b.d
	d.Latest = true
	if b.open {
		switch {
		case failed:
			t := statusTime(svc, d.LastEventAt, now)
			b.fail(t, nil)
			d.ByStatus = true
			if c := classify(model.Event{EventInfo: svc.ErrorMsg}); d.Phase == "" && c.phase >= 0 {
				d.Phases[c.phase].Status = domain.PhaseFailed
				d.Phase = domain.PhaseNames[c.phase]
			}
			if h := errorMsgHint(svc); h.id != hintNone {
				b.failHint = h
			}
		case svc.Status == model.StatusRunning, svc.Status == model.StatusConcerning:
			t := statusTime(svc, d.LastEventAt, now)
			d.ByStatus = true
			if b.inModelStartup() {
				b.endPhase(modelStartup, t)
				break
			}
			// Never a success the events do not show.
			d.End, d.Unconfirmed = t, true
			b.open = false
		case svc.Status == model.StatusStopped, svc.Status == model.StatusStopping,
			svc.Status == model.StatusDeleting, svc.Status == model.StatusFinished:
			d.End, d.Stopped, d.ByStatus = statusTime(svc, d.LastEventAt, now), true, true
			b.open = false
		case svc.Status == model.StatusDeploying, svc.Status == model.StatusPending,
			svc.Status == model.StatusWaiting:
			if w := b.waiting(); w >= 0 && longer(d.LastEventAt, now, b.th.of(w)) {
				d.Outcome = domain.OutcomeStalled
				d.Phases[w].Status = domain.PhaseStalled
				d.Phase = domain.PhaseNames[w]
				d.Stalls = append(d.Stalls, Stall{Phase: d.Phase, Since: d.LastEventAt})
			}
		}
	}
	if d.Outcome == domain.OutcomeFailed && failed {
		d.ErrorMsg = svc.ErrorMsg
	}
	b.flush()
}

// errorMsgHint is the hint of the service's error_msg, read as an abnormal
// event's text.
func errorMsgHint(svc model.Service) hintRef {
	if svc.ErrorMsg == "" {
		return hintRef{}
	}
	c := classify(model.Event{EventType: model.EventTypeAbnormal, EventInfo: svc.ErrorMsg})
	return hintRef{c.hint, chinese(svc.ErrorMsg)}
}

// imply makes the first failure event among the runtime events after the
// newest deployment (all of them when there is none), else the first with
// retried failure wording, a failed deployment of its own, the Latest: the service status says failed, and no
// deployment was open to take it. Its phase is the one its text (or
// error_msg) names, else the one the newest earlier of those runtime events
// names, else PhaseUnknown. It reports whether there was such an event.
func (b *builder) imply(svc model.Service) bool {
	from := 0
	if b.have {
		from = b.runtimeFrom
	}
	rt := b.tl.Runtime
	at, retried := -1, -1
	var c, rc class
	for i := from; i < len(rt) && at < 0; i++ {
		if strings.EqualFold(rt[i].EventType, model.EventTypeWarning) {
			continue // a warning is never what failed a service
		}
		switch k := classify(rt[i]); {
		case k.failure:
			at, c = i, k
		case k.failWord && retried < 0:
			retried, rc = i, k
		}
	}
	if at < 0 {
		at, c = retried, rc
	}
	if at < 0 {
		return false
	}
	e := rt[at]
	phase := c.phase
	if phase < 0 {
		phase = classify(model.Event{EventInfo: svc.ErrorMsg}).phase
	}
	for i := at - 1; i >= from && phase < 0; i-- {
		phase = classify(rt[i]).phase
	}
	b.tl.Runtime = append(rt[:at:at], rt[at+1:]...)
	if len(b.tl.Runtime) == 0 {
		b.tl.Runtime = nil
	}
	if k := slices.Index(b.tl.RuntimeAbnormal, e); k >= 0 { // a failure: abnormal
		b.tl.RuntimeAbnormal = slices.Delete(b.tl.RuntimeAbnormal, k, k+1)
	}
	b.flush() // the newest deployment, if any, is no longer Latest
	b.begin(e.OccurTime)
	b.buf = append(b.buf, e)
	d := &b.d
	f := e
	d.End, d.Outcome, d.Failure, d.Implied, d.Latest = e.OccurTime, domain.OutcomeFailed, &f, true, true
	d.LastEventAt = max(e.OccurTime, e.LastOccurTime)
	d.Abnormal = []model.Event{e}
	d.AbnormalPhase = []string{domain.PhaseNames[max(phase, 0)]}
	d.ErrorMsg = svc.ErrorMsg
	d.Phase = PhaseUnknown
	if phase >= 0 {
		d.Phases[phase].Status = domain.PhaseFailed
		d.Phase = domain.PhaseNames[phase]
	}
	b.failHint = hintRef{c.hint, chinese(textOf(e))}
	if b.failHint.id == hintNone {
		b.failHint = errorMsgHint(svc)
	}
	b.open = false
	b.flush()
	return true
}

// statusTime is when the service status changed, as well as it is known:
// transition_at, else update_time, when not before the last event nor after
// now; else the last event's time.
func statusTime(svc model.Service, last, now int64) int64 {
	for _, t := range [...]int64{svc.TransitionAt, svc.UpdateTime} {
		if t >= last && t <= now {
			return t
		}
	}
	return last
}

// longer reports whether to - from is more than d, without overflowing.
func longer(from, to int64, d time.Duration) bool {
	return to > from && uint64(to)-uint64(from) > uint64(d.Milliseconds())
}
