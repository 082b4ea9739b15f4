package kafka

import (
	"context"
	"errors"

	"github.com/idemq/idemq/dedupe"
)

// step takes one job as far as it can go without waiting for another owner.
// false means the job is blocked: its key is in progress elsewhere, its
// claim failed, or the scope stopped. earlier is the job of this chain that
// last ran the same key in this wave, if any.
func (p *pipeline[V]) step(sc *scope[V], j *job[V], earlier *job[V]) (bool, error) {
	switch {
	case j.keyErr != nil:
		return p.invalidKey(sc, j)
	case j.key == "":
		return p.execute(sc, j)
	case j.t == nil:
		return false, nil
	}
	if earlier != nil && errors.Is(j.claim, dedupe.ErrInProgress) {
		p.awaitOwn(sc, j, earlier)
	}
	var conflict *dedupe.ConflictError[V]
	switch {
	case j.t == nil:
		return false, nil
	case j.claim == nil:
		return p.execute(sc, j)
	case errors.As(j.claim, &conflict):
		j.t, j.claim = nil, nil
		return p.duplicate(sc, j, conflict.Value)
	case !errors.Is(j.claim, dedupe.ErrInProgress): // this key's claim failed
		p.storeFailed(j, "claiming", j.claim)
	}
	return false, nil
}

// awaitOwn resolves a key that an earlier job of the same chain held. Its
// commit depends on no other owner, and once it committed the key's value is
// known in memory, so waiting for it while holding claims cannot deadlock.
// Any other outcome leaves j blocked, to be awaited holding nothing.
func (p *pipeline[V]) awaitOwn(sc *scope[V], j, earlier *job[V]) {
	if earlier.settled != nil {
		<-earlier.settled
	}
	if earlier.done && (earlier.outcome == Processed || earlier.outcome == Duplicate) {
		p.awaitOne(sc, j)
	}
}

// execute runs the handler for a job whose key this process holds (or that
// has no key under KeyProcess), retrying failures in place, and ends the
// ticket on success. A handler that failed every attempt is dead-lettered.
func (p *pipeline[V]) execute(sc *scope[V], j *job[V]) (bool, error) {
	if !p.takeSlot(sc) { // stopping: the job will not run now
		p.release(j)
		return false, nil
	}
	defer p.freeSlot()
	ctx, cancel := sc.work, context.CancelFunc(func() {})
	if j.t != nil {
		ctx, cancel = j.t.Context(sc.work)
	}
	defer cancel()
	var value V
	err, interrupted := p.attempts(sc, ctx, j, "handler", func() error {
		v, err := p.call(ctx, j)
		value = v
		return err
	})
	switch {
	case err == nil:
		return p.ended(sc, j, value), nil
	case interrupted:
		return p.interrupted(sc, j, context.Cause(ctx))
	}
	p.release(j)
	return p.deadLetter(sc, j, err, p.cfg.Attempts)
}

// ended hands a successful handler's value to the guard; the wave's
// settler applies the commit's outcome (outside a wave, the caller settles).
func (p *pipeline[V]) ended(sc *scope[V], j *job[V], v V) bool {
	if j.t == nil {
		p.finish(sc, j, ProcessedWithoutKey)
		return true
	}
	if err := j.t.End(v); err != nil { // cannot happen unless the ticket was lost
		p.storeFailed(j, "ending", err)
		return false
	}
	j.ended = true
	if sc.settler != nil {
		sc.settler.add(j)
	}
	return true
}

// interrupted handles a handler stopped by its ctx rather than failing.
func (p *pipeline[V]) interrupted(sc *scope[V], j *job[V], cause error) (bool, error) {
	p.release(j)
	var conflict *dedupe.ConflictError[V]
	switch {
	case errors.As(cause, &conflict): // optimistic mode: a concurrent run committed first
		p.m.conflicts.add(1)
		return p.duplicate(sc, j, conflict.Value)
	case errors.Is(cause, dedupe.ErrLeaseLost):
		p.storeFailed(j, "renewing the claim", cause)
	}
	return false, nil // rebalance or drain timeout: the message stays uncommitted
}

// duplicate finishes a job whose key another run committed, after
// OnDuplicate (retried like a handler) succeeded.
func (p *pipeline[V]) duplicate(sc *scope[V], j *job[V], winner V) (bool, error) {
	if p.cfg.OnDuplicate == nil {
		p.finish(sc, j, Duplicate)
		return true, nil
	}
	err, interrupted := p.attempts(sc, sc.work, j, "OnDuplicate", func() error {
		return p.cfg.OnDuplicate(sc.work, j.msg, winner)
	})
	switch {
	case err == nil:
		p.finish(sc, j, Duplicate)
		return true, nil
	case interrupted:
		return false, nil
	}
	return p.deadLetter(sc, j, err, p.cfg.Attempts)
}

// release gives up the job's claim, if it holds one.
func (p *pipeline[V]) release(j *job[V]) {
	if j.t != nil && j.claim == nil && !j.ended {
		_ = j.t.Release()
	}
	j.t, j.claim = nil, nil
}

func (p *pipeline[V]) takeSlot(sc *scope[V]) bool {
	select {
	case p.slots <- struct{}{}:
		return true
	case <-sc.stop.Done():
		return false
	}
}

func (p *pipeline[V]) freeSlot() { <-p.slots }
