package dedupetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/idemq/idemq/dedupe"
)

// lifecycleTests cover closing a store and releasing every interest.
var lifecycleTests = map[string]func(*testing.T, Backend){
	// One test per mode: closing ends the backend's store (the memory
	// backend has one store per test).
	"CloseEndsLiveRuns":      func(t *testing.T, b Backend) { closeEndsLiveRun(t, b, 0, dedupe.WithOptimistic()) },
	"CloseEndsLiveClaimRuns": func(t *testing.T, b Backend) { closeEndsLiveRun(t, b, 0, dedupe.WithClaim(time.Minute)) },
	// A claim-mode Run watches its store's closing only once fn has run a
	// little while (short work costs the store no registration): the
	// store closes before that above, after it here.
	"CloseEndsLongClaimRuns": func(t *testing.T, b Backend) {
		closeEndsLiveRun(t, b, 500*time.Millisecond, dedupe.WithClaim(time.Minute))
	},
	"NoInterestLeftAfterMixedOutcomes": func(t *testing.T, b Backend) {
		s, ctx := openStore(t, b), testContext(t)
		const runs, workers = 10_000, 16
		keys := make(chan int)
		var wg sync.WaitGroup
		for range workers {
			wg.Go(func() {
				for i := range keys {
					mixedOutcome(ctx, t, s, i)
				}
			})
		}
		for i := range runs {
			keys <- i
		}
		close(keys)
		wg.Wait()
		assertNoInterests(t, s)
		if c, ok := b.(SubscriberCounter); ok {
			keys := make([]string, runs/2)
			for i := range keys {
				keys[i] = mixedKey(i * 2)
			}
			if n := c.Subscribers(t, keys); n != 0 {
				t.Fatalf("the server counts %d subscribers on the %d keys' channels, want 0", n, len(keys))
			}
		}
	},
}

// mixedOutcome runs one guard whose outcome depends on i: win, duplicate,
// handler error, panic, cancelled context, end not called.
func mixedOutcome(ctx context.Context, t *testing.T, s dedupe.Store, i int) {
	k := mixedKey(i)
	switch i % 10 {
	case 0, 1, 2, 3:
		_, err := dedupe.Run(ctx, s, k, noop, dedupe.WithOptimistic())
		if err != nil && !errors.Is(err, dedupe.ErrConflict) {
			t.Errorf("run %d: %v", i, err)
		}
	case 4, 5:
		_, _ = dedupe.Run(ctx, s, k, func(ctx context.Context, end dedupe.End[int]) (int, error) { return 0, errHandler }, dedupe.WithOptimistic())
	case 6:
		func() {
			defer func() { _ = recover() }()
			_, _ = dedupe.Run(ctx, s, k, func(ctx context.Context, end dedupe.End[int]) (int, error) { panic("boom") }, dedupe.WithOptimistic())
		}()
	case 7:
		cctx, cancel := context.WithCancel(ctx)
		_, _ = dedupe.Run(cctx, s, k, func(ctx context.Context, end dedupe.End[int]) (int, error) {
			cancel()
			return 0, ctx.Err()
		}, dedupe.WithOptimistic())
	default:
		_, _ = dedupe.Run(ctx, s, k, func(ctx context.Context, end dedupe.End[int]) (int, error) { return 0, nil }, dedupe.WithOptimistic())
	}
}

// mixedKey pairs runs: runs 2n and 2n+1 share a key, so the second is a duplicate.
func mixedKey(i int) string { return fmt.Sprintf("mixed-%d", i/2) }

// closeEndsLiveRun closes a store while a Run on it waits in fn, runFor
// after fn started: fn's ctx ends with ErrStoreClosed (in claim mode too,
// whose lease is a minute), Run returns it, Close is idempotent and a later
// Run fails at once.
func closeEndsLiveRun(t *testing.T, b Backend, runFor time.Duration, opts ...dedupe.RunOption) {
	s, ctx := b.Store(t), testContext(t)
	started := make(chan struct{})
	var cause error
	done := make(chan error, 1)
	go func() {
		_, err := dedupe.Run(ctx, s, key(t), func(ctx context.Context, end dedupe.End[int]) (int, error) {
			close(started)
			<-ctx.Done()
			cause = context.Cause(ctx)
			return 0, ctx.Err()
		}, opts...)
		done <- err
	}()
	select {
	case <-started:
	case err := <-done:
		t.Fatalf("Run = %v before fn started", err)
	}
	// How long fn runs before the store closes: a scenario, not a wait for an event.
	<-time.After(runFor)
	for range 2 { // Close is idempotent
		if err := s.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
	}
	select {
	case err := <-done:
		if !errors.Is(err, dedupe.ErrStoreClosed) || !errors.Is(cause, dedupe.ErrStoreClosed) {
			t.Fatalf("live Run = %v (cause %v), want ErrStoreClosed", err, cause)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a Run still runs 10s after its store closed")
	}
	if _, err := dedupe.Run(ctx, s, key(t), noop, opts...); !errors.Is(err, dedupe.ErrStoreClosed) {
		t.Fatalf("Run after Close = %v, want ErrStoreClosed", err)
	}
}
