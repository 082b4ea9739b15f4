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

// renewal is the reply to one renewal, sent at sent.
type renewal struct {
	sent time.Time
	held bool
	err  error
}

// heartbeat renews the claim every lease/3 until fn returns or end is
// called, and keeps the lease by its own clock: fn is cancelled with
// ErrLeaseLost at (send time of the last successful claim or renewal) +
// leaseSafety, whatever the store does, so a renewal stuck on a dead
// connection cannot keep fn running into another owner's claim. A renewal
// that says the claim is gone cancels fn at once.
func (x *execution[V]) heartbeat(ctx context.Context, claimed time.Time) {
	lease := x.g.cfg.lease
	deadline := time.NewTimer(time.Until(claimed.Add(leaseSafety(lease))))
	defer deadline.Stop()
	tick := time.NewTicker(lease / 3)
	defer tick.Stop()
	replies := make(chan renewal, 1) // one renewal in flight at most: never blocks
	inFlight := false
	closed := storeDone(x.g.store)
	for {
		select {
		case <-x.stop:
			return
		case <-closed:
			x.abort(ErrStoreClosed)
			return
		case <-deadline.C:
			x.abort(ErrLeaseLost)
			return
		case <-tick.C:
			if x.endCount() > 0 {
				return // the fenced commit decides from here
			}
			if !inFlight {
				inFlight = true
				go x.renew(ctx, replies)
			}
		case r := <-replies:
			inFlight = false
			switch {
			case r.err == nil && r.held:
				deadline.Reset(time.Until(r.sent.Add(leaseSafety(lease))))
			case r.err == nil:
				x.abort(ErrLeaseLost) // gone: expired, or taken over
				return
			}
		}
	}
}

// renew sends one renewal and reports it on replies. It may outlive the
// heartbeat (a dead connection): replies has room for its answer.
func (x *execution[V]) renew(ctx context.Context, replies chan<- renewal) {
	lease := x.g.cfg.lease
	sent := time.Now()
	rctx, cancel := context.WithTimeout(ctx, lease/3)
	defer cancel()
	held, err := x.g.store.Renew(rctx, x.g.key, x.g.token, lease)
	replies <- renewal{sent: sent, held: held, err: err}
}
