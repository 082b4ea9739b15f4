package kafkatest

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"go.opentelemetry.io/otel/metric"

	"github.com/idemq/idemq/consumer"
	"github.com/idemq/idemq/dedupe"
)

// Driver is one Kafka adapter and its client, as the scenarios use them.
// Its methods may be called from parallel tests.
type Driver interface {
	// Adapter describes the adapter's errors and behaviour.
	Adapter() Adapter
	// NewConsumer returns the adapter's consumer for cfg, or nil and the
	// adapter's error when NewConsumer refuses cfg. Whatever it opens is
	// closed at the end of t.
	NewConsumer(t *testing.T, cfg Config) (Consumer, error)
	// NewProcessor returns the adapter's Processor for cfg, or nil and the
	// adapter's error; the caller closes it.
	NewProcessor(t *testing.T, cfg Config) (Processor, error)
	// Produce writes msgs to topic, each to its Partition, in order, and
	// returns once the broker has acknowledged them all.
	Produce(t *testing.T, topic string, msgs ...Message)
	// Read returns the first n messages of topic, a topic of one
	// partition, failing t if they do not arrive within a minute.
	Read(t *testing.T, topic string, n int) []Message
}

// Adapter is what the scenarios need to know of an adapter.
type Adapter struct {
	// Name is the adapter's package name, which starts its errors:
	// "idemqkafka".
	Name string
	// MetricPrefix starts the names of the adapter's OpenTelemetry
	// instruments: "idemq.kafka" (idemq.kafka.processed, ...).
	MetricPrefix string
	// The adapter's sentinel errors: a message without a key; the cause
	// of a handler's ctx when its partition is taken away in a rebalance;
	// the cause after DrainTimeout; a second Run at once.
	ErrNoKey, ErrRebalance, ErrDrainTimeout, ErrRunning error
	// MessageError returns the fields of err's *MessageError, if it has
	// one.
	MessageError func(err error) (MessageError, bool)
	// CooperativeRebalance is true when a rebalance cancels only the
	// handlers of the partitions that move (franz-go's cooperative-sticky
	// balancer), false when it cancels every handler of the member
	// (kafka-go's generations).
	CooperativeRebalance bool
}

// MessageError is an adapter's *MessageError, field by field.
type MessageError struct {
	Topic     string
	Partition int
	Offset    int64
	Key       string
	Attempts  int
}

// Consumer is a member of a consumer group, made by Driver.NewConsumer.
type Consumer interface {
	// Run consumes until ctx is cancelled (then it drains) or a message
	// stops it; a second Run at once returns Adapter.ErrRunning.
	Run(ctx context.Context) error
	// Stats are the adapter's counters.
	Stats() Stats
	// Assigned is how many partitions the member holds now.
	Assigned() int
}

// Processor is an adapter's Processor, made by Driver.NewProcessor.
type Processor interface {
	// Process takes m to a final outcome, or returns why it has none.
	Process(ctx context.Context, m Message) (consumer.Outcome, error)
	// Stats are the adapter's counters (Assignments and OffsetCommits 0).
	Stats() Stats
	Close() error
}

// Stats are the counters both adapters keep, as in their Stats.
type Stats struct {
	Processed, Duplicates, InFlightConflicts, Retries int64
	DeadLettered, DeadLetterErrors                    int64
	OffsetCommits, GuardRoundTrips, StoreErrors       int64
	// Assignments counts the partitions assigned to the member, over every
	// rebalance.
	Assignments int64
	// InFlight is the handlers running now (the adapters' gauge).
	InFlight int64
	// Own are the counters of the adapter's Stats that the other adapter
	// lacks, by metric name after Adapter.MetricPrefix: "generations".
	Own map[string]int64
}

// Config is a member's configuration: the adapters' Config fields of the
// same names, passed on as they are (zero is the adapter's default).
type Config struct {
	Group string
	Topic string

	Store   dedupe.Store
	TxStore dedupe.TxStore
	Guard   consumer.Guard

	// KeyHeader is the header HeaderKey reads ("": the adapter's default
	// KeyFunc); Fingerprint sets FingerprintFunc to PayloadFingerprint.
	KeyHeader   string
	Fingerprint bool

	Handle      HandleFunc
	OnDuplicate DuplicateFunc
	InvalidKey  consumer.KeyPolicy
	// DeadLetterTopic, if set, is where the member writes dead letters,
	// through a writer (a client) the driver makes.
	DeadLetterTopic string

	Attempts       int
	Backoff        consumer.Backoff
	Ordering       consumer.Ordering
	MaxInFlight    int
	BatchSize      int
	CommitEvery    int
	CommitInterval time.Duration
	DrainTimeout   time.Duration
	Logger         *slog.Logger
	MeterProvider  metric.MeterProvider

	// SessionTimeout is the group session's timeout (0: the driver's fast
	// test setting, 6s).
	SessionTimeout time.Duration
}

// HandleFunc is the handler of a scenario: the adapters' HandleFunc with a
// Message and string values.
type HandleFunc func(ctx context.Context, m Message, end dedupe.End[string]) error

// DuplicateFunc is the adapters' DuplicateFunc with a Message.
type DuplicateFunc func(ctx context.Context, m Message, winner string) error

// Message is a Kafka message (a kafka-go Message, a franz-go Record).
type Message struct {
	Topic     string
	Partition int
	Offset    int64
	Key       []byte // the Kafka key
	Value     []byte
	Headers   []Header
}

// Header is a Kafka message header.
type Header struct {
	Key   string
	Value []byte
}

// Header returns the value of m's last header named name ("" if none).
func (m Message) Header(name string) string {
	for i := len(m.Headers) - 1; i >= 0; i-- {
		if m.Headers[i].Key == name {
			return string(m.Headers[i].Value)
		}
	}
	return ""
}
