package consume

import (
	"context"
	"errors"
	"github.com/idemq/idemq/consumer"

	"github.com/idemq/idemq/dedupe"
)

// step takes one job as far as it can go without waiting for another owner.
// false means the job is blocked: its key is in progress elsewhere, its
// claim failed, or the scope stopped. earlier is the job of this chain that
// last ran the same key in this wave, if any.
func (e *Engine[M, V]) step(sc *scope, s *settler[M, V], j *job[M, V], earlier *job[M, V]) (bool, error) {
	switch {
	case j.keyErr != nil:
		return e.invalidKey(sc, s, j)
	case j.key == "":
		return e.execute(sc, s, j)
	case e.transactional(j):
		return e.executeTx(sc, s, j)
	case j.t == nil:
		return false, nil
	}
	if earlier != nil && errors.Is(j.claim, dedupe.ErrInProgress) {
		e.awaitOwn(sc, s, j, earlier)
	}
	switch {
	case j.t == nil:
		return false, nil
	case j.claim == nil && j.ran: // the handler ran; its commit did not land: commit its value again
		return e.ended(sc, s, j, j.value), nil
	case j.claim == nil:
		return e.execute(sc, s, j)
	}
	return e.notHeld(sc, s, j)
}

// notHeld takes a job whose claim found its key not free: committed
// already, reused, in progress elsewhere, or failed. (A function of its
// own: the targets of errors.As escape, and cost an allocation per call.)
func (e *Engine[M, V]) notHeld(sc *scope, s *settler[M, V], j *job[M, V]) (bool, error) {
	var conflict *dedupe.ConflictError[V]
	var reused *dedupe.KeyReusedError
	switch {
	case errors.As(j.claim, &reused): // the key was reused for another payload: an invalid key
		j.invalid(reused)
		return e.invalidKey(sc, s, j)
	case errors.As(j.claim, &conflict) && j.ran:
		// the handler ran here, and another owner committed the key since:
		// the work is done, and the handler does not run again
		j.unclaim()
		count(e.cfg.Metrics.Conflicts, 1)
		e.finish(sc, j, consumer.Processed)
		return true, nil
	case errors.As(j.claim, &conflict):
		j.unclaim()
		return e.duplicate(sc, s, j, conflict.Value)
	case !errors.Is(j.claim, dedupe.ErrInProgress): // this key's claim failed
		e.storeFailed(j, "claiming", j.claim)
	}
	return false, nil
}

// awaitOwn resolves a key that an earlier job of the same chain held. Its
// commit depends on no other owner, and once it committed the key's value is
// known in memory, so waiting for it while holding claims cannot deadlock.
// Any other outcome leaves j blocked, to be awaited holding nothing.
func (e *Engine[M, V]) awaitOwn(sc *scope, s *settler[M, V], j, earlier *job[M, V]) {
	if earlier.ended() && !earlier.done() {
		s.all()
	}
	if earlier.done() && (earlier.outcome == consumer.Processed || earlier.outcome == consumer.Duplicate) {
		e.awaitOne(sc, j)
	}
}

// execute runs the handler for a job whose key this process holds (or that
// has no key under KeyProcess), retrying failures in place, and ends the
// ticket on success. A handler that failed every attempt is dead-lettered.
func (e *Engine[M, V]) execute(sc *scope, s *settler[M, V], j *job[M, V]) (bool, error) {
	if !e.takeSlot(sc) { // stopping: the job will not run now
		e.release(j)
		return false, nil
	}
	defer e.freeSlot()
	ctx, cancel := sc.work, context.CancelFunc(nil)
	if j.t != nil {
		if err := j.t.Start(sc.work); err != nil { // the claim on the full lease, confirmed by the store
			return e.interrupted(j, err)
		}
		if sc.stopping() { // halted while Start waited (it may report the store's answer even then)
			e.release(j)
			return false, nil
		}
		ctx, cancel = j.t.Context(sc.work)
		defer cancel()
	}
	var value V
	err, interrupted := e.attempts(sc, s, ctx, j, "handler", func() (err error) {
		value, err = e.call(ctx, j)
		return err
	})
	switch {
	case err == nil:
		j.succeeded(value)
		return e.ended(sc, s, j, value), nil
	case interrupted:
		return e.interrupted(j, context.Cause(ctx))
	}
	e.release(j)
	return e.deadLetter(sc, s, j, err, e.cfg.Attempts)
}

// ended hands a successful handler's value to the guard; the settler
// applies the commit's outcome.
func (e *Engine[M, V]) ended(sc *scope, s *settler[M, V], j *job[M, V], v V) bool {
	if j.t == nil {
		e.finish(sc, j, consumer.ProcessedWithoutKey)
		return true
	}
	if err := j.t.End(v); err != nil { // cannot happen unless the ticket was lost
		e.storeFailed(j, "ending", err)
		return false
	}
	j.end()
	s.add(j)
	return true
}

// interrupted handles a handler stopped (or not started) by its ctx rather
// than failing: a lost lease sends the job back to be claimed; a rebalance
// or the drain timeout leaves it without an outcome (its offset stays
// uncommitted).
func (e *Engine[M, V]) interrupted(j *job[M, V], cause error) (bool, error) {
	e.release(j)
	if errors.Is(cause, dedupe.ErrLeaseLost) {
		e.storeFailed(j, "renewing the claim", cause)
	}
	return false, nil
}

// duplicate finishes a job whose key another run committed, after
// OnDuplicate (retried like a handler) succeeded.
func (e *Engine[M, V]) duplicate(sc *scope, s *settler[M, V], j *job[M, V], winner V) (bool, error) {
	if e.cfg.OnDuplicate == nil {
		e.finish(sc, j, consumer.Duplicate)
		return true, nil
	}
	err, interrupted := e.attempts(sc, s, sc.work, j, "OnDuplicate", func() error {
		return e.cfg.OnDuplicate(sc.work, j.msg, winner)
	})
	switch {
	case err == nil:
		e.finish(sc, j, consumer.Duplicate)
		return true, nil
	case interrupted:
		return false, nil
	}
	return e.deadLetter(sc, s, j, err, e.cfg.Attempts)
}

// release gives up the job's claim, if it holds one (see drop).
func (e *Engine[M, V]) release(j *job[M, V]) {
	if j.t != nil && !j.ended() {
		_ = j.t.Release()
	}
	j.unclaim()
}
