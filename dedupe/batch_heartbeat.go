package dedupe

import (
	"context"
	"time"
)

// batchRenewal is the reply to one heartbeat's renewals, sent at sent.
type batchRenewal[V any] struct {
	sent    time.Time
	tickets []*Ticket[V]
	ops     []Op // their renewals: each with the lease it asked for
	results []OpResult
}

// heartbeat renews the held claims of the Batch in one round trip every
// queued lease/3 (one round trip in flight at most): every claim whose work
// has not started, and each started one about every lease/3 (renewDue).
// Between beats it sends the promotions asked for (Promote, Start), all that
// were asked for meanwhile in one round trip. It keeps each ticket's lease
// by the local clock: a ticket whose last successful claim or renewal was
// sent more than leaseSafety ago loses its lease (its contexts are
// cancelled with ErrLeaseLost) whatever the store does, before another owner
// can claim the key. A renewal that says the claim is gone loses it at once.
func (b *Batch[V]) heartbeat() {
	lease := b.cfg.lease
	tick := time.NewTicker(b.queued / 3) // the shorter lease: a queued claim's
	defer tick.Stop()
	deadline := time.NewTimer(lease)
	defer deadline.Stop()
	replies := make(chan struct{}, 1) // one renewal in flight: never blocks
	inFlight, promote := false, false // promote: promotions were asked for while one was in flight
	closed := storeDone(b.store)
	for {
		select {
		case <-b.stop:
			return
		case <-closed:
			b.loseAll(ErrStoreClosed)
			closed = nil
		case <-tick.C:
			if !inFlight {
				inFlight = b.renew(replies, true)
			}
		case <-b.promotions:
			if inFlight {
				promote = true
			} else {
				inFlight = b.renew(replies, false)
			}
			continue // no deadline moved
		case <-replies: // applied by the renewal's goroutine: deadlines only move later, or the lease is lost at once
			inFlight = false
			if promote {
				promote, inFlight = false, b.renew(replies, false)
			}
			continue
		case <-deadline.C:
		case <-b.rearmed:
		}
		deadline.Reset(b.expire())
	}
}

// renew starts the renewal of every held claim whose lease is not lost and
// whose renewal is due (beat) or whose promotion was asked for since the
// last round trip, and reports whether it started one. The round trip's
// goroutine applies the replies itself, a goroutine switch sooner than the
// heartbeat would (Start waits for them), then tells replies.
func (b *Batch[V]) renew(replies chan<- struct{}, beat bool) bool {
	b.mu.Lock()
	n := len(b.asks)
	if beat {
		n += b.held.len()
	}
	tickets, ops := make([]*Ticket[V], 0, n), make([]Op, 0, n)
	add := func(t *Ticket[V]) {
		t.asked = false
		tickets = append(tickets, t)
		ops = append(ops, Op{Kind: OpRenew, Key: t.key, Token: t.token, Lease: b.leaseOf(t)})
	}
	if beat {
		now := time.Now()
		for _, t := range b.held.list {
			if t.lost == nil && b.renewDue(t, now) { // due, and every claim not promoted yet
				add(t)
			}
		}
	}
	for _, t := range b.asks { // between beats only these: no scan of every held claim
		if b.held.has(t) && t.asked && t.lost == nil {
			add(t)
		}
	}
	clear(b.asks)
	b.asks = b.asks[:0]
	b.mu.Unlock()
	if len(tickets) == 0 {
		return false
	}
	b.wg.Go(func() {
		ctx, cancel := context.WithTimeout(context.Background(), b.queued/3)
		defer cancel()
		sent := time.Now()
		b.renewed(batchRenewal[V]{sent: sent, tickets: tickets, ops: ops, results: b.exec(ctx, ops)})
		replies <- struct{}{}
	})
	return true
}

// renewDue reports whether t's claim is renewed by the beat at now. A
// queued claim is renewed at every beat, and so is one whose promotion the
// store has not confirmed yet (a promotion that failed is sent again); a
// promoted one, with the full lease, once its local deadline is within
// lease/3 (plus one beat), so about every lease/3 as Run renews. Caller
// holds b.mu.
func (b *Batch[V]) renewDue(t *Ticket[V], now time.Time) bool {
	return !t.promoted || t.deadline.Sub(now) <= b.cfg.lease/3+b.queued/3
}

// renewed applies a renewal's replies to the tickets still held.
func (b *Batch[V]) renewed(r batchRenewal[V]) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for i, t := range r.tickets {
		if !b.held.has(t) || t.lost != nil {
			continue
		}
		switch res := r.results[i]; {
		case res.Err == nil && res.OK:
			if d := r.sent.Add(leaseSafety(r.ops[i].Lease)); d.After(t.deadline) {
				t.deadline = d
			}
			if r.ops[i].Lease == b.cfg.lease && !t.promoted {
				t.setPromoted()
			}
		case res.Err == nil:
			t.lose(ErrLeaseLost) // gone: expired, or taken over
		}
	}
}

// expire loses the lease of every held ticket past its deadline and returns
// how long until the next deadline.
func (b *Batch[V]) expire() time.Duration {
	b.mu.Lock()
	defer b.mu.Unlock()
	now := time.Now()
	next := b.cfg.lease
	for _, t := range b.held.list {
		if t.lost != nil {
			continue
		}
		left := t.deadline.Sub(now)
		if left <= 0 {
			t.lose(ErrLeaseLost)
			continue
		}
		next = min(next, left)
	}
	return next
}

// loseAll loses the lease of every held ticket with cause.
func (b *Batch[V]) loseAll(cause error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, t := range b.held.list {
		t.lose(cause)
	}
}
