package kafka

import (
	"context"
	"sync"
	"time"

	kafkago "github.com/segmentio/kafka-go"
)

// generation is one consumer-group generation's work: one loop per
// assigned partition and a committer, all ended before the group may move
// on.
type generation[V any] struct {
	c       *Consumer[V]
	p       *pipeline[V]
	gen     *kafkago.Generation
	stop    context.Context // done: start nothing new
	halt    context.CancelCauseFunc
	work    context.Context // handlers' parent
	cancel  context.CancelCauseFunc
	commits *committer

	mu    sync.Mutex
	fatal error
}

// generation runs gen until it ends (rebalance), ctx is cancelled
// (shutdown) or a message fails for good, then drains: running handlers
// finish (or are cancelled), the finished offsets are committed. It
// returns the fatal error, if any.
func (c *Consumer[V]) generation(ctx, genCtx context.Context, p *pipeline[V], gen *kafkago.Generation) error {
	if c.hooks.generation != nil {
		c.hooks.generation(gen)
	}
	g := &generation[V]{c: c, p: p, gen: gen}
	g.stop, g.halt = context.WithCancelCause(context.Background())
	g.work, g.cancel = context.WithCancelCause(context.WithoutCancel(ctx))
	defer g.halt(nil)
	defer g.cancel(nil)
	g.commits = newCommitter(c, gen)

	done := make(chan struct{})
	var bg sync.WaitGroup
	bg.Go(func() { g.watch(ctx, genCtx, done) })
	loop, stopLoop := context.WithCancel(context.Background())
	bg.Go(func() { g.commits.loop(loop) })
	g.partitions()
	stopLoop()
	close(done)
	bg.Wait()
	g.commits.flush(true)
	return g.fatal
}

// partitions runs one loop per assigned partition until all have stopped.
func (g *generation[V]) partitions() {
	var wg sync.WaitGroup
	for topic, assigned := range g.gen.Assignments {
		for _, a := range assigned {
			o := g.commits.track(topic, a)
			wg.Go(func() { g.partition(topic, a, o) })
		}
	}
	wg.Wait()
}

// watch turns the generation's end and Run's cancellation into the stop
// and work signals: a rebalance stops and cancels at once; a shutdown
// stops at once and cancels after the drain timeout.
func (g *generation[V]) watch(ctx, genCtx context.Context, done <-chan struct{}) {
	select {
	case <-genCtx.Done():
		g.rebalance()
		return
	case <-ctx.Done():
		g.halt(context.Cause(ctx))
	case <-g.stop.Done(): // a fatal error: drain like a shutdown
	case <-done:
		return
	}
	timer := time.NewTimer(g.p.cfg.DrainTimeout)
	defer timer.Stop()
	select {
	case <-genCtx.Done():
		g.rebalance()
	case <-timer.C:
		g.cancel(ErrDrainTimeout)
	case <-done:
	}
}

func (g *generation[V]) rebalance() {
	g.halt(ErrRebalance)
	g.cancel(ErrRebalance)
}

// fail records the first fatal error and stops the generation.
func (g *generation[V]) fail(err error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.fatal == nil {
		g.fatal = err
		g.c.log.Error("kafka: stopping the consumer", "err", err)
	}
	g.halt(err)
}
