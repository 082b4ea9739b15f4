package consume

import (
	"errors"
	"github.com/idemq/idemq/consumer"

	"github.com/idemq/idemq/internal/clock"
)

// invalidKey applies InvalidKey to a job without a valid key: one whose
// key was reused for another payload (a missing or malformed key under
// KeyProcess never gets here: it runs without one from the start).
func (e *Engine[M, V]) invalidKey(sc *scope, s *settler[M, V], j *job[M, V]) (bool, error) {
	switch e.cfg.InvalidKey {
	case consumer.KeyDeadLetter:
		return e.deadLetter(sc, s, j, j.keyErr, 0)
	case consumer.KeyProcess:
		e.warn("key reused for another payload; processing without deduplication", e.cfg.Log.Attrs(j.msg), "key", j.key, "err", j.keyErr)
		j.unkeyed()
		return e.execute(sc, s, j)
	}
	return false, e.cfg.MessageError(j.msg, j.key, 0, j.keyErr)
}

// deadLetter writes the job to the dead-letter sink and finishes it,
// retrying transient failures with backoff until the write is acknowledged
// or the scope stops. A permanent failure (ErrPermanent), or no dead-letter
// sink at all, is the MessageError that stops the consumer: the job has no
// outcome, its offset is not committed.
func (e *Engine[M, V]) deadLetter(sc *scope, s *settler[M, V], j *job[M, V], cause error, attempts int) (bool, error) {
	if e.cfg.DeadLetter == nil {
		return false, e.cfg.MessageError(j.msg, j.key, attempts, cause)
	}
	for n := 0; ; n++ {
		err := e.cfg.DeadLetter(sc.work, j.msg, j.key, cause)
		switch {
		case err == nil:
			e.info("message dead-lettered", e.cfg.Log.Attrs(j.msg), "key", j.key, "cause", cause)
			e.finish(sc, j, consumer.DeadLettered)
			return true, nil
		case errors.Is(err, ErrPermanent):
			return false, e.cfg.MessageError(j.msg, j.key, attempts, err)
		case sc.work.Err() != nil: // cancelled: the rebalance or the drain timeout, not the sink
			return false, nil
		}
		count(e.cfg.Metrics.DeadLetterErrors, 1)
		e.warn("dead-letter write failed; retrying", e.cfg.Log.Attrs(j.msg), "key", j.key, "attempt", n+1, "err", err)
		s.pause()
		if !clock.Sleep(sc.stop, e.cfg.Backoff.Delay(n)) {
			return false, nil
		}
	}
}
