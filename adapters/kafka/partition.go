package kafka

import (
	"context"
	"sync"

	kafkago "github.com/segmentio/kafka-go"
)

// partition consumes one assigned partition for one generation: a Reader
// positioned at the group's committed offset (no GroupID, so no stale
// messages or late commits cross generations), a fetcher goroutine, and
// batches of whatever has arrived, up to BatchSize, run by the pipeline.
func (g *generation[V]) partition(topic string, a kafkago.PartitionAssignment, o *offsets) {
	r := kafkago.NewReader(partitionConfig(g.c.cfg.Reader, topic, a.ID))
	defer r.Close()
	if err := r.SetOffset(a.Offset); err != nil {
		g.fail(err)
		return
	}
	size := g.p.cfg.BatchSize
	in := make(chan kafkago.Message, size)
	fetchCtx, cancel := context.WithCancel(g.stop)
	var wg sync.WaitGroup
	wg.Go(func() { g.fetch(fetchCtx, r, in) })
	defer wg.Wait()
	defer cancel()

	w := newWaves(g, o)
	defer w.wait()
	buf := make([]kafkago.Message, 0, size)
	for w.slot() {
		batch := nextBatch(g.stop, in, buf[:0])
		if len(batch) == 0 {
			w.free()
			return
		}
		jobs := make([]*job[V], len(batch))
		for i, m := range batch {
			jobs[i] = g.p.newJob(m)
			o.add(m.Offset)
		}
		w.run(jobs)
	}
}

// fetch moves messages from the Reader to out until ctx ends.
func (g *generation[V]) fetch(ctx context.Context, r *kafkago.Reader, out chan<- kafkago.Message) {
	for n := 0; ; {
		m, err := r.FetchMessage(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			g.c.log.Warn("kafka: fetching failed; retrying", "topic", r.Config().Topic, "partition", r.Config().Partition, "err", err)
			if !sleep(ctx, g.p.cfg.Backoff.delay(n)) {
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
