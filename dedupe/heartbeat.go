package dedupe

import (
	"context"
	"time"
)

// leaseSafety is the part of a lease during which an owner may still work
// after the last claim or renewal it knows succeeded, counted from when that
// command was sent: a claim never expires on the server before send time +
// lease, so an owner cancelled at send time + lease*2/3 stops with a third
// of the lease to spare before another owner can claim the key.
func leaseSafety(lease time.Duration) time.Duration { return lease * 2 / 3 }

// lease is what the heartbeat of a claim-mode execution keeps, under the
// execution's mu. The execution's timer drives it, with no goroutine of its
// own while fn runs: it fires at the next renewal or at the lease's end by
// the local clock, whichever comes first.
type lease struct {
	end      time.Time // fn is cancelled here: the send time of the last claim or renewal that held + leaseSafety
	renewAt  time.Time // the next renewal is due: every lease/3 from the start of fn
	renewing bool      // a renewal is in flight
}

// keepLease starts the heartbeat: it renews the claim every lease/3 until
// fn returns or end is called, and keeps the lease by its own clock: fn is
// cancelled with ErrLeaseLost at (send time of the last successful claim or
// renewal) + leaseSafety, whatever the store does, so a renewal stuck on a
// dead connection cannot keep fn running into another owner's claim. A
// renewal that says the claim is gone cancels fn at once, and so does the
// store closing (ErrStoreClosed) once fn has run for closeWatchDelay.
// claimed is when the claim was sent.
func (x *execution[V]) keepLease(ctx context.Context, claimed time.Time) {
	period := x.g.cfg.lease / 3
	now := time.Now()
	x.mu.Lock()
	x.lease.end = claimed.Add(leaseSafety(x.g.cfg.lease))
	x.lease.renewAt = now.Add(period)
	x.timer = time.AfterFunc(min(x.lease.next(now), closeWatchDelay), func() { x.tick(ctx) })
	x.mu.Unlock()
}

// closeWatchDelay is how long fn runs before the heartbeat watches the
// store's closing (watchClose): most work is over sooner, and so costs the
// store no registration. A store that closed meanwhile cancels fn at once
// then.
const closeWatchDelay = 100 * time.Millisecond

// next is how long from now the heartbeat's timer must wait.
func (l *lease) next(now time.Time) time.Duration {
	if l.renewAt.Before(l.end) {
		return l.renewAt.Sub(now)
	}
	return l.end.Sub(now)
}

// tick is what the execution's timer runs: once end was called, the
// commit timeout (commitTick); before, in claim mode, the heartbeat.
func (x *execution[V]) tick(ctx context.Context) {
	x.mu.Lock()
	if x.ends > 0 {
		x.mu.Unlock()
		x.commitTick()
		return
	}
	x.beat(ctx)
}

// beat is the heartbeat's tick (caller holds mu; beat unlocks it): past
// the lease's end it cancels fn; when a renewal is due it sends one (unless
// one is in flight), in the timer's goroutine, after setting the timer
// again.
func (x *execution[V]) beat(ctx context.Context) {
	if x.returned || x.aborted != nil {
		x.mu.Unlock()
		return // fn is over
	}
	if !x.watchingClose {
		x.watchingClose = true
		x.stopWatch = watchClose(x.g.store, x.storeClosed)
	}
	now := time.Now()
	if !now.Before(x.lease.end) {
		x.abortLocked(ErrLeaseLost)
		x.mu.Unlock()
		return
	}
	renew := false
	if !now.Before(x.lease.renewAt) {
		for !x.lease.renewAt.After(now) {
			x.lease.renewAt = x.lease.renewAt.Add(x.g.cfg.lease / 3)
		}
		renew, x.lease.renewing = !x.lease.renewing, true
	}
	x.timer.Reset(x.lease.next(now))
	x.mu.Unlock()
	if renew {
		x.renew(ctx)
	}
}

// renew sends one renewal and applies its answer. It may outlive fn (a dead
// connection): an answer that comes after fn returned changes nothing.
func (x *execution[V]) renew(ctx context.Context) {
	lease := x.g.cfg.lease
	sent := time.Now()
	rctx, cancel := context.WithTimeout(ctx, lease/3)
	held, err := x.g.store.Renew(rctx, x.g.key, x.g.token, lease)
	cancel()
	x.mu.Lock()
	defer x.mu.Unlock()
	x.lease.renewing = false
	switch {
	case err == nil && held:
		x.lease.end = sent.Add(leaseSafety(lease)) // the timer, set for the old end or earlier, looks again then
	case err == nil:
		x.abortLocked(ErrLeaseLost) // gone: expired, or taken over
	}
}

// storeClosed cancels fn: its store closed.
func (x *execution[V]) storeClosed() { x.abort(ErrStoreClosed) }
