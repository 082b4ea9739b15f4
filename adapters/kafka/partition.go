package idemqkafka

import (
	"context"
	"sync"

	kafkago "github.com/segmentio/kafka-go"

	"github.com/idemq/idemq/internal/clock"
	"github.com/idemq/idemq/internal/consume"
)

// partition consumes one assigned partition for one generation: a Reader
// positioned at the group's committed offset (no GroupID, so no stale
// messages or late commits cross generations), a fetcher goroutine, and
// batches of whatever has arrived, up to BatchSize, run by the engine.
func (c *Consumer[V]) partition(s *consume.Session[kafkago.Message, V], topic string, a kafkago.PartitionAssignment) {
	r := kafkago.NewReader(partitionConfig(c.cfg.Reader, topic, a.ID))
	defer r.Close()
	if err := r.SetOffset(a.Offset); err != nil {
		s.Fail(err)
		return
	}
	in := make(chan kafkago.Message, c.cfg.BatchSize)
	fetchCtx, cancel := context.WithCancel(s.Stopping())
	var wg sync.WaitGroup
	wg.Go(func() { c.fetch(fetchCtx, r, in) })
	defer wg.Wait()
	defer cancel()
	s.Partition(consume.Partition{Topic: topic, ID: a.ID}, a.Offset, func(stop context.Context, buf []kafkago.Message) []kafkago.Message {
		return nextBatch(stop, in, buf)
	}, c.cfg.BatchSize)
}

// fetch moves messages from the Reader to out until ctx ends.
func (c *Consumer[V]) fetch(ctx context.Context, r *kafkago.Reader, out chan<- kafkago.Message) {
	for n := 0; ; {
		m, err := r.FetchMessage(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			c.log.Warn("idemqkafka: fetching failed; retrying", "topic", r.Config().Topic, "partition", r.Config().Partition, "err", err)
			if !clock.Sleep(ctx, c.cfg.Backoff.Delay(n)) {
				return
			}
			n++
			continue
		}
		n = 0
		select {
		case out <- m:
		case <-ctx.Done():
			return
		}
	}
}

// nextBatch waits for one message, then takes whatever else has arrived,
// up to cap(buf). It returns an empty batch once ctx is done.
func nextBatch(ctx context.Context, in <-chan kafkago.Message, buf []kafkago.Message) []kafkago.Message {
	select {
	case m := <-in:
		buf = append(buf, m)
	case <-ctx.Done():
		return nil
	}
	for len(buf) < cap(buf) {
		select {
		case m := <-in:
			buf = append(buf, m)
		default:
			return buf
		}
	}
	return buf
}
