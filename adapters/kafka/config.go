package idemqkafka

import (
	"log/slog"
	"time"

	kafkago "github.com/segmentio/kafka-go"
	"go.opentelemetry.io/otel/metric"

	"github.com/idemq/idemq/consumer"
	"github.com/idemq/idemq/dedupe"
)

// Config configures NewConsumer and NewProcessor. Every optional field's zero
// value is a working default; NewProcessor ignores the fields marked
// "consumer only".
type Config[V any] struct {
	// Reader is the kafka-go configuration you consume with today (consumer
	// only). Required: Brokers, GroupID, and Topic or GroupTopics (not
	// both). Used as they are: Dialer (TLS, SASL), GroupBalancers,
	// HeartbeatInterval, SessionTimeout, RebalanceTimeout, JoinGroupBackoff,
	// RetentionTime, StartOffset, WatchPartitionChanges,
	// PartitionWatchInterval, MinBytes, ReadBatchTimeout, QueueCapacity,
	// IsolationLevel, ReadBackoffMin/Max, MaxAttempts, Logger, ErrorLogger.
	// Changed defaults: MaxBytes 0 means 10 MiB (kafka-go's 1 MB halves
	// throughput) and MaxWait 0 means 500ms (kafka-go's 10s delays every
	// rebalance and shutdown). Refused, because the consumer does their
	// work itself: Partition, CommitInterval (see Config.CommitInterval),
	// ReadLagInterval > 0, OffsetOutOfRangeError.
	Reader kafkago.ReaderConfig

	// Store is where keys are claimed and committed (required; a nil
	// *redisstore.Store is refused too, see dedupe.IsNilStore), e.g. a
	// *redisstore.Store. The consumer does not close it.
	Store dedupe.Store

	// TxStore, instead of Store, runs each keyed message's handler inside
	// a transaction of a transactional store (a *pgstore.Store): the
	// handler's writes through that transaction (pgstore's Store.Tx(ctx))
	// and the key's record commit together, so the effect happens exactly
	// once; the offset is committed only after. Duplicates get the
	// committed value (OnDuplicate), a failed attempt is rolled back and
	// retried in a transaction of its own, and a commit whose answer was
	// lost is run again (the store then finds the record, or nothing was
	// committed). The store keeps its own TTL: Guard must be zero. A
	// message processed without a key (InvalidKey consumer.KeyProcess)
	// runs without a transaction.
	TxStore dedupe.TxStore

	// KeyFunc returns a message's idempotency key (default
	// HeaderKey(DefaultKeyHeader)).
	KeyFunc KeyFunc

	// FingerprintFunc, if set, returns a fingerprint of a message's payload
	// (PayloadFingerprint: a SHA-256 of its value). It is stored with the
	// key, and a message that reuses a committed (or claimed) key with a
	// different payload is an invalid key (a *dedupe.KeyReusedError), not a
	// duplicate: InvalidKey decides. Default: nil, no fingerprints.
	FingerprintFunc FingerprintFunc

	// Handle processes a message (required).
	Handle HandleFunc[V]

	// OnDuplicate, if set, is called for duplicates with the winner's value.
	OnDuplicate DuplicateFunc[V]

	// InvalidKey says what happens to a message whose key is missing, empty,
	// invalid or reused for another payload: consumer.KeyReject (the
	// default), KeyProcess or KeyDeadLetter (which requires DeadLetter).
	InvalidKey consumer.KeyPolicy

	// DeadLetter receives the messages that failed every attempt (and, with
	// consumer.KeyDeadLetter, those without a valid key). Its Topic must be set, it
	// must not be Async, and RequiredAcks must not be RequireNone: an offset
	// is committed only after the write is acknowledged. nil means no
	// dead-letter topic: such a message stops the consumer. The caller
	// closes the writer.
	DeadLetter *kafkago.Writer

	// Attempts is how many times a failing handler (or OnDuplicate) runs
	// before the message is dead-lettered (default 3).
	Attempts int

	// Backoff spaces handler retries, and the retries of store and
	// dead-letter failures (default 100ms doubling up to 5s).
	Backoff consumer.Backoff

	// Guard is the guard's mode, lease and TTL (zero: claim-first with
	// dedupe.DefaultLease, 30s, and dedupe.DefaultTTL, 24h; see
	// consumer.Guard). It must be zero with TxStore.
	//
	// Guard.Optimistic selects the core's optimistic mode instead of
	// claim-first. Two holders of one key (a duplicate on another
	// partition, a rebalance) may then both run the handler; the first
	// commit wins, and the others end as duplicates (OnDuplicate with the
	// winner's value) when their own commit finds it. Use it only for
	// handlers with no side effect before end.
	//
	// Guard.Lease is how long a crashed member's running keys stay blocked,
	// and what bounds the Redis stall a running handler survives: a write
	// stall of up to 2/3 of the lease (20s by default) runs each key once;
	// in a longer one the handler's ctx is cancelled with
	// dedupe.ErrLeaseLost and another member may take the key. It is renewed
	// every third of itself while the handler runs, and a handler starts only
	// once Redis has confirmed its claim on the full lease. A claimed key
	// whose handler has not started holds the shorter
	// dedupe.DefaultQueuedLease (5s) instead, so a crash strands only the
	// keys that were running (and up to 64 per partition promoted ahead of
	// their start) for the full lease. A claim round trip slower than half
	// the lease (at least 1s; 1s in optimistic mode) counts as a store
	// failure and is retried.
	Guard consumer.Guard

	// Codec encodes committed values (default dedupe.JSONCodec).
	Codec dedupe.Codec

	// Ordering says which messages may run at once (default
	// consumer.ByPartition).
	Ordering consumer.Ordering

	// MaxInFlight bounds the handlers running at once in this consumer
	// (default 256).
	MaxInFlight int

	// BatchSize is the most messages of one partition claimed in one guard
	// round trip (consumer only; default 500).
	BatchSize int

	// CommitEvery and CommitInterval: offsets are committed when this many
	// messages have finished since the last commit, or this often (consumer
	// only; defaults 1000 and 1s), and always before a generation ends or
	// Run returns.
	CommitEvery    int
	CommitInterval time.Duration

	// DrainTimeout bounds how long Run waits for running handlers once its
	// ctx is cancelled; then their ctx is cancelled with ErrDrainTimeout
	// (consumer only; default 30s).
	DrainTimeout time.Duration

	// Logger receives the consumer's logs (nil: slog.Default(); pass
	// slog.New(slog.DiscardHandler) for none). A warning that repeats - a
	// store failure per batch while Redis is down, a dead-letter write
	// retried - is logged at most once per 10s, with the count of those held
	// back.
	Logger *slog.Logger

	// MeterProvider exports the counters of Stats through OpenTelemetry
	// (nil: no-op).
	MeterProvider metric.MeterProvider
}
