package consume

import (
	"context"
	"errors"
	"github.com/idemq/idemq/consumer"

	"github.com/idemq/idemq/dedupe"
)

// settler applies the outcomes of one chain's commits, in the order the
// chain ended them. The core sends the commits of every ended ticket
// together (group commit); the chain asks for the outcomes that have
// arrived before each step (ready), so that offsets move on while it runs,
// and waits for the rest before it blocks or returns (all).
type settler[M, V any] struct {
	e       *Engine[M, V]
	sc      *scope
	pending []*job[M, V] // ended, outcome not applied yet, oldest first
	err     error        // a job that can never finish (its OnDuplicate failed for good)
	busy    bool         // applying outcomes: pause must not settle again
}

// canceled is a done context: Result with it reports an outcome only if it
// is already known.
var canceled = func() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return ctx
}()

// add hands an ended job to the settler.
func (s *settler[M, V]) add(j *job[M, V]) { s.pending = append(s.pending, j) }

// pause settles everything before the chain blocks for a while (a retry's
// backoff, a brief await), so that offsets move on meanwhile.
func (s *settler[M, V]) pause() {
	if !s.busy {
		s.all()
	}
}

// ready applies the outcomes already known, oldest first, without waiting.
func (s *settler[M, V]) ready() {
	s.busy = true
	defer func() { s.busy = false }()
	n := 0
	for _, j := range s.pending {
		err := j.t.Result(canceled)
		if errors.Is(err, context.Canceled) {
			break // not known yet; nor, most likely, are the later ones
		}
		s.apply(j, err)
		n++
	}
	s.drop(n)
}

// all waits for every outcome and applies it.
func (s *settler[M, V]) all() {
	s.busy = true
	defer func() { s.busy = false }()
	for _, j := range s.pending {
		s.apply(j, j.t.Result(context.Background())) // bounded by the guard's commit timeout
	}
	if len(s.pending) > 0 {
		s.e.countRoundTrips()
	}
	s.drop(len(s.pending))
}

func (s *settler[M, V]) drop(n int) {
	clear(s.pending[:n])
	s.pending = s.pending[n:]
}

// apply records the outcome of j's commit. A commit whose outcome is unknown
// sends the job back to be claimed again.
func (s *settler[M, V]) apply(j *job[M, V], err error) {
	if err == nil {
		s.e.finish(s.sc, j, consumer.Processed)
		return
	}
	s.applyErr(j, err)
}

// applyErr is apply for a commit that did not land as this owner's. (A
// function of its own: the targets of errors.As escape, and cost an
// allocation per call.)
func (s *settler[M, V]) applyErr(j *job[M, V], err error) {
	var conflict *dedupe.ConflictError[V]
	var reused *dedupe.KeyReusedError
	switch {
	case errors.As(err, &reused) && s.e.cfg.InvalidKey == consumer.KeyProcess:
		s.e.finish(s.sc, j, consumer.ProcessedWithoutKey) // optimistic: it ran, but another payload holds the key
	case errors.As(err, &reused):
		j.invalid(reused)
		if _, err := s.e.invalidKey(s.sc, s, j); err != nil && s.err == nil {
			s.err = err
		}
	case errors.As(err, &conflict) && errors.Is(err, dedupe.ErrLeaseLost):
		// a run that took over this owner's lease committed: the work is done
		count(s.e.cfg.Metrics.Conflicts, 1)
		s.e.finish(s.sc, j, consumer.Processed)
	case errors.As(err, &conflict): // optimistic: another run committed first
		count(s.e.cfg.Metrics.Conflicts, 1)
		j.unclaim()
		if _, err := s.e.duplicate(s.sc, s, j, conflict.Value); err != nil && s.err == nil {
			s.err = err
		}
	default:
		s.e.storeFailed(j, "committing", err)
	}
}
