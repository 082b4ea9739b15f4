package consume

import (
	"math/rand/v2"
	"time"
)

// Backoff is an exponential backoff: Min, doubling up to Max.
type Backoff struct {
	Min, Max time.Duration
}

// Delay returns the wait before retry number n (0-based): Min doubling up
// to Max, with up to 20% jitter so that members do not retry in step.
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
