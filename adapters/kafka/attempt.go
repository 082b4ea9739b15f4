package kafka

import (
	"context"
	"fmt"
	"sync"

	"github.com/idemq/idemq/dedupe"
)

// attempts runs fn up to Config.Attempts times with backoff between them.
// It returns nil on success, or fn's last error; interrupted is true when
// ctx ended (the failure is not the handler's) or the scope stopped.
func (p *pipeline[V]) attempts(sc *scope[V], ctx context.Context, j *job[V], what string, fn func() error) (err error, interrupted bool) {
	for n := 1; n <= p.cfg.Attempts; n++ {
		if n > 1 {
			p.m.retries.add(1)
			if !sleep(sc.stop, p.cfg.Backoff.delay(n-2)) || ctx.Err() != nil {
				return err, true
			}
		}
		if err = fn(); err == nil {
			return nil, false
		}
		if ctx.Err() != nil {
			return err, true
		}
		p.log.Warn("kafka: "+what+" failed", msgAttrs(j.msg), "key", j.key, "attempt", n, "of", p.cfg.Attempts, "err", err)
	}
	return err, false
}

// call runs the handler once. It reports success when end was called (an
// error returned after end does not undo it, as in dedupe.Run) and turns a
// panic into an error.
func (p *pipeline[V]) call(ctx context.Context, j *job[V]) (value V, err error) {
	var (
		mu    sync.Mutex
		calls int
	)
	end := func(v V) {
		mu.Lock()
		defer mu.Unlock()
		if calls++; calls == 1 {
			value = v
		}
	}
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("kafka: handler panicked: %v", r)
		}
		mu.Lock()
		defer mu.Unlock()
		switch {
		case calls > 0 && err != nil:
			p.log.Warn("kafka: handler returned an error after end; the commit stands", msgAttrs(j.msg), "err", err)
			err = nil
		case calls == 0 && err == nil:
			err = dedupe.ErrEndNotCalled
		}
		if calls > 1 {
			p.log.Warn("kafka: end called more than once; the first value stands", msgAttrs(j.msg))
		}
	}()
	return value, p.cfg.Handle(ctx, j.msg, end)
}
