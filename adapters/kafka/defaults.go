package idemqkafka

import "time"

// Defaults applied by NewConsumer and NewProcessor. The guard's come from
// consumer.Guard (dedupe.DefaultLease and DefaultTTL), the backoff's from
// consumer.Backoff.
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
