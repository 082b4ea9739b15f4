// Package startgate bounds how long an adapter's guarded work may wait
// before it starts (a retry waiting for the owner of its key): past the
// bound the guard is cancelled, unless the work has started by then. Start
// and the timer agree atomically on which came first, so running work is
// never cancelled by the gate.
package startgate

import (
	"context"
	"sync/atomic"
	"time"
)

// A Gate is one run's start bound. The zero Gate has no bound: it never
// expires, and Start always lets the work start.
type Gate struct {
	state atomic.Int32
	timer *time.Timer
}

const (
	waiting int32 = iota
	started
	expired
)

// New returns a Gate that, after bound, cancels with cause unless Start was
// called first. Call Stop when the run ends.
func New(bound time.Duration, cancel context.CancelCauseFunc, cause error) *Gate {
	g := &Gate{}
	g.timer = time.AfterFunc(bound, func() {
		if g.state.CompareAndSwap(waiting, expired) {
			cancel(cause)
		}
	})
	return g
}

// Start reports whether the work may start (the bound has not passed).
func (g *Gate) Start() bool {
	g.Stop()
	return g.state.CompareAndSwap(waiting, started)
}

// Stop releases the gate's timer.
func (g *Gate) Stop() {
	if g.timer != nil {
		g.timer.Stop()
	}
}

// Expired reports whether the bound passed before the work started.
func (g *Gate) Expired() bool { return g.state.Load() == expired }
