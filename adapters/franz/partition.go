package idemqfranz

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/idemq/idemq/internal/consume"
)

// commitTimeout bounds one offset commit; a commit that fails is tried
// again at the next one.
const commitTimeout = 10 * time.Second

// partition is one assigned partition: an engine session of its own (so
// that it is revoked, cancelled and committed alone), and the queue of its
// polled records. A partition with 2*BatchSize records queued is paused
// until half of them have been taken.
type partition[V any] struct {
	g    *group[V]
	cl   *kgo.Client
	tp   topicPartition
	s    *consume.Session[*kgo.Record, V]
	lost atomic.Bool   // its last commits are refused
	done chan struct{} // closed once the session has ended

	mu     sync.Mutex
	queue  []*kgo.Record
	last   int64 // offset of the last record queued (-1: none)
	paused bool
	ready  chan struct{} // a push since the last take
}

// start runs the session of a newly assigned partition.
func (g *group[V]) start(cl *kgo.Client, tp topicPartition) *partition[V] {
	p := &partition[V]{g: g, cl: cl, tp: tp, done: make(chan struct{}), last: -1, ready: make(chan struct{}, 1)}
	p.s = g.e.Session(g.work, consume.SessionConfig{
		Commit:         p.commit,
		CommitFailed:   p.commitFailed,
		CommitEvery:    g.c.cfg.CommitEvery,
		CommitInterval: g.c.cfg.CommitInterval,
	})
	go p.run()
	return p
}

func (p *partition[V]) run() {
	defer close(p.done)
	p.s.Partition(consume.Partition{Topic: p.tp.topic, ID: int(p.tp.partition)}, -1, p.next, p.g.c.cfg.BatchSize)
	if err := p.s.End(); err != nil {
		p.g.stop(err)
	}
}

// stop halts the session and cancels its handlers with cause.
func (p *partition[V]) stop(cause error) {
	if cause == ErrLost {
		p.lost.Store(true)
	}
	p.s.Halt(cause)
	p.s.Cancel(cause)
}

// push queues a poll's records of the partition. Offsets only increase: a
// record polled before a revoke and handed out after the partition came
// back is dropped if the new assignment's fetch is past it.
func (p *partition[V]) push(rs []*kgo.Record) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, r := range rs {
		if r.Offset > p.last {
			p.queue = append(p.queue, r)
			p.last = r.Offset
		}
	}
	if !p.paused && len(p.queue) >= 2*p.g.c.cfg.BatchSize {
		p.paused = true
		p.cl.PauseFetchPartitions(map[string][]int32{p.tp.topic: {p.tp.partition}})
	}
	select {
	case p.ready <- struct{}{}:
	default:
	}
}

// next waits for a record, then takes what is queued, up to cap(buf). It
// returns none once stop is done.
func (p *partition[V]) next(stop context.Context, buf []*kgo.Record) []*kgo.Record {
	for stop.Err() == nil {
		if buf = p.take(buf); len(buf) > 0 {
			return buf
		}
		select {
		case <-p.ready:
		case <-stop.Done():
		}
	}
	return nil
}

func (p *partition[V]) take(buf []*kgo.Record) []*kgo.Record {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := min(len(p.queue), cap(buf))
	buf = append(buf, p.queue[:n]...)
	clear(p.queue[:n])
	p.queue = p.queue[n:]
	if len(p.queue) <= p.g.c.cfg.BatchSize {
		p.resumeLocked()
	}
	return buf
}

// resume resumes fetching the partition if it was paused: a pause outlives
// the assignment in franz-go.
func (p *partition[V]) resume() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.resumeLocked()
}

func (p *partition[V]) resumeLocked() {
	if p.paused {
		p.paused = false
		p.cl.ResumeFetchPartitions(map[string][]int32{p.tp.topic: {p.tp.partition}})
	}
}

// commit commits the partition's position with CommitOffsetsSync, which
// carries the member's current generation: the broker refuses it from a
// member that was fenced. A revoked partition's last commit is made before
// franz-go moves it (group.end), and none after.
func (p *partition[V]) commit(pos map[consume.Partition]int64) error {
	if p.lost.Load() {
		return ErrLost
	}
	for _, off := range pos {
		ctx, cancel := context.WithTimeout(context.Background(), commitTimeout)
		err := commitSync(ctx, p.cl, p.tp, off)
		cancel()
		if err != nil {
			return err
		}
		p.g.c.m.Commits.Add(1)
		if h := p.g.c.hooks.committed; h != nil {
			h(p.tp.topic, p.tp.partition, off)
		}
	}
	return nil
}

func commitSync(ctx context.Context, cl *kgo.Client, tp topicPartition, offset int64) error {
	var err error
	offsets := map[string]map[int32]kgo.EpochOffset{tp.topic: {tp.partition: {Epoch: -1, Offset: offset}}}
	cl.CommitOffsetsSync(ctx, offsets, func(_ *kgo.Client, _ *kmsg.OffsetCommitRequest, resp *kmsg.OffsetCommitResponse, rerr error) {
		err = rerr
		if resp == nil {
			return
		}
		for _, t := range resp.Topics {
			for _, part := range t.Partitions {
				if err == nil {
					err = kerr.ErrorForCode(part.ErrorCode)
				}
			}
		}
	})
	return err
}

func (p *partition[V]) commitFailed(err error) {
	if !errors.Is(err, ErrLost) {
		p.g.c.cfg.Logger.Warn("idemqfranz: committing offsets failed; the records will be redelivered and deduplicated",
			"group", p.g.c.cfg.Group, "topic", p.tp.topic, "partition", p.tp.partition, "err", fmt.Sprint(err))
	}
}
