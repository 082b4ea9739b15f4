package idemqhttp

import (
	"context"
	"errors"
	"sync/atomic"
	"time"
)

// errWaited: the handler did not start within Config.Wait (another
// request held the key): the client gets 409.
var errWaited = errors.New("idemqhttp: the key stayed in progress for Config.Wait")

// waitGate ends a retry's wait for the request that holds its key: after
// Config.Wait it cancels the guard with errWaited, unless the handler has
// started by then (start and the timer agree atomically on which came
// first, so a running handler is never cancelled by it). The zero gate has
// no timer and never expires: without Config.Wait the guard does not wait
// (dedupe.WithNoWait).
type waitGate struct {
	state atomic.Int32
	timer *time.Timer
}

const (
	gateWaiting int32 = iota
	gateStarted
	gateExpired
)

func newWaitGate(wait time.Duration, cancel context.CancelCauseFunc) *waitGate {
	g := &waitGate{}
	g.timer = time.AfterFunc(wait, func() {
		if g.state.CompareAndSwap(gateWaiting, gateExpired) {
			cancel(errWaited)
		}
	})
	return g
}

// start reports whether the handler may start (the wait has not expired).
func (g *waitGate) start() bool {
	g.stop()
	return g.state.CompareAndSwap(gateWaiting, gateStarted)
}

func (g *waitGate) stop() {
	if g.timer != nil {
		g.timer.Stop()
	}
}

// expired reports whether the wait expired before the handler started.
func (g *waitGate) expired() bool { return g.state.Load() == gateExpired }
