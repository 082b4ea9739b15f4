package idemqfranz

import (
	"context"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/idemq/idemq/consumer"
	"github.com/idemq/idemq/internal/consume"
)

// Processor decides one record's outcome with the consumer's semantics -
// key, guard, handler with retries, dead letter - for callers that run
// their own poll loop. It is safe for concurrent use; records that share an
// idempotency key never run at once.
type Processor[V any] struct {
	e *consume.Engine[*kgo.Record, V]
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

// Process takes r to a final outcome; see idemqkafka's Processor.Process
// for when its offset may be committed: only when err == nil, and only once
// every earlier record of its partition may be committed too.
func (pr *Processor[V]) Process(ctx context.Context, r *kgo.Record) (consumer.Outcome, error) {
	return pr.e.Process(ctx, r)
}

// Stats returns the processor's counters (OffsetCommits stays 0).
func (pr *Processor[V]) Stats() Stats { return pr.m.stats() }

// Close releases every claim still held and stops the guard's background
// work. It does not close Config.Store or Config.DeadLetter.
func (pr *Processor[V]) Close() error { return pr.e.Close() }
