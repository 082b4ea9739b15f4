package dedupe

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/idemq/idemq/internal/clock"
)

// End commits value as the key's outcome. It does not block: it starts the
// commit, and Run waits for its result after fn returns. Call it once, when
// every step has succeeded and before fn returns; a call after fn returned
// does nothing.
type End[V any] func(value V)

// Func is the work a guard runs. ctx is cancelled when the guard learns that
// it cannot win (another run committed, the store closed, the lease was lost);
// context.Cause(ctx) says why (for a conflict, a *ConflictError[V]).
type Func[R, V any] func(ctx context.Context, end End[V]) (R, error)

// Run runs fn at most once per committed key across every process sharing
// store, and returns fn's result only after the store confirmed that this
// run's end(value) won. See the package documentation for the two modes, the
// guarantees, and what each error means for a message consumer.
func Run[R, V any](ctx context.Context, store Store, key string, fn Func[R, V], opts ...RunOption) (R, error) {
	var zero R
	x := &execution[V]{} // the guard lives in it: one allocation for both
	g := &x.g
	if err := g.cfg.setRun(opts); err != nil {
		return zero, err
	}
	if err := CheckKey(key); err != nil {
		return zero, err
	}
	if err := checkStore(store); err != nil {
		return zero, err
	}
	if fn == nil {
		return zero, fmt.Errorf("%w: nil function", ErrInvalidOption)
	}
	if ctx.Err() != nil {
		return zero, context.Cause(ctx)
	}
	g.store, g.key, g.token = store, key, printedToken(newToken(), g.cfg.fingerprint)
	if g.fenced() {
		claimed, err := g.acquire(ctx)
		switch {
		case err != nil:
			return zero, err
		case time.Since(claimed) >= leaseSafety(g.cfg.lease):
			// The claim's reply came so late that the lease may be over by
			// the local clock: fn must not start.
			g.bounded(ctx, g.release)
			return zero, ErrLeaseLost
		case ctx.Err() != nil:
			// ctx ended while the claim was in flight: fn would start
			// cancelled, and a fn that does not look at ctx first would
			// make its side effect for a caller that has gone.
			g.bounded(ctx, g.release)
			return zero, context.Cause(ctx)
		}
		return execute(ctx, x, nil, claimed, fn)
	}
	until := g.waitBound(time.Now()) // an optimistic run waits from its subscription on
	interest, err := g.watch(ctx, until)
	if err != nil {
		return zero, err
	}
	defer interest.Close()
	if !g.cfg.eager {
		if err := g.check(ctx, interest, until); err != nil {
			return zero, err
		}
		if ctx.Err() != nil { // ended during the check: fn must not start cancelled
			return zero, context.Cause(ctx)
		}
	}
	return execute(ctx, x, interest, time.Time{}, fn)
}

// guard holds what one Run knows about its key.
type guard[V any] struct {
	store Store
	key   string
	cfg   runConfig
	token string // identifies this run's commit and, in claim mode, its claim
}

// fenced reports claim-first mode: the run holds a claim and its commit is
// fenced by the claim's token.
func (g *guard[V]) fenced() bool { return g.cfg.lease > 0 }

// check is the optimistic mode's look before fn starts: a committed value is
// a *ConflictError; a live claim (a claim-first run of the same key) is
// waited out like a claim-first duplicate does, or is ErrInProgress with
// WithNoWait, so that an optimistic run never starts while a claim-first run
// holds the key. (A claim-first run that starts after this check cannot see
// the optimistic one: use one mode per key.)
func (g *guard[V]) check(ctx context.Context, interest Interest, until time.Time) error {
	for {
		rec, err := g.store.Get(ctx, g.key)
		switch {
		case err != nil:
			return g.storeErr("reading", err)
		case rec.State == Committed:
			return g.conflict(rec.Token, rec.Value, nil)
		case rec.State == Absent:
			return nil
		case g.reused(rec.Token) != nil:
			return g.reused(rec.Token)
		case g.cfg.noWait:
			return ErrInProgress
		}
		if err := g.awaitClaim(ctx, interest, rec.TTL, until); err != nil {
			return err
		}
	}
}

// conflict decodes the value committed by token's run into a
// *ConflictError, or returns a *KeyReusedError if that run had another
// payload.
func (g *guard[V]) conflict(token string, data []byte, reason error) error {
	if err := g.reused(token); err != nil {
		return err
	}
	var v V
	if err := g.cfg.codec.Decode(data, &v); err != nil {
		return &DecodeError{Key: g.key, Err: err}
	}
	return &ConflictError[V]{Key: g.key, Value: v, Err: reason}
}

// storeErr wraps a store failure in a *StoreError; ErrStoreClosed and ctx
// errors are returned as they are.
func (g *guard[V]) storeErr(doing string, err error) error {
	if errors.Is(err, ErrStoreClosed) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return &StoreError{Op: doing, Key: g.key, Err: err}
}

// bounded runs a store call that must not be abandoned by ctx cancellation
// (a release) and waits for it at most the commit timeout by the local
// clock: with a client that ignores context deadlines, a call on a dead
// connection returns only at the client's read timeout, in the background.
func (g *guard[V]) bounded(ctx context.Context, call func(ctx context.Context)) {
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), g.cfg.commitTimeout)
	done := make(chan struct{})
	go func() {
		defer cancel()
		defer close(done)
		call(cctx)
	}()
	timer := time.NewTimer(g.cfg.commitTimeout)
	defer timer.Stop()
	select {
	case <-done:
	case <-timer.C:
	}
}

// release releases this run's claim, retrying a failed release until ctx
// (bounded by the commit timeout) ends.
func (g *guard[V]) release(ctx context.Context) {
	deadline, _ := ctx.Deadline()
	for n := 0; ; n++ {
		_, err := g.store.Release(ctx, g.key, g.token)
		if !retryable(err) || !retryBefore(deadline, n) || !clock.Sleep(ctx, retryBackoff(n)) {
			return
		}
	}
}

// storeDone returns the store's Done channel, if it has one (both stores of
// this module do): claim mode watches no key, and learns of Close from it.
func storeDone(s Store) <-chan struct{} {
	if d, ok := s.(interface{ Done() <-chan struct{} }); ok {
		return d.Done()
	}
	return nil
}

// afterCloser is a Store that calls f once it closes: see Store.
type afterCloser interface {
	AfterClose(f func()) (stop func() bool)
}

// watchClose calls f once store closes, until stop is called (nil: nothing
// to stop). A store with AfterClose (both stores of this module) registers
// f without a goroutine; one with only a Done channel gets a goroutine that
// waits on it, which stop ends and waits for; one with neither is not
// watched.
func watchClose(store Store, f func()) (stop func() bool) {
	if s, ok := store.(afterCloser); ok {
		return s.AfterClose(f)
	}
	done := storeDone(store)
	if done == nil {
		return nil
	}
	quit, exited := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(exited)
		select {
		case <-done:
			f()
		case <-quit:
		}
	}()
	return func() bool {
		close(quit)
		<-exited
		return true
	}
}
