package redisstore

import (
	"context"
	"fmt"

	"github.com/redis/go-redis/v9"

	"github.com/idemq/idemq/dedupe"
)

// round is one pipeline of an Exec: the ops it sends, each as a plain
// command or as its part of a script call. Their replies may queue
// follow-ups into the next round: the remaining lease of a claim another
// owner holds (only a waiter needs it), a retried claim's lease set again,
// a compare-and-set that found the claim marked by a waiter (or not held:
// the script tells which), and ops whose script call was refused with
// NOSCRIPT (it did not run), sent again once the scripts are loaded.
type round struct {
	plan  *execPlan
	ops   []*pendingOp
	calls []*scriptCall // the script calls that carry some of ops
	open  map[*redis.Script]*scriptCall

	next     *round
	noScript bool // a call was refused with NOSCRIPT: load the scripts first
}

// scriptCall is one call of a script for up to maxOpsPerCall ops.
type scriptCall struct {
	script *redis.Script
	keys   []any // the ops' record keys (*opArg)
	args   []any
	cmd    *redis.Cmd
	reply  []any // one per op, once read
	err    error
}

// newRound returns an empty round for about n ops.
func (p *execPlan) newRound(n int) *round {
	return &round{plan: p, ops: make([]*pendingOp, 0, n), open: map[*redis.Script]*scriptCall{}}
}

// add queues o's step s in the round.
func (r *round) add(o *pendingOp, s step) {
	o.step = s
	r.ops = append(r.ops, o)
}

// following returns the round that the replies of this one add to.
func (r *round) following() *round {
	if r.next == nil {
		r.next = r.plan.newRound(0)
	}
	return r.next
}

// send pipelines the round, reads the replies and returns the next round,
// or nil.
func (r *round) send(ctx context.Context) *round {
	if len(r.ops) == 0 {
		return nil
	}
	s := r.plan.store
	if r.noScript {
		if err := loadScripts(ctx, s.client); err != nil {
			r.fail(err)
			return nil
		}
	}
	for _, o := range r.ops {
		o.cmd, o.call = nil, nil
		o.step.send(ctx, r, o)
	}
	// The script calls go first, since a call replies with a list: when a
	// pipeline's first reply is an error, such as a claim's nil (a free
	// key), go-redis checks it against every error it would retry, a dozen
	// errors.Is and errors.As (2% of BenchmarkRunCallers' CPU). The ops of
	// a round may go in any order: one Exec's are on distinct keys, and
	// those of different callers (group.go) are independent.
	pipe := s.client.Pipeline()
	for _, c := range r.calls {
		c.cmd = c.command(ctx)
		_ = pipe.Process(ctx, c.cmd)
	}
	probe := s.probeCAS(ctx, pipe)
	for _, o := range r.ops {
		if o.cmd != nil {
			_ = pipe.Process(ctx, o.cmd)
		}
	}
	wait := r.waitReplicas(ctx, pipe) // last: WAIT covers the writes before it
	_, _ = pipe.Exec(ctx)
	s.probed(probe)
	for _, c := range r.calls {
		c.read()
	}
	for _, o := range r.ops {
		o.step.read(r, o)
	}
	r.replicated(wait)
	return r.next
}

// script adds o, with its arguments, to an open call of sc.
func (r *round) script(o *pendingOp, sc *redis.Script, args ...any) {
	per := maxOpsPerCall
	if r.plan.store.sharded {
		per = 1
	}
	c := r.open[sc]
	if c == nil || len(c.keys) == per {
		n := min(per, len(r.ops)) // ops it may carry
		c = &scriptCall{script: sc, keys: make([]any, 0, n), args: make([]any, 0, 1+len(args)*n)}
		if sc != watchedScript {
			c.args = append(c.args, r.plan.store.publish)
		}
		r.open[sc] = c
		r.calls = append(r.calls, c)
	}
	o.call, o.j = c, len(c.keys)
	c.keys = append(c.keys, &o.key)
	c.args = append(c.args, args...)
}

// command returns the call's EVALSHA: what Script.EvalSha sends, with the
// keys as they are (no string boxed again per key).
func (c *scriptCall) command(ctx context.Context) *redis.Cmd {
	args := make([]any, 0, 3+len(c.keys)+len(c.args))
	args = append(args, "evalsha", c.script.Hash(), len(c.keys))
	args = append(append(args, c.keys...), c.args...)
	cmd := redis.NewCmd(ctx, args...)
	cmd.SetFirstKeyPos(3) // a Cluster client routes it by its first key
	return cmd
}

// read reads the call's reply: one per op.
func (c *scriptCall) read() {
	c.reply, c.err = c.cmd.Slice()
	if c.err == nil && len(c.reply) != len(c.keys) {
		c.err = fmt.Errorf("dedupe: script replied %d results for %d ops", len(c.reply), len(c.keys))
	}
}

// scriptReply returns o's part of its script call's reply, and false when
// there is none to read: the call failed (o's result has the error), or was
// refused with NOSCRIPT (o goes out again in the next round).
func (r *round) scriptReply(o *pendingOp) (any, bool) {
	switch err := o.call.err; {
	case err != nil && redis.HasErrorPrefix(err, "NOSCRIPT"):
		next := r.following()
		next.noScript = true
		next.add(o, o.step)
		return nil, false
	case err != nil:
		o.res.Err = err
		return nil, false
	}
	return o.call.reply[o.j], true
}

// fail gives every op of the round err.
func (r *round) fail(err error) {
	for _, o := range r.ops {
		o.res.Err = err
	}
}

// giveUp fails the ops of a round that was never sent and have no answer
// yet. A remaining-lease read or a retried claim's renewal only adds to an
// answer the op already has, which stands.
func (r *round) giveUp() {
	for _, o := range r.ops {
		if res := o.res; !res.OK && res.Err == nil && res.Current.State == dedupe.Absent {
			res.Err = errTooManyRounds
		}
	}
}
