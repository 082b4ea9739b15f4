package idemqfranz

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/idemq/idemq/internal/consume"
)

// group is one Run's membership: the assigned partitions, each with its
// own engine session, created and ended by franz-go's partition callbacks.
type group[V any] struct {
	c    *Consumer[V]
	e    *consume.Engine[*kgo.Record, V]
	work context.Context         // handlers' parent (its values, not its cancellation)
	fail context.CancelCauseFunc // stops the poll loop: shutdown, or a record that failed for good

	mu      sync.Mutex // held while a poll's records are handed out, and to change parts
	parts   map[topicPartition]*partition[V]
	closing bool
	err     error
}

type topicPartition struct {
	topic     string
	partition int32
}

// opts are the options the consumer adds to Config.Client.
func (g *group[V]) opts() []kgo.Opt {
	return []kgo.Opt{
		kgo.ConsumerGroup(g.c.cfg.Group),
		kgo.ConsumeTopics(g.c.cfg.Topics...),
		kgo.DisableAutoCommit(),
		kgo.OnPartitionsAssigned(g.assigned),
		kgo.OnPartitionsRevoked(func(_ context.Context, _ *kgo.Client, ps map[string][]int32) { g.end(ps, ErrRevoked) }),
		kgo.OnPartitionsLost(func(_ context.Context, _ *kgo.Client, ps map[string][]int32) { g.end(ps, ErrLost) }),
	}
}

// assigned starts a session for each newly assigned partition. With a
// cooperative balancer (franz-go's default) the partitions this member
// keeps are not in ps: they go on running.
func (g *group[V]) assigned(_ context.Context, cl *kgo.Client, ps map[string][]int32) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closing {
		return // draining: leave them to the next owner
	}
	for topic, ids := range ps {
		for _, id := range ids {
			tp := topicPartition{topic, id}
			g.parts[tp] = g.start(cl, tp)
			g.c.m.assigned.Add(1)
		}
	}
}

// end stops the partitions of ps that this member runs, and returns once
// they have drained: their handlers' ctx is cancelled with cause, their
// last commit is done (ErrRevoked) or refused (ErrLost). franz-go moves the
// partitions to another member only after end returns, so no commit of
// this member for them can follow the new owner's.
func (g *group[V]) end(ps map[string][]int32, cause error) {
	var ended []*partition[V]
	g.mu.Lock()
	for topic, ids := range ps {
		for _, id := range ids {
			if p := g.parts[topicPartition{topic, id}]; p != nil {
				delete(g.parts, topicPartition{topic, id})
				ended = append(ended, p)
			}
		}
	}
	g.mu.Unlock()
	for _, p := range ended {
		p.stop(cause)
	}
	for _, p := range ended {
		<-p.done
		p.resume()
		if cause == ErrLost {
			g.c.m.lost.Add(1)
		} else {
			g.c.m.revoked.Add(1)
		}
	}
}

// poll hands each poll's records to their partitions until ctx ends.
func (g *group[V]) poll(ctx context.Context, cl *kgo.Client) {
	for {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil || fs.IsClientClosed() {
			return
		}
		fs.EachError(func(topic string, partition int32, err error) {
			if !errors.Is(err, context.Canceled) {
				g.c.cfg.Logger.Warn("idemqfranz: fetching failed", "topic", topic, "partition", partition, "err", err)
			}
		})
		g.mu.Lock()
		fs.EachPartition(func(f kgo.FetchTopicPartition) {
			if p := g.parts[topicPartition{f.Topic, f.Partition}]; p != nil && len(f.Records) > 0 {
				p.push(f.Records)
			}
		})
		g.mu.Unlock()
	}
}

// drain stops every partition's new work, waits for the running handlers
// (cancelling them with ErrDrainTimeout past Config.DrainTimeout) and their
// last commits. Partitions stay in parts meanwhile, so that a rebalance
// during the drain waits for them (end).
func (g *group[V]) drain(cause error) {
	g.mu.Lock()
	g.closing = true
	ps := make([]*partition[V], 0, len(g.parts))
	for _, p := range g.parts {
		ps = append(ps, p)
	}
	g.mu.Unlock()
	for _, p := range ps {
		p.s.Halt(cause)
	}
	timer := time.NewTimer(g.c.cfg.DrainTimeout)
	defer timer.Stop()
	for i, p := range ps {
		select {
		case <-p.done:
			continue
		case <-timer.C:
		}
		for _, q := range ps[i:] {
			q.s.Cancel(ErrDrainTimeout)
		}
		<-p.done
	}
	g.mu.Lock()
	clear(g.parts) // the client's Close revokes them: nothing left to do
	g.mu.Unlock()
	for _, p := range ps {
		p.resume()
	}
}

// stop records the first fatal error and stops the poll loop.
func (g *group[V]) stop(err error) {
	g.mu.Lock()
	if g.err == nil {
		g.err = err
	}
	g.mu.Unlock()
	g.fail(err)
}

func (g *group[V]) fatal() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.err
}
