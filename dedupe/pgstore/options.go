package pgstore

import (
	"fmt"
	"time"

	"github.com/idemq/idemq/dedupe"
)

// Defaults of a Store's options.
const (
	// DefaultLockTimeout bounds how long a Run waits for another
	// transaction that holds its key's row (WithLockTimeout).
	DefaultLockTimeout = 30 * time.Second
	// DefaultIdleTimeout ends a Run's session when it sits idle inside its
	// transaction for this long (WithIdleTimeout).
	DefaultIdleTimeout = time.Minute
)

// Option configures a Store.
type Option func(*config)

type config struct {
	table       string
	ttl         time.Duration
	lockTimeout time.Duration
	idleTimeout time.Duration
	codec       dedupe.Codec
	err         error
}

func (c *config) fail(format string, args ...any) {
	if c.err == nil {
		c.err = fmt.Errorf("%w: pgstore: "+format, append([]any{dedupe.ErrInvalidOption}, args...)...)
	}
}

// WithTable sets the table (default DefaultTable): a lower-case
// identifier, optionally schema-qualified ("dedupe.keys").
func WithTable(name string) Option {
	return func(c *config) {
		if !tableName.MatchString(name) {
			c.fail("WithTable(%q): want a lower-case identifier, optionally schema-qualified", name)
		}
		c.table = name
	}
}

// WithTTL sets how long a committed key is remembered (default
// dedupe.DefaultTTL, at least a millisecond).
func WithTTL(d time.Duration) Option {
	return func(c *config) {
		if d < time.Millisecond {
			c.fail("WithTTL(%v): want at least 1ms", d)
		}
		c.ttl = d
	}
}

// WithLockTimeout bounds a Run's wait for another transaction that holds
// its key (PostgreSQL's lock_timeout, for the Run's transaction only;
// default DefaultLockTimeout): past it, Run returns dedupe.ErrInProgress.
// 0 waits as long as the other transaction lasts.
func WithLockTimeout(d time.Duration) Option {
	return func(c *config) {
		if d < 0 {
			c.fail("WithLockTimeout(%v): want >= 0", d)
		}
		c.lockTimeout = d
	}
}

// WithIdleTimeout ends the session of a Run whose transaction sits idle
// for longer than d (PostgreSQL's idle_in_transaction_session_timeout, for
// the Run's transaction only; default DefaultIdleTimeout), so that a
// stalled process releases its key. Make it longer than any pause between
// two statements of the function. 0 never ends it.
func WithIdleTimeout(d time.Duration) Option {
	return func(c *config) {
		if d < 0 {
			c.fail("WithIdleTimeout(%v): want >= 0", d)
		}
		c.idleTimeout = d
	}
}

// WithCodec sets how values are encoded (default dedupe.JSONCodec).
func WithCodec(codec dedupe.Codec) Option {
	return func(c *config) {
		if codec == nil {
			c.fail("WithCodec(nil)")
		}
		c.codec = codec
	}
}
