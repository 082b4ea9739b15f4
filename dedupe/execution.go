package dedupe

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// execution is one call of fn under a guard. In optimistic mode it owns
// the goroutine that watches the key, and Run waits for it. One timer
// keeps the time: in claim mode the lease while fn runs (heartbeat.go),
// and in both modes the commit timeout once end was called (commit.go).
// Run waits for the commit only up to the commit timeout: a store call
// stuck on a dead connection ends at the client's timeout, after Run has
// returned ErrCommitUnknown.
type execution[V any] struct {
	g    guard[V]
	work workContext // fn's ctx: cancelled with the cause of an abort, and when Run ends
	wg   sync.WaitGroup
	stop chan struct{} // optimistic mode: closed when fn has returned

	mu            sync.Mutex
	watchingClose bool        // claim mode: the heartbeat watches the store's closing
	stopWatch     func() bool // and this ends that watch
	timer         *time.Timer // see tick
	ends          int         // calls of end while fn ran
	returned      bool        // fn has returned: end does nothing any more
	endedAt       time.Time   // when the first end started the commit
	data          []byte      // the encoded value of the first end
	aborted       error       // why the guard cancelled fn, if it did
	lease         lease       // claim mode
	committed     chan struct{}
	decided       bool // the commit's result is in (or its timeout passed)
	result        commitResult
}

// execute runs fn under the guard. In optimistic mode the watcher turns the
// key's notifications into aborts; in claim mode the heartbeat keeps the
// lease (claimed is when the claim was sent) and no key is watched: only the
// owner can commit while its lease holds. Cleanup runs in defers, so a panic or runtime.Goexit in fn
// (t.Fatal in a test handler) stops the watcher and heartbeat and gives up
// the claim like any other failure; a panic is then re-raised.
//
// fn's ctx is a workContext: a fn that never asks for Done costs no child
// context of ctx.
func execute[R, V any](ctx context.Context, x *execution[V], interest Interest, claimed time.Time, fn Func[R, V]) (R, error) {
	x.work.parent = ctx
	runCtx := &x.work
	defer x.work.finish()
	if x.g.fenced() {
		x.keepLease(runCtx, claimed)
	} else {
		x.stop = make(chan struct{})
		x.goWatch(runCtx, interest, x.g.cfg.eager)
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
// watcher. Once end was called the timer keeps the commit timeout, and
// awaitCommit stops it.
func (x *execution[V]) fnReturned() {
	x.mu.Lock()
	x.returned = true
	if x.timer != nil && x.ends == 0 {
		x.timer.Stop() // a tick under way sees returned and does nothing
	}
	stopWatch := x.stopWatch
	x.mu.Unlock()
	if x.stop != nil {
		close(x.stop)
	}
	if stopWatch != nil {
		stopWatch()
	}
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
	x.work.end(cause)
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
	return x.commitErr(ctx, x.g.commit(data, time.Now().Add(x.g.cfg.commitTimeout), 0))
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
