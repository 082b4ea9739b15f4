package kafka

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/idemq/idemq/dedupe"
)

// runOwner is one dedupe.Run that holds a key for a ticket: its function
// reports that the key is held, then waits for End or Release.
type runOwner[V any] struct {
	g       *runGuard[V]
	key     string
	ctx     context.Context // the Run's ctx: ends with the guard, or aborts an undecided acquire
	abort   context.CancelCauseFunc
	decided chan struct{} // closed once err is set
	done    chan struct{} // closed once the Run returned and result is set
	endCh   chan V
	relCh   chan struct{}

	mu      sync.Mutex
	err     error           // the decision: nil = held, or why not
	runCtx  context.Context // the function's ctx, once held
	settled bool            // End or Release was called
	result  error
}

func newRunOwner[V any](g *runGuard[V], key string) *runOwner[V] {
	ctx, abort := context.WithCancelCause(g.ctx)
	return &runOwner[V]{g: g, key: key, ctx: ctx, abort: abort, decided: make(chan struct{}),
		done: make(chan struct{}), endCh: make(chan V, 1), relCh: make(chan struct{})}
}

func (o *runOwner[V]) run(opts []dedupe.RunOption) {
	_, err := dedupe.Run(o.ctx, o.g.store, o.key, o.hold, opts...)
	if errors.Is(err, errReleased) {
		err = nil
	}
	o.g.roundTrips.Add(2)
	o.mu.Lock()
	if o.runCtx != nil {
		o.g.roundTrips.Add(1)
	}
	if !isClosed(o.decided) {
		o.err = err
		close(o.decided)
	}
	o.result = err
	o.mu.Unlock()
	o.g.forget(o)
	o.abort(nil)
	close(o.done)
}

// hold is the Run's function: the key is held until End or Release.
func (o *runOwner[V]) hold(ctx context.Context, end dedupe.End[V]) (struct{}, error) {
	o.mu.Lock()
	if o.ctx.Err() != nil { // abandoned before the decision: give the key back
		o.err = context.Cause(o.ctx)
		close(o.decided)
		o.mu.Unlock()
		return struct{}{}, errReleased
	}
	o.runCtx = ctx
	close(o.decided)
	o.mu.Unlock()
	select {
	case v := <-o.endCh:
		end(v)
		return struct{}{}, nil
	case <-o.relCh:
	case <-o.g.ctx.Done():
	}
	return struct{}{}, errReleased
}

// wait waits for the decision; when ctx ends first, the acquire is abandoned.
func (o *runOwner[V]) wait(ctx context.Context) error {
	select {
	case <-o.decided:
	case <-ctx.Done():
		o.mu.Lock()
		if !isClosed(o.decided) {
			o.abort(context.Cause(ctx))
		}
		o.mu.Unlock()
		<-o.decided
	}
	return o.err
}

// settle marks End or Release as called; false when one already was.
func (o *runOwner[V]) settle() bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.settled || o.err != nil {
		return false
	}
	o.settled = true
	return true
}

func isClosed(ch chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// runTicket implements ticket on a runOwner.
type runTicket[V any] struct {
	g       *runGuard[V]
	key     string
	err     error
	owner   *runOwner[V] // the Run this ticket drives; nil while it waits for another
	waitFor *runOwner[V] // this process's owner of the key, for an ErrInProgress ticket
}

func (t *runTicket[V]) Key() string { return t.key }
func (t *runTicket[V]) Err() error  { return t.err }

// decide waits for the owner's decision and returns a store failure, if any.
func (t *runTicket[V]) decide(ctx context.Context) error {
	if t.owner == nil {
		return nil
	}
	t.err = t.owner.wait(ctx)
	var conflict *dedupe.ConflictError[V]
	if t.err == nil || errors.Is(t.err, dedupe.ErrInProgress) || errors.As(t.err, &conflict) {
		return nil
	}
	return t.err
}

// Await implements ticket: it waits for this process's owner to finish,
// then acquires the key waiting for any other owner.
func (t *runTicket[V]) Await(ctx context.Context) error {
	if !errors.Is(t.err, dedupe.ErrInProgress) {
		return fmt.Errorf("kafka: Await on a ticket that is not in progress: %w", t.err)
	}
	for {
		if t.waitFor != nil {
			select {
			case <-t.waitFor.done:
			case <-ctx.Done():
				return context.Cause(ctx)
			}
		}
		next := t.g.ticket(t.key, false)
		if next.owner == nil {
			t.waitFor = next.waitFor
			continue
		}
		t.owner, t.waitFor = next.owner, nil
		_ = next.decide(ctx)
		t.err = next.err
		return t.err
	}
}

// Context implements ticket: the ctx also ends when the Run's ctx does
// (lease lost, or a conflict in optimistic mode).
func (t *runTicket[V]) Context(parent context.Context) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancelCause(parent)
	if t.owner == nil || t.owner.runCtx == nil {
		return ctx, func() { cancel(nil) }
	}
	run := t.owner.runCtx
	stop := context.AfterFunc(run, func() { cancel(context.Cause(run)) })
	return ctx, func() { stop(); cancel(nil) }
}

// End implements ticket.
func (t *runTicket[V]) End(v V) error {
	if t.owner == nil || !t.owner.settle() {
		return errNotHeld
	}
	t.owner.endCh <- v
	return nil
}

// Release implements ticket.
func (t *runTicket[V]) Release() error {
	if t.owner == nil || !t.owner.settle() {
		return errNotHeld
	}
	close(t.owner.relCh)
	return nil
}

// Result implements ticket.
func (t *runTicket[V]) Result(ctx context.Context) error {
	if t.owner == nil {
		return errNotHeld
	}
	select {
	case <-t.owner.done:
		return t.owner.result
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}

var errNotHeld = errors.New("kafka: ticket does not hold its key, or was already ended or released")
