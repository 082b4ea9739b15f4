package dedupetest

import (
	"context"
	"errors"
	"github.com/idemq/idemq/internal/testwait"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/idemq/idemq/dedupe"
)

// semanticsTests cover the edges of Run's contract: modes mixed on one key,
// end outside fn, runtime.Goexit, notifications that only say "re-read".
var semanticsTests = map[string]func(*testing.T, Backend){
	"OptimisticRunWaitsForLiveClaim": func(t *testing.T, b Backend) {
		s, ctx, k := openStore(t, b), testContext(t), key(t)
		holding, finish := make(chan struct{}), make(chan struct{})
		owner := make(chan error, 1)
		go func() {
			_, err := dedupe.Run(ctx, s, k, func(ctx context.Context, end dedupe.End[string]) (int, error) {
				close(holding)
				<-finish
				end("owner")
				return 1, nil
			}, dedupe.WithClaim(time.Minute))
			owner <- err
		}()
		testwait.Recv(t, holding, "holding")
		ranWhileClaimed := func(ctx context.Context, end dedupe.End[string]) (int, error) {
			t.Error("an optimistic run started fn while a claim-first owner held the key")
			return 0, nil
		}
		_, err := dedupe.Run(ctx, s, k, ranWhileClaimed, dedupe.WithNoWait(), dedupe.WithOptimistic())
		assertErr(t, err, dedupe.ErrInProgress)
		var cause error
		_, err = dedupe.Run(ctx, s, k, func(ctx context.Context, end dedupe.End[string]) (int, error) {
			<-ctx.Done() // eager: started at once, cancelled by the check
			cause = context.Cause(ctx)
			return 0, ctx.Err()
		}, dedupe.WithEagerStart(), dedupe.WithOptimistic())
		assertErr(t, err, dedupe.ErrInProgress)
		assertErr(t, cause, dedupe.ErrInProgress)
		waiter := make(chan error, 1)
		go func() {
			_, err := dedupe.Run(ctx, s, k, ranWhileClaimed, dedupe.WithOptimistic())
			waiter <- err
		}()
		close(finish)
		assertErr(t, testwait.Recv(t, owner, "owner"), nil)
		assertConflict(t, testwait.Recv(t, waiter, "waiter"), "owner")
	},
	"EndAfterReturnDoesNothing": func(t *testing.T, b Backend) {
		s := openStore(t, b)
		for _, mode := range modes {
			t.Run(mode.name, func(t *testing.T) {
				ctx, k := testContext(t), key(t)
				var late dedupe.End[int]
				_, err := dedupe.Run(ctx, s, k, func(ctx context.Context, end dedupe.End[int]) (int, error) {
					late = end
					return 0, nil
				}, mode.opts...)
				assertErr(t, err, dedupe.ErrEndNotCalled)
				late(1) // from a goroutine fn left behind
				if rec, err := s.Get(ctx, k); err != nil || rec.State != dedupe.Absent {
					t.Fatalf("key after a late end = %v, %v; want absent", rec.State, err)
				}
				if _, err := dedupe.Run(ctx, s, k, noop, mode.opts...); err != nil {
					t.Fatalf("next run = %v, want nil", err)
				}
			})
		}
	},
	"EndCalledTwiceReportsTheCommit": func(t *testing.T, b Backend) {
		s, ctx := openStore(t, b), testContext(t)
		got, err := dedupe.Run(ctx, s, key(t), func(ctx context.Context, end dedupe.End[int]) (int, error) {
			end(1)
			end(2)
			return 5, nil
		}, dedupe.WithOptimistic())
		if got != 5 || !errors.Is(err, dedupe.ErrEndCalledTwice) || errors.Is(err, dedupe.ErrConflict) {
			t.Fatalf("won, end twice: Run = %v, %v; want fn's result and ErrEndCalledTwice alone", got, err)
		}
		k := key(t)
		commitValue(t, s, k, 9)
		_, err = dedupe.Run(ctx, s, k, func(ctx context.Context, end dedupe.End[int]) (int, error) {
			end(1)
			end(2)
			return 5, nil
		}, dedupe.WithEagerStart(), dedupe.WithOptimistic())
		if !errors.Is(err, dedupe.ErrEndCalledTwice) {
			t.Fatalf("lost, end twice: Run = %v, want ErrEndCalledTwice", err)
		}
		assertConflict(t, err, 9) // joined: the commit's own outcome
	},
	"GoexitInFnCleansUp": func(t *testing.T, b Backend) {
		s := openStore(t, b)
		for _, mode := range modes {
			t.Run(mode.name, func(t *testing.T) {
				ctx, k := testContext(t), key(t)
				var wg sync.WaitGroup
				wg.Go(func() {
					_, _ = dedupe.Run(ctx, s, k, func(ctx context.Context, end dedupe.End[int]) (int, error) {
						runtime.Goexit() // what t.Fatal does in a handler
						return 0, nil
					}, mode.opts...)
					t.Error("Run returned after runtime.Goexit")
				})
				wg.Wait()
				assertNoInterests(t, s)
				if _, err := dedupe.Run(ctx, s, k, noop, append(mode.opts, dedupe.WithNoWait())...); err != nil {
					t.Fatalf("run after Goexit = %v, want nil (claim released)", err)
				}
			})
		}
	},
	"ReleaseEventMakesOptimisticRunReread": func(t *testing.T, b Backend) {
		inner, ctx, k := openStore(t, b), testContext(t), key(t)
		quiet := &quietStore{Store: inner, events: make(chan dedupe.Event, 1)}
		running := make(chan struct{})
		done := make(chan error, 1)
		go func() {
			_, err := dedupe.Run(ctx, quiet, k, func(ctx context.Context, end dedupe.End[string]) (int, error) {
				close(running)
				<-ctx.Done()
				return 0, ctx.Err()
			}, dedupe.WithOptimistic())
			done <- err
		}()
		testwait.Recv(t, running, "running")
		commitValue(t, inner, k, "silent") // its notification never reaches the run
		quiet.events <- dedupe.Event{Kind: dedupe.EventRelease}
		select {
		case err := <-done:
			assertConflict(t, err, "silent")
		case <-time.After(5 * time.Second):
			t.Fatal("an EventRelease did not make the optimistic run re-read its key")
		}
	},
	"PanickingCodecLeavesNoClaim": func(t *testing.T, b Backend) {
		s, ctx, k := openStore(t, b), testContext(t), key(t)
		began := time.Now()
		func() {
			defer func() {
				if p := recover(); p != "codec bug" {
					t.Fatalf("recovered %v, want the codec's panic", p)
				}
			}()
			_, _ = dedupe.Run(ctx, s, k, noop, dedupe.WithClaim(time.Minute), dedupe.WithCodec(panicCodec{}))
		}()
		if took := time.Since(began); took > dedupe.DefaultCommitTimeout/2 {
			t.Errorf("the panic was re-raised after %v: Run waited for a commit that never started", took)
		}
		if _, err := dedupe.Run(ctx, s, k, noop, dedupe.WithClaim(time.Minute), dedupe.WithNoWait()); err != nil {
			t.Fatalf("run after the panic = %v, want nil (claim released)", err)
		}
	},
}

// modes are Run's two modes, for tests that hold in both.
var modes = []struct {
	name string
	opts []dedupe.RunOption
}{
	{"Optimistic", []dedupe.RunOption{dedupe.WithOptimistic()}},
	{"Claim", []dedupe.RunOption{dedupe.WithClaim(time.Minute)}},
}
