package dedupetest

import (
	"context"
	"errors"
	"fmt"
	"github.com/idemq/idemq/internal/testwait"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/idemq/idemq/dedupe"
)

// abortBound is the longest a loser may stay blocked after the winner's Run
// returned. Measured figures are logged by LoserIsAbortedPromptly.
const abortBound = time.Second

// notificationTests cover how concurrent runs of one key learn of each other.
var notificationTests = map[string]func(*testing.T, Backend){
	"LoserIsAbortedPromptly": func(t *testing.T, b Backend) {
		winner, loser := openStore(t, b), openStore(t, b)
		var latencies []time.Duration
		for range 30 {
			latencies = append(latencies, abortLatency(t, winner, loser, key(t)))
		}
		slices.Sort(latencies)
		t.Logf("abort latency over %d runs: p50 %v, p90 %v, max %v",
			len(latencies), latencies[len(latencies)/2], latencies[len(latencies)*9/10], latencies[len(latencies)-1])
		if worst := latencies[len(latencies)-1]; worst > abortBound {
			t.Fatalf("a loser stayed blocked %v after the winner returned, want < %v", worst, abortBound)
		}
	},
	"EagerStartIsCancelledByStoredValue": func(t *testing.T, b Backend) {
		s, ctx, k := openStore(t, b), testContext(t), key(t)
		commitValue(t, s, k, "stored")
		var cause error
		_, err := dedupe.Run(ctx, s, k, func(ctx context.Context, end dedupe.End[string]) (int, error) {
			<-ctx.Done()
			cause = context.Cause(ctx)
			return 0, ctx.Err()
		}, dedupe.WithEagerStart(), dedupe.WithOptimistic())
		assertConflict(t, err, "stored")
		assertConflict(t, cause, "stored")
	},
	"Race32DistinctConnectionsOneWinner": func(t *testing.T, b Backend) {
		const guards, rounds = 32, 200
		stores := openStores(t, b, guards)
		for round := range rounds {
			if err := race(testContext(t), stores, key(t)); err != nil {
				t.Fatalf("round %d: %v", round, err)
			}
		}
	},
}

// abortLatency starts a loser that blocks on ctx.Done, lets a winner commit,
// and returns how long after the winner's Run returned the loser's Run did.
func abortLatency(t *testing.T, winner, loser dedupe.Store, k string) time.Duration {
	t.Helper()
	ctx := testContext(t)
	started := make(chan struct{})
	type result struct {
		err error
		at  time.Time
	}
	done := make(chan result, 1)
	go func() {
		_, err := dedupe.Run(ctx, loser, k, func(ctx context.Context, end dedupe.End[int]) (int, error) {
			close(started)
			<-ctx.Done()
			return 0, ctx.Err()
		}, dedupe.WithOptimistic())
		done <- result{err, time.Now()}
	}()
	testwait.Recv(t, started, "started")
	commitValue(t, winner, k, 99)
	committed := time.Now()
	r := testwait.Recv(t, done, "done")
	assertConflict(t, r.err, 99)
	return max(r.at.Sub(committed), 0)
}

// race runs one guard per store on key k at once; each commits a distinct
// value after 0-5 ms. Exactly one must win and every other must get its value.
func race(ctx context.Context, stores []dedupe.Store, k string) error {
	var wg sync.WaitGroup
	start := make(chan struct{})
	errs := make([]error, len(stores))
	for i, s := range stores {
		wg.Go(func() {
			<-start
			_, errs[i] = dedupe.Run(ctx, s, k, func(ctx context.Context, end dedupe.End[int]) (int, error) {
				time.Sleep(time.Duration(rand.IntN(5000)) * time.Microsecond) // the work
				end(i)
				return i, nil
			}, dedupe.WithOptimistic())
		})
	}
	close(start)
	wg.Wait()
	return checkOneWinner(ctx, stores[0], k, errs)
}

func checkOneWinner(ctx context.Context, s dedupe.Store, k string, errs []error) error {
	winner := -1
	for i, err := range errs {
		if err == nil {
			if winner >= 0 {
				return fmt.Errorf("guards %d and %d both won", winner, i)
			}
			winner = i
		}
	}
	if winner < 0 {
		return errors.New("no guard won")
	}
	for i, err := range errs {
		if c, ok := asConflict[int](err); i != winner && (!ok || c.Value != winner) {
			return fmt.Errorf("guard %d returned %v, want a conflict with value %d", i, err, winner)
		}
	}
	rec, err := s.Get(ctx, k)
	if err != nil || string(rec.Value) != fmt.Sprint(winner) {
		return fmt.Errorf("stored %q, %v; want the winner's %d", rec.Value, err, winner)
	}
	return nil
}
