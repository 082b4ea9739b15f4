package watermill

import (
	"fmt"
	"log/slog"
	"time"

	wmessage "github.com/ThreeDotsLabs/watermill/message"

	"github.com/idemq/idemq/dedupe"
)

// Defaults applied by New to zero Config fields.
const (
	// DefaultKeyMetadata is the metadata field MetadataKey reads when
	// Config.KeyFunc is nil.
	DefaultKeyMetadata = "Idempotency-Key"
	// DefaultLease is the claim's lease in claim-first mode. The owner renews
	// it every lease/3 while the handler runs; it only matters when the owner
	// dies: its key stays claimed (duplicates wait) for up to one lease.
	DefaultLease = 30 * time.Second
	// DefaultStartTimeout bounds the wait before the handler starts.
	DefaultStartTimeout = time.Minute
	// MinLease is the shortest lease the core accepts.
	MinLease = 30 * time.Millisecond
)

// DuplicateMetadataKey is set to "true" in the metadata of an incoming
// message that the middleware found to be a duplicate, so that middlewares
// outside it (logging, metrics) can tell. The re-emitted outputs do not carry
// it: they are identical to the originals.
const DuplicateMetadataKey = "idemq_duplicate"

// Config configures a Deduplicator. The zero value is usable: keys from the
// "Idempotency-Key" metadata field, claim-first mode with a 30s lease,
// committed outcomes kept 24h, duplicates wait for a running owner and get
// its outputs re-emitted, messages without a key are nacked.
type Config struct {
	// KeyFunc derives a message's idempotency key. Zero: MetadataKey(DefaultKeyMetadata).
	// A KeyFunc returning an error that wraps ErrMissingKey triggers MissingKey.
	KeyFunc KeyFunc

	// MissingKey says what to do with a message that has no key. Zero:
	// MissingKeyReject (nack; never an ack without processing).
	MissingKey MissingKeyPolicy

	// Scope namespaces keys in the store. Zero: the router handler's name for
	// Middleware and NoPublishHandler (message.HandlerNameFromCtx), so two
	// handlers on one topic each run once per key; the topic for
	// DecoratePublisher. Every instance must use the same scope for a key
	// (the same handler names, or the same Scope).
	Scope string

	// TTL is how long a committed outcome is kept, and so how long a key is
	// recognised as a duplicate. Zero: dedupe.DefaultTTL (24h). Negative is invalid.
	TTL time.Duration

	// Lease is the claim's lease in claim-first mode. Zero: DefaultLease
	// (30s). It must be at least MinLease, and zero when Optimistic is set.
	Lease time.Duration

	// Optimistic selects the core's optimistic mode instead of claim-first:
	// no claim is taken, two deliveries of a key may run the handler at once,
	// the first to commit wins and the other's message context is cancelled.
	// Use it only when the handler has no side effect before it returns.
	// Zero: false (claim-first).
	Optimistic bool

	// NoWait makes a duplicate that finds a live claim fail with a
	// *GuardError wrapping dedupe.ErrInProgress (a nack) instead of waiting
	// for the owner's outcome. Beware: redisstream re-sends a nacked message
	// at once, in a loop, unless its NackResendSleep is set. Zero: false (wait).
	NoWait bool

	// StartTimeout bounds how long a message waits before its handler starts:
	// claiming the key and, when another owner holds it, waiting for that
	// owner's outcome. Past it the message fails with a *GuardError wrapping
	// ErrStartTimeout (a nack), so a message never hangs behind a stuck owner
	// (the core itself fails at once while Redis is unreachable). Zero:
	// DefaultStartTimeout (1 minute). Negative is invalid.
	StartTimeout time.Duration

	// DropDuplicateOutputs makes a duplicate return no messages instead of
	// re-emitting the stored outputs. Zero: false (re-emit).
	DropDuplicateOutputs bool

	// OnDuplicate, if set, is called for every duplicate: an incoming message
	// whose key was already processed, or a publish dropped by
	// DecoratePublisher. key is the KeyFunc's key. Zero: nil (no hook).
	OnDuplicate DuplicateFunc

	// Logger receives duplicates (Debug), messages without a key and guard
	// failures (Warn). Zero: nil, silent.
	Logger *slog.Logger
}

// DuplicateFunc is the type of Config.OnDuplicate. It must not block for
// long: it runs in the message's goroutine, before the ack.
type DuplicateFunc func(msg *wmessage.Message, key string)

// MissingKeyPolicy says what the middleware does with a message whose
// KeyFunc reports ErrMissingKey.
type MissingKeyPolicy int

const (
	// MissingKeyReject fails the message with a *KeyError: it is nacked (or
	// poisoned by a PoisonQueue filtered with Poisonable). The default.
	MissingKeyReject MissingKeyPolicy = iota
	// MissingKeyProcess runs the handler without the guard: such messages
	// are processed at least once, not once.
	MissingKeyProcess
	// MissingKeySkip acknowledges the message without running the handler.
	MissingKeySkip
)

func (p MissingKeyPolicy) String() string {
	switch p {
	case MissingKeyReject:
		return "reject"
	case MissingKeyProcess:
		return "process"
	case MissingKeySkip:
		return "skip"
	}
	return fmt.Sprintf("MissingKeyPolicy(%d)", int(p))
}

// withDefaults validates c and fills in its zero fields.
func (c Config) withDefaults() (Config, error) {
	switch {
	case c.TTL < 0:
		return c, invalid("TTL %v is negative", c.TTL)
	case c.StartTimeout < 0:
		return c, invalid("StartTimeout %v is negative", c.StartTimeout)
	case c.Optimistic && c.Lease != 0:
		return c, invalid("Lease %v is set but Optimistic mode takes no claim", c.Lease)
	case c.Optimistic && c.NoWait:
		return c, invalid("NoWait is set but Optimistic mode never waits")
	case !c.Optimistic && c.Lease != 0 && c.Lease < MinLease:
		return c, invalid("Lease %v is shorter than MinLease (%v)", c.Lease, MinLease)
	case c.MissingKey < MissingKeyReject || c.MissingKey > MissingKeySkip:
		return c, invalid("unknown MissingKey policy %v", c.MissingKey)
	}
	if c.KeyFunc == nil {
		c.KeyFunc = MetadataKey(DefaultKeyMetadata)
	}
	if c.TTL == 0 {
		c.TTL = dedupe.DefaultTTL
	}
	if c.Lease == 0 && !c.Optimistic {
		c.Lease = DefaultLease
	}
	if c.StartTimeout == 0 {
		c.StartTimeout = DefaultStartTimeout
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c, nil
}

// runOptions are the dedupe options every Run of this config uses.
func (c Config) runOptions() []dedupe.RunOption {
	opts := []dedupe.RunOption{dedupe.WithTTL(c.TTL)}
	if c.Optimistic {
		return append(opts, dedupe.WithOptimistic())
	}
	opts = append(opts, dedupe.WithClaim(c.Lease))
	if c.NoWait {
		opts = append(opts, dedupe.WithNoWait())
	}
	return opts
}

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrInvalidConfig}, args...)...)
}
