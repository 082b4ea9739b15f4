package dedupetest

import (
	"context"
	"errors"
	"github.com/idemq/idemq/internal/testwait"
	"testing"
	"time"

	"github.com/idemq/idemq/dedupe"
)

// faultTests cover a store that hangs or answers twice: the guard keeps its
// own clock, and every operation recognises its own earlier effect.
var faultTests = map[string]func(*testing.T, Backend){
	"CtxEndedDuringClaimDoesNotStartFn": func(t *testing.T, b Backend) {
		s := openStore(t, b)
		for _, mode := range modes {
			t.Run(mode.name, func(t *testing.T) {
				k := key(t)
				ctx, cancel := context.WithCancel(testContext(t))
				defer cancel()
				// The caller goes away while its claim (or, optimistic, its
				// read) is in flight; the store call itself completes.
				gone := &cancelDuringCall{Store: s, cancel: cancel}
				_, err := dedupe.Run(ctx, gone, k, func(ctx context.Context, end dedupe.End[int]) (int, error) {
					t.Error("fn started on a ctx that ended before it began")
					return 0, nil
				}, mode.opts...)
				if !errors.Is(err, context.Canceled) {
					t.Errorf("Run whose ctx ended during the claim = %v, want context.Canceled", err)
				}
				// Nothing is left behind: the key runs at once for the next caller.
				if got, err := dedupe.Run(testContext(t), s, k, noop, append(mode.opts[:len(mode.opts):len(mode.opts)], dedupe.WithNoWait())...); err != nil || got != 1 {
					t.Errorf("next Run = %v, %v; want 1, nil (the claim released)", got, err)
				}
			})
		}
	},
	"HungRenewalCancelsOwnerBeforeTakerStarts": func(t *testing.T, b Backend) {
		stalled := &hangingStore{Store: openStore(t, b), renew: true, until: until(t)}
		StalledOwnerStopsFirst(t, stalled, openStore(t, b), func() {})
	},
	"HungCommitReturnsUnknownAtTimeout": func(t *testing.T, b Backend) {
		s := &hangingStore{Store: openStore(t, b), commit: true, until: until(t)}
		for _, mode := range modes {
			t.Run(mode.name, func(t *testing.T) {
				opts := append([]dedupe.RunOption{dedupe.WithCommitTimeout(200 * time.Millisecond)}, mode.opts...)
				done := make(chan error, 1)
				go func() {
					_, err := dedupe.Run(testContext(t), s, key(t), noop, opts...)
					done <- err
				}()
				select {
				case err := <-done:
					if !errors.Is(err, dedupe.ErrCommitUnknown) {
						t.Fatalf("Run = %v, want ErrCommitUnknown", err)
					}
				case <-time.After(5 * time.Second):
					t.Fatal("Run still waits for a hung commit 5s after its 200ms commit timeout")
				}
			})
		}
	},
	"RetriedCommitWins": func(t *testing.T, b Backend) {
		s := &retryingStore{openStore(t, b)}
		for _, mode := range modes {
			t.Run(mode.name, func(t *testing.T) {
				ctx, k := testContext(t), key(t)
				got, err := dedupe.Run(ctx, s, k, func(ctx context.Context, end dedupe.End[string]) (int, error) {
					end("mine")
					return 7, nil
				}, mode.opts...)
				if err != nil || got != 7 {
					t.Fatalf("Run with a retried commit = %v, %v; want 7, nil (not a conflict with itself)", got, err)
				}
				_, err = dedupe.Run(ctx, s, k, func(ctx context.Context, end dedupe.End[string]) (int, error) {
					t.Error("a duplicate ran")
					return 0, nil
				}, dedupe.WithOptimistic())
				assertConflict(t, err, "mine")
			})
		}
	},
	"FailedCommitIsSentAgain": func(t *testing.T, b Backend) {
		for _, mode := range modes {
			for _, async := range []bool{false, true} {
				flaky, ctx, k := &flakyStore{Store: openStore(t, b), fails: 2}, testContext(t), key(t)
				var s dedupe.Store = flaky
				if async {
					s = asyncFlakyStore{flaky}
				}
				got, err := dedupe.Run(ctx, s, k, func(ctx context.Context, end dedupe.End[string]) (int, error) {
					end("mine")
					return 7, nil
				}, mode.opts...)
				if err != nil || got != 7 {
					t.Fatalf("%s (ExecAsync: %v): Run whose first two commits failed = %v, %v; want 7, nil (sent again)", mode.name, async, got, err)
				}
			}
		}
		s, ctx, k := &flakyStore{Store: openStore(t, b), fails: 2}, testContext(t), key(t)
		ticket := claim(t, newBatch[string](t, s), k)[0]
		mustEnd(t, ticket, "mine")
		assertErr(t, ticket.Result(ctx), nil)
	},
	"FailedReleaseIsSentAgain": func(t *testing.T, b Backend) {
		s, ctx, k := openStore(t, b), testContext(t), key(t)
		flaky := &flakyStore{Store: s, fails: 2}
		_, err := dedupe.Run(ctx, flaky, k, func(ctx context.Context, end dedupe.End[string]) (int, error) {
			return 0, errHandler
		}, dedupe.WithClaim(time.Minute))
		assertErr(t, err, errHandler)
		if rec, err := s.Get(ctx, k); err != nil || rec.State != dedupe.Absent {
			t.Fatalf("key after a failed handler whose first two releases failed = %+v, %v; want released", rec, err)
		}
		ticket := claim(t, newBatch[string](t, &flakyStore{Store: s, fails: 2}), k)[0]
		mustRelease(t, ticket)
		assertErr(t, ticket.Result(ctx), dedupe.ErrReleased)
		if rec, err := s.Get(ctx, k); err != nil || rec.State != dedupe.Absent {
			t.Fatalf("key after a Batch release sent three times = %+v, %v; want released", rec, err)
		}
	},
	"RetriedClaimHolds": func(t *testing.T, b Backend) {
		s, ctx := &retryingStore{openStore(t, b)}, testContext(t)
		got, err := dedupe.Run(ctx, s, key(t), noop, dedupe.WithClaim(time.Minute), dedupe.WithNoWait())
		if err != nil || got != 1 {
			t.Fatalf("Run with a retried claim = %v, %v; want 1, nil (not in progress against itself)", got, err)
		}
	},
	"LateClaimReplyNeverStartsFn": func(t *testing.T, b Backend) {
		lease := 300 * time.Millisecond
		late := &lateReplyStore{Store: openStore(t, b), delay: lease * 3 / 2}
		_, err := dedupe.Run(testContext(t), late, key(t), func(ctx context.Context, end dedupe.End[int]) (int, error) {
			t.Error("fn started although its claim answered after the lease could have run out")
			return 0, nil
		}, dedupe.WithClaim(lease))
		assertErr(t, err, dedupe.ErrLeaseLost)
	},
	"SlowRenewalRepliesStopOwner": func(t *testing.T, b Backend) {
		// Each renewal succeeds on the store but answers half a lease late:
		// the lease counts from the send, so the owner must give up.
		lease := 600 * time.Millisecond
		slow := &slowRenewStore{Store: openStore(t, b), delay: lease / 2}
		_, err := dedupe.Run(testContext(t), slow, key(t), func(ctx context.Context, end dedupe.End[int]) (int, error) {
			select {
			case <-ctx.Done():
				return 0, ctx.Err()
			case <-time.After(5 * lease):
				t.Error("an owner whose renewals answer late still ran 5 leases later")
				return 0, nil
			}
		}, dedupe.WithClaim(lease))
		assertErr(t, err, dedupe.ErrLeaseLost)
	},
}

// StalledOwnerStopsFirst runs a claim-first owner on stalled (lease 600ms),
// calls stall once the owner's fn runs (after which the owner's link to the
// store hangs), and a taker on taker. It fails the test unless the owner's fn
// was cancelled, with ErrLeaseLost, before the taker's fn started: two
// owners must never run at once. Backends use it with their own way of
// stalling a link (a frozen TCP proxy, a hung renewal).
func StalledOwnerStopsFirst(t *testing.T, stalled, taker dedupe.Store, stall func()) {
	t.Helper()
	ctx, k, lease := testContext(t), key(t), 600*time.Millisecond
	holding := make(chan struct{})
	type stop struct {
		at    time.Time
		cause error
	}
	stopped := make(chan stop, 1)
	go func() {
		_, _ = dedupe.Run(ctx, stalled, k, func(ctx context.Context, end dedupe.End[int]) (int, error) {
			close(holding)
			<-ctx.Done()
			stopped <- stop{time.Now(), context.Cause(ctx)}
			return 0, ctx.Err()
		}, dedupe.WithClaim(lease), dedupe.WithCommitTimeout(300*time.Millisecond))
	}()
	testwait.Recv(t, holding, "holding")
	held := time.Now()
	stall()
	var takerStarted time.Time
	if _, err := dedupe.Run(ctx, taker, k, func(ctx context.Context, end dedupe.End[int]) (int, error) {
		takerStarted = time.Now()
		end(2)
		return 2, nil
	}, dedupe.WithClaim(lease)); err != nil {
		t.Fatalf("taker = %v, want to run after the stalled owner's lease", err)
	}
	select {
	case s := <-stopped:
		if !s.at.Before(takerStarted) {
			t.Fatalf("the stalled owner was cancelled %v after the taker started", s.at.Sub(takerStarted))
		}
		// By its own clock: 2/3 of the lease after the claim was sent (fn
		// started a little later), with room for a loaded machine.
		if took := s.at.Sub(held); took > lease*5/6 {
			t.Fatalf("the stalled owner was cancelled %v after it started, want by ~%v (2/3 of the lease)", took, lease*2/3)
		}
		if !errors.Is(s.cause, dedupe.ErrLeaseLost) {
			t.Fatalf("stalled owner's cause = %v, want ErrLeaseLost", s.cause)
		}
	default:
		t.Fatal("the taker ran while the stalled owner was still running: two owners at once")
	}
}
