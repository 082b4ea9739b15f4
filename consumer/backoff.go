package consumer

import (
	"math/rand/v2"
	"time"
)

// Backoff is an exponential backoff: Min, doubling up to Max, with up to
// 20% jitter so that members do not retry in step. Its zero fields take the
// defaults of WithDefaults.
type Backoff struct {
	Min time.Duration // default 100ms
	Max time.Duration // default 5s, and at least Min
}

// Default bounds of a Backoff.
const (
	DefaultBackoffMin = 100 * time.Millisecond
	DefaultBackoffMax = 5 * time.Second
)

// WithDefaults returns b with its zero fields set.
func (b Backoff) WithDefaults() Backoff {
	if b.Min == 0 {
		b.Min = DefaultBackoffMin
	}
	if b.Max == 0 {
		b.Max = max(DefaultBackoffMax, b.Min)
	}
	return b
}

// Check returns a *ConfigError (for pkg's field) when b is out of range.
func (b Backoff) Check(pkg, field string) error {
	switch {
	case b.Min < 0 || b.Max < 0:
		return Invalid(pkg, field, "%+v: want Min, Max >= 0", b)
	case b.Max != 0 && b.Max < b.Min:
		return Invalid(pkg, field, "%+v: Max is below Min", b)
	}
	return nil
}

// Delay returns the wait before retry number n (0-based).
func (b Backoff) Delay(n int) time.Duration {
	d := b.Min
	for i := 0; i < n && d < b.Max; i++ {
		d *= 2
	}
	d = min(d, b.Max)
	if d <= 0 {
		return 0
	}
	return d - time.Duration(rand.Int64N(int64(d)/5+1))
}
