// Package clock holds the module's one wait under a context: the guard's
// commit and release retries, the Redis store's reconnects and the consumer
// engine's backoffs all sleep through Sleep.
package clock

import (
	"context"
	"time"
)

// Sleep waits d, or until ctx is done; it reports whether the full wait
// passed. A d of zero or less does not wait: it reports whether ctx is
// still live.
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
