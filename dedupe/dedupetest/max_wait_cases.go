package dedupetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/idemq/idemq/dedupe"
	"github.com/idemq/idemq/internal/testwait"
)

// maxWaitBound is WithMaxWait's bound in these cases: far below the
// owner's lease (a minute), so a waiter that gives up at the bound cannot
// have waited for the lease instead.
const maxWaitBound = 150 * time.Millisecond

// maxWaitTests cover WithMaxWait: a duplicate gives up waiting for a live
// owner at the bound, with ErrWaitTimeout and without running fn; a run
// that got the key within the bound is never cancelled by it.
var maxWaitTests = map[string]func(*testing.T, Backend){
	"GivesUpAtTheBound": func(t *testing.T, b Backend) {
		s := openStore(t, b)
		for _, mode := range modes {
			t.Run(mode.name, func(t *testing.T) {
				k := key(t)
				owner := holdKey(t, s, k)
				start := time.Now()
				_, err := dedupe.Run(testContext(t), s, k, fnMustNotRun(t), append(mode.opts[:len(mode.opts):len(mode.opts)], dedupe.WithMaxWait(maxWaitBound))...)
				assertGaveUp(t, err, time.Since(start))
				owner.finish(t, "owner")
				assertOwnerValue(t, s, k, "owner")
			})
		}
	},
	"UnconfirmedSubscriptionGivesUpAtTheBound": func(t *testing.T, b Backend) {
		s := openStore(t, b)
		stuck := &stuckWatchStore{Store: s} // Redis never confirms the subscription
		for _, mode := range modes {
			t.Run(mode.name, func(t *testing.T) {
				k := key(t)
				owner := holdKey(t, s, k) // claim-first subscribes only to wait for it; optimistic always
				start := time.Now()
				_, err := dedupe.Run(testContext(t), stuck, k, fnMustNotRun(t), append(mode.opts[:len(mode.opts):len(mode.opts)], dedupe.WithMaxWait(maxWaitBound))...)
				assertSubscriptionGaveUp(t, err, time.Since(start))
				owner.finish(t, "owner")
			})
		}
	},
	"StartedFnOutlivesTheBound": func(t *testing.T, b Backend) {
		s, ctx, k := openStore(t, b), testContext(t), key(t)
		owner := holdKey(t, s, k)
		// The owner fails (its claim is released) once the waiter has
		// subscribed: the waiter claims the key within the bound, and its
		// fn then runs past the bound, uncancelled.
		subscribed := make(chan struct{}, 1)
		hooked := &beforeWatchStore{Store: s, hook: func() { subscribed <- struct{}{} }}
		go func() {
			<-subscribed
			owner.fail()
		}()
		got, err := dedupe.Run(ctx, hooked, k, func(ctx context.Context, end dedupe.End[string]) (string, error) {
			select {
			case <-time.After(2 * maxWaitBound): // the work outlasts the bound
			case <-ctx.Done():
				return "", context.Cause(ctx)
			}
			end("waiter")
			return "waiter", nil
		}, dedupe.WithClaim(time.Minute), dedupe.WithMaxWait(maxWaitBound))
		if err != nil || got != "waiter" {
			t.Fatalf("Run that got the key within the bound = %q, %v; want \"waiter\", nil", got, err)
		}
		if err := owner.wait(t); err == nil {
			t.Error("the failed owner's Run = nil, want its error")
		}
		assertOwnerValue(t, s, k, "waiter")
	},
}

// heldKey is a claim-first Run holding its key in fn until told to end.
type heldKey struct {
	end  chan error // the owner's fn returns this error, or commits on nil
	done chan error // the owner's Run result
	val  string
}

// holdKey starts a claim-first Run on k (lease one minute) whose fn holds
// the key until finish or fail, and returns once fn runs.
func holdKey(t *testing.T, s dedupe.Store, k string) *heldKey {
	t.Helper()
	h := &heldKey{end: make(chan error, 1), done: make(chan error, 1)}
	holding := make(chan struct{})
	go func() {
		_, err := dedupe.Run(testContext(t), s, k, func(ctx context.Context, end dedupe.End[string]) (int, error) {
			close(holding)
			if err := <-h.end; err != nil {
				return 0, err
			}
			end(h.val)
			return 1, nil
		}, dedupe.WithClaim(time.Minute))
		h.done <- err
	}()
	testwait.Recv(t, holding, "the owner holding the key")
	return h
}

var errOwnerFailed = errors.New("dedupetest: the owner failed")

// finish makes the owner commit value, and waits for its Run.
func (h *heldKey) finish(t *testing.T, value string) {
	t.Helper()
	h.val = value
	h.end <- nil
	if err := h.wait(t); err != nil {
		t.Fatalf("owner = %v, want nil", err)
	}
}

// fail makes the owner's fn fail, which releases its claim.
func (h *heldKey) fail() { h.end <- errOwnerFailed }

func (h *heldKey) wait(t *testing.T) error {
	t.Helper()
	return testwait.Recv(t, h.done, "the owner's Run")
}

func fnMustNotRun(t *testing.T) dedupe.Func[string, string] {
	return func(ctx context.Context, end dedupe.End[string]) (string, error) {
		t.Error("fn started while another owner held the key")
		return "", nil
	}
}

// assertGaveUp checks a waiter's error and wait against WithMaxWait's
// bound: ErrWaitTimeout and ErrInProgress after the bound, well before
// the owner's lease.
func assertGaveUp(t *testing.T, err error, waited time.Duration) {
	t.Helper()
	if !errors.Is(err, dedupe.ErrWaitTimeout) || !errors.Is(err, dedupe.ErrInProgress) {
		t.Errorf("Run past WithMaxWait = %v, want ErrWaitTimeout and ErrInProgress", err)
	}
	assertWaitedTheBound(t, waited)
}

// assertSubscriptionGaveUp checks the error and wait of a Run whose
// subscription was never confirmed, against WithMaxWait's bound: a
// *StoreError wrapping ErrWaitTimeout (not an ErrInProgress: the
// subscription failed, whoever holds the key) after the bound.
func assertSubscriptionGaveUp(t *testing.T, err error, waited time.Duration) {
	t.Helper()
	var storeErr *dedupe.StoreError
	if !errors.Is(err, dedupe.ErrWaitTimeout) || !errors.As(err, &storeErr) || errors.Is(err, dedupe.ErrInProgress) {
		t.Errorf("Run whose subscription was never confirmed = %v, want a *StoreError wrapping ErrWaitTimeout", err)
	}
	assertWaitedTheBound(t, waited)
}

// assertWaitedTheBound checks that a Run gave up after WithMaxWait's
// bound, and well before the owner's lease (a minute) or ctx's end.
func assertWaitedTheBound(t *testing.T, waited time.Duration) {
	t.Helper()
	if waited < maxWaitBound || waited > 20*time.Second {
		t.Errorf("Run gave up after %v, want between the bound (%v) and well before the lease", waited, maxWaitBound)
	}
}

// assertOwnerValue checks that k holds the committed value want.
func assertOwnerValue(t *testing.T, s dedupe.Store, k, want string) {
	t.Helper()
	_, err := dedupe.Run(testContext(t), s, k, fnMustNotRun(t), dedupe.WithClaim(time.Minute), dedupe.WithNoWait())
	var conflict *dedupe.ConflictError[string]
	if !errors.As(err, &conflict) || conflict.Value != want {
		t.Errorf("Run after the owner = %v, want a conflict with %q", err, want)
	}
}
