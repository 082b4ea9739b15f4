package dedupe

import (
	"fmt"
	"time"
)

// Defaults applied when a RunOption is not given.
const (
	DefaultTTL           = 24 * time.Hour
	DefaultCommitTimeout = 10 * time.Second
)

// RunOption configures one Run.
type RunOption func(*runConfig)

type runConfig struct {
	ttl              time.Duration
	eager            bool
	lease            time.Duration // > 0: claim mode
	noWait           bool
	keepClaimOnError bool
	codec            Codec
	commitTimeout    time.Duration
	invalid          error
}

// WithTTL sets how long a committed value lives (default DefaultTTL, 24h).
// It must be >= 1ms, Redis's unit; stores keep it rounded up to whole
// milliseconds.
func WithTTL(ttl time.Duration) RunOption {
	return func(c *runConfig) {
		if ttl < time.Millisecond {
			c.fail("WithTTL(%v): the TTL must be >= 1ms", ttl)
		}
		c.ttl = ttl
	}
}

// WithEagerStart starts fn at once, in parallel with the check for a stored
// value, as the seed library does; fn is cancelled if a value turns up (with
// its *ConflictError) or a claim-first run holds the key (ErrInProgress). By
// default fn starts only after the check found no value, so a redelivered
// message never starts its side effects. Ignored in claim mode.
func WithEagerStart() RunOption { return func(c *runConfig) { c.eager = true } }

// WithClaim switches Run to claim-first mode: before fn runs, the guard
// claims the key with a random owner token and a lease, renews the lease
// every lease/3 while fn runs, and commits only if it still holds the claim.
// The lease must be >= 30ms.
func WithClaim(lease time.Duration) RunOption {
	return func(c *runConfig) {
		if lease < 30*time.Millisecond {
			c.fail("WithClaim(%v): the lease must be >= 30ms", lease)
		}
		c.lease = lease
	}
}

// WithNoWait makes Run return ErrInProgress at once when another owner holds
// a live claim on the key, instead of waiting for its outcome (in claim mode,
// and in optimistic mode when a claim-first run holds the key).
func WithNoWait() RunOption { return func(c *runConfig) { c.noWait = true } }

// WithKeepClaimOnError keeps the claim when fn fails in claim mode, so no
// other owner runs the key until the lease expires. By default the claim is
// released at once, so a retry can run.
func WithKeepClaimOnError() RunOption { return func(c *runConfig) { c.keepClaimOnError = true } }

// WithCodec sets the codec for committed values (default JSONCodec).
func WithCodec(codec Codec) RunOption {
	return func(c *runConfig) {
		if codec == nil {
			c.fail("WithCodec(nil)")
		}
		c.codec = codec
	}
}

// WithCommitTimeout bounds how long the commit may take once end is called
// (default DefaultCommitTimeout, 10s). The commit does not stop when ctx is
// cancelled, because an abandoned commit has an unknown outcome; past this
// timeout Run returns ErrCommitUnknown. It must be > 0.
func WithCommitTimeout(d time.Duration) RunOption {
	return func(c *runConfig) {
		if d <= 0 {
			c.fail("WithCommitTimeout(%v): the timeout must be > 0", d)
		}
		c.commitTimeout = d
	}
}

func (c *runConfig) fail(format string, args ...any) {
	if c.invalid == nil {
		c.invalid = fmt.Errorf("%w: "+format, append([]any{ErrInvalidOption}, args...)...)
	}
}

func newRunConfig(opts []RunOption) (runConfig, error) {
	c := runConfig{ttl: DefaultTTL, codec: JSONCodec{}, commitTimeout: DefaultCommitTimeout}
	for _, opt := range opts {
		if opt != nil {
			opt(&c)
		}
	}
	return c, c.invalid
}
