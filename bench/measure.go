package main

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"time"
)

// sample is one round of one row.
type sample struct {
	rate       float64 // items per second over the timed part
	items      int
	steadyRate float64       // items per second from the first message to the last; 0: not measured
	first      time.Duration // from the start to the first message; 0: not measured
	cpuPerItem float64       // this process's CPU (user+sys) µs per item
	redis      *redisDelta   // the server's work per item; nil for rows without a server
	postgres   *pgDelta      // PostgreSQL's work per message; nil for rows not on PostgreSQL
	memory     *memoryDelta  // a memory row's bytes per key; nil for other rows
}

// Bounds of a round: a row that is not done by rowTimeout fails, and one
// that has not returned rowGrace after that is abandoned (and fails).
const (
	rowTimeout = 2 * time.Minute
	rowGrace   = 30 * time.Second
)

// measure runs one round of r, after a garbage collection: process CPU and
// the server's INFO (or PostgreSQL's statistics) are read around the whole
// round (setup and shutdown included, so every command the round caused is
// counted), the rate over the part the row times. The round's keys (or
// tables, created before the window) are deleted afterwards, outside the
// window. A memory row's round is measureMemory's.
func measure(ctx context.Context, env *services, r *row, round int) (sample, error) {
	if r.section == sectionMemory {
		return measureMemory(ctx, env, r, round)
	}
	rr, cleanup, err := prepare(ctx, env, r, round)
	defer cleanup()
	if err != nil {
		return sample{}, err
	}
	runtime.GC() // the garbage of the row before is collected outside this round's window
	before, err := snapshot(ctx, rr.server, rr.pg)
	if err != nil {
		return sample{}, err
	}
	t, err := bounded(ctx, env, r, rr)
	if err == nil && rr.pg != nil {
		err = rr.pg.waitSessions(ctx) // so that their statistics are in
	}
	if err != nil {
		return sample{}, err
	}
	after, err := snapshot(ctx, rr.server, rr.pg)
	if err != nil {
		return sample{}, err
	}
	if t.items <= 0 || t.elapsed <= 0 {
		return sample{}, fmt.Errorf("measured %d items in %s", t.items, t.elapsed)
	}
	s := sample{
		rate:       float64(t.items) / t.elapsed.Seconds(),
		items:      t.items,
		cpuPerItem: float64(after.cpu-before.cpu) / float64(time.Microsecond) / float64(t.items),
	}
	if t.first > 0 && t.first < t.elapsed && t.items > 1 {
		s.first, s.steadyRate = t.first, float64(t.items-1)/(t.elapsed-t.first).Seconds()
	}
	if rr.server != nil {
		s.redis, err = rr.server.delta(ctx, before.server, after.server, t.items)
	}
	if rr.pg != nil && err == nil {
		if s.postgres, err = rr.pg.delta(ctx, before.postgres, after.postgres, t.items); err == nil {
			err = rr.pg.checkEffects(ctx, rr.tables, t.items)
		}
	}
	return s, err
}

// prepare gives a round with a server a fresh key prefix, and creates the
// tables of a round on PostgreSQL; cleanup deletes them (the final sweep of
// close retries a failure).
func prepare(ctx context.Context, env *services, r *row, round int) (rr rowRound, cleanup func(), err error) {
	rr = rowRound{row: r.name, round: round}
	after := context.WithoutCancel(ctx) // cleanup runs after an interrupted round too
	var cleanups []func()
	cleanup = func() {
		for _, c := range cleanups {
			c()
		}
	}
	if r.server != nil {
		srv := r.server(env)
		rr.server, rr.prefix = srv, srv.keyPrefix(r.name, round)
		cleanups = append(cleanups, func() { _ = srv.deletePrefix(after, rr.prefix) })
	}
	if r.keysDDL != nil {
		rr.pg, rr.tables = env.pg, env.pg.roundTables(r.name, round)
		cleanups = append(cleanups, func() { _ = rr.pg.dropTables(after, rr.tables) })
		err = rr.pg.createTables(ctx, rr.tables, r.keysDDL)
	}
	return rr, cleanup, err
}

// bounded runs the round with a deadline, and stops waiting for it if it
// ignores the deadline.
func bounded(ctx context.Context, env *services, r *row, rr rowRound) (timed, error) {
	ctx, cancel := context.WithTimeoutCause(ctx, rowTimeout, errRowTimeout)
	defer cancel()
	type result struct {
		t   timed
		err error
	}
	done := make(chan result, 1)
	go func() {
		t, err := r.run(ctx, env, rr)
		done <- result{t, err}
	}()
	var res result
	select {
	case res = <-done:
	case <-ctx.Done():
		select {
		case res = <-done:
		case <-time.After(rowGrace):
			return timed{}, fmt.Errorf("did not return %s after its deadline", rowGrace)
		}
	}
	if res.err != nil && context.Cause(ctx) != nil && !errors.Is(res.err, context.Cause(ctx)) {
		res.err = fmt.Errorf("%w: %w", context.Cause(ctx), res.err)
	}
	return res.t, res.err
}

var errRowTimeout = fmt.Errorf("timed out after %s", rowTimeout)

// point is what measure reads before and after a round.
type point struct {
	cpu      time.Duration // this process's CPU so far
	server   *redisPoint   // nil without a server
	postgres *pgPoint      // nil for a row not on PostgreSQL
}

func snapshot(ctx context.Context, srv *server, pg *pgServer) (point, error) {
	p := point{cpu: processCPU()}
	var err error
	if srv != nil {
		p.server, err = srv.point(ctx)
	}
	if pg != nil && err == nil {
		p.postgres, err = pg.point(ctx)
	}
	return p, err
}
