// Package idemqkafka runs a segmentio/kafka-go consumer group with every
// message's handler inside the dedupe guard: a message whose idempotency
// key was already committed does not run again, two holders of one key never
// both run it, and an offset is committed only once its message's outcome is
// final. Its path is github.com/idemq/idemq/adapters/kafka; its name is
// idemqkafka, so that it sits beside kafka-go's package kafka.
//
//	c, err := idemqkafka.NewConsumer(idemqkafka.Config[Receipt]{
//		Reader:  readerConfig,                             // the kafka.ReaderConfig you use today
//		Store:   store,                                    // any dedupe.Store, e.g. redisstore.New(client)
//		KeyFunc: idemqkafka.HeaderKey("Idempotency-Key"), // the default
//		Handle: func(ctx context.Context, m kafka.Message, end dedupe.End[Receipt]) error {
//			r, err := charge(ctx, m)
//			if err != nil {
//				return err                                 // retried, then dead-lettered
//			}
//			end(r)                                         // the commit point
//			return nil
//		},
//		OnDuplicate: func(ctx context.Context, m kafka.Message, r Receipt) error { return reply(ctx, m, r) },
//		DeadLetter:  dltWriter,                            // optional
//	})
//	err = c.Run(ctx) // blocks; nil after a graceful drain once ctx is cancelled
//
// Processor gives a FetchMessage loop of your own the same per-message
// semantics, without the consumer loop. NewConsumer and NewProcessor check
// every field they use, kafka-go's included, and return a
// *consumer.ConfigError naming the field (consumer.ErrInvalidConfig);
// nothing panics or hangs later on a bad config.
//
// # What is committed when
//
// A message's offset is committed only when its outcome is final, and only
// as part of its partition's contiguous prefix of final outcomes: never past
// a message that is running, waiting or failed.
//
//	outcome                                        handler                       offset
//	key fresh, handler ok, commit won              ran once                      committed
//	lease lost, but the taker committed            ran                           committed (the work is done)
//	key already committed (duplicate)              not run; OnDuplicate(winner)  committed once OnDuplicate returns nil
//	key held by another owner                      waits, then runs or is a dup  as that outcome says
//	optimistic: a concurrent run committed first   ran; OnDuplicate(winner)      committed once OnDuplicate returns nil
//	handler error, attempts left                   retried in place, backoff     not yet
//	handler failed every attempt, DeadLetter set   -                             committed once the write is acknowledged
//	dead-letter write fails, transient             -                             not yet: retried with backoff, counted
//	dead-letter write fails, permanent             -                             never: Run returns a *MessageError
//	handler failed every attempt, no DeadLetter    -                             never: Run returns a *MessageError
//	store error (Redis down, claim failed)         not run                       not committed; retried until Redis answers
//	commit unknown, or another owner took the key  ran once; its value is kept   not yet: the key is claimed again (waiting
//	  after the handler finished                                                 for the taker), then its value committed
//	                                                                             without running it, or the taker's accepted
//	lease lost before the handler finished         stopped (ErrLeaseLost)        not committed; the key is claimed again
//	invalid or reused key, KeyReject (default)     not run                       never: Run returns a *MessageError
//	invalid or reused key, KeyProcess              runs without dedupe           committed on success
//	invalid or reused key, KeyDeadLetter           not run                       committed once the write is acknowledged
//	rebalance: ctx cancelled (ErrRebalance)        stops                         not committed: the next owner runs it
//	shutdown, handler ends within DrainTimeout     finishes                      committed before Run returns
//	shutdown, past DrainTimeout (ErrDrainTimeout)  cancelled                     not committed
//
// Store errors are never handler failures: nothing is retried as a handler
// attempt, dead-lettered or committed because Redis is unreachable, and the
// consumer resumes by itself. A commit whose outcome is unknown
// (dedupe.ErrCommitUnknown) leaves the message uncommitted; when it is
// claimed again the guard finds the committed value (a duplicate) or, if
// the commit never landed, runs the handler again once the old claim's
// lease ends.
//
// A key is invalid when KeyFunc fails, or returns an empty key or one longer
// than dedupe.MaxKeyLen (ErrNoKey for a missing header); it is reused when
// FingerprintFunc is set and the key was claimed or committed for a payload
// with another fingerprint (a *dedupe.KeyReusedError). InvalidKey decides for
// both.
//
// A dead letter is the original message (key, value, headers) with the
// headers HeaderOriginalTopic, HeaderOriginalPartition,
// HeaderOriginalOffset, HeaderIdempotencyKey and HeaderError; the error is
// cut to MaxErrorHeader bytes, or shorter so that the dead letter fits the
// writer's BatchBytes, so that a dead letter is too large only when the
// original message is. A write that fails for a reason retrying cannot mend
// - a message too large, an unknown or unauthorised topic - stops the
// consumer with a *MessageError wrapping the cause; any other failure (the
// broker unavailable, a leader moving, a timeout) is retried with backoff,
// logged and counted in Stats.DeadLetterErrors.
//
// # Rebalances: ConsumerGroup and Generation, not Reader
//
// kafka-go's Reader with a GroupID hides generations: it has no assigned or
// revoked callbacks, shares its message and commit channels across
// generations, and so delivers stale messages of a lost partition (#1398)
// and sends late commits under the new generation, moving another member's
// offset back (#1308). This package uses the lower-level ConsumerGroup
// instead. Each generation's work runs inside Generation.Start, whose
// context ends when the generation does, and the group cannot join the next
// generation before that function returns. When a generation ends:
//
//   - every running handler's ctx is cancelled with cause ErrRebalance
//     (rebalancing is eager: this member may lose any of its partitions);
//   - the consumer waits for them, settles their commits in the store and
//     commits the finished prefix with Generation.CommitOffsets, which
//     carries the generation id: the broker accepts it until the next
//     generation starts and refuses it after, so no offset of the old
//     generation is committed once the new one has started;
//   - each partition's Reader (one per assigned partition, without GroupID,
//     positioned at the committed offset) is closed: nothing fetched for the
//     old generation reaches a handler in the new one;
//   - only then does the function return and the member rejoin.
//
// A message the new owner takes over is deduplicated by the guard: in claim
// mode it waits for this member's claim to be committed (a duplicate) or
// released (it runs). A handler that ignores its ctx delays the rebalance;
// past the group's RebalanceTimeout the broker drops the member and refuses
// its commits.
//
// # When a member dies
//
// A member killed mid-stream (SIGKILL, an OOM kill) leaves its claims in
// Redis. The keys of its fetched batches whose handlers had not started hold
// the queued lease (dedupe.DefaultQueuedLease, 5s); they are free for
// another member within that. The keys whose handlers were running hold the
// full lease (Config.Guard.Lease: dedupe.DefaultLease, 30s, by default): a
// handler starts only once Redis has confirmed its claim on the full lease,
// and with ByPartition and ByKey the next 64 keys of a chain are promoted to
// it ahead of their start. So after a SIGKILL:
//
//   - stranded for up to the lease: the keys whose handlers were running, at
//     most MaxInFlight, and up to 64 promoted keys per chain (per assigned
//     partition with ByPartition) that had not started yet;
//   - stranded for up to 5s: every other key it had claimed, at most
//     BatchSize per assigned partition (4 batches per partition with ByKey
//     and Unordered);
//   - run twice: at most the handlers that were running and had not
//     committed, since their side effects may have happened; every other
//     key runs once.
//
// Duplicates of those keys elsewhere (another partition, another member)
// wait for the claims to end, then run or get the committed value.
//
// # Claim-first and optimistic
//
// The default is the core's claim-first mode on its batch path
// (dedupe.Batch): a key is claimed, with a lease renewed while the handler
// runs, before the handler starts, so two members holding one key (a
// rebalance, a duplicate sent to another partition) never both run the
// side effect, and the fenced commit fails for a member whose lease was
// lost. Config.Guard.Optimistic selects the optimistic batch: keys are read, not
// claimed, in one round trip per batch; handlers of one key may run at once
// in different processes, the first commit wins, and the others end as
// duplicates (OnDuplicate with the winner's value) when their own commit
// finds it. Use it only for handlers with no side effect before end.
//
// # Exactly-once effects in PostgreSQL
//
// Config.TxStore, instead of Store, takes a transactional store (a
// *pgstore.Store of package dedupe/pgstore): each keyed message's handler
// runs inside a transaction that holds its key, finds the transaction with
// the store's Tx(ctx), and its writes commit with the key's record and the
// value given to end, or not at all. The offset is committed only after the
// transaction. A duplicate waits while the key is held elsewhere, then gets
// the committed value (OnDuplicate); a failed attempt is rolled back and
// retried in a new transaction; a crash or a rebalance mid-handler rolls the
// transaction back, and the next owner runs the message once. A COMMIT
// whose answer is lost (dedupe.ErrCommitUnknown) sends the message back:
// the store then finds the committed record or runs it, and either is
// right. There is no lease and no claim round trip; Config.Guard must be
// zero (the store keeps its own TTL).
//
// # Batches, ordering and concurrency
//
// Each assigned partition has a Reader and a fetcher; the consumer takes
// whatever has arrived, up to Config.BatchSize, as one batch and runs it in
// waves: one round trip claims every key of the batch, the handlers run,
// and the commits of what ended go out together (the core's group commit).
// Config.Ordering (a consumer.Ordering) says what may run at once, as in
// Confluent's parallel consumer:
//
//	ByPartition (default)  one message of a partition at a time, in offset order
//	ByKey                  in offset order per Kafka message key, keys at once
//	Unordered              any messages at once
//
// Config.MaxInFlight bounds the handlers running at once in the consumer;
// in ByKey and Unordered up to 4 batches of a partition are in flight, so a
// slow message holds back only its own batch. In every mode two messages
// with the same idempotency key never run at once in one process (the
// batch single-flights a key). Offsets are committed per partition, as the
// contiguous prefix of final outcomes, every Config.CommitEvery messages or
// Config.CommitInterval, and always before a generation ends or Run
// returns.
//
// A partition never waits long for a key another owner holds while it
// holds claims it has not started; otherwise partition A holding k and
// waiting for x, while partition B holds x and waits for k, would deadlock.
// A chain that meets a key in progress first waits briefly (50ms) keeping
// its claims - the owner is most often a handler of this process about to
// end - then, if the key is still held, releases the claims it has not
// started, lets the commits it ended settle, and awaits holding nothing; it
// claims the rest again afterwards.
//
// # Errors, logs and metrics
//
// A failing handler is retried in place (its claim held) with exponential
// backoff, Config.Attempts times in all, then dead-lettered. A panic in a
// handler is an error. A handler that returns nil without calling end is
// an error too (dedupe.ErrEndNotCalled): every success commits a value.
// Errors and log messages of this package start with "idemqkafka: ".
//
// Config.Logger (nil: slog.Default()) receives the consumer's logs: store
// failures, fetch and commit failures, handler retries and dead letters at
// Warn, a stopping consumer at Error. A warning that repeats is logged at
// most once per 10s, with the count of those held back. Consumer.Stats
// returns its counters, which Config.MeterProvider (nil: no-op) also
// exports through the OpenTelemetry metric API as idemq.kafka.processed,
// .duplicates, .inflight_conflicts, .retries, .dead_lettered,
// .dead_letter_errors, .offset_commits, .guard_round_trips, .store_errors,
// .generations and the gauge .inflight.
package idemqkafka
