package watch

import (
	"context"
	"iter"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/modelarts-notifier/modelarts-notifier/eventsapi"
	"github.com/modelarts-notifier/modelarts-notifier/functions/checkpoint"
	"github.com/modelarts-notifier/modelarts-notifier/notifier"
)

// dupAPI wraps fakeAPI and, when dup is set, yields every event twice (a
// server repeating pages or records).
type dupAPI struct {
	*fakeAPI
	dup bool
}

func (d *dupAPI) Events(ctx context.Context, id string, q eventsapi.EventsQuery) iter.Seq2[eventsapi.Event, error] {
	inner := d.fakeAPI.Events(ctx, id, q)
	if !d.dup {
		return inner
	}
	return func(yield func(eventsapi.Event, error) bool) {
		for e, err := range inner {
			if !yield(e, err) || err != nil {
				return
			}
			if !yield(e, nil) {
				return
			}
		}
	}
}

// letters spells n without digits, so that texts stay distinct after
// messageKey folds numbers.
func letters(n int) string {
	var b strings.Builder
	for {
		b.WriteByte(byte('a' + n%26))
		n /= 26
		if n == 0 {
			return b.String()
		}
	}
}

// checkLifecycle runs one random history against the poll cycle: random
// deployments (successes, failures, stalls, stops), abnormal events,
// events dated far in the future, duplicated records, and a destination
// that fails at random. It checks that the read edge never passes now + 5
// min, that no notification is delivered twice, and that every abnormal
// event reaches a delivered notification once the destination is up again
// (but those of a deployment still open, which its next summary lists).
func checkLifecycle(t *testing.T, seed uint64) {
	rng := rand.New(rand.NewPCG(seed, 0x11fe))
	api := &dupAPI{fakeAPI: newFakeAPI()}
	h := &harness{t: t, api: api.fakeAPI, dest: &recorder{}, now: t0}
	h.store = checkpoint.NewMemory()
	h.cfg = Config{ProjectID: "proj", FirstRunLookback: time.Hour, MaxEventsPerPoll: 20 + rng.IntN(30)}
	poll := func() Result {
		cfg := h.cfg
		cfg.Now = func() time.Time { return h.now }
		p := New(cfg, api, h.store, []notifier.Destination{{Name: "rec", Notifier: h.dest}}, nil)
		return p.Poll(context.Background())
	}
	const id = "s1"
	api.add(id, eventsapi.StatusRunning)

	delivered := map[string]int{}
	told := map[string]bool{}  // abnormal texts seen in a delivered notification
	want := map[string]int64{} // abnormal texts added, and their times
	collect := func() {
		for _, n := range h.dest.take() {
			delivered[n.ID]++
			if delivered[n.ID] > 1 {
				t.Fatalf("seed %d: %s (%s) delivered twice", seed, n.ID, n.Kind)
			}
			for _, e := range n.Summary.AbnormalEvents {
				told[e.EventInfo] = true
			}
		}
	}
	seq := 0
	abn := func(at time.Time) {
		seq++
		text := "Instance " + letters(seq) + " restarted unexpectedly."
		want[text] = ms(at)
		api.add(id, "", abnormal(at, text))
	}
	// Runtime abnormal events within the first poll's lookback, and a
	// destination that may stay down for hours from the first poll on:
	// every one of them is still delivered.
	for range rng.IntN(4) {
		abn(h.now.Add(-time.Duration(rng.IntN(3000)) * time.Second))
	}
	h.dest.failNext = rng.IntN(10)
	deploying := false
	step := 0
	for range 40 {
		h.now = h.now.Add(time.Duration(10+rng.IntN(600)) * time.Second)
		at := func() time.Time { return h.now.Add(-time.Duration(rng.IntN(5000)) * time.Millisecond) }
		switch r := rng.IntN(10); {
		case r < 2 && !deploying:
			api.add(id, eventsapi.StatusDeploying, ev(at(), "start to deploy service"))
			deploying, step = true, 0
		case r < 5 && deploying:
			steps := []string{"building image for model [TF 3.0.0]", "model (TF 3.0.0) build image success",
				"preparing environment", "[TF 3.0.0] prepare environment success", "[TF 3.0.0] schedule resource success",
				"[TF 3.0.0] pulling model image", "[TF 3.0.0] pull image success", "[TF 3.0.0] starting model"}
			if step < len(steps) {
				api.add(id, "", ev(at(), steps[step]))
				step++
			} else {
				api.add(id, eventsapi.StatusRunning)
				deploying = false
			}
		case r == 5 && deploying:
			api.add(id, eventsapi.StatusStopped)
			deploying = false
		case r == 6 && deploying:
			api.add(id, eventsapi.StatusFailed)
			deploying = false
		case r == 7:
			abn(h.now.Add(time.Duration(1+rng.IntN(365*24)) * time.Hour)) // far in the future
		default:
			abn(at())
		}
		api.dup = rng.IntN(4) == 0
		if rng.IntN(3) == 0 {
			h.dest.failNext = max(h.dest.failNext, 1)
		}
		poll()
		collect()
		cp, ok, err := h.store.Load(context.Background(), id)
		if err != nil || !ok {
			t.Fatalf("seed %d: load: %v %v", seed, ok, err)
		}
		if limit := ms(h.now.Add(clockSkew)); cp.ReadThrough > limit {
			t.Fatalf("seed %d: read_through %s past now + 5 min (%s)", seed, time.UnixMilli(cp.ReadThrough).UTC(), h.now.Add(clockSkew))
		}
	}
	// The destination is up: everything still due is delivered.
	h.dest.failNext = 0
	for range 20 {
		h.now = h.now.Add(time.Minute)
		poll()
		collect()
	}
	// An abnormal event of a phase already told, in a deployment still
	// open, waits for the deployment's next summary (grouping).
	cp, _, _ := h.store.Load(context.Background(), id)
	for text, at := range want {
		if !told[text] && (cp.DeploymentStart == 0 || at < cp.DeploymentStart) {
			t.Errorf("seed %d: %q never delivered", seed, text)
		}
	}
}

func TestLifecycleProperty(t *testing.T) {
	n := 300
	if testing.Short() {
		n = 50
	}
	for seed := range uint64(n) {
		checkLifecycle(t, seed)
		if t.Failed() {
			return
		}
	}
}

func FuzzLifecycle(f *testing.F) {
	for _, s := range []uint64{1, 7, 42, 1 << 40} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, seed uint64) { checkLifecycle(t, seed) })
}
