package dedupe

import (
	"context"
	"errors"
	"fmt"
	"sync"
)

// execution is one call of fn under a guard: it owns the goroutines that
// watch the key, renew the claim and commit, and Run waits for all of them.
type execution[V any] struct {
	g      *guard[V]
	token  string // the claim's owner token; "" in optimistic mode
	cancel context.CancelCauseFunc
	wg     sync.WaitGroup

	mu      sync.Mutex
	ends    int   // calls of end
	aborted error // why the guard cancelled fn, if it did
	result  commitResult
}

type commitResult struct {
	current Record
	won     bool
	err     error
}

func execute[R, V any](ctx context.Context, g *guard[V], interest Interest, token string, fn Func[R, V]) (R, error) {
	runCtx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	x := &execution[V]{g: g, token: token, cancel: cancel}
	stop := make(chan struct{})
	x.goWatch(runCtx, interest, stop, g.cfg.eager && token == "")
	if token != "" {
		x.wg.Go(func() { x.heartbeat(runCtx, stop) })
	}
	r, panicked, p, err := call(runCtx, fn, x.end)
	close(stop)
	x.wg.Wait() // watcher, heartbeat and commit have ended
	if panicked {
		x.releaseIfOwner(ctx)
		panic(p)
	}
	if verdict := x.verdict(ctx, err); verdict != nil {
		var zero R
		return zero, verdict
	}
	return r, err // won: an error fn returned after end does not undo the commit
}

// call runs fn, turning a panic into a value that Run re-panics after cleanup.
func call[R, V any](ctx context.Context, fn Func[R, V], end End[V]) (r R, panicked bool, p any, err error) {
	defer func() {
		if v := recover(); v != nil {
			panicked, p = true, v
		}
	}()
	r, err = fn(ctx, end)
	return r, false, nil, err
}

// end is the End handed to fn: the first call starts the commit.
func (x *execution[V]) end(value V) {
	x.mu.Lock()
	x.ends++
	first := x.ends == 1
	x.mu.Unlock()
	if !first {
		return
	}
	data, err := x.g.cfg.codec.Encode(value)
	if err != nil {
		x.setResult(commitResult{err: &encodeError{err}})
		return
	}
	x.wg.Go(func() { x.commit(data) })
}

// commit runs the store's atomic commit, detached from ctx cancellation (an
// abandoned commit has an unknown outcome) but bounded by the commit timeout.
func (x *execution[V]) commit(data []byte) {
	ctx, cancel := context.WithTimeout(context.Background(), x.g.cfg.commitTimeout)
	defer cancel()
	cur, won, err := x.g.store.Commit(ctx, x.g.key, x.token, data, x.g.cfg.ttl)
	x.setResult(commitResult{current: cur, won: won, err: err})
}

func (x *execution[V]) setResult(r commitResult) {
	x.mu.Lock()
	x.result = r
	x.mu.Unlock()
}

func (x *execution[V]) endCalled() bool {
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.ends > 0
}

// abort cancels fn with cause, unless end was already called: from then on
// the commit's result decides.
func (x *execution[V]) abort(cause error) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.ends > 0 || x.aborted != nil {
		return
	}
	x.aborted = cause
	x.cancel(cause)
}

// verdict returns the error Run must return, or nil when this run's commit
// won (Run then returns what fn returned).
func (x *execution[V]) verdict(ctx context.Context, fnErr error) error {
	x.mu.Lock()
	ends, aborted, res := x.ends, x.aborted, x.result
	x.mu.Unlock()
	switch {
	case ends == 0 && aborted != nil:
		x.releaseIfOwner(ctx)
		return aborted
	case ends == 0 && fnErr != nil:
		if !x.g.cfg.keepClaimOnError {
			x.releaseIfOwner(ctx)
		}
		return fnErr
	case ends == 0:
		x.releaseIfOwner(ctx)
		return ErrEndNotCalled
	case ends > 1:
		return ErrEndCalledTwice
	}
	return x.commitErr(ctx, res)
}

// commitErr interprets the commit's result.
func (x *execution[V]) commitErr(ctx context.Context, res commitResult) error {
	var enc *encodeError
	switch {
	case errors.As(res.err, &enc):
		x.releaseIfOwner(ctx)
		return fmt.Errorf("dedupe: encoding the value of key %q: %w", x.g.key, enc.err)
	case errors.Is(res.err, ErrStoreClosed):
		return ErrStoreClosed
	case res.err != nil:
		return fmt.Errorf("%w: key %q: %w", ErrCommitUnknown, x.g.key, res.err)
	case res.won:
		return nil
	case res.current.State == Committed && x.token == "":
		return x.g.conflict(res.current.Value, nil)
	case res.current.State == Committed:
		return x.g.conflict(res.current.Value, ErrLeaseLost)
	case x.token == "":
		return ErrInProgress // a claim-mode owner holds the key
	}
	return ErrLeaseLost
}

// releaseIfOwner gives up the claim in claim mode, so that a retry need not
// wait for the lease. A failed release only delays that retry.
func (x *execution[V]) releaseIfOwner(ctx context.Context) {
	if x.token == "" {
		return
	}
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), x.g.cfg.commitTimeout)
	defer cancel()
	_, _ = x.g.store.Release(rctx, x.g.key, x.token)
}

// encodeError carries a codec failure from end to Run.
type encodeError struct{ err error }

func (e *encodeError) Error() string { return e.err.Error() }
