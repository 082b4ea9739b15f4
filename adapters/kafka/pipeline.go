package kafka

import (
	"context"
	"log/slog"
	"sync/atomic"

	kafkago "github.com/segmentio/kafka-go"
)

// pipeline takes messages to a final outcome: key, guard, handler with
// retries, dead letter. The Consumer runs one per Run, a Processor one for
// its lifetime.
type pipeline[V any] struct {
	cfg   *Config[V]
	guard guard[V]
	slots chan struct{} // MaxInFlight handler slots
	m     *metrics
	log   *slog.Logger
	trips atomic.Int64 // guard round trips already counted in m
}

func newPipeline[V any](cfg *Config[V], m *metrics) (*pipeline[V], error) {
	g, err := newGuard(cfg)
	if err != nil {
		return nil, err
	}
	return &pipeline[V]{cfg: cfg, guard: g, slots: make(chan struct{}, cfg.MaxInFlight), m: m, log: cfg.Logger}, nil
}

func (p *pipeline[V]) close() error {
	err := p.guard.Close()
	p.countRoundTrips()
	return err
}

// countRoundTrips adds the guard's new round trips to the counters.
func (p *pipeline[V]) countRoundTrips() {
	now := p.guard.RoundTrips()
	for {
		last := p.trips.Load()
		if now <= last {
			return
		}
		if p.trips.CompareAndSwap(last, now) {
			p.m.roundTrips.add(now - last)
			return
		}
	}
}

// job is one message on its way to a final outcome.
type job[V any] struct {
	msg     kafkago.Message
	key     string    // the idempotency key; "" when processed without one
	keyErr  error     // the key is missing or invalid, under KeyStop or KeyDeadLetter
	t       ticket[V] // the key's current ticket; nil when none is held
	claim   error     // what t says: nil (held), *dedupe.ConflictError[V] or dedupe.ErrInProgress
	ended   bool      // t.End was called: t.Result decides the outcome
	done    bool      // the outcome is final
	outcome Outcome
	gate    <-chan struct{} // ByKey: closed once the previous batch's chain of this Kafka key is done
	settled chan struct{}   // closed once a settler applied the outcome of End
}

func (p *pipeline[V]) newJob(m kafkago.Message) *job[V] {
	j := &job[V]{msg: m}
	j.key, j.keyErr = messageKey(p.cfg.Key, m)
	if j.keyErr != nil && p.cfg.InvalidKey == KeyProcess {
		p.log.Debug("kafka: processing a message without deduplication", msgAttrs(m), "reason", j.keyErr)
		j.keyErr = nil
	}
	return j
}

// scope is what a batch of jobs runs under.
type scope[V any] struct {
	stop    context.Context    // done: start nothing new (rebalance, shutdown, a fatal error)
	work    context.Context    // handlers' parent: cancelled with ErrRebalance or ErrDrainTimeout
	finish  func(offset int64) // a job's outcome is final: its offset may be committed
	fails   int                // consecutive store failures, for the backoff
	settler *settler[V]        // during a wave: applies the commits' outcomes
}

func (s *scope[V]) stopping() bool { return s.stop.Err() != nil }

// finish records a job's final outcome.
func (p *pipeline[V]) finish(sc *scope[V], j *job[V], o Outcome) {
	j.done, j.outcome, j.t = true, o, nil
	switch o {
	case Processed, ProcessedWithoutKey:
		p.m.processed.add(1)
	case Duplicate:
		p.m.duplicates.add(1)
	case DeadLettered:
		p.m.deadLettered.add(1)
	}
	if sc.finish != nil {
		sc.finish(j.msg.Offset)
	}
}

// storeFailed counts and logs a store failure that sends j back to be claimed.
func (p *pipeline[V]) storeFailed(j *job[V], doing string, err error) {
	if j.t != nil && !j.ended {
		_ = j.t.Release() // a claim that answered too late may still be held
	}
	j.t, j.claim, j.ended = nil, nil, false
	p.m.storeErrors.add(1)
	p.log.Warn("kafka: store failed; the message will be retried", "doing", doing, msgAttrs(j.msg), "key", j.key, "err", err)
}

func msgAttrs(m kafkago.Message) slog.Attr {
	return slog.Group("message", "topic", m.Topic, "partition", m.Partition, "offset", m.Offset)
}
