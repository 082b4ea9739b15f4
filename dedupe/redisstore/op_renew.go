package redisstore

import (
	"context"

	"github.com/redis/go-redis/v9"

	"github.com/idemq/idemq/dedupe"
)

// renewStep is an OpRenew's first step: a plain SET ... IFEQ where the
// server has it, otherwise a call of the claimops script, which renews the
// claim marked by a waiter too (see claimops.lua).
func renewStep(native bool) step {
	if native {
		return renewCAS{}
	}
	return renewCall{}
}

// renewCAS is a renewal's SET ... IFEQ. One that did not store means the
// key does not hold the plain claim: the script tells in the next round
// whether it holds it marked.
type renewCAS struct{}

func (renewCAS) send(ctx context.Context, _ *round, o *pendingOp) {
	o.cmd = redis.NewCmd(ctx, o.command("set", &o.key, &o.claim, "ifeq", &o.claim, "px", &o.lease)...)
}

func (renewCAS) read(r *round, o *pendingOp) {
	switch err := o.cmd.Err(); {
	case err == nil:
		*o.res = dedupe.OpResult{OK: true}
	case r.plan.store.casFallback(err):
		r.following().add(o, renewCall{})
	default:
		o.res.Err = err
	}
}

// renewCall is a renewal's call of the claimops script; a retried claim
// sets its lease again with it too (claimSetNX).
type renewCall struct{}

func (renewCall) send(_ context.Context, r *round, o *pendingOp) {
	r.script(o, claimOpsScript, "r", &o.claim, &o.lease)
}

func (renewCall) read(r *round, o *pendingOp) {
	if v, ok := r.scriptReply(o); ok {
		*o.res = readClaimOpsReply(v)
	}
}
