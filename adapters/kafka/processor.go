package idemqkafka

import (
	"context"
	"github.com/idemq/idemq/consumer"

	kafkago "github.com/segmentio/kafka-go"

	"github.com/idemq/idemq/internal/consume"
)

// Processor decides one message's outcome with the consumer's semantics -
// key, guard, handler with retries, dead letter - for callers that run
// their own FetchMessage loop. It is safe for concurrent use; messages that
// share an idempotency key never run at once.
type Processor[V any] struct {
	e *consume.Engine[kafkago.Message, V]
	m *metrics
}

// NewProcessor returns a Processor for cfg. It uses every field except
// those marked "consumer only". Close it when done.
func NewProcessor[V any](cfg Config[V]) (*Processor[V], error) {
	cfg, err := withDefaults(cfg)
	if err != nil {
		return nil, err
	}
	m, err := newMetrics(cfg.MeterProvider)
	if err != nil {
		return nil, err
	}
	e, err := newEngine(&cfg, m)
	if err != nil {
		return nil, err
	}
	return &Processor[V]{e: e, m: m}, nil
}

// Process takes m to a final outcome. Store failures (Redis down, a commit
// whose outcome is unknown, a lost lease) are retried with backoff until
// the store answers or ctx ends; handler failures are retried up to
// Config.Attempts, then dead-lettered.
//
// When the caller may commit m's offset: only when err == nil (every
// Outcome is final), and only once every earlier message of m's partition
// may be committed too, because Kafka commits the position after m, which
// covers all earlier offsets. With a kafka-go Reader that means
// Reader.CommitMessages(ctx, m) after every earlier message of the
// partition returned nil. When err != nil - a *MessageError (the handler
// failed every attempt and there is no dead-letter topic, or the key is
// invalid under KeyReject) or ctx's error - never commit m or anything after
// it in its partition: stop, or let the message be redelivered.
//
// ctx is the handler's parent: cancelling it cancels the handler and
// leaves m without an outcome.
func (pr *Processor[V]) Process(ctx context.Context, m kafkago.Message) (consumer.Outcome, error) {
	o, err := pr.e.Process(ctx, m)
	return o, err
}

// Stats returns the processor's counters (OffsetCommits stays 0).
func (pr *Processor[V]) Stats() Stats { return pr.m.stats() }

// Close releases every claim still held and stops the guard's background
// work; a claim still held means a Process call was still running (the
// error matches dedupe.ErrEndNotCalled). It does not close Config.Store or
// Config.DeadLetter.
func (pr *Processor[V]) Close() error { return pr.e.Close() }
