package dedupe

import (
	"fmt"
	"time"
)

// Defaults applied when a RunOption is not given.
const (
	DefaultTTL           = 24 * time.Hour
	DefaultCommitTimeout = 10 * time.Second
	// DefaultLease is the claim's lease in claim-first mode (the default
	// mode) when WithClaim is not given: how long a crashed owner's key
	// stays blocked, at most. The owner renews it every lease/3.
	DefaultLease = 30 * time.Second
	// DefaultQueuedLease is a Batch's lease of a claimed key whose work has
	// not started (WithQueuedLease), capped at the lease.
	DefaultQueuedLease = 5 * time.Second
	// MinLease is the shortest lease WithClaim and WithQueuedLease accept.
	MinLease = 30 * time.Millisecond
)

// An Option configures Run and NewBatch alike: it is both a RunOption and
// a BatchOption. The options that apply to one of them only are typed so:
// WithEagerStart and WithFingerprint are RunOptions, WithQueuedLease is a
// BatchOption, and passing one to the other does not compile.
type Option interface {
	RunOption
	BatchOption
}

// A RunOption configures Run.
type RunOption interface{ applyRun(*runConfig) }

// A BatchOption configures NewBatch.
type BatchOption interface{ applyBatch(*runConfig) }

// shared, runOnly and batchOnly implement the option interfaces.
type (
	shared    func(*runConfig)
	runOnly   func(*runConfig)
	batchOnly func(*runConfig)
)

func (o shared) applyRun(c *runConfig)      { o(c) }
func (o shared) applyBatch(c *runConfig)    { o(c) }
func (o runOnly) applyRun(c *runConfig)     { o(c) }
func (o batchOnly) applyBatch(c *runConfig) { o(c) }

type runConfig struct {
	ttl              time.Duration
	eager            bool
	optimistic       bool
	lease            time.Duration // claim-first mode: the claim's lease (0 in optimistic mode)
	queuedLease      time.Duration // Batch, claim-first: the lease until the work starts (0: the default)
	noWait           bool
	maxWait          time.Duration // Run: the bound of the wait for another owner (0: none)
	keepClaimOnError bool
	codec            Codec
	commitTimeout    time.Duration
	fingerprint      []byte // Run: the payload's fingerprint (nil: none)
	invalid          error
}

// WithTTL sets how long a committed value lives (default DefaultTTL, 24h).
// It must be >= 1ms, Redis's unit; stores keep it rounded up to whole
// milliseconds.
func WithTTL(ttl time.Duration) Option {
	return shared(func(c *runConfig) {
		if ttl < time.Millisecond {
			c.fail("WithTTL(%v): the TTL must be >= 1ms", ttl)
		}
		c.ttl = ttl
	})
}

// WithOptimistic selects optimistic mode, the model of the seed library
// (@sebspark/idempotency), instead of claim-first: no claim is taken, so
// duplicates run at once, the first end(value) to reach the store wins, and
// the others are cancelled with the winner's *ConflictError. Use it only
// where fn has no side effect before end that must not happen twice.
func WithOptimistic() Option { return shared(func(c *runConfig) { c.optimistic = true }) }

// WithEagerStart starts fn at once, in parallel with the check for a stored
// value, as the seed library does; fn is cancelled if a value turns up (with
// its *ConflictError) or a claim-first run holds the key (ErrInProgress). By
// default fn starts only after the check found no value, so a redelivered
// message never starts its side effects. Optimistic mode only (with
// WithOptimistic), and Run only: anything else is ErrInvalidOption.
func WithEagerStart() RunOption { return runOnly(func(c *runConfig) { c.eager = true }) }

// WithClaim sets the claim's lease of claim-first mode (default
// DefaultLease): before fn runs, the guard claims the key with a random
// owner token and this lease, renews it every lease/3 while fn runs, and
// commits only if it still holds the claim. The lease must be >= MinLease; it
// excludes WithOptimistic.
func WithClaim(lease time.Duration) Option {
	return shared(func(c *runConfig) {
		if lease < MinLease {
			c.fail("WithClaim(%v): the lease must be >= %v", lease, MinLease)
		}
		c.lease = lease
	})
}

// WithQueuedLease sets a Batch's lease of a claimed key whose work has not
// started yet (default DefaultQueuedLease, or the lease if that is
// shorter). Claim takes every key of a batch at once, but works on them one
// after another; each held claim is renewed every queued lease/3, with this
// lease until it is promoted (Ticket.Start, Ticket.Promote, Ticket.Context)
// and with the full lease (WithClaim) from then on. So when the owner dies,
// the keys it had not promoted are free for another owner after at most
// this lease, and only those it was working on (or had promoted ahead) stay
// blocked for the full lease. A stall of the store longer than this lease
// frees the unpromoted keys: Start then reports ErrLeaseLost, and their
// work does not start. It must be at least MinLease and at most the
// lease; claim-first mode only. It is a BatchOption: Run starts its work at
// once.
func WithQueuedLease(d time.Duration) BatchOption {
	return batchOnly(func(c *runConfig) {
		if d < MinLease {
			c.fail("WithQueuedLease(%v): the lease must be >= %v", d, MinLease)
		}
		c.queuedLease = d
	})
}

// WithNoWait makes Run return ErrInProgress at once when another owner holds
// a live claim on the key, instead of waiting for its outcome (in claim mode,
// and in optimistic mode when a claim-first run holds the key).
func WithNoWait() Option { return shared(func(c *runConfig) { c.noWait = true }) }

// WithMaxWait bounds how long Run waits before fn starts: for another
// owner's live claim on the key to end, and for the subscription to the
// key's notifications. In claim-first mode the bound counts from the claim
// that found the key held, so a Run that finds it free pays nothing for
// it; in optimistic mode it counts from the subscription every Run makes.
// Once d has passed, Run gives up with ErrWaitTimeout, and fn never
// starts: the error is an ErrInProgress too when another owner still held
// the key, a *StoreError when the subscription was not confirmed. It does
// not bound the store's other round trips (the client's timeouts do), and
// it ends once fn starts: a running fn is never cancelled by it. Zero, the
// default, waits as long as ctx allows; d must not be negative, and it
// excludes WithNoWait. It is a RunOption.
func WithMaxWait(d time.Duration) RunOption {
	return runOnly(func(c *runConfig) {
		if d < 0 {
			c.fail("WithMaxWait(%v): the bound must be >= 0 (0: none)", d)
		}
		c.maxWait = d
	})
}

// WithKeepClaimOnError keeps the claim when fn fails in claim-first mode,
// so no other owner runs the key until the lease expires. By default the
// claim is released at once, so a retry can run. It excludes WithOptimistic.
func WithKeepClaimOnError() Option { return shared(func(c *runConfig) { c.keepClaimOnError = true }) }

// WithCodec sets the codec for committed values (default JSONCodec).
func WithCodec(codec Codec) Option {
	return shared(func(c *runConfig) {
		if codec == nil {
			c.fail("WithCodec(nil)")
		}
		c.codec = codec
	})
}

// WithCommitTimeout bounds how long the commit may take once end is called
// (default DefaultCommitTimeout, 10s). The commit does not stop when ctx is
// cancelled, because an abandoned commit has an unknown outcome; past this
// timeout Run returns ErrCommitUnknown. It must be > 0.
func WithCommitTimeout(d time.Duration) Option {
	return shared(func(c *runConfig) {
		if d <= 0 {
			c.fail("WithCommitTimeout(%v): the timeout must be > 0", d)
		}
		c.commitTimeout = d
	})
}

func (c *runConfig) fail(format string, args ...any) {
	if c.invalid == nil {
		c.invalid = fmt.Errorf("%w: "+format, append([]any{ErrInvalidOption}, args...)...)
	}
}

// setRun makes c Run's configuration: the defaults, then opts (nil ones
// are skipped). It works in place: c is in the guard, which is on the heap
// anyway, so that the options' pointer to it costs no allocation.
func (c *runConfig) setRun(opts []RunOption) error {
	*c = defaultConfig()
	for _, opt := range opts {
		if opt != nil {
			opt.applyRun(c)
		}
	}
	checked, err := c.check()
	*c = checked
	return err
}

// newBatchConfig applies NewBatch's options (nil ones are skipped).
func newBatchConfig(opts []BatchOption) (runConfig, error) {
	c := defaultConfig()
	for _, opt := range opts {
		if opt != nil {
			opt.applyBatch(&c)
		}
	}
	return c.check()
}

func defaultConfig() runConfig {
	return runConfig{ttl: DefaultTTL, codec: JSONCodec{}, commitTimeout: DefaultCommitTimeout}
}

// check validates the options' combination and sets the default lease.
func (c runConfig) check() (runConfig, error) {
	switch {
	case c.optimistic && c.lease > 0:
		c.fail("WithClaim and WithOptimistic exclude each other")
	case c.optimistic && c.keepClaimOnError:
		c.fail("WithKeepClaimOnError applies to claim-first mode, not WithOptimistic")
	case c.eager && !c.optimistic:
		c.fail("WithEagerStart applies to optimistic mode only: add WithOptimistic")
	case c.optimistic && c.queuedLease > 0:
		c.fail("WithQueuedLease applies to claim-first mode, not WithOptimistic")
	case c.noWait && c.maxWait > 0:
		c.fail("WithMaxWait and WithNoWait exclude each other")
	case !c.optimistic && c.lease == 0:
		c.lease = DefaultLease
	}
	if c.queuedLease > c.lease && c.lease > 0 {
		c.fail("WithQueuedLease(%v) is longer than the lease (%v)", c.queuedLease, c.lease)
	}
	return c, c.invalid
}

// queuedLeaseOr is the queued lease: the option's, or the default capped
// at the lease.
func (c runConfig) queuedLeaseOr() time.Duration {
	if c.queuedLease > 0 {
		return c.queuedLease
	}
	return min(DefaultQueuedLease, c.lease)
}
