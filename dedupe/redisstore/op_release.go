package redisstore

import (
	"context"
)

// releaseCall is an OpRelease: a call of the claimops script, which deletes
// the claim, marked by a waiter or not, and publishes the release of a
// marked one (see claimops.lua).
type releaseCall struct{}

func (releaseCall) send(_ context.Context, r *round, o *pendingOp) {
	r.script(o, claimOpsScript, "x", &o.claim, &o.lease)
}

func (releaseCall) read(r *round, o *pendingOp) {
	if v, ok := r.scriptReply(o); ok {
		*o.res = readClaimOpsReply(v)
	}
}
