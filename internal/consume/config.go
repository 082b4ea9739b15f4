package consume

import (
	"context"
	"github.com/idemq/idemq/consumer"
	"log/slog"
	"time"

	"github.com/idemq/idemq/dedupe"
)

// Config configures an Engine. The engine trusts it: adapters validate and
// default every field before New.
type Config[M, V any] struct {
	// Name is the adapter's name: the prefix of log messages and of the
	// engine's own errors ("idemqkafka: ...").
	Name  string
	Store dedupe.Store
	Guard []dedupe.BatchOption // dedupe.NewBatch's options: mode, lease, TTL, codec
	// Tx, instead of Store, runs each keyed message's handler in a
	// transaction of a transactional store, with Codec for its values.
	Tx    dedupe.TxStore
	Codec dedupe.Codec
	Log   Log[M]

	// Key returns a message's idempotency key; an error (or a key dedupe
	// refuses) makes the key invalid and InvalidKey decides.
	Key func(m M) (string, error)
	// Fingerprint, if set, returns the fingerprint of a message's payload
	// (dedupe.WithFingerprint): a key reused for another payload is an
	// invalid key (a *dedupe.KeyReusedError) and InvalidKey decides.
	Fingerprint func(m M) []byte
	// Handle runs a message inside the guard; it calls end(value) on success.
	Handle func(ctx context.Context, m M, end dedupe.End[V]) error
	// OnDuplicate, if set, runs for a message whose key is committed already.
	OnDuplicate func(ctx context.Context, m M, winner V) error
	// DeadLetter, if set, writes a message that can never succeed to the
	// sink's dead-letter destination. An error matching ErrPermanent stops
	// the consumer with MessageError's error; any other is retried with
	// backoff.
	DeadLetter func(ctx context.Context, m M, key string, cause error) error
	// MessageError is the error that stops the consumer for m.
	MessageError func(m M, key string, attempts int, cause error) error

	InvalidKey  consumer.KeyPolicy
	Ordering    consumer.Ordering
	MaxInFlight int
	Attempts    int
	Backoff     consumer.Backoff
	// ClaimTimeout bounds one claim round trip: a slower one counts as a
	// store failure and is retried.
	ClaimTimeout time.Duration
	Logger       *slog.Logger
	Metrics      Metrics
}

// Log is what the engine needs to know of a partitioned log's messages.
type Log[M any] interface {
	// Offset is the message's position in its partition.
	Offset(m M) int64
	// OrderKey is what ByKey orders by: the message's own key (empty: none).
	OrderKey(m M) []byte
	// Attrs describes the message in logs.
	Attrs(m M) slog.Attr
}

// Metrics are the engine's counters; a nil func counts nothing. InFlight
// is a gauge: +1 when a handler starts, -1 when it returns.
type Metrics struct {
	Processed, Duplicates, Conflicts, Retries, DeadLettered, DeadLetterErrors, StoreErrors, RoundTrips func(n int64)
	InFlight                                                                                           func(delta int64)
}

func count(f func(int64), n int64) {
	if f != nil && n != 0 {
		f(n)
	}
}
