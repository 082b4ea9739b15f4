package dedupe

import "context"

// Promote asks for the ticket's claim to be renewed with the full lease
// (WithClaim) instead of the queued one (WithQueuedLease), without waiting:
// the heartbeat sends the promotions asked for meanwhile together, in one
// round trip. A caller that runs keys one after another promotes the next
// few ahead of time, so that Start finds them promoted; a promoted key
// whose work never starts is held for the full lease if its owner dies.
// It does nothing for a ticket that does not hold its key, or in
// optimistic mode.
func (t *Ticket[V]) Promote() { t.b.Promote(t) }

// Promote is Ticket.Promote for many tickets of the Batch at once, so that
// their promotions share one round trip.
func (b *Batch[V]) Promote(tickets ...*Ticket[V]) {
	asked := false
	b.mu.Lock()
	for _, t := range tickets {
		if t.b == b && t.state == ticketOwned && t.lost == nil && b.fenced() && !t.promote {
			t.askPromotion()
			asked = true
		}
	}
	b.mu.Unlock()
	if asked {
		b.wakeHeartbeat()
	}
}

// Start is to be called right before the work on the key starts: it
// promotes the claim (see Promote) and waits until the store has confirmed
// this owner's claim on the full lease, so that a store that stalls for
// longer than the queued lease cannot let another owner claim a key whose
// work is running. It returns nil once the claim is promoted (at once in
// optimistic mode, or when the queued lease is the full lease); the cause
// of the lost lease (ErrLeaseLost, ErrBatchClosed, ErrStoreClosed) when the
// lease ends first, by the local clock or because the store says the claim
// is gone; ErrNotOwned for a ticket that does not hold its key; or ctx's
// cause. On an error the work must not start: Release the ticket.
func (t *Ticket[V]) Start(ctx context.Context) error {
	b := t.b
	b.mu.Lock()
	t.expireIfLate()
	switch {
	case t.lost != nil:
		defer b.mu.Unlock()
		return t.lost
	case t.state != ticketOwned:
		b.mu.Unlock()
		return ErrNotOwned
	case !b.fenced() || t.promoted:
		b.mu.Unlock()
		return nil
	}
	asked := !t.promote
	if asked {
		t.askPromotion()
	}
	if t.onLease == nil {
		t.onLease = make(chan struct{})
	}
	wait := t.onLease
	b.mu.Unlock()
	if asked {
		b.wakeHeartbeat()
	}
	select {
	case <-wait:
	case <-ctx.Done():
		return context.Cause(ctx)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return t.lost // nil once promoted
}

// askPromotion marks the ticket for promotion by the heartbeat's next round
// trip. Caller holds b.mu.
func (t *Ticket[V]) askPromotion() {
	t.promote, t.asked = true, true
	t.b.asks = append(t.b.asks, t)
}

// setPromoted records that the store holds the claim on the full lease, and
// wakes Start. Caller holds b.mu.
func (t *Ticket[V]) setPromoted() {
	t.promoted = true
	t.wakeStart()
}

// wakeStart ends Start's wait: the claim is promoted or lost. Caller holds
// b.mu.
func (t *Ticket[V]) wakeStart() {
	if t.onLease != nil {
		close(t.onLease)
		t.onLease = nil
	}
}
