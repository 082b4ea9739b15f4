package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// flavour is one way of consuming the orders: a plain kafka-go consumer,
// idemq's Kafka adapter, or a Watermill router with idemq's middleware.
type flavour interface {
	// run consumes as member m until ctx is cancelled, then stops.
	run(ctx context.Context, ph *phase, m *member) error
	// counters returns the duplicates acked without running the handler and
	// the in-flight duplicates that waited for the owner (< 0: not counted);
	// ok is false for a flavour that does not deduplicate.
	counters() (duplicates, waited int64, ok bool)
}

// phase consumes one topic holding the run's workload with one flavour:
// the consumers join, the producer publishes, one consumer is stopped
// abruptly at the kill point and another joins, and the phase ends when
// every message is handled and committed.
type phase struct {
	title   string // the report's column
	slug    string // names: <topic>.<slug>, <group>.<slug>, <ns><slug>:
	flavour flavour
	env     *env
	topic   string
	group   string
	prefix  string // the guard's Redis key prefix
	ledger  ledger
	work    time.Duration
	tracker *tracker
	watch   *groupWatch
	// cutStore: the crash cuts the victim's store connections too (-postgres),
	// so the commit of the effect it was held after never reaches the store.
	// Without it only its Kafka connections are cut.
	cutStore bool
	// window: a guarded phase whose effects done before the crash and not
	// committed run again (idemq on Redis when the crash cuts the store):
	// it must lose no key, and may double those.
	window bool
}

// phaseResult is what one phase measured.
type phaseResult struct {
	title      string
	guarded    bool
	window     bool // see phase.window
	crashed    bool // the victim was stopped right after an effect (else: after its last message)
	duplicates int64
	waited     int64
	effects    int64
	rebalances int
	tally      tally
	lag        int64
	elapsed    time.Duration // from the first publish until every message was handled and committed
	messages   int
}

// lagWait bounds how long a phase waits for the last offset commits once
// every message was handled.
const lagWait = 30 * time.Second

func (ph *phase) run(ctx context.Context, cfg config, orders []order, prog *progress) (phaseResult, error) {
	if err := ph.env.admin.createTopic(ctx, ph.topic, cfg.Partitions); err != nil {
		return phaseResult{}, err
	}
	ctx, fail := context.WithCancelCause(ctx)
	defer fail(nil)
	g := &members{ph: ph, fail: fail}
	defer g.stopAll()
	ids := make([]int, cfg.Consumers)
	for i := range ids {
		ids[i] = i + 1
		g.start(ctx, ids[i], i == 0)
	}
	if err := ph.awaitGroup(ctx, ids); err != nil {
		return phaseResult{}, err
	}
	defer prog.phase(ph.title, len(orders), ph.tracker.count)()
	start := time.Now()
	if err := produce(ctx, ph.env.brokers, ph.topic, orders); err != nil {
		return phaseResult{}, cause(ctx, err)
	}
	if err := ph.killOne(ctx, g, cfg.Consumers+1, prog); err != nil {
		return phaseResult{}, err
	}
	lag, err := ph.drain(ctx, cfg.Partitions)
	if err != nil {
		return phaseResult{}, err
	}
	elapsed := time.Since(start)
	if err := g.stopAll(); err != nil {
		return phaseResult{}, err
	}
	return ph.result(ctx, cfg, orders, lag, elapsed)
}

// joinWait bounds how long the first consumers may take to form the group.
const joinWait = time.Minute

// awaitGroup waits until the consumers ids share one generation.
func (ph *phase) awaitGroup(ctx context.Context, ids []int) error {
	joinCtx, cancel := context.WithTimeout(ctx, joinWait)
	defer cancel()
	err := ph.watch.await(joinCtx, ids)
	if ctx.Err() != nil {
		return cause(ctx, err)
	}
	return err
}

// killOne waits for the kill point, stops the victim abruptly and starts
// consumer id in its place.
func (ph *phase) killOne(ctx context.Context, g *members, id int, prog *progress) error {
	select {
	case <-ph.tracker.killNow:
	case <-ph.tracker.allSeen: // the victim handled nothing after the kill point
	case <-ctx.Done():
		return cause(ctx, nil)
	}
	g.list[0].kill()
	how := " (right after a handler, before its offset commit)"
	switch {
	case !ph.tracker.fired.Load():
		how = ""
	case ph.cutStore:
		how = " (right after an effect, before its commit; all its connections cut)"
	}
	prog.event(fmt.Sprintf("%s: consumer 1 stopped abruptly at %d/%d%s; consumer %d joins",
		ph.title, ph.tracker.count(), ph.tracker.total, how, id))
	g.start(ctx, id, false)
	return nil
}

// drain waits until every message was handled and the group's lag is 0,
// and returns the lag.
func (ph *phase) drain(ctx context.Context, partitions int) (int64, error) {
	select {
	case <-ph.tracker.allSeen:
	case <-ctx.Done():
		return 0, cause(ctx, nil)
	}
	lagCtx, cancel := context.WithTimeout(ctx, lagWait)
	defer cancel()
	lag, err := ph.env.admin.awaitNoLag(lagCtx, ph.topic, ph.group, partitions)
	if ctx.Err() != nil {
		return 0, cause(ctx, nil)
	}
	return lag, err
}

func (ph *phase) result(ctx context.Context, cfg config, orders []order, lag int64, elapsed time.Duration) (phaseResult, error) {
	t, err := tallyLedger(ctx, ph.ledger, uniqueKeys(orders))
	if err != nil {
		return phaseResult{}, err
	}
	if final, err := ph.env.admin.lag(ctx, ph.topic, ph.group, cfg.Partitions); err == nil {
		lag = final // after the consumers' last commits
	}
	dups, waited, guarded := ph.flavour.counters()
	return phaseResult{
		title: ph.title, guarded: guarded, window: ph.window, crashed: ph.tracker.fired.Load(), duplicates: dups, waited: waited,
		effects: ph.tracker.effects.Load(), rebalances: ph.watch.rebalances(),
		tally: t, lag: lag, elapsed: elapsed, messages: len(orders),
	}, nil
}

// cause returns why ctx ended (a consumer's failure, the timeout, an
// interrupt), or err.
func cause(ctx context.Context, err error) error {
	if c := context.Cause(ctx); c != nil {
		if errors.Is(c, context.DeadlineExceeded) {
			return fmt.Errorf("demo: the run took longer than -timeout: %w", c)
		}
		return c
	}
	return err
}

// storeRedis returns member m's own Redis client for its store (its own
// pool and pub/sub connection, as a separate process would have), dialling
// through m's kill switch when the crash cuts the store.
func (ph *phase) storeRedis(m *member) redis.UniversalClient {
	if ph.cutStore {
		return ph.env.newRedis(m.ks.DialContext)
	}
	return ph.env.newRedis(nil)
}
