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
	"github.com/idemq/idemq/dedupe/redisstore"
)

// idemqFlavour consumes with idemq's Kafka adapter: the handler runs
// inside the guard (claim-first, keys in Redis), duplicates are acked
// without running it, offsets are committed once outcomes are final.
type idemqFlavour struct {
	mu        sync.Mutex
	consumers []*idemqkafka.Consumer[int64]
}

func (f *idemqFlavour) run(ctx context.Context, ph *phase, m *member) error {
	client := ph.env.newRedis()
	defer client.Close()
	store, err := redisstore.New(client, redisstore.WithPrefix(ph.prefix))
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	defer store.Close()
	c, err := idemqkafka.NewConsumer(f.config(ph, m, store))
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	f.mu.Lock()
	f.consumers = append(f.consumers, c)
	f.mu.Unlock()
	return c.Run(ctx)
}

func (f *idemqFlavour) config(ph *phase, m *member, store dedupe.Store) idemqkafka.Config[int64] {
	return idemqkafka.Config[int64]{
		Reader:  ph.readerConfig(m),
		Store:   store,
		KeyFunc: idemqkafka.HeaderKey(keyHeader),
		Handle: func(ctx context.Context, msg kafkago.Message, end dedupe.End[int64]) error {
			entries, err := ph.effect(ctx, m, header(msg, keyHeader))
			if err != nil {
				return err
			}
			end(entries) // the commit point: duplicates of this key are acked from now on
			ph.handled(ctx, m, positionOf(msg))
			return nil
		},
		OnDuplicate: func(ctx context.Context, msg kafkago.Message, _ int64) error {
			ph.handled(ctx, m, positionOf(msg))
			return nil
		},
		Backoff:      consumer.Backoff{Min: 10 * time.Millisecond, Max: 200 * time.Millisecond},
		Guard:        consumer.Guard{Lease: 5 * time.Second},
		DrainTimeout: time.Second,
		Logger:       ph.env.log,
	}
}

func (f *idemqFlavour) counters() (duplicates, waited int64, ok bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, c := range f.consumers {
		s := c.Stats()
		duplicates += s.Duplicates
		waited += s.InFlightConflicts
	}
	return duplicates, waited, true
}
