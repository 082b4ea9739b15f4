package dedupe

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Batch is the batch path of the guard, for a caller that holds many keys
// at once: a fetched batch of messages, a router with many handlers in
// flight. It gives each key the guarantees of Run in the same mode, with the
// store's work batched across keys.
//
// In claim-first mode (the default) it claims many keys in one round trip,
// renews every held claim in one round trip per heartbeat, and commits or
// releases whatever has ended in one round trip (group commit: what ends
// while a round trip is in flight goes out together in the next one, and
// nothing waits when the store is idle). A claimed key whose work has not
// started yet holds a short lease (WithQueuedLease), so that a crashed
// owner strands only the keys it was working on for the full lease; the
// work on a key starts with Ticket.Start, which first has the store confirm
// the claim on the full lease, so that a store stalled for longer than the
// queued lease cannot let another owner take a key whose work runs.
//
// In optimistic mode (WithOptimistic) Claim reads the keys in one round
// trip instead, and every free key may run at once; the commits go out
// grouped and the first commit of a key wins. Only a key that another
// owner's claim holds is watched (Await), so a run that loses to another
// optimistic run learns it at its commit (Result returns the
// *ConflictError with the winner's value), not by an early cancellation as
// with Run.
//
// A Batch is long-lived (one per consumer) and safe for concurrent use.
// Within a Batch a key is single-flight: a ticket for a key that another
// ticket of the Batch holds costs no store work; it waits in memory for that
// ticket's outcome and gets the winner's value. Close releases every claim
// still held and stops the Batch's goroutines.
type Batch[V any] struct {
	store      Store
	cfg        runConfig
	queued     time.Duration // claim-first: the lease of a claim whose work has not started
	done       chan struct{} // closed by Close: ends waits
	stop       chan struct{} // closed by Close once the last releases are queued
	wake       chan struct{} // the flusher has work
	rearmed    chan struct{} // a ticket's deadline may be earlier than the heartbeat's timer
	promotions chan struct{} // a ticket asked for promotion (Promote, Start, Context)
	wg         sync.WaitGroup
	calls      sync.WaitGroup // Claim and Await calls in flight
	roundTrips atomic.Int64
	tokens     *tokenSeq // the tickets' owner tokens

	mu      sync.Mutex
	closed  bool
	leaders map[string]*Ticket[V] // per key, the ticket that holds or claims it
	held    ticketSet[V]          // tickets holding the key, neither ended nor released
	pending ticketSet[V]          // ended or released, outcome not known yet
	queue   []*Ticket[V]          // of pending, those the flusher has not sent yet
	asks    []*Ticket[V]          // asked for promotion since the heartbeat last sent the asks
}

// NewBatch returns a Batch on store. It takes the options Run takes too
// (each an Option), which work as they do for Run: WithOptimistic (the
// mode), WithClaim (the lease, default DefaultLease), WithTTL, WithCodec,
// WithCommitTimeout, WithNoWait (Await returns ErrInProgress at once) and
// WithKeepClaimOnError (Release keeps the claim until its lease ends); and
// WithQueuedLease, a BatchOption. A Batch takes fingerprints per key, with
// ClaimKeys. Close the Batch when done.
func NewBatch[V any](store Store, opts ...BatchOption) (*Batch[V], error) {
	cfg, err := newBatchConfig(opts)
	if err == nil {
		err = checkStore(store)
	}
	if err != nil {
		return nil, err
	}
	b := &Batch[V]{
		store: store, cfg: cfg, queued: cfg.queuedLeaseOr(), tokens: newTokenSeq(),
		done: make(chan struct{}), stop: make(chan struct{}), wake: make(chan struct{}, 1),
		rearmed: make(chan struct{}, 1), promotions: make(chan struct{}, 1),
		leaders: map[string]*Ticket[V]{},
		held:    ticketSet[V]{slot: func(t *Ticket[V]) *int { return &t.heldAt }},
		pending: ticketSet[V]{slot: func(t *Ticket[V]) *int { return &t.pendingAt }},
	}
	b.wg.Go(b.flusher)
	if b.fenced() {
		b.wg.Go(b.heartbeat)
	}
	return b, nil
}

// fenced reports claim-first mode.
func (b *Batch[V]) fenced() bool { return !b.cfg.optimistic }

// leaseOf is the lease a held ticket's renewal asks for. Caller holds b.mu.
func (b *Batch[V]) leaseOf(t *Ticket[V]) time.Duration {
	if t.promote {
		return b.cfg.lease
	}
	return b.queued
}

// Claim claims keys for this owner in one round trip (on a Cluster, one per
// master) and returns one ticket per key, in order; see Ticket.Err for what
// each ticket found. A key given twice, or held by another ticket of the
// Batch, is not claimed again: its ticket waits in memory for the first.
//
// Claim returns an error, and no tickets, when a key is invalid, ctx is
// done, the Batch is closed, or the store failed for every key it sent;
// otherwise a ticket whose own claim failed carries the error in Err.
func (b *Batch[V]) Claim(ctx context.Context, keys ...string) ([]*Ticket[V], error) {
	ks := make([]ClaimKey, len(keys))
	for i, k := range keys {
		ks[i].Key = k
	}
	return b.ClaimKeys(ctx, ks...)
}

// ClaimKey is one key for ClaimKeys, with the fingerprint of its payload
// (nil: none; see WithFingerprint).
type ClaimKey struct {
	Key         string
	Fingerprint []byte
	// Promote claims the key on the full lease (WithClaim) at once, as
	// Ticket.Promote right after the claim would, without a round trip of
	// its own: for a key whose work starts at once, so that Start finds
	// it promoted. Claim-first mode only; a key another ticket holds is
	// claimed so when its ticket's Await claims it.
	Promote bool
}

// ClaimKeys is Claim with a fingerprint per key: a key whose stored claim
// or value was made for another payload gets a ticket whose Err is a
// *KeyReusedError.
func (b *Batch[V]) ClaimKeys(ctx context.Context, keys ...ClaimKey) ([]*Ticket[V], error) {
	for _, k := range keys {
		if err := CheckKey(k.Key); err != nil {
			return nil, err
		}
	}
	if ctx.Err() != nil {
		return nil, context.Cause(ctx)
	}
	tickets, leads, err := b.register(keys)
	if err != nil {
		return nil, err
	}
	defer b.calls.Done()
	b.claim(ctx, leads)
	b.mu.Lock()
	defer b.mu.Unlock()
	failed := 0
	for _, t := range tickets {
		if t.follows != nil {
			t.checkLead()
		}
		if t.state == ticketFailed {
			failed++
		}
	}
	if len(tickets) > 0 && failed == len(tickets) {
		return nil, tickets[0].err
	}
	return tickets, nil
}

// register makes the tickets of keys: a leader for each key no ticket of the
// Batch holds, a follower of the holder otherwise. It counts the call in
// calls, so that Close waits for it.
func (b *Batch[V]) register(keys []ClaimKey) (tickets, leads []*Ticket[V], err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return nil, nil, ErrBatchClosed
	}
	b.calls.Add(1)
	tickets = make([]*Ticket[V], len(keys))
	slab := make([]Ticket[V], len(keys)) // one allocation: a call's tickets live about as long as each other
	for i, k := range keys {
		t := &slab[i]
		b.initTicket(t, k.Key, k.Fingerprint)
		t.promote = k.Promote && b.fenced()
		if l := b.leaders[k.Key]; l != nil {
			t.follow(l.lead)
		} else {
			t.takeLead()
			leads = append(leads, t)
		}
		tickets[i] = t
	}
	return tickets, leads, nil
}

// claim sends the claims of leads in one round trip and applies the replies.
func (b *Batch[V]) claim(ctx context.Context, leads []*Ticket[V]) {
	if len(leads) == 0 {
		return
	}
	ops := make([]Op, len(leads))
	for i, t := range leads {
		ops[i] = b.claimOp(t)
	}
	sent := time.Now()
	results := b.exec(ctx, ops)
	b.mu.Lock()
	defer b.mu.Unlock()
	now := time.Now()
	for i, t := range leads {
		t.applyClaim(results[i], sent, now)
	}
}

// claimOp is the op that takes t's key: a claim with the queued lease (the
// full lease for a ClaimKey with Promote), or, optimistic, a read. The
// caller need not hold b.mu: t.promote changes only while t owns its key.
func (b *Batch[V]) claimOp(t *Ticket[V]) Op {
	if !b.fenced() {
		return Op{Kind: OpGet, Key: t.key}
	}
	return Op{Kind: OpClaim, Key: t.key, Token: t.token, Lease: b.leaseOf(t)}
}

// newToken returns a ticket's owner token: unique to the ticket, without a
// random read per ticket (see tokenSeq).
func (b *Batch[V]) newToken() string { return b.tokens.next() }

// exec runs ops on the store, counting the round trip.
func (b *Batch[V]) exec(ctx context.Context, ops []Op) []OpResult {
	if len(ops) == 0 {
		return nil
	}
	b.roundTrips.Add(1)
	return exec(ctx, b.store, ops)
}

// Flush waits until every End and Release made before the call has its
// outcome (see Ticket.Result), or ctx is done.
func (b *Batch[V]) Flush(ctx context.Context) error {
	b.mu.Lock()
	waits := slices.Clone(b.pending.list)
	b.mu.Unlock()
	for _, t := range waits {
		select {
		case <-t.awaitSettled():
		case <-ctx.Done():
			return context.Cause(ctx)
		}
	}
	return nil
}

// BatchStats are a Batch's counters since NewBatch.
type BatchStats struct {
	// RoundTrips counts the store calls of claims, renewals, commits and
	// releases: one per round trip (per master on a Cluster). Waits for keys
	// held elsewhere add their own.
	RoundTrips int64
}

// Stats returns the Batch's counters.
func (b *Batch[V]) Stats() BatchStats { return BatchStats{RoundTrips: b.roundTrips.Load()} }

// Close releases every claim the Batch still holds (tickets neither ended
// nor released lose their lease with ErrBatchClosed as the cause), waits for
// queued commits and releases, and stops the Batch's goroutines. Later calls
// return ErrBatchClosed. Close is idempotent.
//
// Close reports owned tickets that were neither ended nor released (work
// abandoned, or a key forgotten) as an error matching ErrEndNotCalled that
// names them; their claims are released all the same.
func (b *Batch[V]) Close() error {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		b.wg.Wait()
		return nil
	}
	b.closed = true
	close(b.done)
	b.mu.Unlock()
	b.calls.Wait()
	b.mu.Lock()
	var forgotten []string
	for _, t := range slices.Clone(b.held.list) { // release takes t out of held
		forgotten = append(forgotten, t.key)
		t.lose(ErrBatchClosed)
		t.closing, t.err = true, ErrBatchClosed
		if b.fenced() {
			t.release()
		} else {
			b.held.remove(t)
			t.settle(ErrBatchClosed)
		}
	}
	close(b.stop)
	b.mu.Unlock()
	b.wg.Wait()
	return forgottenErr(forgotten)
}

// forgottenErr names the keys a Batch held at Close, if any.
func forgottenErr(keys []string) error {
	if len(keys) == 0 {
		return nil
	}
	slices.Sort(keys)
	more := ""
	if len(keys) > 5 {
		keys, more = keys[:5], fmt.Sprintf(" and %d more", len(keys)-5)
	}
	return fmt.Errorf("%w: Close released %q%s, owned but neither ended nor released", ErrEndNotCalled, keys, more)
}

// rearm tells the heartbeat to look at the tickets' deadlines again.
func (b *Batch[V]) rearm() {
	select {
	case b.rearmed <- struct{}{}:
	default:
	}
}

// wakeHeartbeat tells the heartbeat that a ticket asked for promotion.
func (b *Batch[V]) wakeHeartbeat() {
	select {
	case b.promotions <- struct{}{}:
	default:
	}
}

// bind returns ctx, also cancelled with ErrBatchClosed when the Batch closes.
func (b *Batch[V]) bind(ctx context.Context) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancelCause(ctx)
	go func() {
		select {
		case <-b.done:
			cancel(ErrBatchClosed)
		case <-ctx.Done():
		}
	}()
	return ctx, func() { cancel(context.Canceled) }
}
