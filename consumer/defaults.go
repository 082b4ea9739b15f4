package consumer

import "time"

// Defaults of the Kafka adapters' Config fields (idemqkafka, idemqfranz),
// applied where a field is zero. The guard's defaults come from Guard
// (dedupe.DefaultLease and DefaultTTL), the retries' from Backoff.
const (
	DefaultAttempts       = 3                // handler (or OnDuplicate) attempts per message
	DefaultMaxInFlight    = 256              // handlers running at once in one consumer
	DefaultBatchSize      = 500              // messages of one partition claimed in one round trip
	DefaultCommitEvery    = 1000             // final outcomes between offset commits
	DefaultCommitInterval = time.Second      // time between offset commits
	DefaultDrainTimeout   = 30 * time.Second // how long shutdown waits for running handlers
)
