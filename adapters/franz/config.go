package idemqfranz

import (
	"log/slog"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"go.opentelemetry.io/otel/metric"

	"github.com/idemq/idemq/consumer"
	"github.com/idemq/idemq/dedupe"
)

// Config configures NewConsumer and NewProcessor. Every optional field's zero
// value is a working default; NewProcessor ignores the fields marked
// "consumer only".
type Config[V any] struct {
	// Group and Topics name the consumer group and the topics it consumes
	// (consumer only; required). With kgo.ConsumeRegex in Client, Topics
	// are regular expressions.
	Group  string
	Topics []string

	// Client is the franz-go configuration you consume with today (consumer
	// only): seed brokers, TLS, SASL, balancers (default cooperative-sticky),
	// InstanceID, session and rebalance timeouts, fetch sizes, isolation
	// level, reset offset, logger. The consumer adds ConsumerGroup(Group),
	// ConsumeTopics(Topics...), DisableAutoCommit and its own
	// OnPartitionsAssigned, OnPartitionsRevoked and OnPartitionsLost.
	// Topics replaces any ConsumeTopics of Client. Refused with a
	// *consumer.ConfigError, because they would break its guarantees: those
	// callbacks, BlockRebalanceOnPoll, GreedyAutoCommit, AutoCommitMarks,
	// AutoCommitCallback, KeepControlRecords, a ConsumerGroup other than
	// Group, and whatever franz-go's NewClient refuses (ConsumePartitions).
	Client []kgo.Opt

	// Store is where keys are claimed and committed (required unless
	// TxStore is set; a nil *redisstore.Store is refused too, see
	// dedupe.IsNilStore). The consumer does not close it.
	Store dedupe.Store

	// TxStore, instead of Store, runs each keyed message's handler inside a
	// transaction of a transactional store (a *pgstore.Store): the
	// handler's writes and the key's record commit together; the offset is
	// committed only after. Guard must be zero.
	TxStore dedupe.TxStore

	// KeyFunc returns a record's idempotency key (default
	// HeaderKey(DefaultKeyHeader)).
	KeyFunc KeyFunc

	// FingerprintFunc, if set, returns a fingerprint of a record's payload
	// (PayloadFingerprint): a key reused for another payload is an invalid
	// key (a *dedupe.KeyReusedError), and InvalidKey decides.
	FingerprintFunc FingerprintFunc

	// Handle processes a record (required).
	Handle HandleFunc[V]

	// OnDuplicate, if set, is called for duplicates with the winner's value.
	OnDuplicate DuplicateFunc[V]

	// InvalidKey says what happens to a record whose key is missing, empty,
	// invalid or reused for another payload: consumer.KeyReject (the
	// default), KeyProcess or KeyDeadLetter (which requires DeadLetter).
	InvalidKey consumer.KeyPolicy

	// DeadLetter, if set, is the client that writes the records that failed
	// every attempt (and, with consumer.KeyDeadLetter, those without a valid
	// key) to DeadLetterTopic, with ProduceSync: an offset is committed only
	// once the write is acknowledged, so its RequiredAcks must not be
	// NoAck, and it must not be transactional. nil means no dead-letter
	// topic: such a record stops the consumer. The caller closes it.
	DeadLetter      *kgo.Client
	DeadLetterTopic string

	// Attempts is how many times a failing handler (or OnDuplicate) runs
	// before the record is dead-lettered (default 3).
	Attempts int

	// Backoff spaces handler retries, and the retries of store and
	// dead-letter failures (default 100ms doubling up to 5s).
	Backoff consumer.Backoff

	// Guard is the guard's mode, lease and TTL (zero: claim-first with
	// dedupe.DefaultLease and dedupe.DefaultTTL). It must be zero with
	// TxStore. See idemqkafka's Config.Guard: the semantics are the same.
	Guard consumer.Guard

	// Codec encodes committed values (default dedupe.JSONCodec).
	Codec dedupe.Codec

	// Ordering says which records may run at once (default
	// consumer.ByPartition).
	Ordering consumer.Ordering

	// MaxInFlight bounds the handlers running at once (default 256).
	MaxInFlight int

	// BatchSize is the most records of one partition claimed in one guard
	// round trip (consumer only; default 500). A partition with twice as
	// many records waiting is paused (PauseFetchPartitions) until half
	// have run, so that a slow partition holds back no other.
	BatchSize int

	// CommitEvery and CommitInterval: a partition's offset is committed
	// when this many of its records have finished since its last commit,
	// or this often (consumer only; defaults 1000 and 1s), and always when
	// it is revoked or Run returns.
	CommitEvery    int
	CommitInterval time.Duration

	// DrainTimeout bounds how long Run waits for running handlers once its
	// ctx is cancelled; then their ctx is cancelled with ErrDrainTimeout
	// (consumer only; default 30s).
	DrainTimeout time.Duration

	// Logger receives the consumer's logs (nil: slog.Default()); a warning
	// that repeats is logged at most once per 10s.
	Logger *slog.Logger

	// MeterProvider exports the counters of Stats through OpenTelemetry
	// (nil: no-op).
	MeterProvider metric.MeterProvider
}
