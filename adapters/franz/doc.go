// Package idemqfranz runs a twmb/franz-go (kgo) consumer group with every
// record's handler inside the dedupe guard: a record whose idempotency key
// was already committed does not run again, two holders of one key never
// both run it, and an offset is committed only once its record's outcome is
// final. It is idemqkafka's consumer on franz-go, on the same engine
// (internal/consume), with the same Config vocabulary and outcome table;
// its path is github.com/idemq/idemq/adapters/franz.
//
//	c, err := idemqfranz.NewConsumer(idemqfranz.Config[Receipt]{
//		Group:  "billing",
//		Topics: []string{"orders"},
//		Client: []kgo.Opt{kgo.SeedBrokers(brokers...), kgo.InstanceID(pod)}, // your kgo options
//		Store:  store,                                                        // e.g. redisstore.New(client)
//		Handle: func(ctx context.Context, r *kgo.Record, end dedupe.End[Receipt]) error {
//			rc, err := charge(ctx, r)
//			if err != nil {
//				return err // retried, then dead-lettered
//			}
//			end(rc) // the commit point
//			return nil
//		},
//	})
//	err = c.Run(ctx) // blocks; nil after a graceful drain once ctx is cancelled
//
// # What is committed when
//
//	outcome                                        handler                       offset
//	key fresh, handler ok, commit won              ran once                      committed
//	key already committed (duplicate)              not run; OnDuplicate(winner)  committed once OnDuplicate returns nil
//	key held by another owner                      waits, then runs or is a dup  as that outcome says
//	handler error, attempts left                   retried in place, backoff     not yet
//	handler failed every attempt, DeadLetter set   -                             committed once the write is acknowledged
//	dead-letter write fails, transient             -                             not yet: retried with backoff, counted
//	dead-letter write fails, permanent             -                             never: Run returns a *MessageError
//	handler failed every attempt, no DeadLetter    -                             never: Run returns a *MessageError
//	store error (Redis down, claim failed)         not run                       not committed; retried until Redis answers
//	lease lost before the handler finished         stopped (ErrLeaseLost)        not committed; the key is claimed again
//	invalid or reused key, KeyReject (default)     not run                       never: Run returns a *MessageError
//	invalid or reused key, KeyProcess              runs without dedupe           committed on success
//	invalid or reused key, KeyDeadLetter           not run                       committed once the write is acknowledged
//	partition revoked (ErrRevoked)                 stops                         the finished prefix committed; the next owner runs the rest
//	partition lost (ErrLost)                       stops                         nothing more committed
//	shutdown, handler ends within DrainTimeout     finishes                      committed before Run returns
//	shutdown, past DrainTimeout (ErrDrainTimeout)  cancelled                     not committed
//
// The rows it shares with idemqkafka (optimistic mode, a commit whose
// outcome is unknown, TxStore) behave as idemqkafka's package documentation
// says: the engine decides them, not the adapter.
//
// # Rebalances: one session per partition
//
// Each assigned partition runs as an engine session of its own, started by
// OnPartitionsAssigned. With franz-go's default cooperative-sticky balancer
// a rebalance revokes only the partitions that move: OnPartitionsRevoked
// halts their sessions, cancels their handlers with ErrRevoked, commits
// their finished prefix with CommitOffsetsSync and returns only then, so
// franz-go hands them on after this member's last commit for them. The
// other partitions keep their handlers and go on committing. With an eager
// balancer (kgo.RangeBalancer, ...) every rebalance revokes every partition,
// the same way. OnPartitionsLost (the member was fenced, its session
// expired) cancels with ErrLost and commits nothing; the broker would refuse
// the commit anyway, since it carries the old generation.
//
// The next-generation group protocol (KIP-848: kgo.ServerSideBalancer with
// a sticky or range balancer, Kafka 4.0+) works the same way: the broker
// assigns, and franz-go calls the same callbacks; commits carry the
// member's epoch.
//
// Static membership (kgo.InstanceID) works as franz-go documents it: on
// shutdown the member drains, commits and closes the client without leaving
// the group, and a restart with the same InstanceID within the session
// timeout gets its partitions back without a rebalance.
//
// # Fetching
//
// One PollFetches loop hands each partition's records to its session's
// queue. A partition with 2*BatchSize records queued is paused
// (PauseFetchPartitions) until half of them have been taken, so that a slow
// partition holds back no other. Offsets are committed per partition, every
// CommitEvery of its records or CommitInterval, and when it is revoked or
// Run returns.
//
// Errors and log messages of this package start with "idemqfranz: ".
// Consumer.Stats returns its counters, which Config.MeterProvider (nil:
// no-op) also exports through the OpenTelemetry metric API as
// idemq.franz.processed, .duplicates, .inflight_conflicts, .retries,
// .dead_lettered, .dead_letter_errors, .offset_commits,
// .guard_round_trips, .store_errors, .partitions_assigned,
// .partitions_revoked, .partitions_lost and the gauge .inflight.
package idemqfranz
