package kafka

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	kafkago "github.com/segmentio/kafka-go"
)

// committer commits a generation's finished positions with
// Generation.CommitOffsets, which carries the generation id: the broker
// refuses it once a newer generation exists, so a late commit can never
// move an offset back (kafka-go #1308). It commits every CommitEvery
// finished messages or CommitInterval, and a last time when the
// generation's partitions have stopped, before the generation may end.
type committer struct {
	gen      *kafkago.Generation
	every    int64
	interval time.Duration
	m        *metrics
	c        commitHooks
	kick     chan struct{}
	count    atomic.Int64 // finished since the last flush

	mu        sync.Mutex // serialises flushes
	parts     map[topicPartition]*offsets
	committed map[topicPartition]int64
}

type topicPartition struct {
	topic     string
	partition int
}

// commitHooks is what the committer needs from the consumer.
type commitHooks interface {
	committedHook(gen *kafkago.Generation, offsets map[string]map[int]int64)
	logCommitError(gen *kafkago.Generation, err error)
}

func newCommitter[V any](c *Consumer[V], gen *kafkago.Generation) *committer {
	return &committer{gen: gen, every: int64(c.cfg.CommitEvery), interval: c.cfg.CommitInterval, m: c.m, c: c,
		kick: make(chan struct{}, 1), parts: map[topicPartition]*offsets{}, committed: map[topicPartition]int64{}}
}

// track returns the offsets of an assigned partition.
func (c *committer) track(topic string, a kafkago.PartitionAssignment) *offsets {
	c.mu.Lock()
	defer c.mu.Unlock()
	tp := topicPartition{topic, a.ID}
	o := newOffsets()
	c.parts[tp], c.committed[tp] = o, a.Offset
	return o
}

// finished records a final outcome and wakes the loop every CommitEvery.
func (c *committer) finished(o *offsets, offset int64) {
	o.done(offset)
	if c.count.Add(1) >= c.every {
		select {
		case c.kick <- struct{}{}:
		default:
		}
	}
}

// loop flushes on every tick or kick until ctx ends.
func (c *committer) loop(ctx context.Context) {
	t := time.NewTicker(c.interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-c.kick:
		}
		c.flush(false)
	}
}

// flush commits every position that moved since the last commit. The final
// flush retries once: the broker accepts commits of the ending generation
// until the next one starts.
func (c *committer) flush(final bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.count.Store(0)
	moved := map[string]map[int]int64{}
	for tp, o := range c.parts {
		if pos := o.take(); pos >= 0 && pos > c.committed[tp] {
			if moved[tp.topic] == nil {
				moved[tp.topic] = map[int]int64{}
			}
			moved[tp.topic][tp.partition] = pos
		}
	}
	if len(moved) == 0 {
		return
	}
	err := c.gen.CommitOffsets(moved)
	if err != nil && final {
		time.Sleep(50 * time.Millisecond)
		err = c.gen.CommitOffsets(moved)
	}
	if err != nil {
		c.c.logCommitError(c.gen, err)
		return
	}
	c.m.commits.add(1)
	for topic, ps := range moved {
		for p, pos := range ps {
			c.committed[topicPartition{topic, p}] = pos
		}
	}
	c.c.committedHook(c.gen, moved)
}

func (c *Consumer[V]) committedHook(gen *kafkago.Generation, offsets map[string]map[int]int64) {
	if c.hooks.committed != nil {
		c.hooks.committed(gen, offsets)
	}
}

func (c *Consumer[V]) logCommitError(gen *kafkago.Generation, err error) {
	c.log.Warn("kafka: committing offsets failed; the messages will be redelivered and deduplicated",
		"group", gen.GroupID, "generation", gen.ID, "err", err)
}
