package main

import (
	"context"
	"fmt"
	"github.com/idemq/idemq/consumer"
	"sync"
	"time"

	kafkago "github.com/segmentio/kafka-go"

	idemqkafka "github.com/idemq/idemq/adapters/kafka"
	"github.com/idemq/idemq/dedupe"
	"github.com/idemq/idemq/dedupe/pgstore"
	"github.com/idemq/idemq/dedupe/redisstore"
)

// idemqFlavour consumes with idemq's Kafka adapter: the handler runs
// inside the guard, duplicates are acked without running it, offsets are
// committed once outcomes are final. Its store is Redis (claim-first,
// Config.Store), or with pgTable PostgreSQL (Config.TxStore): the handler
// then runs in the transaction that holds the key, and its effect row
// commits with the key's record.
type idemqFlavour struct {
	pgTable string // pgstore's table; "" means the Redis store

	mu        sync.Mutex
	consumers []*idemqkafka.Consumer[int64]
}

func (f *idemqFlavour) run(ctx context.Context, ph *phase, m *member) error {
	cfg := f.config(ph, m)
	closeStore, err := f.openStore(ctx, ph, m, &cfg)
	if err != nil {
		return err
	}
	defer closeStore()
	c, err := idemqkafka.NewConsumer(cfg)
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	f.mu.Lock()
	f.consumers = append(f.consumers, c)
	f.mu.Unlock()
	return c.Run(ctx)
}

// openStore gives cfg member m's own store, on connections of its own, and
// returns what closes them.
func (f *idemqFlavour) openStore(ctx context.Context, ph *phase, m *member, cfg *idemqkafka.Config[int64]) (func(), error) {
	if f.pgTable != "" {
		pool, err := ph.memberPool(ctx, m)
		if err != nil {
			return nil, err
		}
		// Rows are keyed by (scope, key): the group names the consumer.
		store, err := pgstore.New(pool, ph.group, pgstore.WithTable(f.pgTable))
		if err != nil {
			pool.Close()
			return nil, fmt.Errorf("demo: %w", err)
		}
		cfg.TxStore = store
		return pool.Close, nil
	}
	client := ph.storeRedis(m)
	store, err := redisstore.New(client, redisstore.WithPrefix(ph.prefix))
	if err != nil {
		_ = client.Close()
		return nil, fmt.Errorf("demo: %w", err)
	}
	cfg.Store, cfg.Guard.Lease = store, 5*time.Second
	return func() {
		_ = store.Close()
		_ = client.Close()
	}, nil
}

// config is member m's consumer without its store. The value a key
// commits, which its duplicates get, is the member that handled it.
func (f *idemqFlavour) config(ph *phase, m *member) idemqkafka.Config[int64] {
	return idemqkafka.Config[int64]{
		Reader:  ph.readerConfig(m),
		KeyFunc: idemqkafka.HeaderKey(keyHeader),
		Handle: func(ctx context.Context, msg kafkago.Message, end dedupe.End[int64]) error {
			if err := ph.effect(ctx, m, header(msg, keyHeader)); err != nil {
				return err
			}
			end(int64(m.id))
			// The store commits the key once the handler returned: the
			// victim is held here, after its effect and before that commit.
			ph.handled(ctx, m, positionOf(msg))
			return nil
		},
		OnDuplicate: func(_ context.Context, msg kafkago.Message, _ int64) error {
			ph.acked(positionOf(msg))
			return nil
		},
		Backoff:      consumer.Backoff{Min: 10 * time.Millisecond, Max: 200 * time.Millisecond},
		DrainTimeout: time.Second,
		Logger:       ph.env.log,
	}
}

// counters counts no waits on PostgreSQL: there a duplicate waits inside
// the store's transaction, on the key's row, and the adapter does not see it.
func (f *idemqFlavour) counters() (duplicates, waited int64, ok bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, c := range f.consumers {
		s := c.Stats()
		duplicates += s.Duplicates
		waited += s.InFlightConflicts
	}
	if f.pgTable != "" {
		waited = -1
	}
	return duplicates, waited, true
}
