package consume

import (
	"context"
	"errors"
	"github.com/idemq/idemq/consumer"
	"sync/atomic"
	"testing"
	"time"

	"github.com/idemq/idemq/dedupe"
)

// stalledRenewals is a store whose renewals never arrive, as when the
// store stalls while a handler runs; it offers no Exec, so the Batch sends
// each op on its own.
type stalledRenewals struct{ dedupe.Store }

func (stalledRenewals) Renew(context.Context, string, string, time.Duration) (bool, error) {
	return false, errors.New("renewal dropped")
}

// TestFinishedHandlerIsNotRunAgain: a handler that finishes after its lease
// was lost and another owner took the key never runs again in this
// process. Its value is committed once the taker releases the key; if the
// taker commits instead, the message is Processed (the work was done here)
// without OnDuplicate.
func TestFinishedHandlerIsNotRunAgain(t *testing.T) {
	t.Parallel()
	for _, takerCommits := range []bool{false, true} {
		name := map[bool]string{false: "TakerReleases", true: "TakerCommits"}[takerCommits]
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			store := dedupe.NewMemoryStore()
			defer store.Close()
			ctx := testContext(t)
			var calls, duplicates atomic.Int32
			lost, taken := make(chan struct{}), make(chan struct{})
			cfg := testConfig(stalledRenewals{store})
			cfg.Guard = []dedupe.BatchOption{dedupe.WithClaim(300 * time.Millisecond)}
			cfg.Handle = func(ctx context.Context, m msg, end dedupe.End[string]) error {
				if calls.Add(1) > 1 {
					return errors.New("ran twice")
				}
				<-ctx.Done() // the lease is lost by the local clock
				close(lost)
				<-taken // the work finishes after another owner took the key
				end("mine")
				return nil
			}
			cfg.OnDuplicate = func(context.Context, msg, string) error {
				duplicates.Add(1)
				return nil
			}
			e := newTestEngine(t, cfg)
			outcome := make(chan consumer.Outcome, 1)
			go func() {
				o, err := e.Process(ctx, msg{offset: 1, key: "k"})
				if err != nil {
					t.Errorf("Process = %v", err)
				}
				outcome <- o
			}()
			<-lost
			takeOver(ctx, t, store, "k")
			close(taken)
			for store.ActiveInterests() == 0 { // the engine waits for the taker, holding nothing
				select {
				case o := <-outcome:
					t.Fatalf("Process returned %v while the taker held the key", o)
				case <-time.After(time.Millisecond):
				}
			}
			want := `"mine"`
			if takerCommits {
				want = `"theirs"`
				c := dedupe.Commit{Token: "taker", Fenced: true, Value: []byte(want), TTL: time.Minute}
				if _, won, err := store.Commit(ctx, "k", c); err != nil || !won {
					t.Fatalf("taker's Commit = %v, %v", won, err)
				}
			} else if released, err := store.Release(ctx, "k", "taker"); err != nil || !released {
				t.Fatalf("taker's Release = %v, %v", released, err)
			}
			if o := <-outcome; o != consumer.Processed {
				t.Errorf("outcome = %v, want Processed", o)
			}
			if n := calls.Load(); n != 1 {
				t.Errorf("the handler ran %d times, want 1", n)
			}
			if n := duplicates.Load(); n != 0 {
				t.Errorf("OnDuplicate ran %d times, want 0: the work was done here", n)
			}
			if rec, err := store.Get(ctx, "k"); err != nil || string(rec.Value) != want {
				t.Errorf("stored %+v, %v; want %s committed", rec, err, want)
			}
		})
	}
}

// takeOver claims k as another owner once the lost lease has run out in
// the store.
func takeOver(ctx context.Context, t *testing.T, store dedupe.Store, k string) {
	t.Helper()
	for {
		_, claimed, err := store.Claim(ctx, k, "taker", time.Minute)
		switch {
		case err != nil:
			t.Fatalf("taker's Claim: %v", err)
		case claimed:
			return
		}
		select {
		case <-ctx.Done():
			t.Fatal("the lost lease never ran out in the store")
		case <-time.After(10 * time.Millisecond):
		}
	}
}
