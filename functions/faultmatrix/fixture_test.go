package faultmatrix

import (
	"fmt"
	"sync"
	"testing"
)

// fixtureOwner is a testing.TB for fixtures shared by every test of the
// package (one dynalite): failures are fatal to the process, cleanups run
// when the tests end.
type fixtureOwner struct {
	testing.TB // nil: only the methods below are used
	mu         sync.Mutex
	cleanups   []func()
}

func (o *fixtureOwner) Helper() {}

func (o *fixtureOwner) Cleanup(f func()) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.cleanups = append(o.cleanups, f)
}

func (o *fixtureOwner) Fatal(args ...any) { panic(fmt.Sprint(args...)) }

func (o *fixtureOwner) Fatalf(format string, args ...any) { panic(fmt.Sprintf(format, args...)) }

func (o *fixtureOwner) cleanup() {
	o.mu.Lock()
	defer o.mu.Unlock()
	for i := len(o.cleanups) - 1; i >= 0; i-- {
		o.cleanups[i]()
	}
}
