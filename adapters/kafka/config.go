package kafka

import (
	"context"
	"log/slog"
	"time"

	kafkago "github.com/segmentio/kafka-go"
	"go.opentelemetry.io/otel/metric"

	"github.com/idemq/idemq/dedupe"
	"github.com/idemq/idemq/internal/consume"
)

// HandleFunc processes one message inside the guard. It calls end(value)
// once every step has succeeded, before it returns nil: value is what
// duplicates of the key receive. ctx is cancelled when the message's outcome
// can no longer be decided here; context.Cause says why (ErrRebalance,
// ErrDrainTimeout, dedupe.ErrLeaseLost, or a *dedupe.ConflictError in
// optimistic mode).
type HandleFunc[V any] func(ctx context.Context, m kafkago.Message, end dedupe.End[V]) error

// DuplicateFunc is called for a message whose key another run already
// committed, with the winner's value, instead of the handler. An error is
// retried like a handler error.
type DuplicateFunc[V any] func(ctx context.Context, m kafkago.Message, winner V) error

// Config configures NewConsumer and NewProcessor. Every optional field's zero
// value is a working default; NewProcessor ignores the fields marked
// "consumer only".
type Config[V any] struct {
	// Reader is the kafka-go configuration you consume with today (consumer
	// only). Required: Brokers, GroupID, and Topic or GroupTopics. Used as
	// they are: Dialer (TLS, SASL), GroupBalancers, HeartbeatInterval,
	// SessionTimeout, RebalanceTimeout, JoinGroupBackoff, RetentionTime,
	// StartOffset, WatchPartitionChanges, PartitionWatchInterval, MinBytes,
	// ReadBatchTimeout, QueueCapacity, IsolationLevel, ReadBackoffMin/Max,
	// MaxAttempts, Logger, ErrorLogger. Changed defaults: MaxBytes 0 means
	// 10 MiB (kafka-go's 1 MB halves throughput) and MaxWait 0 means 500ms
	// (kafka-go's 10s delays every rebalance and shutdown). Ignored:
	// CommitInterval (see CommitEvery), ReadLagInterval. Partition must be 0.
	Reader kafkago.ReaderConfig

	// Store is where keys are claimed and committed (required), e.g. a
	// *dedupe.RedisStore. The consumer does not close it.
	Store dedupe.Store

	// Key returns a message's idempotency key (default
	// HeaderKey(DefaultKeyHeader)).
	Key KeyFunc

	// Handle processes a message (required).
	Handle HandleFunc[V]

	// OnDuplicate, if set, is called for duplicates with the winner's value.
	OnDuplicate DuplicateFunc[V]

	// InvalidKey says what happens to a message whose key is missing, empty
	// or invalid (default KeyStop).
	InvalidKey KeyPolicy

	// DeadLetter receives the messages that failed every attempt (and, with
	// KeyDeadLetter, those without a valid key). Its Topic must be set, it
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
	Backoff Backoff

	// Optimistic selects the core's optimistic mode instead of claim-first.
	// Two holders of one key (a duplicate on another partition, a
	// rebalance) may then both run the handler until one commits; the other
	// is cancelled. Use it only for handlers with no side effect before end.
	Optimistic bool

	// Lease is the claim's lease in claim-first mode (default 30s, >= 30ms).
	// It is renewed while the handler runs; a member that stops renewing
	// loses the key after Lease. A claim round trip slower than Lease/2
	// counts as a store failure and is retried.
	Lease time.Duration

	// TTL is how long a committed key is remembered (default dedupe.DefaultTTL).
	TTL time.Duration

	// Codec encodes committed values (default dedupe.JSONCodec).
	Codec dedupe.Codec

	// Ordering says which messages may run at once (default ByPartition).
	Ordering Ordering

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

	// Logger receives the consumer's logs (nil: none).
	Logger *slog.Logger

	// MeterProvider exports the counters of Stats through OpenTelemetry
	// (nil: no-op).
	MeterProvider metric.MeterProvider
}

// KeyPolicy says what happens to a message without a valid idempotency key.
type KeyPolicy int

const (
	// KeyStop stops the consumer with a *MessageError naming the message;
	// its offset is not committed. The default.
	KeyStop KeyPolicy = iota
	// KeyProcess runs the handler without deduplication and commits the
	// offset on success, like any other message.
	KeyProcess
	// KeyDeadLetter writes the message to Config.DeadLetter and commits its
	// offset once the write is acknowledged. It requires DeadLetter.
	KeyDeadLetter
)

// Ordering says which messages of one partition may be processed at once.
// In every mode, two messages with the same idempotency key never run at
// once in one process, and offsets are committed only as a contiguous prefix.
type Ordering int

const (
	// ByPartition processes a partition's messages one after another, in
	// offset order (Kafka's own guarantee). The default.
	ByPartition Ordering = iota
	// ByKey keeps offset order among messages with the same Kafka message
	// key and runs different keys at once (messages without a Kafka key are
	// unordered).
	ByKey
	// Unordered runs any messages at once, up to MaxInFlight.
	Unordered
)

// Backoff is an exponential backoff: Min, doubling up to Max, with up to
// 20% jitter so that members do not retry in step.
type Backoff struct {
	Min time.Duration // default 100ms
	Max time.Duration // default 5s
}

// delay is the wait before retry number n (0-based).
func (b Backoff) delay(n int) time.Duration { return consume.Backoff(b).Delay(n) }

// Defaults applied by NewConsumer and NewProcessor.
const (
	DefaultAttempts       = 3
	DefaultLease          = 30 * time.Second
	DefaultMaxInFlight    = 256
	DefaultBatchSize      = 500
	DefaultCommitEvery    = 1000
	DefaultCommitInterval = time.Second
	DefaultDrainTimeout   = 30 * time.Second
	defaultBackoffMin     = 100 * time.Millisecond
	defaultBackoffMax     = 5 * time.Second
	defaultMaxBytes       = 10 << 20
	defaultMaxWait        = 500 * time.Millisecond
)
