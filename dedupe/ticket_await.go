package dedupe

import (
	"context"
	"time"
)

// Await waits for the outcome of the owner that holds the key of an
// ErrInProgress ticket. It returns nil once this ticket holds the key (the
// other owner released it, failed, or its lease ran out), or a
// *ConflictError[V] with the value the other owner committed. A holder in
// this Batch is waited for in memory; one elsewhere through the store's
// notifications, as Run's claim-first duplicates wait. With WithNoWait it
// returns ErrInProgress at once. For a ticket that is not in progress it
// returns Err.
//
// A caller that holds other tickets' claims while it waits can deadlock with
// another owner that waits for those: end or release what you hold first.
func (t *Ticket[V]) Await(ctx context.Context) error {
	t.waiting.Lock() // a second Await of this ticket waits for the first's outcome
	defer t.waiting.Unlock()
	b := t.b
	b.mu.Lock()
	switch {
	case t.state != ticketBusy:
		defer b.mu.Unlock()
		return t.err
	case b.cfg.noWait:
		b.mu.Unlock()
		return ErrInProgress
	case b.closed:
		b.mu.Unlock()
		return ErrBatchClosed
	}
	b.calls.Add(1)
	b.mu.Unlock()
	defer b.calls.Done()
	ctx, cancel := b.bind(ctx)
	defer cancel()
	var interest Interest
	defer func() {
		if interest != nil {
			interest.Close()
		}
	}()
	for {
		if err := t.awaitHolder(ctx); err != nil {
			return err
		}
		if err := t.Err(); err != ErrInProgress {
			return err // a duplicate: the holder in this Batch committed
		}
		if !t.leadIfFree() {
			continue
		}
		var err error
		if interest == nil {
			if interest, err = b.store.Watch(ctx, t.key); err != nil {
				return t.fail(t.guard().storeErr("watching", err))
			}
		}
		if done, err := t.claimOnce(ctx); done {
			return err
		}
		if err := t.guard().awaitClaim(ctx, interest, t.waitTTL(), time.Time{}); err != nil {
			return t.giveUp(err)
		}
	}
}

// awaitHolder waits for the holder of the key in this Batch, if any, to give
// it up; a holder that learned the committed value makes this ticket a
// duplicate. It returns a ctx error if ctx ends first.
func (t *Ticket[V]) awaitHolder(ctx context.Context) error {
	b := t.b
	for {
		b.mu.Lock()
		if t.follows == nil {
			if l := b.leaders[t.key]; l != nil && l != t {
				t.follows = l.lead
			}
		}
		l := t.follows
		var done <-chan struct{}
		if l != nil {
			done = l.wait()
		}
		b.mu.Unlock()
		if l == nil {
			return nil
		}
		select {
		case <-done:
		case <-ctx.Done():
			return t.giveUp(context.Cause(ctx))
		}
		b.mu.Lock()
		t.checkLead()
		t.follows = nil
		b.mu.Unlock()
		if t.Err() != ErrInProgress {
			return nil
		}
	}
}

// leadIfFree makes the ticket the Batch's holder of its key if no other
// ticket is, and reports whether it did.
func (t *Ticket[V]) leadIfFree() bool {
	t.b.mu.Lock()
	defer t.b.mu.Unlock()
	if l := t.b.leaders[t.key]; l != nil && l != t {
		return false
	}
	t.takeLead()
	return true
}

// claimOnce claims the key in the store (optimistic: reads it). It reports
// done with the error Await returns when the claim decided (held: nil;
// committed: a conflict; failed), or not done when another owner still
// holds the key.
func (t *Ticket[V]) claimOnce(ctx context.Context) (done bool, err error) {
	sent := time.Now()
	res := t.b.exec(ctx, []Op{t.b.claimOp(t)})
	t.b.mu.Lock()
	defer t.b.mu.Unlock()
	t.applyClaim(res[0], sent, time.Now())
	if t.state == ticketBusy {
		return false, nil
	}
	return true, t.err
}

// waitTTL is the other owner's remaining lease, as last seen.
func (t *Ticket[V]) waitTTL() time.Duration {
	t.b.mu.Lock()
	defer t.b.mu.Unlock()
	return t.ttl
}

// giveUp ends an Await early: the ticket stays in progress (no claim held),
// and err says why.
func (t *Ticket[V]) giveUp(err error) error {
	t.b.mu.Lock()
	defer t.b.mu.Unlock()
	if t.lead != nil && t.state == ticketClaiming {
		t.state = ticketBusy
		t.unlead()
	}
	return err
}

// fail records a store failure while waiting.
func (t *Ticket[V]) fail(err error) error {
	t.b.mu.Lock()
	defer t.b.mu.Unlock()
	t.state, t.err = ticketFailed, err
	t.unlead()
	return err
}
