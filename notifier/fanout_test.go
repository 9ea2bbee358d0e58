package notifier

import (
	"context"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// notifierFunc is a hand-written fake destination.
type notifierFunc func(ctx context.Context, ns []Notification) []Result

func (f notifierFunc) Notify(ctx context.Context, ns []Notification) []Result { return f(ctx, ns) }

var errDown = errors.New("down")

func TestDeliver(t *testing.T) {
	ns := []Notification{{ID: "a"}, {ID: "b"}, {ID: "c"}}
	ok := notifierFunc(func(_ context.Context, ns []Notification) []Result {
		var rs []Result
		for _, n := range ns {
			rs = append(rs, Result{ID: n.ID, ThreadTS: "ts-" + n.ID})
		}
		return rs
	})
	failB := notifierFunc(func(_ context.Context, ns []Notification) []Result {
		var rs []Result
		for _, n := range ns {
			r := Result{ID: n.ID}
			if n.ID == "b" {
				r.Err = errDown
			}
			rs = append(rs, r)
		}
		return rs
	})
	short := notifierFunc(func(_ context.Context, ns []Notification) []Result {
		return []Result{{ID: ns[0].ID}}
	})
	panics := notifierFunc(func(context.Context, []Notification) []Result { panic("boom") })

	tests := []struct {
		name  string
		dests []Destination
		skip  func(id, dest string) bool
		want  []Delivery
	}{
		{
			name:  "each destination on its own",
			dests: []Destination{{Name: "slack", Notifier: ok}, {Name: "webhook", Notifier: failB}},
			want: []Delivery{
				{ID: "a", Destination: "slack", ThreadTS: "ts-a"}, {ID: "b", Destination: "slack", ThreadTS: "ts-b"}, {ID: "c", Destination: "slack", ThreadTS: "ts-c"},
				{ID: "a", Destination: "webhook"}, {ID: "b", Destination: "webhook", Err: errDown}, {ID: "c", Destination: "webhook"},
			},
		},
		{
			name:  "skipped pairs are not sent",
			dests: []Destination{{Name: "slack", Notifier: ok}, {Name: "webhook", Notifier: failB}},
			skip:  func(id, dest string) bool { return dest == "slack" && id != "c" || dest == "webhook" && id == "b" },
			want: []Delivery{
				{ID: "c", Destination: "slack", ThreadTS: "ts-c"},
				{ID: "a", Destination: "webhook"}, {ID: "c", Destination: "webhook"},
			},
		},
		{
			name:  "missing results and panics fail only their destination",
			dests: []Destination{{Name: "short", Notifier: short}, {Name: "panics", Notifier: panics}, {Name: "slack", Notifier: ok}},
			skip:  func(id, _ string) bool { return id == "c" },
			want: []Delivery{
				{ID: "a", Destination: "short"}, {ID: "b", Destination: "short", Err: ErrNoResult},
				{ID: "a", Destination: "panics", Err: errDown}, {ID: "b", Destination: "panics", Err: errDown},
				{ID: "a", Destination: "slack", ThreadTS: "ts-a"}, {ID: "b", Destination: "slack", ThreadTS: "ts-b"},
			},
		},
		{name: "no destinations", want: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Deliver(t.Context(), tt.dests, ns, tt.skip)
			// Compare errors by presence, and ErrNoResult exactly.
			opt := cmp.Comparer(func(a, b error) bool {
				if a == nil || b == nil {
					return a == b
				}
				if errors.Is(a, ErrNoResult) || errors.Is(b, ErrNoResult) {
					return errors.Is(a, ErrNoResult) == errors.Is(b, ErrNoResult)
				}
				return true
			})
			if diff := cmp.Diff(tt.want, got, opt, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("Deliver (-want +got):\n%s", diff)
			}
		})
	}
}
