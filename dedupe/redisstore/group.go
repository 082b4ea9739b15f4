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

// groupCall is one caller's ops, waiting to be sent with others. Calls are
// reused (callPool): a single store call allocates none.
type groupCall struct {
	ops     []dedupe.Op
	results []dedupe.OpResult
	done    chan struct{} // signalled once per use: results are in, or lead is set
	lead    []*groupCall  // set when this caller must send these calls
	one     [1]dedupe.Op  // the ops of a single-op call
}

var callPool = sync.Pool{New: func() any { return &groupCall{done: make(chan struct{}, 1)} }}

// exec sends ops with the next group and returns their results.
func (g *groupExec) exec(ctx context.Context, ops []dedupe.Op) []dedupe.OpResult {
	c := callPool.Get().(*groupCall)
	c.ops = ops
	return g.run(ctx, c)
}

// exec1 is exec of one op, whose slice the call holds.
func (g *groupExec) exec1(ctx context.Context, op dedupe.Op) dedupe.OpResult {
	c := callPool.Get().(*groupCall)
	c.one[0] = op
	c.ops = c.one[:]
	return g.run(ctx, c)[0]
}

// run sends c, leading its group or waiting for a leader, and puts c back
// in the pool.
func (g *groupExec) run(ctx context.Context, c *groupCall) []dedupe.OpResult {
	g.mu.Lock()
	if g.inFlight < maxInFlight {
		g.inFlight++
		g.mu.Unlock()
		g.lead(ctx, []*groupCall{c})
	} else {
		g.queue = append(g.queue, c)
		g.mu.Unlock()
		<-c.done
		if calls := c.lead; calls != nil {
			g.lead(ctx, calls)
		}
	}
	results := c.results
	*c = groupCall{done: c.done}
	callPool.Put(c)
	return results
}

// lead sends the calls in one Exec, hands their results out, then passes
// the lead on with whatever was queued meanwhile. calls[0] is the leader's
// own call; the others' callers wait on their done. The calls share one
// round trip, so none of them may cancel it: ctx's cancellation is dropped.
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
	for _, c := range calls[1:] {
		c.done <- struct{}{}
	}
	if len(next) > 0 {
		next[0].done <- struct{}{}
	}
}
