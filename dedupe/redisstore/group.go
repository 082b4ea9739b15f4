package redisstore

import (
	"context"
	"sync"

	"github.com/idemq/idemq/dedupe"
)

// groupExec coalesces the store calls of concurrent guards (group commit):
// a call made while maxInFlight others are in flight waits, and every call
// that waited goes out together in the next round trip. A store with a free
// slot sends a call at once: grouping adds no latency when there is nothing
// to group with.
//
// Calls of different callers are independent, so their ops may share one
// Exec (and Exec's order within it) whatever keys they touch; one caller's
// own calls are never grouped together, since it waits for each.
//
// A caller that finds a free slot leads: it sends its own ops; when they
// return, it hands the calls queued meanwhile to one of their callers,
// which sends them all in one Exec and hands on in turn. Every caller thus
// sends at most one round trip, its own group's.
type groupExec struct {
	send func(ctx context.Context, ops []dedupe.Op) []dedupe.OpResult

	mu       sync.Mutex
	inFlight int // round trips in flight, at most maxInFlight
	queue    []*groupCall
}

// maxInFlight is how many grouped round trips may be in flight at once: a
// second one lets the server work on one pipeline while the client writes
// the next and reads the last.
const maxInFlight = 2

// groupCall is one caller's ops, waiting to be sent with others.
type groupCall struct {
	ops     []dedupe.Op
	results []dedupe.OpResult
	done    chan struct{}
	lead    []*groupCall // set when this caller must send these calls
}

func (g *groupExec) exec(ctx context.Context, ops []dedupe.Op) []dedupe.OpResult {
	g.mu.Lock()
	if g.inFlight < maxInFlight {
		g.inFlight++
		g.mu.Unlock()
		me := &groupCall{ops: ops}
		g.lead(ctx, []*groupCall{me})
		return me.results
	}
	me := &groupCall{ops: ops, done: make(chan struct{})}
	g.queue = append(g.queue, me)
	g.mu.Unlock()
	<-me.done
	if calls := me.lead; calls != nil {
		me.done = nil // closed already: it said "lead"
		g.lead(ctx, calls)
	}
	return me.results
}

// lead sends the calls in one Exec, hands their results out, then passes
// the lead on with whatever was queued meanwhile. The calls share one round
// trip, so none of them may cancel it: ctx's cancellation is dropped.
func (g *groupExec) lead(ctx context.Context, calls []*groupCall) {
	ops := calls[0].ops
	if len(calls) > 1 {
		ops = make([]dedupe.Op, 0, len(ops)*len(calls))
		for _, c := range calls {
			ops = append(ops, c.ops...)
		}
	}
	results := g.send(context.WithoutCancel(ctx), ops)
	for _, c := range calls {
		c.results, results = results[:len(c.ops)], results[len(c.ops):]
	}
	g.mu.Lock()
	next := g.queue
	g.queue = nil
	if len(next) == 0 {
		g.inFlight--
	}
	g.mu.Unlock()
	if len(next) > 0 {
		next[0].lead = next
	}
	for _, c := range calls {
		if c.done != nil {
			close(c.done)
		}
	}
	if len(next) > 0 {
		close(next[0].done)
	}
}
