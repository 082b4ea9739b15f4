package consume

import (
	"context"
	"errors"
	"fmt"
	"github.com/idemq/idemq/consumer"
	"log/slog"
	"sync/atomic"

	"github.com/idemq/idemq/dedupe"
)

// Engine takes messages to a final outcome: key, guard, handler with
// retries, dead letter. A consumer runs one Session per consumer-group
// generation on it; Process takes single messages.
type Engine[M, V any] struct {
	cfg    Config[M, V]
	guard  guard[V]
	slots  chan struct{} // MaxInFlight handler slots
	log    *slog.Logger
	prefix string       // of log messages and the engine's errors: Name + ": "
	trips  atomic.Int64 // guard round trips already counted in Metrics

	onFinish func(m M, o consumer.Outcome) // tests: every final outcome, before its offset may be committed
}

// New returns an engine on cfg. Close it when done.
func New[M, V any](cfg Config[M, V]) (*Engine[M, V], error) {
	if cfg.Tx != nil {
		if cfg.Codec == nil {
			return nil, fmt.Errorf("%w: a transactional store needs a codec", dedupe.ErrInvalidOption)
		}
		return newEngine(cfg, txGuard[V]{}), nil
	}
	b, err := dedupe.NewBatch[V](cfg.Store, cfg.Guard...)
	if err != nil {
		return nil, err
	}
	return newEngine(cfg, batchGuard[V]{b}), nil
}

func newEngine[M, V any](cfg Config[M, V], g guard[V]) *Engine[M, V] {
	return &Engine[M, V]{cfg: cfg, guard: g, slots: make(chan struct{}, cfg.MaxInFlight), log: cfg.Logger, prefix: cfg.Name + ": "}
}

func (e *Engine[M, V]) debug(msg string, args ...any) { e.log.Debug(e.prefix+msg, args...) }
func (e *Engine[M, V]) info(msg string, args ...any)  { e.log.Info(e.prefix+msg, args...) }
func (e *Engine[M, V]) warn(msg string, args ...any)  { e.log.Warn(e.prefix+msg, args...) }
func (e *Engine[M, V]) error(msg string, args ...any) { e.log.Error(e.prefix+msg, args...) }

// Close releases every claim still held and stops the guard's goroutines.
// A claim still held means a message was still running: the error matches
// dedupe.ErrEndNotCalled.
func (e *Engine[M, V]) Close() error {
	err := e.guard.Close()
	e.countRoundTrips()
	return err
}

// Process takes m to a final outcome, for callers with their own fetch
// loop. Store failures are retried with backoff until the store answers or
// ctx ends; handler failures up to Attempts, then m is dead-lettered. An
// error is MessageError's (m can never finish) or ctx's.
func (e *Engine[M, V]) Process(ctx context.Context, m M) (consumer.Outcome, error) {
	jobs := e.newJobs([]M{m})
	sc := &scope{stop: ctx, work: ctx}
	if err := e.runBatch(sc, jobs); err != nil {
		return 0, err
	}
	if j := jobs[0]; j.done() {
		return j.outcome, nil
	}
	if err := context.Cause(ctx); err != nil {
		return 0, err
	}
	return 0, errors.New("consume: message has no outcome") // not reached: runBatch stops only with ctx
}

// countRoundTrips adds the guard's new round trips to the counters.
func (e *Engine[M, V]) countRoundTrips() {
	now := e.guard.RoundTrips()
	for {
		last := e.trips.Load()
		if now <= last {
			return
		}
		if e.trips.CompareAndSwap(last, now) {
			count(e.cfg.Metrics.RoundTrips, now-last)
			return
		}
	}
}

// scope is what a batch of jobs runs under.
type scope struct {
	stop   context.Context    // done: start nothing new (rebalance, shutdown, a fatal error)
	work   context.Context    // handlers' parent: cancelled on a rebalance or past the drain timeout
	finish func(offset int64) // a job's outcome is final: its offset may be committed
	fails  int                // consecutive store failures, for the backoff
}

func (sc *scope) stopping() bool { return sc.stop.Err() != nil }

// finish records a job's final outcome.
func (e *Engine[M, V]) finish(sc *scope, j *job[M, V], o consumer.Outcome) {
	j.finish(o)
	switch o {
	case consumer.Processed, consumer.ProcessedWithoutKey:
		count(e.cfg.Metrics.Processed, 1)
	case consumer.Duplicate:
		count(e.cfg.Metrics.Duplicates, 1)
	case consumer.DeadLettered:
		count(e.cfg.Metrics.DeadLettered, 1)
	}
	if e.onFinish != nil {
		e.onFinish(j.msg, o)
	}
	if sc.finish != nil {
		sc.finish(j.offset)
	}
}

// storeFailed counts and logs a store failure that sends j back to be claimed.
func (e *Engine[M, V]) storeFailed(j *job[M, V], doing string, err error) {
	if j.t != nil && !j.ended() {
		_ = j.t.Release() // a claim that answered too late may still be held
	}
	j.unclaim()
	count(e.cfg.Metrics.StoreErrors, 1)
	if j.ran {
		e.warn("store failed; the handler's value will be committed again, without running the handler",
			"doing", doing, e.cfg.Log.Attrs(j.msg), "key", j.key, "err", err)
		return
	}
	e.warn("store failed; the message will be retried", "doing", doing, e.cfg.Log.Attrs(j.msg), "key", j.key, "err", err)
}

// takeSlot takes a handler slot, waiting for one, and reports false (taking
// none) once the session is stopping.
func (e *Engine[M, V]) takeSlot(sc *scope) bool {
	select {
	case e.slots <- struct{}{}:
	case <-sc.stop.Done():
		return false
	}
	if sc.stopping() { // select picks at random when a slot is free too
		<-e.slots
		return false
	}
	count(e.cfg.Metrics.InFlight, 1)
	return true
}

func (e *Engine[M, V]) freeSlot() {
	count(e.cfg.Metrics.InFlight, -1)
	<-e.slots
}
