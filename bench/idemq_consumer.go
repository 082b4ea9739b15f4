package main

import (
	"context"
	"fmt"
	"github.com/idemq/idemq/consumer"
	"sync"
	"sync/atomic"
	"time"

	kafkago "github.com/segmentio/kafka-go"

	idemqkafka "github.com/idemq/idemq/adapters/kafka"
	"github.com/idemq/idemq/dedupe"
	"github.com/idemq/idemq/dedupe/redisstore"
	"github.com/idemq/idemq/internal/nullstore"
)

// storeKind is the store under an idemq consumer row.
type storeKind int

const (
	nullStoreKind storeKind = iota
	memoryStoreKind
	serverStoreKind // a redisstore.Store on the row's server (Redis or Valkey)
)

// newStore returns the round's store; a redisstore.Store under the round's fresh
// prefix.
func newStore(kind storeKind, rr rowRound) (dedupe.Store, error) {
	switch kind {
	case memoryStoreKind:
		return dedupe.NewMemoryStore(), nil
	case serverStoreKind:
		return redisstore.New(rr.server.client, redisstore.WithPrefix(rr.prefix))
	}
	return nullstore.Store{}, nil
}

// idemqRun consumes the fresh topic (or the duplicates topic) with an idemq
// consumer with default settings: a no-op handler that calls
// end(struct{}{}), and an OnDuplicate that counts. The round is timed from
// Run to the last final outcome (handler and duplicate calls == messages),
// as consumerRun of adapters/kafka/bench_test.go does, and to the first
// outcome; then Run is cancelled and must return nil.
func idemqRun(kind storeKind, dups, optimistic bool) runFunc {
	return func(ctx context.Context, env *services, rr rowRound) (timed, error) {
		k := env.kafka
		t := k.fresh
		if dups {
			t = k.dups
		}
		store, err := newStore(kind, rr)
		if err != nil {
			return timed{}, err
		}
		defer store.Close()
		out := &outcomes{want: int64(t.messages), done: make(chan struct{})}
		c, err := idemqkafka.NewConsumer(idemqkafka.Config[struct{}]{
			Reader:  k.readerConfig(t.name, k.group(rr.row, rr.round)),
			Store:   store,
			KeyFunc: idemqkafka.HeaderKey(keyHeader),
			Guard:   consumer.Guard{Optimistic: optimistic},
			Handle: func(ctx context.Context, m kafkago.Message, end dedupe.End[struct{}]) error {
				end(struct{}{})
				out.add()
				return nil
			},
			OnDuplicate: func(context.Context, kafkago.Message, struct{}) error { out.add(); return nil },
		})
		if err != nil {
			return timed{}, err
		}
		return runConsumer(ctx, c, out, t.messages)
	}
}

// runner is an idemq consumer of either Kafka adapter.
type runner interface {
	Run(ctx context.Context) error
}

// runConsumer runs c until every message has an outcome, then stops it.
func runConsumer(ctx context.Context, c runner, out *outcomes, messages int) (timed, error) {
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	errc := make(chan error, 1)
	start := time.Now()
	out.start = start
	go func() { errc <- c.Run(runCtx) }()
	select {
	case <-out.done:
	case err := <-errc:
		return timed{}, fmt.Errorf("the consumer returned early (%d of %d outcomes): %v", out.n.Load(), messages, err)
	case <-ctx.Done():
		cancel()
		<-errc
		return timed{}, fmt.Errorf("%d of %d outcomes: %w", out.n.Load(), messages, context.Cause(ctx))
	}
	elapsed := time.Since(start)
	cancel()
	if err := <-errc; err != nil {
		return timed{}, fmt.Errorf("the consumer: %w", err)
	}
	if n := out.n.Load(); n != int64(messages) {
		return timed{}, fmt.Errorf("%d outcomes for %d messages", n, messages)
	}
	return timed{elapsed, messages, out.first.after()}, nil
}

// outcomes counts handler and duplicate calls and closes done at want;
// runConsumer sets start.
type outcomes struct {
	n     atomic.Int64
	want  int64
	done  chan struct{}
	once  sync.Once
	start time.Time
	first firstMessage
}

func (o *outcomes) add() {
	n := o.n.Add(1)
	if n == 1 {
		o.first.mark(o.start)
	}
	if n == o.want {
		o.once.Do(func() { close(o.done) })
	}
}
