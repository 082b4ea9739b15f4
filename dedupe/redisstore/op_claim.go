package redisstore

import (
	"context"

	"github.com/redis/go-redis/v9"

	"github.com/idemq/idemq/dedupe"
)

// claimStep is an OpClaim's first step: a SET NX GET, or, for a key that a
// waiter of this store watches, a call of the watched script, which stores
// the claim marked and marks another owner's claim (see watched.lua).
func claimStep(watched bool) step {
	if watched {
		return claimWatched{}
	}
	return claimSetNX{}
}

// claimSetNX is a claim's SET NX GET. The claim succeeded if the key was
// free, or already held this token's claim: the same claim, retried by the
// client after a lost reply, whose lease a renewal sets again in the next
// round (SET NX GET left the first attempt's expiry; the renewal's reply
// becomes the claim's). Another owner's claim's remaining lease is read in
// the next round.
type claimSetNX struct{}

func (claimSetNX) send(ctx context.Context, _ *round, o *pendingOp) {
	o.cmd = redis.NewStatusCmd(ctx, o.command("set", &o.key, &o.claim, "nx", "px", &o.lease, "get")...)
}

func (claimSetNX) read(r *round, o *pendingOp) {
	cur, err := o.cmd.(*redis.StatusCmd).Result()
	switch {
	case isNil(err):
		*o.res = claimed(o.op)
	case err != nil:
		o.res.Err = err
	case ownClaim(cur, o.op.Token):
		*o.res = claimed(o.op)
		r.following().add(o, renewCall{})
	default:
		readRecord(r, o, cur)
	}
}

// claimWatched is a claim's call of the watched script.
type claimWatched struct{}

func (claimWatched) send(_ context.Context, r *round, o *pendingOp) {
	r.script(o, watchedScript, "c", &o.claim, &o.lease)
}

func (claimWatched) read(r *round, o *pendingOp) {
	if v, ok := r.scriptReply(o); ok {
		*o.res = readWatchedReply(o.op, v)
	}
}

// claimed is the result of a claim that holds.
func claimed(op *dedupe.Op) dedupe.OpResult {
	return dedupe.OpResult{OK: true, Current: dedupe.Record{State: dedupe.Claimed, Token: op.Token, TTL: dedupe.StoredDuration(op.Lease)}}
}
