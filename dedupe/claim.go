package dedupe

import (
	"context"
	"fmt"
	"time"
)

// acquire takes the claim on the key for this run, waiting for a live claim
// of another owner to end unless WithNoWait was given. It subscribes to the
// key's notifications only when it has to wait, so a fresh key costs one
// round trip. It returns when the successful claim was sent (the start of
// the lease by the local clock), or the error Run must return (a
// *ConflictError when the owner it waited for committed).
func (g *guard[V]) acquire(ctx context.Context) (time.Time, error) {
	var interest Interest
	defer func() {
		if interest != nil {
			interest.Close()
		}
	}()
	var until time.Time // the wait's bound (WithMaxWait), once the key was found held
	for {
		sent := time.Now()
		rec, claimed, err := g.store.Claim(ctx, g.key, g.token, g.cfg.lease)
		switch {
		case err != nil:
			return time.Time{}, g.storeErr("claiming", err)
		case claimed:
			return sent, nil
		case rec.State == Committed:
			return time.Time{}, g.conflict(rec.Token, rec.Value, nil)
		case g.reused(rec.Token) != nil:
			return time.Time{}, g.reused(rec.Token)
		case g.cfg.noWait:
			return time.Time{}, ErrInProgress
		case interest == nil:
			// Subscribe, then claim again at once: a release between the
			// first claim and the subscription would otherwise go unheard.
			until = g.waitBound(sent)
			if interest, err = g.watch(ctx, until); err != nil {
				return time.Time{}, err
			}
			continue
		}
		if err := g.awaitClaim(ctx, interest, rec.TTL, until); err != nil {
			return time.Time{}, err
		}
	}
}

// waitBound is the end of the wait for other owners that begins at start:
// start plus WithMaxWait's bound, or zero (none).
func (g *guard[V]) waitBound(start time.Time) time.Time {
	if g.cfg.maxWait <= 0 {
		return time.Time{}
	}
	return start.Add(g.cfg.maxWait)
}

// watch subscribes to the key's notifications for a wait bounded by until
// (zero: unbounded): a subscription still unconfirmed at until is a
// *StoreError wrapping ErrWaitTimeout.
func (g *guard[V]) watch(ctx context.Context, until time.Time) (Interest, error) {
	wctx := ctx
	if !until.IsZero() {
		var cancel context.CancelFunc
		wctx, cancel = context.WithDeadlineCause(ctx, until, ErrWaitTimeout)
		defer cancel()
	}
	interest, err := g.store.Watch(wctx, g.key)
	if err != nil && ctx.Err() == nil && context.Cause(wctx) == ErrWaitTimeout {
		return nil, &StoreError{Op: "watching", Key: g.key, Err: fmt.Errorf("%w: the subscription was not confirmed", ErrWaitTimeout)}
	}
	if err != nil {
		return nil, g.storeErr("watching", err)
	}
	return interest, nil
}

// awaitClaim waits until another owner's claim may have ended: any event
// other than a commit (a release, or a resync that calls for a re-read), or
// the claim's remaining lease running out. A commit event ends the wait with
// a conflict; reaching until (WithMaxWait; zero: none) ends it with
// ErrWaitTimeout and ErrInProgress.
func (g *guard[V]) awaitClaim(ctx context.Context, interest Interest, ttl time.Duration, until time.Time) error {
	wait, bounded := g.claimWait(ttl), false
	if !until.IsZero() {
		if left := time.Until(until); left <= wait {
			wait, bounded = left, true
		}
	}
	if bounded && wait <= 0 {
		return errOwnerOutlasted
	}
	timer := time.NewTimer(wait)
	defer timer.Stop()
	select {
	case ev, ok := <-interest.Events():
		if !ok {
			return ErrStoreClosed
		}
		if ev.Kind == EventCommit {
			return g.conflict(ev.Token, ev.Value, nil)
		}
	case <-timer.C:
		if bounded {
			return errOwnerOutlasted
		}
	case <-ctx.Done():
		return context.Cause(ctx)
	}
	return nil
}

// claimWait is how long to wait for a claim whose remaining lease is ttl
// (> 0 when the store knows it; a claim about to expire reports 1ns). The
// extra millisecond lets the claim expire on the server before the next
// attempt. An unknown ttl waits one lease (claim mode) or unknownClaimWait.
func (g *guard[V]) claimWait(ttl time.Duration) time.Duration {
	switch {
	case ttl <= 0 && g.fenced():
		return g.cfg.lease
	case ttl <= 0:
		return unknownClaimWait
	case g.fenced() && ttl > g.cfg.lease:
		return g.cfg.lease
	}
	return ttl + time.Millisecond
}

// unknownClaimWait bounds an optimistic run's wait for a claim whose lease
// it cannot know.
const unknownClaimWait = time.Second
