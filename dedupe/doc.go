// Package dedupe is idemq's idempotency guard: it runs a multi-step piece of
// async work at most once per key across every process that shares a Store,
// and hands duplicates the value the winner committed.
//
//	store, _ := dedupe.NewRedisStore(client)          // or dedupe.NewMemoryStore() in one process
//	defer store.Close()
//
//	order, err := dedupe.Run(ctx, store, key, func(ctx context.Context, end dedupe.End[OrderID]) (Order, error) {
//		charged, err := charge(ctx, req)              // ctx is cancelled if another run wins
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
// # Two modes
//
// Optimistic (the default of Run; the seed library's model). Duplicates do not
// lock. Each guard subscribes to its key's notifications, waits until Redis
// confirms the subscription, then reads the key: a value already stored means
// fn is not called and Run returns a *ConflictError. Otherwise fn runs; the
// first end(value) to reach the store wins atomically (one Lua script: SET NX
// PX and PUBLISH), and every other guard running the key has its ctx
// cancelled with the *ConflictError as context.Cause, and returns it. With
// WithEagerStart, fn starts at once, in parallel with the read, as in the
// seed. Prefer this mode when duplicates are rare and fn can be abandoned
// midway (no instant side effect before end): it never waits.
//
// Claim-first (WithClaim(lease)). Before fn runs, the guard claims the key
// with a random owner token (SET NX PX lease). A duplicate that finds a live
// claim does not run fn: it subscribes and waits until the owner commits (and
// returns a *ConflictError with its value) or the claim is released or
// expires (and then claims and runs itself); with WithNoWait it returns
// ErrInProgress at once. The owner renews its lease every lease/3 while fn
// runs, and keeps the lease by its own clock (see Guarantees); its commit
// succeeds only if the key still holds its token (fencing), so an owner that
// lost its lease gets ErrLeaseLost, never success. Use this mode when two
// duplicates must never both start, e.g. a message redelivered to a new
// consumer while the old one still works on it. The adapters use it by
// default.
//
// Modes may meet on one key: an optimistic Run that finds a live claim
// treats the key as in progress before fn starts. It waits for the claim's
// outcome like a claim-first duplicate (or returns ErrInProgress with
// WithNoWait); with WithEagerStart, fn is cancelled with ErrInProgress. An
// optimistic commit never overwrites a live claim (Run returns
// ErrInProgress). The other way round there is no such check: a claim-first
// run that starts after an optimistic run's check cannot see it, and both
// may run at once. Use one mode per key.
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
//   - Run returns ErrCommitUnknown at the commit timeout (WithCommitTimeout),
//     even if the store call is still hanging on a dead connection; that
//     call then ends in the background at the client's timeout.
//   - A command resent by the client after a lost reply (go-redis retries up
//     to MaxRetries times) finds its own earlier effect and gives the same
//     answer: a retried claim holds, a retried commit wins. A commit stores
//     the committing run's token with the value for that reason.
//   - The commit decides, not the notification: pub/sub is at-most-once, so
//     notifications only make losers and waiters act early. After a pub/sub
//     reconnect, or when a Cluster node drops a subscription because its slot
//     moved, the store resubscribes and every live guard re-reads its key.
//   - Run returns only after fn has returned, and every exit of fn (return,
//     panic, runtime.Goexit as in t.Fatal) cleans up the same way: watcher and
//     heartbeat stopped, subscription released, claim released unless end
//     was called. A panic is then re-raised. An end called after fn returned
//     does nothing. Run leaves no goroutine behind, except a store call stuck
//     on a dead connection (a renewal, the commit, a release), which Run stops
//     waiting for by its own clock and which ends at the client's timeout.
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
//	ErrLeaseLost (no *ConflictError)   this owner was fenced off and nothing is committed: do not ack
//	fn's own error, end not called     the work failed: do not ack; redeliver to retry
//	ErrInProgress                      another owner is working: retry later, do not ack
//	ErrCommitUnknown                   the commit's outcome is unknown: never ack
//	ErrStoreClosed, *StoreError        nothing is known (Redis down, timeout): do not ack
//	ErrEndCalledTwice alone            a bug in fn, but the first value was committed
//	                                   (Run also returns fn's result): ack
//	ErrEndCalledTwice joined with another error (errors.Join)
//	                                   a bug in fn; the other error is the commit's outcome
//	ErrEndNotCalled, ErrInvalidKey, ErrInvalidOption, *DecodeError
//	                                   a bug or bad data: do not ack
//
// Every error of the guard itself is one of these; anything else Run
// returns is fn's own error, unchanged.
//
// # Keys, values and Redis layout
//
// Keys are binary-safe, 1 to MaxKeyLen bytes. A RedisStore keeps key K at
// PREFIX{K} (default prefix "idemq:") and notifies on PREFIX{K}:events; the
// hash tag keeps both in one Cluster slot, and on a Cluster notifications use
// sharded pub/sub (SPUBLISH/SSUBSCRIBE). A key containing '{' or '}' (which
// would end or empty that tag) is kept at PREFIX{#H}:K, H a hash of K; a
// prefix with braces is refused. The record is "C"+token for a claim, or
// "V"+token+":"+value for a committed value, which lives for the TTL
// (WithTTL, default 24h, at least 1ms). Values are encoded with JSONCodec
// unless WithCodec says otherwise (RawCodec stores []byte or string as they
// are); a stored value that does not decode is a *DecodeError naming the key,
// and is left untouched. RedisStore needs Redis 7.0 or newer (SET NX GET,
// sharded pub/sub) and refuses a *redis.Ring.
//
// One RedisStore uses one pub/sub connection per Redis master (one on a single
// node), shared by all its guards; guards on the same key share one
// subscription. (Un)subscribe commands are written by one goroutine per
// connection, outside the store's lock, so a stalled socket never blocks
// Watch, Interest.Close or notifications on other connections (on the stalled
// one, go-redis's WriteTimeout bounds the stall, then the store reconnects).
// It reconnects with backoff, resubscribes and has every guard re-read its
// key. While the connection cannot be made, Watch fails at once with a
// *StoreError; a subscription Redis does not confirm within the subscribe
// timeout (WithSubscribeTimeout, default 5s) fails too.
//
// # Cost
//
// A fresh-key optimistic Run takes 3 round trips (SUBSCRIBE, GET, the commit
// script) plus an UNSUBSCRIBE that is not waited for; a duplicate takes 2
// (SUBSCRIBE, GET). Claim mode takes 2 on a fresh key (the claim, a plain
// SET NX GET, and the commit script) and subscribes only when it has to wait,
// plus one renewal per lease/3 of work. Group commit (on by default; see
// WithoutGroupCommit) sends the calls concurrent guards make while a round
// trip is in flight together in the next one. BenchmarkRun and BenchmarkBatch
// report the figures.
//
// # Many keys at once: Batch
//
// Run guards one piece of work, at three round trips per key. A consumer that
// holds many keys at once (a fetched batch of messages, a router with many
// handlers in flight) uses a Batch instead: the same claim-first guarantees,
// with the store's work batched across keys.
//
//	batch, _ := dedupe.NewBatch[Receipt](store, dedupe.WithClaim(30*time.Second))
//	defer batch.Close()
//	tickets, err := batch.Claim(ctx, keys...)  // one round trip for all keys
//	// per ticket: Err() == nil → run the work with t.Context(ctx), then t.End(v) or t.Release();
//	//             *ConflictError → a duplicate; ErrInProgress → t.Await(ctx)
//	// then t.Result(ctx): nil or *ConflictError → ack; anything else → do not ack
//
// Claim sends every key's claim in one round trip; a heartbeat renews every
// held claim in one round trip per lease/3; End and Release return at once
// and a flusher sends whatever has ended in one round trip, while what ends
// meanwhile waits for the next (group commit: no delay when idle). A key that
// occurs twice in a Batch is single-flight: the second ticket waits in memory
// and gets the first one's value. Use Run for one-off work (an HTTP request),
// a Batch when keys arrive in groups or many at once.
//
// A Store may implement BatchStore (Exec: many ops in one round trip);
// RedisStore and MemoryStore do. Other stores work too: the batch path then
// calls their single-key methods concurrently.
//
// The Store interface is the seam for other backends; package dedupetest holds
// the conformance suite every Store must pass.
package dedupe
