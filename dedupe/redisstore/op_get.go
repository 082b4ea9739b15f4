package redisstore

import (
	"context"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/idemq/idemq/dedupe"
)

// getStep is an OpGet's first step: a GET, or, for a key that a waiter of
// this store watches, a call of the watched script, which also marks
// another owner's claim and reads its remaining lease (see watched.lua).
func getStep(watched bool) step {
	if watched {
		return getWatched{}
	}
	return getPlain{}
}

// getPlain is a read's GET; a claim's remaining lease is read in the next
// round.
type getPlain struct{}

func (getPlain) send(ctx context.Context, _ *round, o *pendingOp) {
	o.cmd = redis.NewStringCmd(ctx, o.command("get", &o.key)...)
}

func (getPlain) read(r *round, o *pendingOp) {
	cur, err := o.cmd.(*redis.StringCmd).Result()
	switch {
	case isNil(err):
	case err != nil:
		o.res.Err = err
	default:
		readRecord(r, o, cur)
	}
}

// getWatched is a read's call of the watched script.
type getWatched struct{}

func (getWatched) send(_ context.Context, r *round, o *pendingOp) {
	r.script(o, watchedScript, "g", "", 0)
}

func (getWatched) read(r *round, o *pendingOp) {
	if v, ok := r.scriptReply(o); ok {
		*o.res = readWatchedReply(o.op, v)
	}
}

// readRecord makes o's result the record its key holds (cur), and reads a
// claim's remaining lease in the next round.
func readRecord(r *round, o *pendingOp, cur string) {
	rec, err := parseRecord(o.op.Key, cur)
	*o.res = dedupe.OpResult{Current: rec, Err: err}
	if err == nil && rec.State == dedupe.Claimed {
		r.following().add(o, leaseRead{})
	}
}

// leaseRead is the PTTL of a claim that a claim or a read found another
// owner holding: its remaining lease completes that op's result (only a
// waiter needs it).
type leaseRead struct{}

func (leaseRead) send(ctx context.Context, _ *round, o *pendingOp) {
	o.cmd = redis.NewDurationCmd(ctx, time.Millisecond, "pttl", &o.key)
}

func (leaseRead) read(_ *round, o *pendingOp) {
	if pttl := o.cmd.(*redis.DurationCmd); pttl.Err() == nil {
		o.res.Current.TTL = ttlFromPTTL(pttlMillis(pttl.Val()))
	}
}
