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

// txConcurrencyTests cover runs of one key at once: one runs, the others
// wait for it and get its value, or run when it rolled back.
var txConcurrencyTests = map[string]func(*testing.T, TxHarness){
	"HundredRunsOneEffect": func(t *testing.T, h TxHarness) {
		const runs, stores = 100, 4
		ss := make([]dedupe.TxStore, stores)
		for i := range ss {
			ss[i] = h.store(t)
		}
		k, start := key(t), make(chan struct{})
		results := make([]txResult, runs)
		var wg sync.WaitGroup
		for i := range runs {
			wg.Go(func() {
				<-start
				results[i].out, results[i].err = runEffect(t, h, ss[i%stores], k, fmt.Sprint("run ", i), nil)
			})
		}
		close(start)
		wg.Wait()
		effects := h.Effects(t, k)
		if len(effects) != 1 {
			t.Fatalf("effects of %d concurrent runs = %q, want exactly one", runs, effects)
		}
		ran := 0
		for i, r := range results {
			switch {
			case r.err != nil:
				t.Errorf("run %d = %v, want its value or a duplicate", i, r.err)
			case string(r.out.Value) != effects[0]:
				t.Errorf("run %d = %q (duplicate %v), want the value of the one effect, %q", i, r.out.Value, r.out.Duplicate, effects[0])
			case !r.out.Duplicate:
				ran++
			}
		}
		if ran != 1 {
			t.Errorf("%d runs returned their own value, want 1", ran)
		}
	},
	"WaiterGetsOwnersValue": func(t *testing.T, h TxHarness) {
		s, k := h.store(t), key(t)
		owner := startHolder(t, h, s, k, "owner", nil)
		dup := goRunTx(testContext(t), h.store(t), k, nil, notCalled(t))
		h.awaitWaiters(t, 1)
		owner.finish(nil)
		out, err := owner.wait(t)
		assertRan(t, out, err, "owner")
		r := result(t, dup, "the waiter")
		assertDuplicate(t, r.out, r.err, "owner")
		h.assertEffects(t, k, "owner")
	},
	"WaiterRunsWhenOwnerFails": func(t *testing.T, h TxHarness) {
		s, k := h.store(t), key(t)
		owner := startHolder(t, h, s, k, "owner", nil)
		waiter := goRunTx(testContext(t), h.store(t), k, nil, effectRun(h, k, "waiter"))
		h.awaitWaiters(t, 1)
		boom := errors.New("boom")
		owner.finish(boom)
		if _, err := owner.wait(t); !errors.Is(err, boom) {
			t.Fatalf("failed owner = %v, want its function's error", err)
		}
		r := result(t, waiter, "the waiter")
		assertRan(t, r.out, r.err, "waiter")
		h.assertEffects(t, k, "waiter")
	},
	"OtherKeysDoNotWait": func(t *testing.T, h TxHarness) {
		s, k := h.store(t), key(t)
		owner := startHolder(t, h, s, k, "owner", nil)
		other := key(t)
		r := result(t, goRunTx(testContext(t), h.store(t), other, nil, effectRun(h, other, "other")), "a run of another key")
		assertRan(t, r.out, r.err, "other")
		owner.finish(nil)
		out, err := owner.wait(t)
		assertRan(t, out, err, "owner")
	},
	"LockTimeoutIsInProgress": func(t *testing.T, h TxHarness) {
		k := key(t)
		owner := startHolder(t, h, h.store(t), k, "owner", nil)
		impatient := h.Store(t, TxStoreOptions{LockTimeout: 200 * time.Millisecond})
		started := time.Now()
		_, err := impatient.RunTx(testContext(t), k, nil, notCalled(t))
		if !errors.Is(err, dedupe.ErrInProgress) {
			t.Errorf("a run past its 200ms lock timeout = %v, want ErrInProgress", err)
		}
		if took := time.Since(started); took > promptBound {
			t.Errorf("a run with a 200ms lock timeout returned after %v", took)
		}
		owner.finish(nil)
		out, err := owner.wait(t)
		assertRan(t, out, err, "owner")
		h.assertEffects(t, k, "owner")
	},
	"WaiterEndsWithItsContext": func(t *testing.T, h TxHarness) {
		k := key(t)
		owner := startHolder(t, h, h.store(t), k, "owner", nil)
		ctx, cancel := context.WithTimeout(testContext(t), 300*time.Millisecond)
		defer cancel()
		r := result(t, goRunTx(ctx, h.store(t), k, nil, notCalled(t)), "a waiter whose context ended")
		if !errors.Is(r.err, context.DeadlineExceeded) {
			t.Errorf("a waiter past its context's deadline = %+v, %v; want context.DeadlineExceeded", r.out, r.err)
		}
		owner.finish(nil)
		out, err := owner.wait(t)
		assertRan(t, out, err, "owner")
		out, err = h.store(t).RunTx(testContext(t), k, nil, notCalled(t))
		assertDuplicate(t, out, err, "owner")
	},
}
