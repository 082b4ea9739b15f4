package idemqkafka

import "time"

// Defaults applied by NewConsumer and NewProcessor (the TTL is dedupe's
// DefaultTTL, the lease its DefaultLease, the backoff consumer.Backoffs; see
// Config.Guard).
const (
	DefaultAttempts       = 3
	DefaultMaxInFlight    = 256
	DefaultBatchSize      = 500
	DefaultCommitEvery    = 1000
	DefaultCommitInterval = time.Second
	DefaultDrainTimeout   = 30 * time.Second
	defaultMaxBytes       = 10 << 20
	defaultMaxWait        = 500 * time.Millisecond
)
