package dedupetest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"
)

// txCleanupTests cover the store's cleanup of expired records (the
// harness's Cleanup hook): it deletes only expired records, skips the ones
// a running claim holds instead of waiting for them, and neither deletes
// a claim's record nor holds claims up while both run at once.
var txCleanupTests = map[string]func(*testing.T, TxHarness){
	"DeletesOnlyExpired": func(t *testing.T, h TxHarness) {
		cleanup := cleanupHook(t, h)
		expired, live := keys(t, 3), keys(t, 2)
		commitExpiring(t, h, expired)
		s := h.store(t)
		for _, k := range live {
			out, err := runEffect(t, h, s, k, "live", nil)
			assertRan(t, out, err, "live")
		}
		revived := expired[0] // expired, then committed again: live
		out, err := runEffect(t, h, s, revived, "revived", nil)
		assertRan(t, out, err, "revived")
		if n, err := cleanup(testContext(t)); err != nil || n != 2 {
			t.Fatalf("cleanup = %d, %v; want 2 (the expired records but the revived one)", n, err)
		}
		if n, err := cleanup(testContext(t)); err != nil || n != 0 {
			t.Fatalf("second cleanup = %d, %v; want 0", n, err)
		}
		assertCommitted(t, h, s, live, "live", "live")
		assertCommitted(t, h, s, expired[:1], "revived", "first", "revived")
	},
	"SkipsHeldRecords": func(t *testing.T, h TxHarness) {
		cleanup := cleanupHook(t, h)
		ks := keys(t, 6)
		held, free := ks[:3], ks[3:]
		commitExpiring(t, h, ks)
		s := h.store(t)
		holders := make([]*holder, len(held))
		for i, k := range held {
			holders[i] = startHolder(t, h, s, k, "held", nil)
		}
		// A cleanup that waited for the held records would wait for the
		// holders, which finish only after it returned.
		ctx, cancel := context.WithTimeout(testContext(t), atOnce)
		defer cancel()
		if n, err := cleanup(ctx); err != nil || n != int64(len(free)) {
			t.Fatalf("cleanup while %d expired records are held again = %d, %v; want %d, the others", len(held), n, err, len(free))
		}
		for _, hd := range holders {
			hd.finish(nil)
			out, err := hd.wait(t)
			assertRan(t, out, err, "held")
		}
		assertCommitted(t, h, s, held, "held", "first", "held")
		for _, k := range free {
			out, err := runEffect(t, h, s, k, "second", nil)
			assertRan(t, out, err, "second")
		}
	},
	"RacesClaimsOfTheSameKeys": func(t *testing.T, h TxHarness) {
		cleanup := cleanupHook(t, h)
		ks := keys(t, 100)
		commitExpiring(t, h, ks)
		s := h.store(t)
		start, stop := make(chan struct{}), make(chan struct{})
		cleanups := make(chan error, 1)
		go func() { cleanups <- cleanUntil(t, start, stop, cleanup) }()
		results := make([]txResult, len(ks))
		took := make([]time.Duration, len(ks))
		var wg sync.WaitGroup
		for i, k := range ks {
			wg.Go(func() {
				<-start
				began := time.Now()
				results[i].out, results[i].err = runEffect(t, h, s, k, "second", nil)
				took[i] = time.Since(began)
			})
		}
		close(start)
		wg.Wait()
		close(stop)
		if err := <-cleanups; err != nil {
			t.Fatal(err)
		}
		for i, r := range results {
			assertRan(t, r.out, r.err, "second")
			if took[i] > atOnce {
				t.Errorf("a claim of an expired key took %v while cleanups ran, want under %v", took[i], atOnce)
			}
		}
		if n, err := cleanup(testContext(t)); err != nil || n != 0 {
			t.Fatalf("cleanup after every key was claimed again = %d, %v; want 0", n, err)
		}
		assertCommitted(t, h, s, ks, "second", "first", "second")
	},
}

// cleanupHook returns the harness's Cleanup, or skips the test without one.
func cleanupHook(t *testing.T, h TxHarness) func(context.Context) (int64, error) {
	t.Helper()
	if h.Cleanup == nil {
		t.Skip("the harness has no Cleanup hook")
	}
	return h.Cleanup
}

// cleanUntil runs cleanup again and again from start until stop, each call
// bounded by atOnce; it returns the first failure.
func cleanUntil(t *testing.T, start, stop <-chan struct{}, cleanup func(context.Context) (int64, error)) error {
	<-start
	var calls, deleted int64
	for {
		select {
		case <-stop:
			t.Logf("%d cleanups during the claims deleted %d records", calls, deleted)
			return nil
		default:
		}
		ctx, cancel := context.WithTimeout(context.Background(), atOnce)
		began := time.Now()
		n, err := cleanup(ctx)
		cancel()
		if err != nil {
			return fmt.Errorf("a cleanup during the claims = %w (after %v)", err, time.Since(began))
		}
		calls, deleted = calls+1, deleted+n
	}
}
