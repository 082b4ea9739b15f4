package idemqkafka

import (
	"time"

	"github.com/idemq/idemq/internal/consume"
)

// KeyPolicy says what happens to a message without a valid idempotency key.
type KeyPolicy int

const (
	// KeyReject stops the consumer with a *MessageError naming the message;
	// its offset is not committed. The default.
	KeyReject KeyPolicy = iota
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

// Defaults applied by NewConsumer and NewProcessor (the TTL is dedupe's
// DefaultTTL, the lease its DefaultLease; see Config.Lease).
const (
	DefaultAttempts       = 3
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
