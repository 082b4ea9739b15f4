// Package idemqwatermill runs Watermill handlers once per idempotency key
// across every instance that shares a dedupe.Store, marks a message done
// only when its handler succeeded, and re-emits the stored outputs for
// duplicates. Its path is github.com/idemq/idemq/adapters/watermill; its
// name is idemqwatermill, so that it sits beside Watermill's packages.
//
//	store, err := redisstore.New(client) // one per process, shared by its routers
//	if err != nil {
//		return err
//	}
//	dedup, err := idemqwatermill.New(store, idemqwatermill.Config{
//		KeyFunc: idemqwatermill.MetadataKey("Idempotency-Key"), // the default
//		Guard:   consumer.Guard{TTL: 24 * time.Hour},           // the default
//	})
//	if err != nil {
//		return err // a *consumer.ConfigError naming the field
//	}
//	router.AddMiddleware(dedup.Middleware)          // every handler; or handler.AddMiddleware, or dedup.Middleware(h)
//	router.AddConsumerHandler("charge", "orders", sub, dedup.NoPublishHandler(charge)) // one consumer handler
//	router.AddPublisherDecorators(dedup.DecoratePublisher)                            // publish-side
//
// New validates the Config once and returns a *consumer.ConfigError naming
// the field (consumer.ErrInvalidConfig); nothing in this package panics on a
// bad config. Errors and log messages of this package start with
// "idemqwatermill: ".
//
// # How it differs from Watermill's middleware.Deduplicator
//
//	                          Watermill's Deduplicator              idemqwatermill
//	key marked done           before the handler runs               only after it succeeded (the commit)
//	handler error or panic    redelivery is acked and dropped       nothing stored: nack, the redelivery runs again
//	shared across instances   no: in memory, per process            yes: Redis (redisstore.Store)
//	two deliveries at once    one runs, the other is acked at once  one runs, the other waits for its outcome
//	duplicate's outputs       none                                  the stored outputs, same UUIDs, re-published
//	remembered for            1 minute                              Config.Guard.TTL, 24h by default
//	default key               Adler-32 of the payload               the Idempotency-Key metadata field
//	store failure             error (nack)                          *GuardError (nack, never ack)
//	publish side              PublisherDecorator                    DecoratePublisher, on the shared store
//
// # What happens to a message
//
// The middleware runs the handler inside dedupe.Run in claim-first mode: the
// first delivery of a key claims it in Redis (a lease renewed while the
// handler runs), runs the handler, and commits the handler's outputs (UUID,
// metadata, payload of each produced message) as the key's value before
// returning them; the router then publishes them and acks.
//
//	the first delivery, handler succeeds   outputs committed and returned: publish, ack
//	a duplicate (already committed)        stored outputs returned, nil error: publish again, ack
//	a duplicate while the owner runs       waits for the owner; then as above (or the owner failed: runs itself)
//	the handler fails or panics            nothing committed, claim released, error or panic unchanged: nack
//	no valid key (ErrNoKey, ...)           Config.InvalidKey: *KeyError (nack, the default), run unguarded, or ack
//	key reused for another payload         *dedupe.KeyReusedError (FingerprintFunc set): nack, Poisonable
//	outputs over MaxOutputBytes            ErrOutputsTooLarge, nothing committed: nack, Poisonable
//	OnDuplicate returns an error           that error: nack (the redelivery is a duplicate again)
//	store down, commit unknown, lease lost *GuardError: nack, never ack
//	a poison queue's publish fails         PoisonQueue's error: nack (nothing was committed)
//
// A duplicate gets fresh messages with the stored UUIDs, metadata and
// payloads, so consumers downstream can deduplicate the re-published outputs
// by UUID. Re-emitting matters because the router publishes after the
// handler returns: if that publish fails, the message is nacked, and its
// redelivery — a duplicate — publishes the same outputs again instead of
// losing them. Config.DropDuplicateOutputs returns no outputs instead. A
// duplicate's incoming message gets the metadata flag DuplicateMetadataKey
// ("idemq_duplicate" = "true"), and Config.OnDuplicate is called with the
// stored outputs.
//
// An output whose UUID is empty (Watermill allows it) gets a new UUID before
// the commit, so the original and its re-emitted copies share one.
//
// A *dedupe.ConflictError whose Err is dedupe.ErrLeaseLost means this
// delivery's lease ran out and the taker committed: the work is done, so it
// is a duplicate (acked with the taker's outputs). A handler that finished
// after another owner took its key is not run again: dedupe.Run waits for
// that owner and commits the handler's outputs on the free key, or returns
// the taker's. A bare dedupe.ErrLeaseLost means the lease ran out before
// the handler finished, or the message's context ended while the finished
// handler's commit waited: a *GuardError, nacked.
//
// The handler sees the guard's context as msg.Context() (cancelled if the
// lease is lost); the message's own context is restored when it returns.
//
// With AddConsumerHandler the router refuses returned messages: the handler
// returns none, so the middleware commits an outcome without outputs, and
// duplicates return none too. NoPublishHandler does the same for a
// NoPublishHandlerFunc. A committed outcome lives for Config.Guard.TTL; a delivery
// of the key after that runs the handler again.
//
// # Keys and scopes
//
// KeyFunc derives the key: MetadataKey(field) (the default, field
// "Idempotency-Key"), PayloadHash(newHash) (SHA-256 of the whole payload by
// default), or any func(*message.Message) (string, error) — Watermill's own
// middleware.MessageHasher values convert to a KeyFunc as they are. A
// message without a valid key (an absent metadata field, an empty payload,
// an empty key, a KeyFunc error, a key too long for the store) is never
// acked without processing unless Config.InvalidKey says so
// (consumer.KeySkip).
// FingerprintFunc (PayloadFingerprint) stores a digest of the payload with
// the key, so that a different message under a reused key is caught.
//
// Keys are scoped by the router handler's name (or Config.Scope), so two
// handlers subscribed to one topic each run once per key. Every instance
// must use the same scope for a key: Watermill only requires handler names
// to be unique within one router, and two instances that register one
// handler under different names deduplicate nothing between them, without
// an error. Set Config.Scope when the middleware is installed router-wide
// across instances you do not name alike; the middleware logs the scope of
// every handler once, at Info, so that a mismatch shows in the logs. The
// store key is "handler:<len(scope)>:<scope>:<key>" ("publish:..." and the
// topic for DecoratePublisher).
//
// # Claim-first or optimistic
//
// Claim-first is the default, as in the Kafka adapter: two routers that get
// the same key at once never both run the handler. Config.Guard.Optimistic selects
// the core's optimistic mode instead (no claim, one round trip fewer): both
// may run, the first commit wins, the loser's msg.Context() is cancelled and
// it acks with the winner's outputs — only for handlers with no side effect
// before they return. dedupe.Run and both adapters default to claim-first.
//
// A duplicate that finds a live claim waits for the owner's outcome: the
// router runs every message in its own goroutine, so waiting holds only that
// message. With redisstream, which reads one message at a time per
// subscriber, a waiting duplicate holds its subscriber until the owner ends.
// Config.NoWait nacks it at once with dedupe.ErrInProgress instead; beware
// that redisstream re-sends a nacked message immediately (NackResendSleep
// defaults to none), a hot loop for as long as the owner runs.
//
// Config.StartTimeout (1 minute) bounds the wait for another owner's
// outcome before the handler starts (dedupe.WithMaxWait), so a message
// never hangs, neither acked nor nacked, behind an owner that does not
// finish; a handler that started runs to its end. While Redis is
// unreachable the claim fails at once (a *GuardError: nack).
//
// # Exactly-once effects in PostgreSQL
//
// NewTx builds a Deduplicator on a transactional store (a *pgstore.Store of
// package dedupe/pgstore): the handler runs inside a transaction that holds
// its key and finds it with the store's Tx(msg.Context()); its writes, the
// key's record and its outputs commit together before the router acks. A
// handler that fails rolls its writes back (nack); a duplicate waits while
// the key is held, then gets the stored outputs. Guard and NoWait do not
// apply (a *consumer.ConfigError): the transaction is the claim, and the
// store keeps its own TTL.
//
// # Middleware order
//
// Add Watermill's middlewares in this order, outer to inner:
//
//	poison, err := middleware.PoisonQueueWithFilter(pub, "poison", idemqwatermill.Poisonable)
//	if err != nil {
//		return err
//	}
//	router.AddMiddleware(poison, dedup.Middleware, retry.Middleware, middleware.Recoverer)
//
// Why:
//   - Recoverer inside Retry, so that a panic becomes an error Retry retries.
//   - Retry inside the Deduplicator: every attempt runs inside one claim,
//     and duplicates are detected once, not per attempt. The lease is renewed
//     while the attempts run, so it need not cover them; it bounds how long a
//     crashed instance's key stays claimed. Cap Retry with MaxElapsedTime.
//   - PoisonQueue outside the Deduplicator: a poisoned message is not
//     committed, so replaying it from the poison queue runs the handler.
//     Inside, PoisonQueue would turn the failure into a success, the failure
//     would be committed as done, and the replay dropped as a duplicate.
//   - PoisonQueueWithFilter(..., Poisonable): guard failures (*GuardError:
//     Redis down, commit unknown, lease lost) must be nacked and retried,
//     never poisoned (a poison queue acks).
//
// With redisstream, a handler slower than the subscriber's MaxIdleTime is
// reclaimed by another consumer; that delivery waits for the claim and acks
// with the outputs, so the outputs are published twice with one UUID.
//
// # Publish side
//
// DecoratePublisher is a message.PublisherDecorator: the first publish of a
// key to a topic claims it, publishes, and commits only if the publish
// succeeded; repeats, from any instance sharing the store, are dropped and
// reported (OnDuplicate). Messages of one Publish call go one at a time.
//
// # Logs and metrics
//
// Config.Logger (nil: slog.Default()) receives duplicates (Debug), each
// handler's scope (Info, once), messages without a valid key and guard
// failures (Warn); a warning that repeats is logged at most once per 10s.
// Deduplicator.Stats returns the counters, which Config.MeterProvider (nil:
// no-op) also exports through OpenTelemetry as idemq.watermill.processed,
// .duplicates, .handler_errors, .guard_errors, .invalid_keys and the gauge
// .inflight.
//
// # Cost
//
// A fresh key costs the core's claim-mode round trips (the claim and the
// commit); a duplicate of a committed key costs the claim; only a duplicate
// that must wait for a running owner subscribes. BenchmarkMiddleware and
// `make bench` compare a router with no middleware, Watermill's
// Deduplicator and this middleware.
package idemqwatermill
