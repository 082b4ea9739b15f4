package consume

import (
	"context"
	"errors"
	"fmt"
	"github.com/idemq/idemq/consumer"

	"github.com/idemq/idemq/dedupe"
)

// A transactional store (Config.Tx) replaces the claims: each keyed job
// runs its handler inside the store's RunTx, whose transaction holds the
// key and commits the handler's writes with the key's record. There is no
// lease, no ticket and no settling: the job's outcome is final once RunTx
// returns.

// txGuard is the guard of an engine on a transactional store: it claims
// nothing (no job gets a ticket).
type txGuard[V any] struct{}

func (txGuard[V]) Claim(context.Context, ...dedupe.ClaimKey) ([]ticket[V], error) {
	return nil, errors.New("consume: a transactional store claims no keys")
}
func (txGuard[V]) Promote([]ticket[V]) {}
func (txGuard[V]) RoundTrips() int64   { return 0 }
func (txGuard[V]) Close() error        { return nil }

// transactional reports whether j runs in a transaction of Config.Tx.
func (e *Engine[M, V]) transactional(j *job[M, V]) bool {
	return e.cfg.Tx != nil && j.key != "" && j.keyErr == nil
}

// handlerError carries the handler's own failure out of RunTx, so that it
// counts as an attempt while the store's failures do not.
type handlerError struct{ err error }

func (e handlerError) Error() string { return e.err.Error() }
func (e handlerError) Unwrap() error { return e.err }

// executeTx runs the handler of j in a transaction of Config.Tx, retrying
// its failures in place (each attempt a transaction of its own: a failed
// one rolled back), and finishes the job by what the store says: processed
// (committed), a duplicate (committed before), a reused key, or, for a
// store failure or an unknown commit, back to be run again after a backoff
// (the store then finds the committed record or runs it: either is right).
func (e *Engine[M, V]) executeTx(sc *scope, s *settler[M, V], j *job[M, V]) (bool, error) {
	if !e.takeSlot(sc) {
		return false, nil
	}
	defer e.freeSlot()
	var out dedupe.TxOutcome
	var storeErr error
	err, interrupted := e.attempts(sc, s, sc.work, j, "handler", func() error {
		var err error
		out, err = e.cfg.Tx.RunTx(sc.work, j.key, j.print, func(ctx context.Context) ([]byte, error) {
			v, err := e.call(ctx, j)
			if err != nil {
				return nil, handlerError{err}
			}
			data, err := e.cfg.Codec.Encode(v)
			if err != nil {
				return nil, handlerError{fmt.Errorf("%sencoding the handler's value: %w", e.prefix, err)}
			}
			return data, nil
		})
		var h handlerError
		if errors.As(err, &h) {
			return h.err
		}
		storeErr = err
		return nil
	})
	var reused *dedupe.KeyReusedError
	switch {
	case interrupted:
		return false, nil // rolled back: no outcome
	case err != nil:
		return e.deadLetter(sc, s, j, err, e.cfg.Attempts)
	case errors.As(storeErr, &reused):
		j.invalid(reused)
		return e.invalidKey(sc, s, j)
	case storeErr != nil:
		if sc.stopping() {
			return false, nil
		}
		e.storeFailed(j, "running the transaction", storeErr)
		return false, nil
	case out.Duplicate:
		var winner V
		if err := e.cfg.Codec.Decode(out.Value, &winner); err != nil {
			e.storeFailed(j, "decoding the stored value", err)
			return false, nil
		}
		return e.duplicate(sc, s, j, winner)
	}
	e.finish(sc, j, consumer.Processed)
	return true, nil
}
