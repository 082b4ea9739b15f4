package consume

import (
	"context"
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

// Sleep waits d, or until ctx is done; it reports whether the full wait passed.
func Sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
