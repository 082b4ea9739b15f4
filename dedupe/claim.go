package dedupe

import (
	"context"
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
			if interest, err = g.store.Watch(ctx, g.key); err != nil {
				return time.Time{}, g.storeErr("watching", err)
			}
			continue
		}
		if err := g.awaitClaim(ctx, interest, rec.TTL); err != nil {
			return time.Time{}, err
		}
	}
}

// awaitClaim waits until another owner's claim may have ended: any event
// other than a commit (a release, or a resync that calls for a re-read), or
// the claim's remaining lease running out. A commit event ends the wait with
// a conflict.
func (g *guard[V]) awaitClaim(ctx context.Context, interest Interest, ttl time.Duration) error {
	timer := time.NewTimer(g.claimWait(ttl))
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
