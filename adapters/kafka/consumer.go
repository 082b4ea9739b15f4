package idemqkafka

import (
	"context"
	"fmt"
	"log/slog"
	"sync/atomic"

	kafkago "github.com/segmentio/kafka-go"
)

// Consumer consumes a Kafka consumer group and runs each message's handler
// inside the dedupe guard, committing an offset only once its message's
// outcome is final. See the package documentation for the design.
type Consumer[V any] struct {
	cfg     Config[V]
	group   kafkago.ConsumerGroupConfig
	m       *metrics
	log     *slog.Logger
	running atomic.Bool
	hooks   hooks
}

// hooks let the package's tests observe generations and offset commits.
type hooks struct {
	generation func(gen *kafkago.Generation)
	committed  func(gen *kafkago.Generation, offsets map[string]map[int]int64)
}

// NewConsumer checks cfg and returns a Consumer; it connects to nothing
// until Run.
func NewConsumer[V any](cfg Config[V]) (*Consumer[V], error) {
	group, err := groupConfig(cfg.Reader)
	if err != nil {
		return nil, err
	}
	cfg, err = withDefaults(cfg)
	if err != nil {
		return nil, err
	}
	m, err := newMetrics(cfg.MeterProvider)
	if err != nil {
		return nil, err
	}
	return &Consumer[V]{cfg: cfg, group: group, m: m, log: cfg.Logger}, nil
}

// Stats returns the consumer's counters.
func (c *Consumer[V]) Stats() Stats { return c.m.stats() }

// Run joins the group and consumes until ctx is cancelled or a message
// stops it. When ctx is cancelled it starts no new handler, waits for the
// running ones (up to Config.DrainTimeout, then cancels them with
// ErrDrainTimeout), commits the finished offsets, leaves the group and
// returns nil. A message whose outcome can never become final makes it
// return a *MessageError, after committing everything before it. Run
// leaves no goroutine behind and every claim released (it returns an error
// matching dedupe.ErrEndNotCalled if it found one still held: a bug); it
// may be called again after it returned.
func (c *Consumer[V]) Run(ctx context.Context) (err error) {
	if !c.running.CompareAndSwap(false, true) {
		return ErrRunning
	}
	defer c.running.Store(false)
	e, err := newEngine(&c.cfg, c.m)
	if err != nil {
		return err
	}
	defer func() { // after cg.Close: the generation's work has ended
		if cerr := e.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("idemqkafka: claims left held at shutdown (a bug): %w", cerr)
		}
	}()
	cg, err := kafkago.NewConsumerGroup(c.group)
	if err != nil {
		return fmt.Errorf("idemqkafka: %w", err)
	}
	defer cg.Close()
	for {
		gen, err := cg.Next(ctx)
		switch {
		case ctx.Err() != nil:
			return nil
		case err != nil:
			c.log.Warn("idemqkafka: joining the consumer group failed; retrying", "group", c.group.ID, "err", err)
			continue
		}
		c.m.generations.Add(1)
		if err := c.runGeneration(ctx, e, gen); err != nil {
			return err
		}
	}
}
