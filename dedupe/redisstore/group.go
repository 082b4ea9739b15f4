package redisstore

import (
	"context"
	"slices"
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
// sends at most one round trip, its own group's. A call started with start
// has no caller waiting: it is answered through its done func, from the
// goroutine of the group's leader, and leads only when nobody else can (a
// free slot, or a group of such calls alone), from a goroutine of its own.
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
	done    chan struct{}         // signalled once per use: results are in, or lead is set
	lead    []*groupCall          // set when this caller must send these calls
	one     [1]dedupe.Op          // the ops of a single-op call
	reply   func(dedupe.OpResult) // a call of start: nobody waits on done
}

var callPool = sync.Pool{New: func() any { return &groupCall{done: make(chan struct{}, 1)} }}

// opsPool holds the buffers a group's ops are joined in for its Exec.
var opsPool = sync.Pool{New: func() any { return new([]dedupe.Op) }}

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

// start sends op with the next group and returns at once; reply gets its
// result, from another goroutine.
func (g *groupExec) start(ctx context.Context, op dedupe.Op, reply func(dedupe.OpResult)) {
	c := callPool.Get().(*groupCall)
	c.one[0] = op
	c.ops, c.reply = c.one[:], reply
	g.mu.Lock()
	if g.inFlight < maxInFlight {
		g.inFlight++
		g.mu.Unlock()
		go g.lead(ctx, []*groupCall{c})
		return
	}
	g.queue = append(g.queue, c)
	g.mu.Unlock()
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
	c.free()
	return results
}

// free puts c back in the pool.
func (c *groupCall) free() {
	*c = groupCall{done: c.done}
	callPool.Put(c)
}

// answer hands c its results: a call of start gets them through reply
// (and c goes back in the pool), a waiting caller is woken.
func (c *groupCall) answer() {
	if reply := c.reply; reply != nil {
		r := c.results[0]
		c.free()
		reply(r)
		return
	}
	c.done <- struct{}{}
}

// lead sends the calls in one Exec, hands their results out, then passes
// the lead on with whatever was queued meanwhile. calls[0] is the leader's
// own call (unless it is a call of start: then it is answered too); the
// others' callers wait on their done. The calls share one round trip, so
// none of them may cancel it: ctx's cancellation is dropped.
func (g *groupExec) lead(ctx context.Context, calls []*groupCall) {
	ops := calls[0].ops
	if len(calls) > 1 {
		buf := opsPool.Get().(*[]dedupe.Op)
		ops = (*buf)[:0]
		for _, c := range calls {
			ops = append(ops, c.ops...)
		}
		defer func() {
			clear(ops) // the keys and values may go
			*buf = ops[:0]
			opsPool.Put(buf)
		}()
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
	if calls[0].reply == nil {
		calls = calls[1:] // the leader's own: its caller reads the results
	}
	g.handOn(ctx, next)
	for _, c := range calls {
		c.answer()
	}
}

// handOn makes a waiting caller of next the leader of next, or a goroutine
// of its own when next holds only calls of start.
func (g *groupExec) handOn(ctx context.Context, next []*groupCall) {
	if len(next) == 0 {
		return
	}
	i := slices.IndexFunc(next, func(c *groupCall) bool { return c.reply == nil })
	if i < 0 {
		go g.lead(ctx, next)
		return
	}
	next[0], next[i] = next[i], next[0]
	next[0].lead = next
	next[0].done <- struct{}{}
}
