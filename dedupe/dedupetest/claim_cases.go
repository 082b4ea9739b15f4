package dedupetest

import (
	"context"
	"errors"
	"github.com/idemq/idemq/internal/testwait"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/idemq/idemq/dedupe"
)

// claimTests cover claim-first mode: one owner runs, duplicates wait or fail fast.
var claimTests = map[string]func(*testing.T, Backend){
	"Race32RunsFnExactlyOnce": func(t *testing.T, b Backend) {
		const guards, rounds = 32, 20
		stores := openStores(t, b, guards)
		for round := range rounds {
			var calls atomic.Int32
			errs := make([]error, guards)
			var wg sync.WaitGroup
			start, k := make(chan struct{}), key(t)
			for i, s := range stores {
				wg.Go(func() {
					<-start
					_, errs[i] = dedupe.Run(testContext(t), s, k, func(ctx context.Context, end dedupe.End[int]) (int, error) {
						calls.Add(1)
						end(i)
						return i, nil
					}, dedupe.WithClaim(5*time.Second))
				})
			}
			close(start)
			wg.Wait()
			if n := calls.Load(); n != 1 {
				t.Fatalf("round %d: fn ran %d times, want 1", round, n)
			}
			if err := checkOneWinner(testContext(t), stores[0], k, errs); err != nil {
				t.Fatalf("round %d: %v", round, err)
			}
		}
	},
	"NoWaitReturnsInProgress": func(t *testing.T, b Backend) {
		s, ctx, k := openStore(t, b), testContext(t), key(t)
		holding, finish := make(chan struct{}), make(chan struct{})
		done := make(chan error, 1)
		go func() {
			_, err := dedupe.Run(ctx, s, k, func(ctx context.Context, end dedupe.End[int]) (int, error) {
				close(holding)
				<-finish
				end(1)
				return 1, nil
			}, dedupe.WithClaim(time.Second))
			done <- err
		}()
		testwait.Recv(t, holding, "holding")
		_, err := dedupe.Run(ctx, s, k, noop, dedupe.WithClaim(time.Second), dedupe.WithNoWait())
		if !errors.Is(err, dedupe.ErrInProgress) {
			t.Errorf("duplicate with WithNoWait = %v, want ErrInProgress", err)
		}
		close(finish)
		if err := testwait.Recv(t, done, "done"); err != nil {
			t.Fatalf("owner = %v", err)
		}
	},
	"WaiterGetsOwnersValue": func(t *testing.T, b Backend) {
		s, ctx, k := openStore(t, b), testContext(t), key(t)
		holding, finish := make(chan struct{}), make(chan struct{})
		go func() {
			_, _ = dedupe.Run(ctx, s, k, func(ctx context.Context, end dedupe.End[string]) (int, error) {
				close(holding)
				<-finish
				end("owner")
				return 1, nil
			}, dedupe.WithClaim(10*time.Second))
		}()
		testwait.Recv(t, holding, "holding")
		waiter := make(chan error, 1)
		go func() {
			_, err := dedupe.Run(ctx, s, k, func(ctx context.Context, end dedupe.End[string]) (int, error) {
				t.Error("waiter ran fn while the owner held the claim")
				return 0, nil
			}, dedupe.WithClaim(10*time.Second))
			waiter <- err
		}()
		close(finish)
		assertConflict(t, testwait.Recv(t, waiter, "waiter"), "owner")
	},
	"WaiterInAnotherStoreHearsCommitPromptly": func(t *testing.T, b Backend) {
		owner, waiter, ctx, k := openStore(t, b), openStore(t, b), testContext(t), key(t)
		holding, finish := make(chan struct{}), make(chan struct{})
		go func() {
			_, _ = dedupe.Run(ctx, owner, k, func(ctx context.Context, end dedupe.End[string]) (int, error) {
				close(holding)
				<-finish
				end("owner")
				return 1, nil
			}, dedupe.WithClaim(time.Minute))
		}()
		testwait.Recv(t, holding, "holding")
		got := make(chan error, 1)
		go func() {
			_, err := dedupe.Run(ctx, waiter, k, func(ctx context.Context, end dedupe.End[string]) (int, error) {
				t.Error("the waiter ran fn while the owner held the claim")
				return 0, nil
			}, dedupe.WithClaim(time.Minute))
			got <- err
		}()
		awaitInterest(t, waiter)
		close(finish)
		select {
		case err := <-got:
			assertConflict(t, err, "owner")
		case <-time.After(promptBound):
			t.Fatalf("the waiter did not hear the owner's commit within %v (the lease is a minute)", promptBound)
		}
	},
	"WaiterInAnotherStoreHearsReleasePromptly": func(t *testing.T, b Backend) {
		owner, waiter, ctx, k := openStore(t, b), openStore(t, b), testContext(t), key(t)
		holding, fail := make(chan struct{}), make(chan struct{})
		go func() {
			_, _ = dedupe.Run(ctx, owner, k, func(ctx context.Context, end dedupe.End[int]) (int, error) {
				close(holding)
				<-fail
				return 0, errHandler
			}, dedupe.WithClaim(time.Minute))
		}()
		testwait.Recv(t, holding, "holding")
		got := make(chan error, 1)
		go func() {
			_, err := dedupe.Run(ctx, waiter, k, noop, dedupe.WithClaim(time.Minute))
			got <- err
		}()
		awaitInterest(t, waiter)
		close(fail)
		select {
		case err := <-got:
			assertErr(t, err, nil)
		case <-time.After(promptBound):
			t.Fatalf("the waiter did not hear the owner's release within %v (the lease is a minute)", promptBound)
		}
	},
	"FailedOwnerReleasesToWaiter": func(t *testing.T, b Backend) {
		s, ctx, k := openStore(t, b), testContext(t), key(t)
		holding, fail := make(chan struct{}), make(chan struct{})
		owner := make(chan error, 1)
		go func() {
			_, err := dedupe.Run(ctx, s, k, func(ctx context.Context, end dedupe.End[int]) (int, error) {
				close(holding)
				<-fail
				return 0, errHandler
			}, dedupe.WithClaim(time.Minute))
			owner <- err
		}()
		testwait.Recv(t, holding, "holding")
		go func() { <-time.After(50 * time.Millisecond); close(fail) }() // the waiter is waiting by then, or claims after
		began := time.Now()
		got, err := dedupe.Run(ctx, s, k, noop, dedupe.WithClaim(time.Minute))
		if err != nil || got != 1 {
			t.Fatalf("waiter = %v, %v; want to run after the owner failed", got, err)
		}
		if waited := time.Since(began); waited > 30*time.Second {
			t.Fatalf("waiter waited %v: the failed owner's claim was not released", waited)
		}
		if err := testwait.Recv(t, owner, "owner"); !errors.Is(err, errHandler) {
			t.Fatalf("owner = %v, want its handler error", err)
		}
	},
	"KeepClaimOnErrorBlocksUntilLeaseEnds": func(t *testing.T, b Backend) {
		s, ctx, k := openStore(t, b), testContext(t), key(t)
		// The claim's reply must come within the lease (a later one loses
		// the claim): 300ms was too short on a loaded machine.
		lease := 2 * time.Second
		_, err := dedupe.Run(ctx, s, k, func(ctx context.Context, end dedupe.End[int]) (int, error) {
			return 0, errHandler
		}, dedupe.WithClaim(lease), dedupe.WithKeepClaimOnError())
		if !errors.Is(err, errHandler) {
			t.Fatalf("owner = %v", err)
		}
		if _, err := dedupe.Run(ctx, s, k, noop, dedupe.WithClaim(lease), dedupe.WithNoWait()); !errors.Is(err, dedupe.ErrInProgress) {
			t.Fatalf("run right after = %v, want ErrInProgress (claim kept)", err)
		}
		waitFree(t, s, k, 5*time.Second)
		if _, err := dedupe.Run(ctx, s, k, noop, dedupe.WithClaim(lease), dedupe.WithNoWait()); err != nil {
			t.Fatalf("run after the lease = %v, want nil", err)
		}
	},
	"HeartbeatKeepsLongRunOwned": func(t *testing.T, b Backend) {
		s, ctx, k := openStore(t, b), testContext(t), key(t)
		// The owner's local clock gives up a lease lease*2/3 after the last
		// renewal it sent; renewals go out every lease/3, so one round trip
		// slower than lease/3 loses it. 2s leaves 667ms for a round trip on
		// a loaded 2-core machine running the suite with -race (600ms failed
		// under a load of 10 and more).
		lease := 2 * time.Second
		got, err := dedupe.Run(ctx, s, k, func(ctx context.Context, end dedupe.End[int]) (int, error) {
			for range 4 { // runs 8/3 leases long
				<-time.After(lease * 2 / 3)
				if _, err := dedupe.Run(ctx, s, k, noop, dedupe.WithClaim(lease), dedupe.WithNoWait()); !errors.Is(err, dedupe.ErrInProgress) {
					t.Errorf("duplicate during a long run = %v, want ErrInProgress", err)
				}
			}
			end(1)
			return 1, ctx.Err()
		}, dedupe.WithClaim(lease))
		if err != nil || got != 1 {
			t.Fatalf("long owner = %v, %v; want 1, nil", got, err)
		}
	},
	"LeaseLostOwnerIsFencedAndTakerWins": func(t *testing.T, b Backend) {
		stalled := &noRenewStore{Store: openStore(t, b)}
		taker, ctx, k := openStore(t, b), testContext(t), key(t)
		lease := 200 * time.Millisecond
		holding, takerDone := make(chan struct{}), make(chan struct{})
		var cause error
		owner := make(chan error, 1)
		go func() {
			_, err := dedupe.Run(ctx, stalled, k, func(ctx context.Context, end dedupe.End[string]) (int, error) {
				close(holding)
				<-ctx.Done() // cancelled before its lease can expire
				cause = context.Cause(ctx)
				<-takerDone // then commits anyway, like a handler that ignores ctx
				end("stale owner")
				return 1, nil
			}, dedupe.WithClaim(lease))
			owner <- err
		}()
		testwait.Recv(t, holding, "holding")
		_, err := dedupe.Run(ctx, taker, k, func(ctx context.Context, end dedupe.End[string]) (int, error) {
			end("taker")
			return 2, nil
		}, dedupe.WithClaim(lease))
		if err != nil {
			t.Fatalf("taker = %v, want to take over after the lease", err)
		}
		close(takerDone)
		err = testwait.Recv(t, owner, "owner")
		if !errors.Is(err, dedupe.ErrLeaseLost) {
			t.Fatalf("stale owner = %v, want ErrLeaseLost", err)
		}
		assertConflict(t, err, "taker")
		if !errors.Is(cause, dedupe.ErrLeaseLost) {
			t.Errorf("stale owner's ctx cause = %v, want ErrLeaseLost", cause)
		}
		if rec, _ := taker.Get(ctx, k); string(rec.Value) != `"taker"` {
			t.Fatalf("stored %q, want the taker's value", rec.Value)
		}
	},
	"DeadOwnerIsTakenOverAfterLease": func(t *testing.T, b Backend) {
		s, ctx, k := openStore(t, b), testContext(t), key(t)
		lease := 300 * time.Millisecond
		if _, ok, err := s.Claim(ctx, k, "crashed-owner", lease); err != nil || !ok {
			t.Fatalf("Claim = %v, %v", ok, err)
		}
		claimed := time.Now()
		var ranAfter time.Duration
		got, err := dedupe.Run(ctx, s, k, func(ctx context.Context, end dedupe.End[int]) (int, error) {
			ranAfter = time.Since(claimed)
			end(1)
			return 1, nil
		}, dedupe.WithClaim(lease))
		if err != nil || got != 1 {
			t.Fatalf("Run = %v, %v; want to take over", got, err)
		}
		if ranAfter < lease-50*time.Millisecond {
			t.Fatalf("fn ran %v after the dead owner's claim, before its %v lease ended", ranAfter, lease)
		}
	},
	"ReleaseBeforeSubscriptionIsNotMissed": func(t *testing.T, b Backend) {
		s, ctx, k := openStore(t, b), testContext(t), key(t)
		if _, ok, err := s.Claim(ctx, k, "owner", time.Minute); err != nil || !ok {
			t.Fatalf("Claim = %v, %v", ok, err)
		}
		// The owner releases between the waiter's first claim and its
		// subscription: no notification can reach the waiter.
		racy := &beforeWatchStore{Store: s, hook: func() { _, _ = s.Release(ctx, k, "owner") }}
		done := make(chan error, 1)
		go func() {
			_, err := dedupe.Run(ctx, racy, k, noop, dedupe.WithClaim(time.Minute))
			done <- err
		}()
		select {
		case err := <-done:
			assertErr(t, err, nil)
		case <-time.After(10 * time.Second):
			t.Fatal("a waiter missed a release that came before its subscription (it waits for the 1m lease)")
		}
	},
}

// noRenewStore is a store whose renewals never reach the backend, as for an
// owner cut off from Redis while its handler runs.
type noRenewStore struct{ dedupe.Store }

func (s *noRenewStore) Renew(ctx context.Context, key, token string, lease time.Duration) (bool, error) {
	return false, errors.New("dedupetest: renewal dropped")
}
