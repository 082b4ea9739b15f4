package dedupetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/idemq/idemq/dedupe"
)

// atOnce bounds how long a key stays held after its owner failed or died:
// no lease to wait out, only the server noticing.
const atOnce = 5 * time.Second

// txFailureTests cover an owner that fails, panics, loses its session or
// dies: its effect rolls back with its record, and the key is free at once.
var txFailureTests = map[string]func(*testing.T, TxHarness){
	"FunctionErrorStoresNothing": func(t *testing.T, h TxHarness) {
		s, k := h.store(t), key(t)
		boom := errors.New("boom")
		_, err := s.RunTx(testContext(t), k, nil, func(ctx context.Context) ([]byte, error) {
			if err := h.Effect(ctx, k, "failed"); err != nil {
				return nil, err
			}
			return []byte("failed"), boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("a failing run = %v, want its function's error", err)
		}
		h.assertEffects(t, k)
		assertFreeAtOnce(t, h, k)
	},
	"PanicRollsBack": func(t *testing.T, h TxHarness) {
		s, k := h.store(t), key(t)
		func() {
			defer func() {
				if p := recover(); p != "boom" {
					t.Fatalf("recovered %v, want the function's panic \"boom\"", p)
				}
			}()
			_, _ = s.RunTx(testContext(t), k, nil, func(ctx context.Context) ([]byte, error) {
				if err := h.Effect(ctx, k, "panicked"); err != nil {
					return nil, err
				}
				panic("boom")
			})
		}()
		h.assertEffects(t, k)
		assertFreeAtOnce(t, h, k)
	},
	"KilledSessionFreesKeyAtOnce": func(t *testing.T, h TxHarness) {
		k := key(t)
		owner := startHolder(t, h, h.store(t), k, "owner", nil)
		waiter := goRunTx(testContext(t), h.store(t), k, nil, effectRun(h, k, "waiter"))
		h.awaitWaiters(t, 1)
		killed := time.Now()
		if err := owner.kill(testContext(t)); err != nil {
			t.Fatalf("killing the owner's session: %v", err)
		}
		r := result(t, waiter, "the waiter of a killed owner")
		assertRan(t, r.out, r.err, "waiter")
		if took := time.Since(killed); took > atOnce {
			t.Errorf("the waiter ran %v after the owner's session was killed, want within %v", took, atOnce)
		}
		owner.finish(nil)
		if out, err := owner.wait(t); err == nil {
			t.Errorf("the killed owner's RunTx = %+v, nil; want an error: its transaction is gone", out)
		}
		h.assertEffects(t, k, "waiter")
	},
	"KilledProcessFreesKeyAtOnce": func(t *testing.T, h TxHarness) {
		if h.Process == nil {
			t.Skip("the harness has no Process hook")
		}
		k := key(t)
		child := startHoldingProcess(t, h, k)
		waiter := goRunTx(testContext(t), h.store(t), k, nil, effectRun(h, k, "waiter"))
		h.awaitWaiters(t, 1)
		killed := time.Now()
		child.kill(t)
		r := result(t, waiter, "the waiter of a SIGKILLed owner")
		assertRan(t, r.out, r.err, "waiter")
		if took := time.Since(killed); took > atOnce {
			t.Errorf("the waiter ran %v after the owner's process was killed, want within %v", took, atOnce)
		}
		h.assertEffects(t, k, "waiter")
	},
}

// assertFreeAtOnce checks that key runs again right away: a run that had
// to wait for a lingering transaction would get ErrInProgress.
func assertFreeAtOnce(t *testing.T, h TxHarness, key string) {
	t.Helper()
	quick := h.Store(t, TxStoreOptions{LockTimeout: 100 * time.Millisecond})
	out, err := runEffect(t, h, quick, key, "again", nil)
	if errors.Is(err, dedupe.ErrInProgress) {
		t.Fatalf("the key is still held after its run ended: %v", err)
	}
	assertRan(t, out, err, "again")
	h.assertEffects(t, key, "again")
}
