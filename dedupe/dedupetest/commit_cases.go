package dedupetest

import (
	"context"
	"errors"
	"testing"

	"github.com/idemq/idemq/dedupe"
)

type order struct {
	ID    string
	Total int
}

var errHandler = errors.New("handler failed")

// commitTests cover one run and its duplicate, in optimistic mode.
var commitTests = map[string]func(*testing.T, Backend){
	"FirstRunReturnsResultAndCommitsValue": func(t *testing.T, b Backend) {
		s, ctx, k := openStore(t, b), testContext(t), key(t)
		got, err := dedupe.Run(ctx, s, k, func(ctx context.Context, end dedupe.End[string]) (order, error) {
			end("order-1")
			return order{ID: "order-1", Total: 42}, nil
		}, dedupe.WithOptimistic())
		if err != nil || got != (order{ID: "order-1", Total: 42}) {
			t.Fatalf("Run = %+v, %v; want order-1, nil", got, err)
		}
		rec, err := s.Get(ctx, k)
		if err != nil || rec.State != dedupe.Committed || string(rec.Value) != `"order-1"` {
			t.Fatalf("stored = %+v, %v; want committed JSON \"order-1\"", rec, err)
		}
	},
	"DuplicateGetsWinnerValueWithoutRunning": func(t *testing.T, b Backend) {
		s, ctx, k := openStore(t, b), testContext(t), key(t)
		commitValue(t, s, k, "winner")
		calls := 0
		_, err := dedupe.Run(ctx, s, k, func(ctx context.Context, end dedupe.End[string]) (int, error) {
			calls++
			end("second")
			return 0, nil
		}, dedupe.WithOptimistic())
		assertConflict(t, err, "winner")
		if !errors.Is(err, dedupe.ErrConflict) {
			t.Errorf("errors.Is(err, ErrConflict) = false for %v", err)
		}
		if calls != 0 {
			t.Errorf("fn called %d times for a duplicate, want 0", calls)
		}
	},
	"HandlerErrorAllowsRetry": func(t *testing.T, b Backend) {
		s, ctx, k := openStore(t, b), testContext(t), key(t)
		_, err := dedupe.Run(ctx, s, k, func(ctx context.Context, end dedupe.End[int]) (int, error) {
			return 0, errHandler
		}, dedupe.WithOptimistic())
		if !errors.Is(err, errHandler) {
			t.Fatalf("Run = %v, want the handler's error", err)
		}
		got, err := dedupe.Run(ctx, s, k, func(ctx context.Context, end dedupe.End[int]) (int, error) {
			end(7)
			return 7, nil
		}, dedupe.WithOptimistic())
		if err != nil || got != 7 {
			t.Fatalf("retry = %v, %v; want 7, nil (a failed run must not mark the key)", got, err)
		}
	},
	"ErrorAfterEndKeepsCommit": func(t *testing.T, b Backend) {
		s, ctx, k := openStore(t, b), testContext(t), key(t)
		got, err := dedupe.Run(ctx, s, k, func(ctx context.Context, end dedupe.End[int]) (int, error) {
			end(1)
			return 5, errHandler
		}, dedupe.WithOptimistic())
		if !errors.Is(err, errHandler) || got != 5 {
			t.Fatalf("Run = %v, %v; want 5 and the handler's error", got, err)
		}
		_, err = dedupe.Run(ctx, s, k, func(ctx context.Context, end dedupe.End[int]) (int, error) { return 0, nil }, dedupe.WithOptimistic())
		assertConflict(t, err, 1)
	},
	"EndNotCalled": func(t *testing.T, b Backend) {
		s, ctx, k := openStore(t, b), testContext(t), key(t)
		_, err := dedupe.Run(ctx, s, k, func(ctx context.Context, end dedupe.End[int]) (int, error) { return 1, nil }, dedupe.WithOptimistic())
		if !errors.Is(err, dedupe.ErrEndNotCalled) {
			t.Fatalf("Run = %v, want ErrEndNotCalled", err)
		}
		if rec, _ := s.Get(ctx, k); rec.State != dedupe.Absent {
			t.Fatalf("key is %v after a run without end, want absent", rec.State)
		}
	},
	"EndCalledTwiceFirstValueStands": func(t *testing.T, b Backend) {
		s, ctx, k := openStore(t, b), testContext(t), key(t)
		_, err := dedupe.Run(ctx, s, k, func(ctx context.Context, end dedupe.End[int]) (int, error) {
			end(1)
			end(2)
			return 0, nil
		}, dedupe.WithOptimistic())
		if !errors.Is(err, dedupe.ErrEndCalledTwice) {
			t.Fatalf("Run = %v, want ErrEndCalledTwice", err)
		}
		_, err = dedupe.Run(ctx, s, k, func(ctx context.Context, end dedupe.End[int]) (int, error) { return 0, nil }, dedupe.WithOptimistic())
		assertConflict(t, err, 1)
	},
	"PanicReleasesAndRepanics": func(t *testing.T, b Backend) {
		s, ctx, k := openStore(t, b), testContext(t), key(t)
		func() {
			defer func() {
				if p := recover(); p != "boom" {
					t.Fatalf("recovered %v, want the handler's panic \"boom\"", p)
				}
			}()
			_, _ = dedupe.Run(ctx, s, k, func(ctx context.Context, end dedupe.End[int]) (int, error) { panic("boom") }, dedupe.WithOptimistic())
		}()
		got, err := dedupe.Run(ctx, s, k, func(ctx context.Context, end dedupe.End[int]) (int, error) {
			end(3)
			return 3, nil
		}, dedupe.WithOptimistic())
		if err != nil || got != 3 {
			t.Fatalf("run after panic = %v, %v; want 3, nil", got, err)
		}
		assertNoInterests(t, s)
	},
	"CancelledContextRunsNothing": func(t *testing.T, b Backend) {
		s, k := openStore(t, b), key(t)
		ctx, cancel := context.WithCancel(testContext(t))
		cancel()
		_, err := dedupe.Run(ctx, s, k, func(ctx context.Context, end dedupe.End[int]) (int, error) {
			t.Error("fn called with a cancelled context")
			return 0, nil
		}, dedupe.WithOptimistic())
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("Run = %v, want context.Canceled", err)
		}
		assertNoInterests(t, s)
	},
}

func assertNoInterests(t *testing.T, s dedupe.Store) {
	t.Helper()
	if c, ok := s.(interestCounter); ok {
		if n := c.ActiveInterests(); n != 0 {
			t.Fatalf("ActiveInterests = %d, want 0", n)
		}
	}
}
