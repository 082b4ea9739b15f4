package idemqkafka

import (
	"context"
	"sync"
	"time"

	kafkago "github.com/segmentio/kafka-go"

	"github.com/idemq/idemq/internal/consume"
)

// runGeneration runs one generation's work inside gen.Start, so that the
// group cannot move to the next generation before it has ended, and returns
// once the work has drained. On a rebalance the started function returns;
// on shutdown or a fatal error it stays until Run closes the group, so
// that this member does not rejoin meanwhile.
func (c *Consumer[V]) runGeneration(ctx context.Context, e *consume.Engine[kafkago.Message, V], gen *kafkago.Generation) error {
	drained := make(chan error, 1)
	gen.Start(func(genCtx context.Context) {
		drained <- c.generation(ctx, genCtx, e, gen)
		<-genCtx.Done()
	})
	return <-drained
}

// generation runs gen until it ends (rebalance), ctx is cancelled
// (shutdown) or a message fails for good, then drains: running handlers
// finish (or are cancelled), the finished offsets are committed. It
// returns the fatal error, if any.
func (c *Consumer[V]) generation(ctx, genCtx context.Context, e *consume.Engine[kafkago.Message, V], gen *kafkago.Generation) error {
	if c.hooks.generation != nil {
		c.hooks.generation(gen)
	}
	s := e.Session(ctx, consume.SessionConfig{
		Commit:         func(pos map[consume.Partition]int64) error { return c.commit(gen, pos) },
		CommitFailed:   func(err error) { c.logCommitError(gen, err) },
		CommitEvery:    c.cfg.CommitEvery,
		CommitInterval: c.cfg.CommitInterval,
	})
	done := make(chan struct{})
	var watch sync.WaitGroup
	watch.Go(func() { c.watch(ctx, genCtx, s, done) })
	var parts sync.WaitGroup
	for topic, assigned := range gen.Assignments {
		for _, a := range assigned {
			parts.Go(func() { c.partition(s, topic, a) })
		}
	}
	parts.Wait()
	close(done)
	watch.Wait()
	return s.End()
}

// watch turns the generation's end and Run's cancellation into the
// session's halt and cancel: a rebalance halts and cancels at once; a
// shutdown (or a fatal error) halts at once and cancels after the drain
// timeout.
func (c *Consumer[V]) watch(ctx, genCtx context.Context, s *consume.Session[kafkago.Message, V], done <-chan struct{}) {
	select {
	case <-genCtx.Done():
		rebalance(s)
		return
	case <-ctx.Done():
		s.Halt(context.Cause(ctx))
	case <-s.Halted(): // a fatal error: drain like a shutdown
	case <-done:
		return
	}
	timer := time.NewTimer(c.cfg.DrainTimeout)
	defer timer.Stop()
	select {
	case <-genCtx.Done():
		rebalance(s)
	case <-timer.C:
		s.Cancel(ErrDrainTimeout)
	case <-done:
	}
}

func rebalance[V any](s *consume.Session[kafkago.Message, V]) {
	s.Halt(ErrRebalance)
	s.Cancel(ErrRebalance)
}

// commit commits the session's positions with Generation.CommitOffsets,
// which carries the generation id: the broker refuses it once a newer
// generation exists, so a late commit can never move an offset back
// (kafka-go #1308).
func (c *Consumer[V]) commit(gen *kafkago.Generation, pos map[consume.Partition]int64) error {
	offsets := map[string]map[int]int64{}
	for p, off := range pos {
		if offsets[p.Topic] == nil {
			offsets[p.Topic] = map[int]int64{}
		}
		offsets[p.Topic][p.ID] = off
	}
	if err := gen.CommitOffsets(offsets); err != nil {
		return err
	}
	c.m.Commits.Add(1)
	if c.hooks.committed != nil {
		c.hooks.committed(gen, offsets)
	}
	return nil
}

func (c *Consumer[V]) logCommitError(gen *kafkago.Generation, err error) {
	c.log.Warn("idemqkafka: committing offsets failed; the messages will be redelivered and deduplicated",
		"group", gen.GroupID, "generation", gen.ID, "err", err)
}
