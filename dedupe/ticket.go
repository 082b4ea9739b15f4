package dedupe

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// Ticket is one key of a Batch: what Claim found, and, for an owner, the
// handle to end or release the key. Its methods are safe for concurrent use.
type Ticket[V any] struct {
	b       *Batch[V]
	g       guard[V]
	settled chan struct{} // closed when the outcome of End or Release is known
	waiting sync.Mutex    // one Await at a time

	// Guarded by b.mu.
	state    ticketState
	err      error         // what Err returns
	lead     *lead         // while this ticket holds or claims the key for the Batch
	follows  *lead         // the holder this ticket waits for, in memory
	deadline time.Time     // the lease by the local clock: when to give up
	ttl      time.Duration // the other owner's remaining lease, when busy
	lost     error         // why the lease was lost, if it was
	cancels  map[*context.CancelCauseFunc]struct{}
	value    []byte    // the encoded value given to End
	ended    bool      // End was called
	endedAt  time.Time // when End or Release was called
	outcome  error     // of End or Release, once settled
	closing  bool      // released by Close
}

type ticketState int

const (
	ticketClaiming  ticketState = iota // a claim is in flight
	ticketOwned                        // holds the claim: run the work, then End or Release
	ticketBusy                         // ErrInProgress: another owner holds the key
	ticketDuplicate                    // committed already: Err is a *ConflictError
	ticketFailed                       // the claim's outcome is unknown: Err says why
	ticketEnded                        // End called: the commit is queued or in flight
	ticketReleasing                    // Release called: the release is queued or in flight
	ticketSettled                      // the outcome of End or Release is known
)

// lead is one ticket's tenure as the Batch's holder of a key; followers of
// the key wait for it to end.
type lead struct {
	done  chan struct{} // closed when the holder gave the key up
	value []byte        // the key's committed value, if the holder learned it
	known bool          // value is set
}

func (b *Batch[V]) newTicket(key string) *Ticket[V] {
	return &Ticket[V]{
		b:       b,
		g:       guard[V]{store: b.store, key: key, cfg: b.cfg, token: b.newToken()},
		settled: make(chan struct{}),
	}
}

// Key returns the ticket's key.
func (t *Ticket[V]) Key() string { return t.g.key }

// Err says what the ticket holds:
//
//	nil                this owner holds the key's claim: do the work, then End or Release
//	*ConflictError[V]  the key is committed already: a duplicate; Value is the winner's value
//	ErrInProgress      another owner holds the key (another process, or another ticket
//	                   of this Batch): Await its outcome, or retry later
//	ErrLeaseLost       this owner held the key but its lease is lost by the local
//	                   clock (a claim that answered too late, renewals that failed):
//	                   do not start the work; Release the ticket and retry later
//	ErrBatchClosed     the Batch closed while the ticket held the key
//	other errors       the claim failed (store down, decode error): retry later
//
// After Await, End or Release it reports the latest state; see Result for
// the outcome of End.
func (t *Ticket[V]) Err() error {
	t.b.mu.Lock()
	defer t.b.mu.Unlock()
	t.expireIfLate()
	if t.err == nil && t.state == ticketOwned && t.lost != nil {
		return t.lost
	}
	return t.err
}

// expireIfLate loses the lease of a held ticket whose local deadline has
// passed, without waiting for the heartbeat's next look. Caller holds b.mu.
func (t *Ticket[V]) expireIfLate() {
	if t.state == ticketOwned && t.lost == nil && !time.Now().Before(t.deadline) {
		t.lose(ErrLeaseLost)
	}
}

// Context returns a context derived from parent that is cancelled, with
// ErrLeaseLost as its cause, when this owner's lease is lost (by the local
// clock, before another owner can claim the key), or with ErrBatchClosed
// when the Batch closes first. Pass it to the work on the key; call cancel
// when the work is done.
func (t *Ticket[V]) Context(parent context.Context) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancelCause(parent)
	t.b.mu.Lock()
	defer t.b.mu.Unlock()
	t.expireIfLate()
	if t.lost != nil {
		cancel(t.lost)
		return ctx, func() {}
	}
	if t.cancels == nil {
		t.cancels = map[*context.CancelCauseFunc]struct{}{}
	}
	t.cancels[&cancel] = struct{}{}
	return ctx, func() {
		t.b.mu.Lock()
		delete(t.cancels, &cancel)
		t.b.mu.Unlock()
		cancel(context.Canceled)
	}
}

// End records value as the key's outcome and queues the fenced commit; it
// does not wait (see Result). It returns ErrNotOwned when the ticket does not
// hold the key, ErrEndCalledTwice after an earlier End, ErrBatchClosed after
// Close, or the codec's error (the ticket then still holds the key).
func (t *Ticket[V]) End(value V) error {
	data, encErr := t.b.cfg.codec.Encode(value)
	t.b.mu.Lock()
	defer t.b.mu.Unlock()
	if err := t.ownedOr(ErrEndCalledTwice, ticketEnded); err != nil {
		return err
	}
	if encErr != nil {
		return fmt.Errorf("dedupe: encoding the value of key %q: %w", t.g.key, encErr)
	}
	t.value, t.ended = data, true
	t.state = ticketEnded
	t.enqueue()
	return nil
}

// Release gives the key up without a value: the work failed, or will not
// run. The claim is deleted (queued, like End's commit), so that a retry or
// a waiter can claim the key at once, unless WithKeepClaimOnError keeps it
// until its lease ends. It returns ErrNotOwned when the ticket does not hold
// the key.
func (t *Ticket[V]) Release() error {
	t.b.mu.Lock()
	defer t.b.mu.Unlock()
	if err := t.ownedOr(ErrNotOwned, ticketReleasing); err != nil {
		return err
	}
	t.err = ErrReleased
	if t.b.cfg.keepClaimOnError {
		delete(t.b.held, t)
		t.endedAt = time.Now()
		t.settle(ErrReleased)
		return nil
	}
	t.release()
	return nil
}

// ownedOr returns nil if the ticket holds its key, again if End was called
// before (or, for Release, the ticket is already in state s), and
// ErrBatchClosed or ErrNotOwned otherwise. Caller holds b.mu.
func (t *Ticket[V]) ownedOr(again error, s ticketState) error {
	switch {
	case t.state == ticketOwned && !t.b.closed:
		return nil
	case t.state == s, again == ErrEndCalledTwice && t.ended:
		return again
	case t.b.closed:
		return ErrBatchClosed
	}
	return ErrNotOwned
}

// release queues the deletion of the claim. Caller holds b.mu.
func (t *Ticket[V]) release() {
	t.state = ticketReleasing
	t.enqueue()
}

// enqueue hands an ended or released ticket to the flusher. Caller holds b.mu.
func (t *Ticket[V]) enqueue() {
	b := t.b
	t.endedAt = time.Now()
	delete(b.held, t)
	b.pending[t] = struct{}{}
	b.queue = append(b.queue, t)
	select {
	case b.wake <- struct{}{}:
	default:
	}
}

// lose marks the lease lost and cancels the ticket's contexts with cause.
// The ticket may still End: the fenced commit decides. Its followers stop
// waiting for it in memory: they wait through the store, where another
// owner's commit reaches them. Caller holds b.mu.
func (t *Ticket[V]) lose(cause error) {
	if t.lost != nil {
		return
	}
	t.lost = cause
	for c := range t.cancels {
		(*c)(cause)
	}
	clear(t.cancels)
	t.unlead()
}

// takeLead makes the ticket the Batch's holder of its key. Caller holds b.mu.
func (t *Ticket[V]) takeLead() {
	t.lead = &lead{done: make(chan struct{})}
	t.b.leaders[t.g.key] = t
	t.state = ticketClaiming
}

// unlead ends the ticket's tenure as holder of its key, waking its
// followers. Caller holds b.mu.
func (t *Ticket[V]) unlead() {
	if t.lead == nil {
		return
	}
	if t.b.leaders[t.g.key] == t {
		delete(t.b.leaders, t.g.key)
	}
	close(t.lead.done)
	t.lead = nil
}

// follow makes the ticket wait in memory for l. Caller holds b.mu.
func (t *Ticket[V]) follow(l *lead) {
	t.follows = l
	t.state = ticketBusy
	t.err = ErrInProgress
}

// checkLead turns a follower whose holder learned the committed value into
// a duplicate. Caller holds b.mu.
func (t *Ticket[V]) checkLead() {
	select {
	case <-t.follows.done:
	default:
		return
	}
	if t.follows.known {
		t.state = ticketDuplicate
		t.err = t.g.conflict(t.follows.value, nil)
	}
}

// applyClaim records the reply to this ticket's claim, sent at sent.
// Caller holds b.mu.
func (t *Ticket[V]) applyClaim(r OpResult, sent time.Time) {
	switch {
	case r.Err != nil:
		t.state, t.err = ticketFailed, t.g.storeErr("claiming", r.Err)
		t.unlead()
	case r.OK:
		t.state, t.err = ticketOwned, nil
		t.deadline = sent.Add(leaseSafety(t.b.cfg.lease))
		t.b.held[t] = struct{}{}
		t.expireIfLate() // a reply that came too late: lost at once
		t.b.rearm()
	case r.Current.State == Committed:
		t.state, t.err = ticketDuplicate, t.g.conflict(r.Current.Value, nil)
		t.lead.value, t.lead.known = r.Current.Value, true
		t.unlead()
	default:
		t.state, t.err = ticketBusy, ErrInProgress
		t.ttl = r.Current.TTL
		t.unlead()
	}
}
