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
// claim does not run fn: it waits, subscribed, until the owner commits (and
// returns a *ConflictError with its value) or the claim is released or
// expires (and then claims and runs itself); with WithNoWait it returns
// ErrInProgress at once. The owner renews its lease every lease/3 while fn
// runs; its commit succeeds only if the key still holds its token (fencing),
// so an owner that lost its lease gets ErrLeaseLost, never success. Use this
// mode when two duplicates must never both start, e.g. a message redelivered
// to a new consumer while the old one still works on it. The adapters use it
// by default.
//
// Use one mode per key: an optimistic commit never overwrites a live claim
// (Run then returns ErrInProgress).
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
//   - The commit decides, not the notification: pub/sub is at-most-once, so
//     notifications only make losers stop early. After a pub/sub reconnect,
//     every live guard re-reads its key.
//   - Run returns only after fn has returned; it leaves no goroutine behind.
//     A fn that ignores ctx only delays its own Run. A panic in fn is
//     re-raised after cleanup (subscription released, claim released).
//
// # What each outcome means to a message consumer
//
//	nil                          this run did the work and committed: ack
//	*ConflictError[V]            a duplicate: ack, and use Value (the winner's)
//	fn's own error, nothing ended  the work failed: do not ack; redeliver to retry
//	ErrInProgress                another owner is working (WithNoWait): retry later, do not ack
//	ErrLeaseLost                 this owner was fenced off: do not ack (the taker decides)
//	ErrCommitUnknown             the commit's outcome is unknown: never ack
//	ErrStoreClosed, Redis errors  nothing is known: do not ack
//	ErrEndNotCalled, ErrEndCalledTwice, ErrInvalidKey, ErrInvalidOption, *DecodeError  a bug or bad data: do not ack
//
// # Keys, values and Redis layout
//
// Keys are binary-safe, 1 to MaxKeyLen bytes. A RedisStore keeps key K at
// PREFIX{K} (default prefix "idemq:") and notifies on PREFIX{K}:events; the
// hash tag keeps both in one Cluster slot, and on a Cluster notifications use
// sharded pub/sub (SPUBLISH/SSUBSCRIBE). Committed values live for the TTL
// (WithTTL, default 24h). Values are encoded with JSONCodec unless WithCodec
// says otherwise (RawCodec stores []byte or string as they are); a stored
// value that does not decode is a *DecodeError naming the key, and is left
// untouched.
//
// One RedisStore uses one pub/sub connection per Redis master (one on a single
// node), shared by all its guards; guards on the same key share one
// subscription. It reconnects with backoff and resubscribes.
//
// # Cost
//
// A fresh-key optimistic Run takes 3 round trips (SUBSCRIBE, GET, the commit
// script) plus an UNSUBSCRIBE that is not waited for; a duplicate takes 2
// (SUBSCRIBE, GET). Claim mode takes 3 (SUBSCRIBE, claim, commit) plus one
// renewal per lease/3 of work. BenchmarkRun reports the figures.
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
