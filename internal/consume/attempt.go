package consume

import (
	"context"
	"fmt"

	"github.com/idemq/idemq/dedupe"
	"github.com/idemq/idemq/internal/clock"
)

// attempts runs fn up to Attempts times with backoff between them (the
// chain's settler settles before each wait). It returns nil on success, or
// fn's last error; interrupted is true when ctx ended (the failure is not
// the handler's) or the scope stopped.
func (e *Engine[M, V]) attempts(sc *scope, s *settler[M, V], ctx context.Context, j *job[M, V], what string, fn func() error) (err error, interrupted bool) {
	for n := 1; n <= e.cfg.Attempts; n++ {
		if n > 1 {
			count(e.cfg.Metrics.Retries, 1)
			s.pause()
			if !clock.Sleep(sc.stop, e.cfg.Backoff.Delay(n-2)) || ctx.Err() != nil {
				return err, true
			}
		}
		if err = fn(); err == nil {
			return nil, false
		}
		if ctx.Err() != nil {
			return err, true
		}
		e.warn(what+" failed", e.cfg.Log.Attrs(j.msg), "key", j.key, "attempt", n, "of", e.cfg.Attempts, "err", err)
	}
	return err, false
}

// call runs the handler once. It reports success when end was called (an
// error returned after end does not undo it, as in dedupe.Run) and turns a
// panic into an error.
func (e *Engine[M, V]) call(ctx context.Context, j *job[M, V]) (value V, err error) {
	c := &endCall[V]{}
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%shandler panicked: %v", e.prefix, r)
		}
		calls, v := c.result()
		switch {
		case calls > 0 && err != nil:
			e.warn("handler returned an error after end; the commit stands", e.cfg.Log.Attrs(j.msg), "err", err)
			err = nil
		case calls == 0 && err == nil:
			err = dedupe.ErrEndNotCalled
		}
		if calls > 1 {
			e.warn("end called more than once; the first value stands", e.cfg.Log.Attrs(j.msg))
		}
		value = v
	}()
	return value, e.cfg.Handle(ctx, j.msg, c.end)
}
