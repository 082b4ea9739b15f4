// Package dedupe is idemq's idempotency guard: it runs a multi-step piece of
// async work at most once per key across every process that shares a Store,
// and hands duplicates the value the winner committed.
//
//	store, err := redisstore.New(client)              // or dedupe.NewMemoryStore() in one process
//	if err != nil {
//		return err                                    // a Ring client, a prefix with braces
//	}
//	defer store.Close()
//
//	order, err := dedupe.Run(ctx, store, key, func(ctx context.Context, end dedupe.End[OrderID]) (Order, error) {
//		charged, err := charge(ctx, req)              // ctx is cancelled if this owner loses the key
//		if err != nil {
//			return Order{}, err                       // nothing committed: a retry runs again
//		}
//		end(charged.ID)                               // the commit point; does not block
//		return charged, nil
//	})
//	var conflict *dedupe.ConflictError[OrderID]
//	if errors.As(err, &conflict) { /* a duplicate: conflict.Value is the winner's OrderID */ }
//
// R, what fn returns, and V, what end commits, are separate types: the
// committed value is what duplicates receive, and it need not be the result.
//
// # Where things are
//
// This package is the guard: Run (one piece of work), NewBatch and Ticket
// (many keys at once: a consumer's fetched batch), End, the options
// (WithClaim for the lease, WithOptimistic, WithTTL, WithCodec,
// WithFingerprint, ...) and the errors; the Store seam (see "Writing a
// Store") and MemoryStore, a Store in one process's memory. The stores
// live in packages of their own: dedupe/redisstore (redisstore.New) is the
// Redis backend (Redis 7+, Valkey, Cluster), with its options
// (redisstore.WithPrefix, ...) and its operator API (Inspect, Scan,
// ForceRelease, Forget, Stats); dedupe/pgstore keeps a key's record in the
// PostgreSQL transaction of the work (a TxStore). Package dedupetest is the
// conformance suite every Store passes (and, RunTx, every TxStore). The adapters (idemqkafka,
// idemqwatermill) put the guard around message consumers.
//
// # Two modes
//
// Claim-first (the default, as in both adapters). Before fn runs, the guard
// claims the key with a random owner token and a lease (WithClaim, default
// DefaultLease). A duplicate that finds a live claim does not run fn: it
// waits until the owner commits (and returns a *ConflictError with its
// value) or the claim is released or expires (and then claims and runs
// itself); with WithNoWait it returns ErrInProgress at once, and with
// WithMaxWait(d) ErrWaitTimeout (an ErrInProgress too) once it waited d. The owner
// renews its lease every lease/3 while fn runs, and keeps the lease by its
// own clock (see Guarantees); its commit is fenced: it never replaces
// another owner's claim or value (a commit held up past its lease still
// lands if nobody took the key meanwhile: the work is done). An owner whose
// fn finished after its lease was taken over does not run fn again: its
// commit waits for the taker, as a duplicate would, and then commits on the
// free key or returns the taker's commit (a *ConflictError wrapping
// ErrLeaseLost). Only a claim stops two consumers from both
// doing an instant side effect (a card charged, a mail sent) when one
// message reaches both, which is why it is the default.
//
// Optimistic (WithOptimistic; the model of the npm package
// @sebspark/idempotency that idemq started from). Duplicates do not lock.
// Each guard subscribes to its key's notifications, waits until the store
// confirms the subscription, then reads the key: a value already stored
// means fn is not called and Run returns a *ConflictError. Otherwise fn
// runs; the first end(value) to reach the store wins atomically, and every
// other guard running the key has its ctx cancelled with the *ConflictError
// as context.Cause, and returns it. With WithEagerStart, fn starts at once,
// in parallel with the read, as in the seed. Use it only where fn can be
// abandoned midway (no side effect before end that must not happen twice):
// it never waits, and costs one round trip less.
//
// Modes may meet on one key: an optimistic Run that finds a live claim
// treats the key as in progress before fn starts (it waits like a
// claim-first duplicate, or returns ErrInProgress with WithNoWait; with
// WithEagerStart fn is cancelled with ErrInProgress), and an optimistic
// commit never overwrites a live claim (ErrInProgress). The other way round
// there is no such check: a claim-first run that starts after an optimistic
// run's check cannot see it, and both may run. Use one mode per key.
//
// # Guarantees
//
//   - Never marked before the work is done: a key is committed only by
//     end(value). fn failing without end commits nothing (and in claim mode
//     releases the claim, unless WithKeepClaimOnError), so a redelivery runs
//     fn again.
//   - Run returns fn's result only after the store confirmed that this run's
//     commit won. An error fn returns after end does not undo the commit: Run
//     returns fn's result and that error.
//   - In claim mode, an owner is cancelled before another owner can claim the
//     key. The guard keeps its own clock: fn's ctx is cancelled, with
//     ErrLeaseLost as the cause, at the send time of the last claim or
//     renewal that succeeded plus 2/3 of the lease, whatever Redis does. This
//     holds with a default go-redis client, which ignores context deadlines
//     on socket reads and so may hang for its read timeout on a dead link.
//     (The cancellation is a request: fn must honour its ctx.)
//   - A commit or a release that fails (a reset connection, a Redis
//     restart) is sent again, with backoff, until it gets an answer or the
//     commit timeout (WithCommitTimeout, 10s) runs out: both are idempotent.
//     Run returns ErrCommitUnknown at the commit timeout, even if the store
//     call is still hanging on a dead connection; that call then ends in the
//     background at the client's timeout.
//   - A command resent by the client after a lost reply (go-redis retries up
//     to MaxRetries times) finds its own earlier effect and gives the same
//     answer: a retried claim holds, a retried commit wins. A commit stores
//     the committing run's token with the value for that reason.
//   - The commit decides, not the notification: pub/sub is at-most-once, so
//     notifications only make losers and waiters act early. After a pub/sub
//     reconnect, or when a Cluster node drops a subscription because its slot
//     moved, the store resubscribes and every live guard re-reads its key.
//   - A key reused for another payload is caught, not answered: with
//     WithFingerprint (Batch: ClaimKeys) the digest of the payload is kept
//     with the claim and the value, and a run whose fingerprint differs gets
//     a *KeyReusedError instead of the stored value.
//   - Run returns only after fn has returned, and every exit of fn (return,
//     panic, runtime.Goexit as in t.Fatal) cleans up the same way: watcher and
//     heartbeat stopped, subscription released, claim released unless end
//     was called. A panic is then re-raised. An end called after fn returned
//     does nothing. Run leaves no goroutine behind, except a store call stuck
//     on a dead connection (a renewal, the commit, a release), which Run stops
//     waiting for by its own clock and which ends at the client's timeout.
//
// What the guard cannot promise: a side effect that happened before a crash
// and before the commit reached Redis is done again by the next owner (make
// the side effect idempotent where that is unacceptable); and a committed
// key that Redis loses - a restart without AOF, the last second with
// appendfsync everysec, a failover to a replica that had not received it,
// an eviction - runs again. redisstore.WithReplicaAcks narrows the failover
// case: a commit then counts only once n replicas have it (else
// ErrReplicaAcks).
//
// # What each outcome means to a message consumer
//
// Check for a *ConflictError first: it also matches ErrLeaseLost when a
// fenced-off owner's taker committed.
//
//	nil                                the run did the work and its commit won: ack
//	*ConflictError[V], Err == nil      a duplicate: ack, and use Value (the winner's)
//	*ConflictError[V], Err == ErrLeaseLost
//	                                   this owner lost its lease and the taker committed:
//	                                   the work is done (Value is the taker's): ack
//	ErrLeaseLost (no *ConflictError)   this owner lost its lease before fn finished, or fn
//	                                   finished and ctx ended while its commit waited for the
//	                                   owner that took the key over (joined with ctx's cause,
//	                                   or with ErrInProgress under WithNoWait); nothing is
//	                                   committed: do not ack
//	fn's own error, end not called     the work failed: do not ack; redeliver to retry
//	ErrInProgress                      another owner is working: retry later, do not ack
//	                                   (ErrWaitTimeout: still working after WithMaxWait)
//	ErrCommitUnknown                   the commit's outcome is unknown: never ack
//	ErrStoreClosed, *StoreError        nothing is known (Redis down, timeout): do not ack
//	ctx's cause (context.Canceled ...) ctx ended before fn started (fn never starts on an
//	                                   ended ctx; a claim taken meanwhile is released): do not ack
//	*KeyReusedError                    the key was committed for another payload: bad data,
//	                                   neither ack as a duplicate nor run
//	ErrEndCalledTwice alone            a bug in fn, but the first value was committed
//	                                   (Run also returns fn's result): ack
//	ErrEndCalledTwice joined with another error (errors.Join)
//	                                   a bug in fn; the other error is the commit's outcome
//	ErrEndNotCalled, ErrInvalidKey, ErrInvalidOption, *DecodeError
//	                                   a bug or bad data: do not ack
//
// Every error of the guard itself is one of these; anything else Run
// returns is fn's own error, unchanged. ErrConflict matches every
// *ConflictError whatever its V, for code that does not know the type.
//
// # Keys and values
//
// Keys are binary-safe, 1 to MaxKeyLen bytes. A committed value lives for
// the TTL (WithTTL, default 24h, at least 1ms). Values are encoded with
// JSONCodec unless WithCodec says otherwise (RawCodec stores []byte or
// string as they are); a stored value that does not decode is a
// *DecodeError naming the key, and is left untouched. How a store lays
// keys out is its own business (see redisstore's package doc for Redis's).
//
// # Many keys at once: Batch
//
// Run guards one piece of work. A consumer that holds many keys at once (a
// fetched batch of messages, a router with many handlers in flight) uses a
// Batch instead: the same guarantees, with the store's work batched across
// keys.
//
//	batch, err := dedupe.NewBatch[Receipt](store) // claim-first; dedupe.WithOptimistic() for the other mode
//	if err != nil {
//		return err
//	}
//	defer batch.Close()
//	tickets, err := batch.Claim(ctx, keys...)  // one round trip for all keys
//	// per ticket: Err() == nil → t.Start(ctx), run the work with t.Context(ctx), then t.End(v) or t.Release();
//	//             *ConflictError → a duplicate; ErrInProgress → t.Await(ctx)
//	// then t.Result(ctx): nil or *ConflictError → ack; anything else → do not ack
//
// In claim-first mode, Claim sends every key's claim in one round trip; a
// heartbeat renews every held claim in one round trip; End and Release
// return at once and a flusher sends whatever has ended in one round trip,
// while what ends meanwhile waits for the next (group commit: no delay when
// idle). A claimed key whose work has not started holds the queued lease
// (WithQueuedLease, default 5s) instead of the full one, so that an owner
// that dies strands only the keys it was working on for the full lease; the
// others are free within seconds. Ticket.Start, called right before the
// work, promotes the claim to the full lease and returns once the store
// confirmed it (Ticket.Promote asks for it ahead of time, without waiting;
// promotions asked for meanwhile share one round trip; ClaimKeys claims a
// ClaimKey with Promote on the full lease at once): a store that stalls
// for longer than the queued lease can then not let another owner take a
// key whose work is running. A ticket whose commit reports ErrLeaseLost
// (another owner took the key) has done its work: do not run it again;
// Claim the key anew and, once held, End it with the same value, or accept
// the taker's value.
//
// In optimistic mode, Claim reads the keys in one round trip and every free
// key may run at once; commits are grouped and the first one of a key wins.
// Only keys another owner's claim holds are watched (Await), so a run that
// loses to another optimistic run learns it at its commit (Result returns
// the *ConflictError with the winner's value), not by an early cancellation
// as with Run.
//
// A key that occurs twice in a Batch is single-flight: the second ticket
// waits in memory and gets the first one's value. Use Run for one-off work
// (an HTTP request), a Batch when keys arrive in groups or many at once.
//
// # Writing a Store
//
// The Store interface is the seam for other backends: Watch, Get, Claim,
// Commit, Renew, Release and Close, over Records (State, Token, Value, TTL),
// Commits and Interests delivering Events. A Store may also implement
// BatchStore (Exec: many Ops in one round trip, one OpResult each); Batch
// uses it when it is there and otherwise calls the single-key methods
// concurrently. Two optional methods spare Run a goroutine each: AfterClose
// (how a claim-mode Run learns that the store closed, Done being the
// fallback; see Store) and ExecAsync (how Run sends its commit; see
// BatchStore). A few helpers state the seam's rules for store writers:
// CheckKey and CheckToken (what a store accepts), StoredDuration (how TTLs
// and leases are rounded), Mailbox (the Interest with the coalescing every
// store must keep), IsNilStore, ErrUnknownOp and ErrReplicaAcks. Package
// dedupetest holds the conformance suite every Store must pass:
// dedupetest.Run(t, newBackend); dedupe/redisstore is a worked example. A
// transactional store (TxStore) passes dedupetest.RunTx(t, newHarness)
// instead, as dedupe/pgstore does.
package dedupe
