package dedupetest

import (
	"context"
	"errors"
	"github.com/idemq/idemq/internal/testwait"
	"sync/atomic"
	"testing"
	"time"

	"github.com/idemq/idemq/dedupe"
)

// takeoverTests cover an owner whose work finished after its lease ran out
// and another owner took the key (a stalled store): the finished work never
// runs again; its commit waits for the taker, then commits on the free key
// or reports the taker's commit.
var takeoverTests = map[string]func(*testing.T, Backend){
	"FinishedRunCommitsOnceTakerReleases": func(t *testing.T, b Backend) {
		inner := openStore(t, b)
		raw, ctx, k := openStore(t, b), testContext(t), key(t)
		owner, calls := takenOverRun(t, &noRenewStore{Store: inner}, raw, k)
		awaitInterest(t, inner) // the finished run waits for the taker
		select {
		case err := <-owner:
			t.Fatalf("the finished run returned %v while the taker held the key, want it to wait", err)
		default:
		}
		if released, err := raw.Release(ctx, k, takerToken); err != nil || !released {
			t.Fatalf("taker's Release = %v, %v; want true, nil", released, err)
		}
		if err := testwait.Recv(t, owner, "owner"); err != nil {
			t.Fatalf("finished run = %v, want nil: its value commits on the free key", err)
		}
		if n := calls.Load(); n != 1 {
			t.Errorf("fn ran %d times, want 1", n)
		}
		if rec, err := raw.Get(ctx, k); err != nil || rec.State != dedupe.Committed || string(rec.Value) != `"stale owner"` {
			t.Fatalf("stored %+v, %v; want the finished run's value committed", rec, err)
		}
	},
	"FinishedRunReportsTakersCommit": func(t *testing.T, b Backend) {
		inner := openStore(t, b)
		raw, ctx, k := openStore(t, b), testContext(t), key(t)
		owner, calls := takenOverRun(t, &noRenewStore{Store: inner}, raw, k)
		awaitInterest(t, inner)
		c := dedupe.Commit{Token: takerToken, Fenced: true, Value: []byte(`"taker"`), TTL: time.Minute}
		if _, won, err := raw.Commit(ctx, k, c); err != nil || !won {
			t.Fatalf("taker's Commit = %v, %v; want won", won, err)
		}
		err := testwait.Recv(t, owner, "owner")
		if !errors.Is(err, dedupe.ErrLeaseLost) {
			t.Fatalf("finished run = %v, want ErrLeaseLost with the taker's value", err)
		}
		assertConflict(t, err, "taker")
		if n := calls.Load(); n != 1 {
			t.Errorf("fn ran %d times, want 1", n)
		}
	},
}

// takerToken is the owner token of the claim that takes the key over.
const takerToken = "taker-token"

// takeoverLease is the stalled owner's lease: short, so that the taker gets
// the key soon, yet long enough that a loaded machine's claim reply comes
// within it (a reply later than the lease loses the claim before fn runs;
// 150ms did under load).
const takeoverLease = time.Second

// takenOverRun starts a Run on stalled (renewals never arrive) whose fn,
// once its lease is lost, waits for a taker to claim k on raw and then ends
// with "stale owner". It returns Run's error channel and fn's call count.
func takenOverRun(t *testing.T, stalled, raw dedupe.Store, k string) (<-chan error, *atomic.Int32) {
	t.Helper()
	ctx := testContext(t)
	var calls atomic.Int32
	holding, taken := make(chan struct{}), make(chan struct{})
	owner := make(chan error, 1)
	go func() {
		_, err := dedupe.Run(ctx, stalled, k, func(ctx context.Context, end dedupe.End[string]) (int, error) {
			calls.Add(1)
			close(holding)
			<-ctx.Done() // the lease is lost by the local clock
			<-taken      // the work finishes after another owner took the key
			end("stale owner")
			return 1, nil
		}, dedupe.WithClaim(takeoverLease))
		owner <- err
	}()
	select {
	case <-holding:
	case err := <-owner:
		t.Fatalf("Run = %v before its fn started, want fn to run", err)
	case <-time.After(testwait.Bound):
		t.Fatalf("fn did not start within %v", testwait.Bound)
	}
	deadline := time.Now().Add(promptBound)
	for {
		_, claimed, err := raw.Claim(ctx, k, takerToken, time.Minute)
		if err != nil {
			t.Fatalf("taker's Claim: %v", err)
		}
		if claimed {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the stalled owner's claim did not expire within %v", promptBound)
		}
		time.Sleep(10 * time.Millisecond) // the lease runs out in the store
	}
	close(taken)
	return owner, &calls
}
