package main

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"
)

// stopWait bounds how long a consumer may take to stop.
const stopWait = 30 * time.Second

// members are the consumers of one phase.
type members struct {
	ph      *phase
	fail    context.CancelCauseFunc // a member's failure ends the phase
	list    []*member
	stopped bool
}

func (g *members) start(ctx context.Context, id int, victim bool) {
	g.list = append(g.list, startMember(ctx, g.ph, id, victim, g.fail))
}

// stopAll stops every member gracefully (the killed one is only waited
// for) and returns the first error; it does its work once.
func (g *members) stopAll() error {
	if g.stopped {
		return nil
	}
	g.stopped = true
	for _, m := range g.list {
		m.cancel()
	}
	timeout := time.NewTimer(stopWait)
	defer timeout.Stop()
	var first error
	for _, m := range g.list {
		select {
		case <-m.done:
		case <-timeout.C:
			return fmt.Errorf("demo: %s consumer %d did not stop within %v", g.ph.title, m.id, stopWait)
		}
		if m.err != nil && first == nil && !m.dead.Load() {
			first = fmt.Errorf("demo: %s consumer %d: %w", g.ph.title, m.id, m.err)
		}
	}
	return first
}

// member is one consumer of the group, standing for one process.
type member struct {
	id     int
	victim bool // the one stopped abruptly at the kill point
	ks     *killSwitch
	dead   atomic.Bool
	killed chan struct{} // closed by kill: releases the handler held at the kill point
	cancel context.CancelFunc
	done   chan struct{}
	err    error
}

// startMember runs the phase's flavour as a new member until stop or kill.
// A member that fails on its own calls fail, which ends the phase.
func startMember(ctx context.Context, ph *phase, id int, victim bool, fail context.CancelCauseFunc) *member {
	ctx, cancel := context.WithCancel(ctx)
	m := &member{id: id, victim: victim, ks: newKillSwitch(), killed: make(chan struct{}), cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(m.done)
		m.err = ph.flavour.run(ctx, ph, m)
		if m.err != nil && ctx.Err() == nil {
			fail(fmt.Errorf("demo: %s consumer %d: %w", ph.title, id, m.err))
		}
	}()
	return m
}

// kill stops the member as a crash would: its Kafka connections are cut
// (no offset commit, no LeaveGroup), handlers still running do nothing more,
// and the handler held at the kill point returns without its offset being
// committed.
func (m *member) kill() {
	m.dead.Store(true)
	m.ks.Cut()
	close(m.killed)
	m.cancel()
}
