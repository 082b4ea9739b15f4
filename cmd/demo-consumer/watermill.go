package main

import (
	"context"
	"fmt"
	"github.com/idemq/idemq/consumer"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	wkafka "github.com/ThreeDotsLabs/watermill-kafka/v3/pkg/kafka"
	"github.com/ThreeDotsLabs/watermill/message"

	idemqwatermill "github.com/idemq/idemq/adapters/watermill"
	"github.com/idemq/idemq/dedupe"
	"github.com/idemq/idemq/dedupe/redisstore"
)

// watermillFlavour consumes with a Watermill router per member, its
// handler behind idemq's middleware, subscribed through watermill-kafka
// (Sarama) in the phase's consumer group.
type watermillFlavour struct {
	duplicates atomic.Int64
	waited     atomic.Int64
	running    keySet // keys whose handler is running in some member
}

// handlerName scopes the guard's keys; every member registers the same.
const handlerName = "charge"

func (f *watermillFlavour) run(ctx context.Context, ph *phase, m *member) error {
	client := ph.storeRedis(m)
	defer client.Close()
	store, err := redisstore.New(client, redisstore.WithPrefix(ph.prefix))
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	defer store.Close()
	router, err := f.router(ph, m, store)
	if err != nil {
		return err
	}
	return router.Run(ctx) // closes the subscriber when ctx ends
}

func (f *watermillFlavour) router(ph *phase, m *member, store dedupe.Store) (*message.Router, error) {
	logger := watermill.NewSlogLogger(ph.env.log) // a discarding one when the demo is silent
	dedup, err := idemqwatermill.New(store, idemqwatermill.Config{Guard: consumer.Guard{Lease: 5 * time.Second}, Logger: ph.env.log})
	if err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	sub, err := wkafka.NewSubscriber(wkafka.SubscriberConfig{
		Brokers: ph.env.brokers, Unmarshaler: wkafka.DefaultMarshaler{}, ConsumerGroup: ph.group,
		OverwriteSaramaConfig: saramaConfig(m), Tracer: generationTracer{ph.watch, m.id},
		NackResendSleep: 10 * time.Millisecond, ReconnectRetrySleep: 100 * time.Millisecond,
	}, logger)
	if err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	router, err := message.NewRouter(message.RouterConfig{CloseTimeout: 5 * time.Second}, logger)
	if err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	router.AddMiddleware(f.observe(ph, m), dedup.Middleware) // outer first
	router.AddConsumerHandler(handlerName, ph.topic, sub, func(msg *message.Message) error {
		key := msg.Metadata.Get(keyHeader)
		f.running.add(key)
		defer f.running.remove(key)
		return ph.effect(msg.Context(), m, key)
	})
	return router, nil
}

// observe sits outside idemq's middleware: it counts the duplicates it
// acked (and those that arrived while another member's handler for the key
// was running: they waited for that owner), and records each message's
// final outcome, where the victim is held at the kill point after an
// effect, after the guard committed and before the ack marks the offset.
func (f *watermillFlavour) observe(ph *phase, m *member) message.HandlerMiddleware {
	return func(h message.HandlerFunc) message.HandlerFunc {
		return func(msg *message.Message) ([]*message.Message, error) {
			ownerRunning := f.running.has(msg.Metadata.Get(keyHeader))
			out, err := h(msg)
			if err != nil {
				return out, err
			}
			partition, _ := wkafka.MessagePartitionFromCtx(msg.Context())
			offset, _ := wkafka.MessagePartitionOffsetFromCtx(msg.Context())
			p := position{int(partition), offset}
			if msg.Metadata.Get(idemqwatermill.DuplicateMetadataKey) != "true" {
				ph.handled(msg.Context(), m, p)
				return out, nil
			}
			f.duplicates.Add(1)
			if ownerRunning {
				f.waited.Add(1)
			}
			ph.acked(p)
			return out, nil
		}
	}
}

func (f *watermillFlavour) counters() (int64, int64, bool) {
	return f.duplicates.Load(), f.waited.Load(), true
}

// keySet is a concurrent multiset of keys.
type keySet struct {
	mu sync.Mutex
	n  map[string]int
}

func (s *keySet) add(key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.n == nil {
		s.n = map[string]int{}
	}
	s.n[key]++
}

func (s *keySet) remove(key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.n[key]--; s.n[key] <= 0 {
		delete(s.n, key)
	}
}

func (s *keySet) has(key string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.n[key] > 0
}
