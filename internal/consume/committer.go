package consume

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// committer commits a session's finished positions through the sink's
// Commit, every CommitEvery finished messages or CommitInterval, and a last
// time when the session's partitions have stopped.
type committer struct {
	cfg   SessionConfig
	kick  chan struct{}
	count atomic.Int64 // finished since the last flush

	mu        sync.Mutex // serialises flushes
	parts     map[Partition]*offsets
	committed map[Partition]int64
}

func newCommitter(cfg SessionConfig) *committer {
	return &committer{cfg: cfg, kick: make(chan struct{}, 1),
		parts: map[Partition]*offsets{}, committed: map[Partition]int64{}}
}

// track returns the offsets of an assigned partition, whose committed
// position is start.
func (c *committer) track(p Partition, start int64) *offsets {
	c.mu.Lock()
	defer c.mu.Unlock()
	o := newOffsets()
	c.parts[p], c.committed[p] = o, start
	return o
}

// finished records a final outcome and wakes the loop every CommitEvery.
func (c *committer) finished(o *offsets, offset int64) {
	o.done(offset)
	if c.count.Add(1) >= int64(c.cfg.CommitEvery) {
		select {
		case c.kick <- struct{}{}:
		default:
		}
	}
}

// loop flushes on every tick or kick until ctx ends.
func (c *committer) loop(ctx context.Context) {
	t := time.NewTicker(c.cfg.CommitInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-c.kick:
			if c.count.Load() < int64(c.cfg.CommitEvery) {
				continue // a kick sent before the last flush reset the count
			}
		}
		c.flush(false)
	}
}

// flush commits every position that moved since the last commit. The final
// flush retries once: a broker accepts commits of an ending generation until
// the next one starts.
func (c *committer) flush(final bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.count.Store(0)
	moved := map[Partition]int64{}
	for p, o := range c.parts {
		if pos := o.take(); pos >= 0 && pos > c.committed[p] {
			moved[p] = pos
		}
	}
	if len(moved) == 0 {
		return
	}
	err := c.cfg.Commit(moved)
	if err != nil && final {
		time.Sleep(50 * time.Millisecond)
		err = c.cfg.Commit(moved)
	}
	if err != nil {
		if c.cfg.CommitFailed != nil {
			c.cfg.CommitFailed(err)
		}
		return
	}
	for p, pos := range moved {
		c.committed[p] = pos
	}
}
