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
	key     string
	token   string
	waiting sync.Mutex // one Await at a time

	// Guarded by b.mu.
	state     ticketState
	err       error           // what Err returns
	lead      *lead           // while this ticket holds or claims the key for the Batch
	follows   *lead           // the holder this ticket waits for, in memory
	deadline  time.Time       // claim-first: the lease by the local clock, when to give up
	promote   bool            // the work starts (Promote, Start, Context): renewals ask for the full lease
	asked     bool            // promote was set since the last renewal round that sent it
	promoted  bool            // the store confirmed this owner's claim on the full lease
	onLease   chan struct{}   // made when Start waits; closed once promoted or lost
	ttl       time.Duration   // the other owner's remaining lease, when busy
	lost      error           // why the lease was lost (or the Batch or store closed), if so
	cancels   []*workContext  // of Context: cancelled by lose
	value     []byte          // the encoded value given to End
	ended     bool            // End was called
	endedAt   time.Time       // when End or Release was called
	outcome   error           // of End or Release, once settled
	settled   chan struct{}   // closed when the outcome is known; made when someone waits
	closing   bool            // released by Close
	heldAt    int             // in b.held, see ticketSet
	pendingAt int             // in b.pending
	first     lead            // the first tenure's lead
	tenures   int             // how often the ticket took the lead
	ctxs      [1]*workContext // cancels' first backing array
	firstCtx  workContext     // the first context Context returns
	contexts  int             // how many Context made
}

type ticketState int

const (
	ticketClaiming  ticketState = iota // a claim (or, optimistic, a read) is in flight
	ticketOwned                        // holds the key: run the work, then End or Release
	ticketBusy                         // ErrInProgress: another owner holds the key
	ticketDuplicate                    // committed already: Err is a *ConflictError
	ticketFailed                       // the claim's outcome is unknown: Err says why
	ticketReused                       // the key's record is another payload's: Err is a *KeyReusedError
	ticketEnded                        // End called: the commit is queued or in flight
	ticketReleasing                    // Release called: the release is queued or in flight
	ticketSettled                      // the outcome of End or Release is known
)

// lead is one ticket's tenure as the Batch's holder of a key; followers of
// the key wait for it to end.
type lead struct {
	done  chan struct{} // made when a follower first waits; closed when the tenure ends
	ended bool          // the holder gave the key up
	token string        // the token of the run that committed the value
	value []byte        // the key's committed value, if the holder learned it
	known bool          // value is set
}

// closedChan is the done channel of a lead that ended before anyone waited.
var closedChan = func() chan struct{} { c := make(chan struct{}); close(c); return c }()

// wait returns a channel closed once the tenure has ended. Caller holds b.mu.
func (l *lead) wait() <-chan struct{} {
	switch {
	case l.ended:
		return closedChan
	case l.done == nil:
		l.done = make(chan struct{})
	}
	return l.done
}

// end ends the tenure. Caller holds b.mu.
func (l *lead) end() {
	l.ended = true
	if l.done != nil {
		close(l.done)
	}
}

// initTicket makes t a new ticket of the Batch for key.
func (b *Batch[V]) initTicket(t *Ticket[V], key string, fp []byte) {
	t.b, t.key, t.token = b, key, printedToken(b.newToken(), fp)
}

// guard is the ticket's key under the Batch's options, for the guard's
// helpers (decoding a winner's value, waiting for another owner).
func (t *Ticket[V]) guard() *guard[V] {
	return &guard[V]{store: t.b.store, key: t.key, cfg: t.b.cfg, token: t.token}
}

// Key returns the ticket's key.
func (t *Ticket[V]) Key() string { return t.key }

// Err says what the ticket holds:
//
//	nil                this owner holds the key: do the work, then End or Release
//	                   (claim-first: its claim; optimistic: the key was free)
//	*ConflictError[V]  the key is committed already: a duplicate; Value is the winner's value
//	ErrInProgress      another owner holds the key (another process, or another ticket
//	                   of this Batch): Await its outcome, or retry later
//	ErrLeaseLost       this owner held the key but its lease is lost by the local
//	                   clock (a claim that answered too late, renewals that failed):
//	                   do not start the work; Release the ticket and retry later
//	ErrBatchClosed     the Batch closed while the ticket held the key
//	*KeyReusedError    the key's record was made for another payload (ClaimKeys'
//	                   fingerprints): bad data, neither the work nor a duplicate
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
	if t.state == ticketOwned && t.lost == nil && t.b.fenced() {
		t.expireBy(time.Now())
	}
}

// expireBy is expireIfLate with the time read by the caller, for many
// tickets at once. Caller holds b.mu.
func (t *Ticket[V]) expireBy(now time.Time) {
	if t.state == ticketOwned && t.lost == nil && t.b.fenced() && !now.Before(t.deadline) {
		t.lose(ErrLeaseLost)
	}
}

// Context returns a context derived from parent for the work on the key,
// and marks the work as started. It is cancelled, with ErrLeaseLost as its
// cause, when this owner's lease is lost (by the local clock, before another
// owner can claim the key), or with ErrBatchClosed or ErrStoreClosed when
// the Batch or the store closes first. In claim-first mode it promotes the
// claim to the full lease (WithClaim) as Promote does, without waiting for
// the store: call Start first, so that the work starts only once the store
// holds the claim for the full lease. Call cancel when the work is done.
func (t *Ticket[V]) Context(parent context.Context) (context.Context, context.CancelFunc) {
	t.b.mu.Lock()
	defer t.b.mu.Unlock()
	var ctx *workContext
	if t.contexts++; t.contexts == 1 {
		ctx = &t.firstCtx // most tickets make one context: no allocation
	} else {
		ctx = &workContext{}
	}
	ctx.parent = parent
	t.expireIfLate()
	if t.lost != nil {
		ctx.end(t.lost)
		return ctx, ctx.finish
	}
	if t.state == ticketOwned && !t.promote {
		t.askPromotion()
	}
	t.addContext(ctx)
	return ctx, ctx.finish
}

// addContext adds ctx to the contexts lose cancels, first dropping those
// that ended if there are many (a caller that makes many contexts for one
// ticket, each cancelled when done). Caller holds b.mu.
func (t *Ticket[V]) addContext(ctx *workContext) {
	if len(t.cancels) >= 8 && len(t.cancels) == cap(t.cancels) {
		live := t.cancels[:0]
		for _, c := range t.cancels {
			if c.live() {
				live = append(live, c)
			}
		}
		clear(t.cancels[len(live):])
		t.cancels = live
	}
	if t.cancels == nil {
		t.cancels = t.ctxs[:0] // most tickets make one context: no allocation
	}
	t.cancels = append(t.cancels, ctx)
}

// End records value as the key's outcome and queues the commit (fenced by
// the claim in claim-first mode); it does not wait (see Result). It returns
// ErrNotOwned when the ticket does not hold the key, ErrEndCalledTwice after
// an earlier End, ErrBatchClosed after Close, or the codec's error (the
// ticket then still holds the key).
func (t *Ticket[V]) End(value V) error {
	data, encErr := t.b.cfg.codec.Encode(value)
	t.b.mu.Lock()
	defer t.b.mu.Unlock()
	if err := t.ownedOr(ErrEndCalledTwice, ticketEnded); err != nil {
		return err
	}
	if encErr != nil {
		return fmt.Errorf("dedupe: encoding the value of key %q: %w", t.key, encErr)
	}
	t.value, t.ended = data, true
	t.state = ticketEnded
	t.enqueue()
	return nil
}

// Release gives the key up without a value: the work failed, or will not
// run. In claim-first mode the claim is deleted (queued, like End's commit),
// so that a retry or a waiter can claim the key at once, unless
// WithKeepClaimOnError keeps it until its lease ends; an optimistic ticket
// holds nothing in the store. It returns ErrNotOwned when the ticket does
// not hold the key.
func (t *Ticket[V]) Release() error {
	t.b.mu.Lock()
	defer t.b.mu.Unlock()
	if err := t.ownedOr(ErrNotOwned, ticketReleasing); err != nil {
		return err
	}
	t.err = ErrReleased
	if t.b.cfg.keepClaimOnError || !t.b.fenced() {
		t.b.held.remove(t)
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
	b.held.remove(t)
	b.pending.add(t)
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
	t.wakeStart()
	for _, c := range t.cancels {
		c.end(cause)
	}
	clear(t.cancels)
	t.cancels = t.cancels[:0]
	t.unlead()
}

// takeLead makes the ticket the Batch's holder of its key. Caller holds b.mu.
func (t *Ticket[V]) takeLead() {
	if t.tenures++; t.tenures == 1 {
		t.lead = &t.first // most tickets lead once: no allocation
	} else {
		t.lead = &lead{}
	}
	t.b.leaders[t.key] = t
	t.state = ticketClaiming
}

// unlead ends the ticket's tenure as holder of its key, waking its
// followers. Caller holds b.mu.
func (t *Ticket[V]) unlead() {
	if t.lead == nil {
		return
	}
	if t.b.leaders[t.key] == t {
		delete(t.b.leaders, t.key)
	}
	t.lead.end()
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
	if !t.follows.ended {
		return
	}
	if t.follows.known {
		t.state = ticketDuplicate
		t.err = t.guard().conflict(t.follows.token, t.follows.value, nil)
	}
}

// applyClaim records the reply to this ticket's claim (or, optimistic, its
// read), sent at sent and received at now. Caller holds b.mu.
func (t *Ticket[V]) applyClaim(r OpResult, sent, now time.Time) {
	switch {
	case r.Err != nil:
		t.state, t.err = ticketFailed, t.guard().storeErr("claiming", r.Err)
		t.unlead()
	case r.OK || !t.b.fenced() && r.Current.State == Absent:
		t.state, t.err = ticketOwned, nil
		t.b.held.add(t)
		if t.b.fenced() {
			lease := t.b.leaseOf(t)
			t.deadline = sent.Add(leaseSafety(lease))
			if lease >= t.b.cfg.lease {
				t.promote, t.asked = true, false
				t.setPromoted() // claimed on the full lease already
			}
			t.expireBy(now) // a reply that came too late: lost at once
			t.b.rearm()
		}
	case r.Current.State == Committed:
		t.state, t.err = ticketDuplicate, t.guard().conflict(r.Current.Token, r.Current.Value, nil)
		t.lead.token, t.lead.value, t.lead.known = r.Current.Token, r.Current.Value, true
		t.unlead()
	case t.guard().reused(r.Current.Token) != nil:
		t.state, t.err = ticketReused, t.guard().reused(r.Current.Token)
		t.unlead()
	default:
		t.state, t.err = ticketBusy, ErrInProgress
		t.ttl = r.Current.TTL
		t.unlead()
	}
}
