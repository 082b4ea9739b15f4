package idemqfranz

import (
	"context"
	"fmt"
	"slices"
	"sync/atomic"

	"github.com/twmb/franz-go/pkg/kgo"
)

// Consumer consumes a Kafka consumer group with franz-go and runs each
// record's handler inside the dedupe guard, committing an offset only once
// its record's outcome is final. See the package documentation.
type Consumer[V any] struct {
	cfg     Config[V]
	m       *metrics
	running atomic.Bool
	hooks   hooks
}

// hooks let the package's tests observe offset commits.
type hooks struct {
	committed func(topic string, partition int32, offset int64)
}

// NewConsumer checks cfg and returns a Consumer; it connects to nothing
// until Run.
func NewConsumer[V any](cfg Config[V]) (*Consumer[V], error) {
	if err := checkClient(cfg); err != nil {
		return nil, err
	}
	cfg, err := withDefaults(cfg)
	if err != nil {
		return nil, err
	}
	m, err := newMetrics(cfg.MeterProvider)
	if err != nil {
		return nil, err
	}
	return &Consumer[V]{cfg: cfg, m: m}, nil
}

// Stats returns the consumer's counters.
func (c *Consumer[V]) Stats() Stats { return c.m.stats() }

// Run joins the group and consumes until ctx is cancelled or a record stops
// it. When ctx is cancelled it starts no new handler, waits for the running
// ones (up to Config.DrainTimeout, then cancels them with ErrDrainTimeout),
// commits the finished offsets, closes the client (which leaves the group,
// unless the client has an InstanceID) and returns nil. A record whose
// outcome can never become final makes it return a *MessageError, after
// committing everything before it. Run leaves no goroutine behind and every
// claim released; it may be called again after it returned.
func (c *Consumer[V]) Run(ctx context.Context) (err error) {
	if !c.running.CompareAndSwap(false, true) {
		return ErrRunning
	}
	defer c.running.Store(false)
	e, err := newEngine(&c.cfg, c.m)
	if err != nil {
		return err
	}
	defer func() { // after the client's Close: every partition has ended
		if cerr := e.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("idemqfranz: claims left held at shutdown (a bug): %w", cerr)
		}
	}()
	pollCtx, stop := context.WithCancelCause(ctx)
	defer stop(nil)
	g := &group[V]{c: c, e: e, work: ctx, fail: stop, parts: map[topicPartition]*partition[V]{}}
	cl, err := kgo.NewClient(append(slices.Clip(c.cfg.Client), g.opts()...)...)
	if err != nil {
		return fmt.Errorf("idemqfranz: %w", err)
	}
	g.poll(pollCtx, cl)
	g.drain(context.Cause(pollCtx))
	cl.Close()
	return g.fatal()
}
