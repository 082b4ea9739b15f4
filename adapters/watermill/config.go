package idemqwatermill

import (
	"log/slog"
	"time"

	wmessage "github.com/ThreeDotsLabs/watermill/message"
	"go.opentelemetry.io/otel/metric"

	"github.com/idemq/idemq/consumer"
	"github.com/idemq/idemq/dedupe"
	"github.com/idemq/idemq/internal/ratelog"
)

// Defaults applied by New to zero Config fields (the guard's are
// consumer.Guard's: dedupe.DefaultLease, dedupe.DefaultTTL).
const (
	// DefaultKeyMetadata is the metadata field MetadataKey reads when
	// Config.KeyFunc is nil.
	DefaultKeyMetadata = "Idempotency-Key"
	// DefaultStartTimeout bounds the wait before the handler starts.
	DefaultStartTimeout = time.Minute
	// DefaultMaxOutputBytes bounds a key's stored outcome.
	DefaultMaxOutputBytes = 16 << 20
)

// DuplicateMetadataKey is set to "true" in the metadata of an incoming
// message that the middleware found to be a duplicate, so that middlewares
// outside it (logging, metrics) can tell. The re-emitted outputs do not carry
// it: they are identical to the originals.
const DuplicateMetadataKey = "idemq_duplicate"

// Config configures a Deduplicator. The zero value is usable: keys from the
// "Idempotency-Key" metadata field, claim-first mode with dedupe's lease,
// committed outcomes kept 24h, duplicates wait for a running owner and get
// its outputs re-emitted, messages without a key are nacked.
type Config struct {
	// KeyFunc derives a message's idempotency key. Zero:
	// MetadataKey(DefaultKeyMetadata). An error, an empty key or one the
	// store cannot take (longer than dedupe.MaxKeyLen with its scope) makes
	// the key invalid: InvalidKey decides.
	KeyFunc KeyFunc

	// InvalidKey says what to do with a message without a valid key:
	// consumer.KeyReject (the default: a nack, never an ack without
	// processing), KeyProcess or KeySkip. KeyDeadLetter is refused: put a
	// PoisonQueue middleware outside this one and keep KeyReject.
	InvalidKey consumer.KeyPolicy

	// FingerprintFunc, if set, returns a fingerprint of a message's payload
	// (PayloadFingerprint: a SHA-256 of it). It is stored with the key, and
	// a message that reuses a committed (or claimed) key with a different
	// payload fails with a *dedupe.KeyReusedError (a nack; Poisonable)
	// instead of being taken for a duplicate. Zero: nil, no fingerprints.
	FingerprintFunc func(msg *wmessage.Message) []byte

	// Scope namespaces keys in the store: two handlers with different
	// scopes each run once per key. Zero: the router handler's name for
	// Middleware and NoPublishHandler (message.HandlerNameFromCtx); the
	// topic for DecoratePublisher. Every instance must use the same scope
	// for a key: register the handler under the same name everywhere, or set
	// Scope. Watermill only requires a name to be unique within one router,
	// so two instances that name one handler differently deduplicate
	// nothing between them; the middleware logs each handler's scope once
	// (Info) so that a mismatch shows.
	Scope string

	// Guard is the guard's mode, lease and TTL (see consumer.Guard). Zero:
	// claim-first with dedupe.DefaultLease (30s: how long a crashed
	// instance's key stays blocked, at most), outcomes kept
	// dedupe.DefaultTTL (24h: how long a key is recognised as a
	// duplicate). Guard.Optimistic takes no claim: two deliveries of a key
	// may run the handler at once, the first to commit wins and the
	// other's message context is cancelled; use it only when the handler
	// has no side effect before it returns.
	Guard consumer.Guard

	// NoWait makes a duplicate that finds a live claim fail with a
	// *GuardError wrapping dedupe.ErrInProgress (a nack) instead of waiting
	// for the owner's outcome. Beware: redisstream re-sends a nacked message
	// at once, in a loop, unless its NackResendSleep is set. Zero: false (wait).
	NoWait bool

	// StartTimeout bounds how long a message waits for another owner of its
	// key (dedupe.WithMaxWait), counted from its first claim: past it the
	// message fails with a *GuardError wrapping ErrStartTimeout (a nack),
	// so a message never hangs behind a stuck owner. A handler that
	// started is never cancelled by it. The store's own round trips are
	// bounded by the client's timeouts, and fail at once while Redis is
	// unreachable. On a transactional store (NewTx) it bounds the wait for
	// the key's row. Zero: DefaultStartTimeout (1 minute). Negative is
	// invalid.
	StartTimeout time.Duration

	// MaxOutputBytes bounds a key's stored outcome: its outputs' UUIDs,
	// metadata and payloads, JSON-encoded, kept in Redis for the TTL. A
	// handler whose outputs are larger fails the message with
	// ErrOutputsTooLarge (Poisonable) and nothing is committed, so its
	// redelivery runs the handler again: keep outputs small, or raise the
	// limit (Redis takes up to 512 MB a value). Zero: DefaultMaxOutputBytes
	// (16 MiB). Negative is invalid.
	MaxOutputBytes int

	// DropDuplicateOutputs makes a duplicate return no messages instead of
	// re-emitting the stored outputs. Zero: false (re-emit).
	DropDuplicateOutputs bool

	// OnDuplicate, if set, is called for every duplicate - an incoming
	// message whose key was already processed, or a publish DecoratePublisher
	// drops - with what the store holds for the key: the outputs the winner
	// produced (for a publish, the winner's message with its UUID and no
	// payload). An error fails the message: the middleware returns it (a
	// nack; the redelivery is a duplicate again), the publisher's Publish
	// returns it. Zero: nil (no hook).
	OnDuplicate DuplicateFunc

	// Logger receives duplicates (Debug), each handler's scope (Info, once),
	// messages without a valid key and guard failures (Warn). Zero:
	// slog.Default(); pass slog.New(slog.DiscardHandler) for none. A warning
	// that repeats (Redis down) is logged at most once per 10s, with the
	// count of those held back.
	Logger *slog.Logger

	// MeterProvider exports the counters of Stats through OpenTelemetry
	// (nil: no-op).
	MeterProvider metric.MeterProvider
}

// DuplicateFunc is the type of Config.OnDuplicate. It runs in the message's
// goroutine, before the ack: it must not block for long.
type DuplicateFunc func(msg *wmessage.Message, stored []*wmessage.Message) error

// withDefaults validates c and fills in its zero fields.
func (c Config) withDefaults() (Config, error) {
	if err := c.Guard.Check(pkg); err != nil {
		return c, err
	}
	if err := c.InvalidKey.Check(pkg, "InvalidKey", consumer.KeyReject, consumer.KeyProcess, consumer.KeySkip); err != nil {
		return c, err
	}
	switch {
	case c.StartTimeout < 0:
		return c, invalid("StartTimeout", "is %v, want > 0 (0: the default)", c.StartTimeout)
	case c.Guard.Optimistic && c.NoWait:
		return c, invalid("NoWait", "is set but Guard.Optimistic mode never waits")
	case c.MaxOutputBytes < 0:
		return c, invalid("MaxOutputBytes", "is %d, want > 0 (0: the default)", c.MaxOutputBytes)
	}
	if c.MaxOutputBytes == 0 {
		c.MaxOutputBytes = DefaultMaxOutputBytes
	}
	if c.KeyFunc == nil {
		c.KeyFunc = MetadataKey(DefaultKeyMetadata)
	}
	if c.StartTimeout == 0 {
		c.StartTimeout = DefaultStartTimeout
	}
	c.Logger = ratelog.Logger(c.Logger, 0)
	return c, nil
}

// runOptions are the dedupe options every Run of this config uses.
func (c Config) runOptions() []dedupe.RunOption {
	opts := append(c.Guard.RunOptions(), dedupe.WithCodec(outcomeCodec{max: c.MaxOutputBytes}))
	if c.NoWait {
		return append(opts, dedupe.WithNoWait())
	}
	return append(opts, dedupe.WithMaxWait(c.StartTimeout))
}

// pkg names this package in its *consumer.ConfigError values.
const pkg = "idemqwatermill"

// invalid returns a *consumer.ConfigError for field.
func invalid(field, format string, args ...any) error {
	return consumer.Invalid(pkg, field, format, args...)
}
