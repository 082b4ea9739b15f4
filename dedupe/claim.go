package dedupe

import (
	"context"
	"time"
)

// acquire takes the claim on the key for this run, waiting for a live
// claim of another owner to end unless WithNoWait was given. It returns the
// owner token, or the error Run must return (a *ConflictError when the owner
// it waited for committed).
func (g *guard[V]) acquire(ctx context.Context, interest Interest) (string, error) {
	token := newToken()
	for {
		rec, claimed, err := g.store.Claim(ctx, g.key, token, g.cfg.lease)
		switch {
		case err != nil:
			return "", g.storeErr("claiming", err)
		case claimed:
			return token, nil
		case rec.State == Committed:
			return "", g.conflict(rec.Value, nil)
		case g.cfg.noWait:
			return "", ErrInProgress
		}
		if err := g.awaitClaim(ctx, interest, rec.TTL); err != nil {
			return "", err
		}
	}
}

// awaitClaim waits until another owner's claim may have ended: a release or
// resync event, or the claim's lease running out. A commit event ends the
// wait with a conflict.
func (g *guard[V]) awaitClaim(ctx context.Context, interest Interest, ttl time.Duration) error {
	if ttl <= 0 || ttl > g.cfg.lease {
		ttl = g.cfg.lease
	}
	timer := time.NewTimer(ttl)
	defer timer.Stop()
	select {
	case ev, ok := <-interest.Events():
		if !ok {
			return ErrStoreClosed
		}
		if ev.Kind == EventCommit {
			return g.conflict(ev.Value, nil)
		}
	case <-timer.C:
	case <-ctx.Done():
		return context.Cause(ctx)
	}
	return nil
}

// heartbeat renews the claim every lease/3 until stop is closed or end is
// called. When the store says the claim is gone, or renewals failed for so
// long that the lease could run out before the next one, it cancels fn with
// ErrLeaseLost (with failing renewals, about 2/3 of a lease after the last
// success, before another owner can claim the key).
func (x *execution[V]) heartbeat(ctx context.Context, stop <-chan struct{}) {
	lease := x.g.cfg.lease
	tick := time.NewTicker(lease / 3)
	defer tick.Stop()
	renewed := time.Now()
	for {
		select {
		case <-stop:
			return
		case <-tick.C:
		}
		if x.endCalled() {
			return // the fenced commit decides from here
		}
		rctx, cancel := context.WithTimeout(ctx, lease/3)
		held, err := x.g.store.Renew(rctx, x.g.key, x.token, lease)
		cancel()
		switch {
		case err == nil && held:
			renewed = time.Now()
		case err == nil || time.Since(renewed)+lease/3 >= lease:
			// Gone, or it could expire before the next renewal: stop fn
			// while the claim may still be ours, before a taker can start.
			x.abort(ErrLeaseLost)
			return
		}
	}
}
