package redisstore

import (
	"context"

	"github.com/redis/go-redis/v9"

	"github.com/idemq/idemq/dedupe"
)

// commitStep is an OpCommit's first step: a fenced commit is a plain SET
// ... IFEQ where the server has it and no waiter of this store watches the
// key; any other commit (into a free key, or a watched one) is a call of
// the commit script, which publishes it when somebody may wait for it (see
// commit.lua). The round waits for replicas after commits (replicas.go).
func commitStep(op *dedupe.Op, native, watched bool) step {
	if op.Fenced && native && !watched {
		return commitCAS{}
	}
	return commitCall{}
}

// commitCAS is a fenced commit's SET ... IFEQ. One that did not store means
// the key does not hold the plain claim: it may hold it marked by a waiter,
// or this commit resent (the script writes it again), or another record;
// the script decides in the next round.
type commitCAS struct{}

func (commitCAS) send(ctx context.Context, _ *round, o *pendingOp) {
	o.cmd = redis.NewCmd(ctx, o.command("set", &o.key, &o.value, "ifeq", &o.claim, "px", &o.ttl)...)
}

func (commitCAS) read(r *round, o *pendingOp) {
	switch err := o.cmd.Err(); {
	case err == nil:
		*o.res = wonCommit(o.op)
	case r.plan.store.casFallback(err):
		r.following().add(o, commitCall{})
	default:
		o.res.Err = err
	}
}

// commitCall is a commit's call of the commit script.
type commitCall struct{}

func (commitCall) send(_ context.Context, r *round, o *pendingOp) {
	claim := any("") // a commit into a free key
	if o.op.Fenced {
		claim = &o.claim
	}
	r.script(o, commitScript, claim, &o.value, &o.ttl)
}

func (commitCall) read(r *round, o *pendingOp) {
	if v, ok := r.scriptReply(o); ok {
		*o.res = readCommitReply(o.op, v)
	}
}

// readCommitReply reads one op's reply of the commit script: 1 (stored,
// also when resent: the script wrote it again), or the current record of a
// commit that did not store (false, read as nil, when the key is free).
func readCommitReply(op *dedupe.Op, v any) dedupe.OpResult {
	if n, ok := v.(int64); ok {
		if n == 1 {
			return wonCommit(op)
		}
		return dedupe.OpResult{}
	}
	cur, ok := v.(string)
	if !ok {
		return dedupe.OpResult{} // the key is free
	}
	rec, err := parseRecord(op.Key, cur)
	return dedupe.OpResult{Current: rec, Err: err}
}

// wonCommit is the result of a commit that stored its value.
func wonCommit(op *dedupe.Op) dedupe.OpResult {
	return dedupe.OpResult{OK: true, Current: dedupe.Record{State: dedupe.Committed, Token: op.Token, Value: op.Value, TTL: dedupe.StoredDuration(op.TTL)}}
}
