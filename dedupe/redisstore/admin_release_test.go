package redisstore_test

import (
	"context"
	"errors"
	"github.com/idemq/idemq/internal/testwait"
	"testing"
	"time"

	"github.com/idemq/idemq/dedupe"
	"github.com/idemq/idemq/dedupe/redisstore"
	"github.com/idemq/idemq/internal/testenv"
)

// wakeBound is how soon a waiter must run after a release: far below the
// stuck claim's lease, so only the release's notification can explain it.
const wakeBound = 10 * time.Second

// waiter starts a claim-first Run of key on a store of its own, which waits
// for the stuck claim, and returns once the waiter has marked the claim (a
// waiter always does, before it waits). The Run's fn reports on ran.
func waiter(t *testing.T, srv testenv.RedisServer, s *redisstore.Store, key string) (ran <-chan struct{}, result <-chan error) {
	t.Helper()
	ranc, resc := make(chan struct{}), make(chan error, 1)
	ws := newStore(t, srv) // here, not in the goroutine: it may fail the test
	go func() {
		_, err := dedupe.Run(context.Background(), ws, key, func(ctx context.Context, end dedupe.End[string]) (int, error) {
			close(ranc)
			end("after the release")
			return 0, nil
		}, dedupe.WithClaim(time.Minute))
		resc <- err
	}()
	deadline := time.Now().Add(wakeBound) // the mark has no signal to wait on: poll
	for !inspect(t, s, key).Watched {
		if time.Now().After(deadline) {
			t.Fatalf("no waiter marked the claim of %q within %v", key, wakeBound)
		}
		time.Sleep(5 * time.Millisecond)
	}
	return ranc, resc
}

func awaitWake(t *testing.T, ran <-chan struct{}, result <-chan error) {
	t.Helper()
	select {
	case <-ran:
	case <-time.After(wakeBound):
		t.Fatalf("the waiter did not run within %v of the release (its lease wait is a minute)", wakeBound)
	}
	if err := testwait.Recv(t, result, "the waiter's Run to return"); err != nil {
		t.Fatalf("the waiter's Run = %v, want nil", err)
	}
}

func TestForceReleaseWakesWaiter(t *testing.T) {
	t.Parallel()
	forEachAdminServer(t, func(t *testing.T, srv testenv.RedisServer) {
		s := newStore(t, srv)
		stuckClaims(t, newStore(t, srv), time.Minute, "stuck", "unwatched")
		ran, result := waiter(t, srv, s, "stuck")
		if released, err := s.ForceRelease(adminContext(t), "stuck"); !released || err != nil {
			t.Fatalf("ForceRelease = %v, %v; want true", released, err)
		}
		awaitWake(t, ran, result)
		if got := inspect(t, s, "stuck"); got.State != dedupe.Committed || string(got.Value) != `"after the release"` {
			t.Errorf("after the waiter ran: %+v, want its committed value", got)
		}
		if released, err := s.ForceRelease(adminContext(t), "unwatched"); !released || err != nil {
			t.Errorf("ForceRelease of an unwatched claim = %v, %v; want true", released, err)
		}
		if got := inspect(t, s, "unwatched"); got.State != dedupe.Absent {
			t.Errorf("after ForceRelease: %+v, want Absent", got)
		}
	})
}

// TestReleaseByTokenWakesWaiter checks what the CLI's fenced release relies
// on: Store.Release publishes only for a claim a waiter marked, and every
// waiter marks the claim before it waits, so the release wakes it.
func TestReleaseByTokenWakesWaiter(t *testing.T) {
	t.Parallel()
	forEachAdminServer(t, func(t *testing.T, srv testenv.RedisServer) {
		s := newStore(t, srv)
		ctx := adminContext(t)
		stuckClaims(t, newStore(t, srv), time.Minute, "stuck")
		ran, result := waiter(t, srv, s, "stuck")
		token := inspect(t, s, "stuck").Token
		if released, err := s.Release(ctx, "stuck", "wrong-token"); released || err != nil {
			t.Fatalf("Release with another token = %v, %v; want false", released, err)
		}
		if released, err := s.Release(ctx, "stuck", token); !released || err != nil {
			t.Fatalf("Release with the claim's token = %v, %v; want true", released, err)
		}
		awaitWake(t, ran, result)
	})
}

// TestTokenFencedReleaseAndForget checks the operator's deletions after a
// question: ForceReleaseToken and ForgetToken delete only the claim or the
// value of the token shown, and a released claim wakes its waiter.
func TestTokenFencedReleaseAndForget(t *testing.T) {
	t.Parallel()
	forEachAdminServer(t, func(t *testing.T, srv testenv.RedisServer) {
		s := newStore(t, srv)
		ctx := adminContext(t)
		stuckClaims(t, newStore(t, srv), time.Minute, "stuck")
		commitValue(t, s, "committed", "v")
		ran, result := waiter(t, srv, s, "stuck")
		claim, value := inspect(t, s, "stuck").Token, inspect(t, s, "committed").Token
		for _, c := range []struct {
			name     string
			op       func(context.Context, string, string) (bool, error)
			key, tok string
		}{
			{"ForceReleaseToken", s.ForceReleaseToken, "stuck", "another-owner"},
			{"ForceReleaseToken", s.ForceReleaseToken, "committed", value},
			{"ForceReleaseToken", s.ForceReleaseToken, "free", claim},
			{"ForgetToken", s.ForgetToken, "committed", "another-run"},
			{"ForgetToken", s.ForgetToken, "stuck", claim},
			{"ForgetToken", s.ForgetToken, "free", value},
		} {
			if done, err := c.op(ctx, c.key, c.tok); done || err != nil {
				t.Errorf("%s(%q, %q) = %v, %v; want false, nil", c.name, c.key, c.tok, done, err)
			}
		}
		if _, err := s.ForgetToken(ctx, "committed", value[:1]+":"); !errors.Is(err, dedupe.ErrInvalidOption) {
			t.Errorf("ForgetToken with a token containing ':' = %v, want ErrInvalidOption", err)
		}
		if got := inspect(t, s, "committed"); got.State != dedupe.Committed || got.Token != value {
			t.Fatalf("after the refused calls: %+v, want the committed value", got)
		}
		if released, err := s.ForceReleaseToken(ctx, "stuck", claim); !released || err != nil {
			t.Fatalf("ForceReleaseToken with the claim's token = %v, %v; want true", released, err)
		}
		awaitWake(t, ran, result)
		if forgotten, err := s.ForgetToken(ctx, "committed", value); !forgotten || err != nil {
			t.Fatalf("ForgetToken with the committing run's token = %v, %v; want true", forgotten, err)
		}
		if got := inspect(t, s, "committed"); got.State != dedupe.Absent {
			t.Errorf("after ForgetToken: %+v, want Absent", got)
		}
	})
}

func TestForceReleaseAndForgetRefuseOtherStates(t *testing.T) {
	t.Parallel()
	forEachServer(t, func(t *testing.T, srv testenv.RedisServer) {
		s := newStore(t, srv)
		ctx := adminContext(t)
		stuckClaims(t, newStore(t, srv), time.Minute, "claimed")
		commitValue(t, s, "committed", "v")
		for _, c := range []struct {
			name string
			op   func(context.Context, string) (bool, error)
			key  string
		}{
			{"ForceRelease", s.ForceRelease, "committed"},
			{"ForceRelease", s.ForceRelease, "free"},
			{"Forget", s.Forget, "claimed"},
			{"Forget", s.Forget, "free"},
		} {
			if done, err := c.op(ctx, c.key); done || err != nil {
				t.Errorf("%s(%q) = %v, %v; want false, nil", c.name, c.key, done, err)
			}
		}
		if got := inspect(t, s, "committed"); got.State != dedupe.Committed {
			t.Errorf("ForceRelease touched a committed value: %+v", got)
		}
		if got := inspect(t, s, "claimed"); got.State != dedupe.Claimed {
			t.Errorf("Forget touched a claim: %+v", got)
		}
	})
}

func TestForgetMakesNextRunRunAgain(t *testing.T) {
	t.Parallel()
	forEachAdminServer(t, func(t *testing.T, srv testenv.RedisServer) {
		s := newStore(t, srv)
		ctx := adminContext(t)
		for _, key := range []string{"order-1", "order{1}"} {
			runs := 0
			run := func() error {
				_, err := dedupe.Run(ctx, s, key, func(ctx context.Context, end dedupe.End[int]) (int, error) {
					runs++
					end(runs)
					return runs, nil
				}, dedupe.WithClaim(time.Minute))
				return err
			}
			must(t, run())
			var conflict *dedupe.ConflictError[int]
			if err := run(); !errors.As(err, &conflict) || conflict.Value != 1 {
				t.Fatalf("%q: second Run = %v, want a duplicate of run 1", key, err)
			}
			if forgotten, err := s.Forget(ctx, key); !forgotten || err != nil {
				t.Fatalf("Forget(%q) = %v, %v; want true", key, forgotten, err)
			}
			if err := run(); err != nil || runs != 2 {
				t.Fatalf("%q: Run after Forget = %v with %d runs, want nil and 2 runs", key, err, runs)
			}
		}
	})
}
