package main

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
)

// callers is how many goroutines share the store in the batch and floor
// rows, as the partition loops of a consumer do.
const callers = 4

// inRounds splits total items into rounds of at most size, run by callers
// goroutines until all are done, one fails or ctx ends.
func inRounds(ctx context.Context, total, size int, round func(ctx context.Context, n int) error) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var left atomic.Int64
	left.Store(int64(total))
	var wg sync.WaitGroup
	var mu sync.Mutex
	var errs []error
	for range callers {
		wg.Go(func() {
			for ctx.Err() == nil {
				n := int(min(left.Add(-int64(size))+int64(size), int64(size)))
				if n <= 0 {
					return
				}
				if err := round(ctx, n); err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
					cancel(err)
					return
				}
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	return context.Cause(ctx)
}
