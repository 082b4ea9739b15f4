package dedupe

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/idemq/idemq/internal/clock"
)

// execution is one call of fn under a guard. In optimistic mode it owns
// the goroutine that watches the key, and Run waits for it; in claim mode a
// timer keeps the lease (heartbeat.go). The commit runs in a goroutine of
// its own that Run waits for only up to the commit timeout: a store call
// stuck on a dead connection ends at the client's timeout, after Run has
// returned ErrCommitUnknown.
type execution[V any] struct {
	g         *guard[V]
	cancel    context.CancelCauseFunc
	wg        sync.WaitGroup
	stop      chan struct{} // optimistic mode: closed when fn has returned
	stopWatch func() bool   // claim mode: ends the watch of the store's closing

	mu        sync.Mutex
	ends      int       // calls of end while fn ran
	returned  bool      // fn has returned: end does nothing any more
	endedAt   time.Time // when the first end started the commit
	data      []byte    // the encoded value of the first end
	aborted   error     // why the guard cancelled fn, if it did
	lease     lease     // claim mode
	committed chan struct{}
	expired   <-chan struct{} // closed at the commit timeout (or once the commit is done)
	result    commitResult
}

type commitResult struct {
	current Record
	won     bool
	err     error
}

// execute runs fn under the guard. In optimistic mode the watcher turns the
// key's notifications into aborts; in claim mode the heartbeat keeps the
// lease (claimed is when the claim was sent) and no key is watched: only the
// owner can commit while its lease holds. Cleanup runs in defers, so a panic or runtime.Goexit in fn
// (t.Fatal in a test handler) stops the watcher and heartbeat and gives up
// the claim like any other failure; a panic is then re-raised.
func execute[R, V any](ctx context.Context, g *guard[V], interest Interest, claimed time.Time, fn Func[R, V]) (R, error) {
	runCtx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	x := &execution[V]{g: g, cancel: cancel}
	if g.fenced() {
		x.keepLease(runCtx, claimed)
	} else {
		x.stop = make(chan struct{})
		x.goWatch(runCtx, interest, g.cfg.eager)
	}
	normal := false
	defer func() {
		if !normal {
			x.fnReturned()
			x.abandon(ctx)
		}
	}()
	r, err := fn(runCtx, x.end)
	normal = true
	x.fnReturned()
	switch verdict := x.verdict(ctx, err); verdict {
	case nil:
		return r, err // won: an error fn returned after end does not undo the commit
	case ErrEndCalledTwice:
		return r, verdict // the first value was committed
	default:
		var zero R
		return zero, verdict
	}
}

// fnReturned stops end, the watcher and the heartbeat, and waits for the
// watcher.
func (x *execution[V]) fnReturned() {
	x.mu.Lock()
	x.returned = true
	x.mu.Unlock()
	if x.stop != nil {
		close(x.stop)
	}
	x.stopLease()
	x.wg.Wait()
}

// abandon settles the key after fn panicked or called runtime.Goexit: a
// claim is released if end was not called; a started commit is left to
// finish within the commit timeout.
func (x *execution[V]) abandon(ctx context.Context) {
	if x.endCount() == 0 {
		x.releaseIfOwner(ctx)
		return
	}
	_ = x.awaitCommit()
}

// end is the End handed to fn: the first call while fn runs starts the
// commit. The value is encoded before the call counts, so a codec that
// panics leaves the run as if end was never called.
func (x *execution[V]) end(value V) {
	x.mu.Lock()
	returned := x.returned
	x.mu.Unlock()
	if returned {
		return
	}
	data, encErr := x.g.cfg.codec.Encode(value)
	x.mu.Lock()
	if x.returned {
		x.mu.Unlock()
		return
	}
	x.ends++
	if x.ends > 1 {
		x.mu.Unlock()
		return
	}
	x.endedAt = time.Now()
	x.committed = make(chan struct{})
	if encErr != nil {
		x.mu.Unlock()
		x.setResult(commitResult{err: &encodeError{encErr}})
		return
	}
	x.data = data
	// One deadline serves the store call and awaitCommit's wait.
	deadline := x.endedAt.Add(x.g.cfg.commitTimeout)
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	x.expired = ctx.Done()
	x.mu.Unlock()
	go func() {
		defer cancel() // after setResult: awaitCommit sees the result first
		x.setResult(x.g.commitBy(ctx, deadline, data))
	}()
}

// commit runs the store's atomic commit of data, detached from ctx
// cancellation (an abandoned commit has an unknown outcome) and bounded by
// the commit timeout for clients that honour context deadlines.
func (g *guard[V]) commit(data []byte) commitResult {
	deadline := time.Now().Add(g.cfg.commitTimeout)
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()
	return g.commitBy(ctx, deadline, data)
}

// commitBy is commit under ctx, whose deadline is deadline.
func (g *guard[V]) commitBy(ctx context.Context, deadline time.Time, data []byte) commitResult {
	c := Commit{Token: g.token, Fenced: g.fenced(), Value: data, TTL: g.cfg.ttl}
	for n := 0; ; n++ {
		cur, won, err := g.store.Commit(ctx, g.key, c)
		if !retryable(err) || !retryBefore(deadline, n) || !clock.Sleep(ctx, retryBackoff(n)) {
			return commitResult{current: cur, won: won, err: err}
		}
	}
}

func (x *execution[V]) setResult(r commitResult) {
	x.mu.Lock()
	x.result = r
	x.mu.Unlock()
	close(x.committed)
}

// awaitCommit returns the commit's result, or ErrCommitUnknown once the
// commit timeout has passed since end, even if the store call still hangs:
// the guard keeps its own clock.
func (x *execution[V]) awaitCommit() commitResult {
	x.mu.Lock()
	committed, expired := x.committed, x.expired
	x.mu.Unlock()
	select {
	case <-committed:
	case <-expired: // the deadline, or the commit done: its result is set first
		select {
		case <-committed:
		default:
			return commitResult{err: fmt.Errorf("no reply within the commit timeout (%v)", x.g.cfg.commitTimeout)}
		}
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.result
}

func (x *execution[V]) endCount() int {
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.ends
}

// abort cancels fn with cause, unless end was already called (from then on
// the commit's result decides) or fn has returned.
func (x *execution[V]) abort(cause error) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.abortLocked(cause)
}

// abortLocked is abort; the caller holds mu.
func (x *execution[V]) abortLocked(cause error) {
	if x.ends > 0 || x.aborted != nil || x.returned {
		return
	}
	x.aborted = cause
	x.cancel(cause)
}

// verdict returns the error Run must return, or nil when this run's commit
// won (Run then returns what fn returned).
func (x *execution[V]) verdict(ctx context.Context, fnErr error) error {
	x.mu.Lock()
	ends, aborted := x.ends, x.aborted
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
	}
	err := x.commitErr(ctx, x.awaitCommit())
	switch {
	case ends > 1 && err != nil:
		return errors.Join(ErrEndCalledTwice, err) // and the commit's outcome
	case ends > 1:
		return ErrEndCalledTwice // alone: the first value won
	}
	return err
}

// commitErr interprets the commit's result.
func (x *execution[V]) commitErr(ctx context.Context, res commitResult) error {
	switch enc, _ := res.err.(*encodeError); {
	case enc != nil:
		x.releaseIfOwner(ctx)
		return fmt.Errorf("dedupe: encoding the value of key %q: %w", x.g.key, enc.err)
	case res.err != nil:
		return unknownCommit(x.g.key, res.err)
	case res.won:
		return nil
	case res.current.State == Committed && !x.g.fenced():
		return x.g.conflict(res.current.Token, res.current.Value, nil)
	case res.current.State == Committed:
		return x.g.conflict(res.current.Token, res.current.Value, ErrLeaseLost)
	case !x.g.fenced():
		return ErrInProgress // a claim-first owner holds the key
	}
	return x.commitAfterTakeover(ctx)
}

// commitAfterTakeover handles a fenced commit that found another owner's
// claim: this run's lease ran out (a stalled store, a paused process) and
// another run took the key while fn was finishing. fn has done its work, so
// it must not run again: wait for the other owner as a duplicate would, then
// commit this run's value on the free key, or return the other owner's
// commit as a *ConflictError wrapping ErrLeaseLost. If ctx ends first it
// returns ErrLeaseLost, joined with ctx's cause.
func (x *execution[V]) commitAfterTakeover(ctx context.Context) error {
	x.mu.Lock()
	data := x.data
	x.mu.Unlock()
	if _, err := x.g.acquire(ctx); err != nil {
		var conflict *ConflictError[V]
		if errors.As(err, &conflict) {
			conflict.Err = ErrLeaseLost
			return conflict
		}
		return errors.Join(ErrLeaseLost, err)
	}
	return x.commitErr(ctx, x.g.commit(data))
}

// releaseIfOwner gives up the claim in claim mode, so that a retry need not
// wait for the lease. A failed release only delays that retry.
func (x *execution[V]) releaseIfOwner(ctx context.Context) {
	if !x.g.fenced() {
		return
	}
	x.g.bounded(ctx, x.g.release)
}

// encodeError carries a codec failure from end to Run.
type encodeError struct{ err error }

func (e *encodeError) Error() string { return e.err.Error() }

// unknownCommit is the error for a commit whose store call failed: its
// outcome is unknown.
func unknownCommit(key string, err error) error {
	if errors.Is(err, ErrStoreClosed) {
		return ErrStoreClosed
	}
	return fmt.Errorf("%w: key %q: %w", ErrCommitUnknown, key, err)
}
