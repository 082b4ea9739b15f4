package dedupe

import (
	"context"
	"fmt"
	"time"
)

// Result waits for the outcome of End and returns:
//
//	nil                          committed: this owner won
//	*ConflictError[V]            optimistic mode: another run committed first;
//	                             the work is done (Value is the winner's)
//	*ConflictError[V] with Err   ErrLeaseLost: the lease was lost and the taker
//	                             committed; the work is done (Value is the taker's)
//	*KeyReusedError              the key was committed for another payload
//	                             (WithFingerprint, ClaimKeys): nothing committed
//	ErrLeaseLost                 fenced off, nothing committed by this owner
//	ErrInProgress                optimistic mode: a claim-first owner holds the
//	                             key; nothing committed by this run
//	ErrCommitUnknown             no answer within the commit timeout, or the
//	                             connection failed: the outcome is unknown
//	ErrStoreClosed, other errors the outcome is unknown
//
// Only nil and a *ConflictError mean the key's work is done. After Release,
// Result returns ErrReleased once the claim is released; after Close
// released the ticket, ErrBatchClosed. For a ticket that never held its key,
// it returns Err; for one that holds it, ErrEndNotCalled.
func (t *Ticket[V]) Result(ctx context.Context) error {
	t.b.mu.Lock()
	state, endedAt := t.state, t.endedAt
	err, outcome := t.err, t.outcome
	t.b.mu.Unlock()
	switch state {
	case ticketSettled: // known already: never lost to a done ctx
		return outcome
	case ticketEnded, ticketReleasing:
	case ticketOwned:
		return ErrEndNotCalled
	default:
		return err
	}
	if ctx.Err() != nil { // a poll: no outcome yet
		return context.Cause(ctx)
	}
	settled := t.awaitSettled()
	timer := time.NewTimer(time.Until(endedAt.Add(t.b.cfg.commitTimeout)))
	defer timer.Stop()
	select {
	case <-settled:
	case <-timer.C:
		return t.timedOut(state)
	case <-ctx.Done():
		return context.Cause(ctx)
	}
	return t.settledOutcome()
}

func (t *Ticket[V]) settledOutcome() error {
	t.b.mu.Lock()
	defer t.b.mu.Unlock()
	return t.outcome
}

func (t *Ticket[V]) timedOut(state ticketState) error {
	if state == ticketReleasing {
		return fmt.Errorf("dedupe: releasing key %q: no reply within %v; the claim ends with its lease", t.key, t.b.cfg.commitTimeout)
	}
	return fmt.Errorf("%w: key %q: no reply within the commit timeout (%v)", ErrCommitUnknown, t.key, t.b.cfg.commitTimeout)
}

// awaitSettled returns a channel closed once the outcome of End or Release
// is known (at once, if it is).
func (t *Ticket[V]) awaitSettled() <-chan struct{} {
	t.b.mu.Lock()
	defer t.b.mu.Unlock()
	switch {
	case t.state == ticketSettled:
		return closedChan
	case t.settled == nil:
		t.settled = make(chan struct{})
	}
	return t.settled
}

// settle records the outcome of End or Release and gives the key up.
// Caller holds b.mu.
func (t *Ticket[V]) settle(outcome error) {
	t.outcome = outcome
	t.state = ticketSettled
	t.b.pending.remove(t)
	t.unlead()
	if t.settled != nil {
		close(t.settled)
	}
}
