package idemqwatermill_test

import (
	"context"
	"errors"
	"fmt"
	"github.com/idemq/idemq/consumer"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/message/router/middleware"
	"github.com/ThreeDotsLabs/watermill/pubsub/gochannel"

	idemqwatermill "github.com/idemq/idemq/adapters/watermill"
	"github.com/idemq/idemq/dedupe"
)

// Two deliveries of one key: the handler runs once, the duplicate is acked
// (with the first run's outputs, if it had any) and reported.
func Example() {
	store := dedupe.NewMemoryStore() // redisstore.New(client): shared by every instance
	defer store.Close()
	dedup, err := idemqwatermill.New(store, idemqwatermill.Config{
		KeyFunc: idemqwatermill.MetadataKey("Idempotency-Key"),
		Guard:   consumer.Guard{TTL: 24 * time.Hour},
		OnDuplicate: func(msg *message.Message, stored []*message.Message) error {
			fmt.Println("duplicate:", msg.Metadata.Get("Idempotency-Key"))
			return nil
		},
	})
	if err != nil {
		panic(err)
	}
	pubSub := gochannel.NewGoChannel(gochannel.Config{BlockPublishUntilSubscriberAck: true}, watermill.NopLogger{})
	router := message.NewDefaultRouter(watermill.NopLogger{})
	router.AddMiddleware(dedup.Middleware)
	router.AddConsumerHandler("charge", "orders", pubSub, func(msg *message.Message) error {
		fmt.Println("charging", msg.Metadata.Get("Idempotency-Key"))
		return nil
	})
	go func() { _ = router.Run(context.Background()) }()
	<-router.Running()

	for range 2 {
		msg := message.NewMessage(watermill.NewUUID(), []byte(`{"total":42}`))
		msg.Metadata.Set("Idempotency-Key", "order-1")
		if err := pubSub.Publish("orders", msg); err != nil { // returns once the message is acked
			panic(err)
		}
	}
	if err := router.Close(); err != nil {
		panic(err)
	}
	// Output:
	// charging order-1
	// duplicate: order-1
}

// The order to add Watermill's middlewares in, outer to inner: PoisonQueue
// filtered by Poisonable, the Deduplicator, Retry, Recoverer. A failed
// attempt is retried inside one claim; nothing is committed until it
// succeeds.
func Example_middlewareOrder() {
	store := dedupe.NewMemoryStore()
	defer store.Close()
	dedup, err := idemqwatermill.New(store, idemqwatermill.Config{})
	if err != nil {
		panic(err)
	}
	pubSub := gochannel.NewGoChannel(gochannel.Config{BlockPublishUntilSubscriberAck: true}, watermill.NopLogger{})
	poison, err := middleware.PoisonQueueWithFilter(pubSub, "orders.poison", idemqwatermill.Poisonable)
	if err != nil {
		panic(err)
	}
	retry := middleware.Retry{MaxRetries: 3, InitialInterval: 10 * time.Millisecond, MaxElapsedTime: 10 * time.Second}

	router := message.NewDefaultRouter(watermill.NopLogger{})
	router.AddMiddleware(poison, dedup.Middleware, retry.Middleware, middleware.Recoverer)
	attempts := 0
	router.AddConsumerHandler("charge", "orders", pubSub, func(msg *message.Message) error {
		if attempts++; attempts == 1 {
			return errors.New("card processor timed out")
		}
		fmt.Println("charged on attempt", attempts)
		return nil
	})
	go func() { _ = router.Run(context.Background()) }()
	<-router.Running()

	for range 2 {
		msg := message.NewMessage(watermill.NewUUID(), []byte(`{"total":42}`))
		msg.Metadata.Set("Idempotency-Key", "order-1")
		if err := pubSub.Publish("orders", msg); err != nil {
			panic(err)
		}
	}
	if err := router.Close(); err != nil {
		panic(err)
	}
	fmt.Println("attempts:", attempts)
	// Output:
	// charged on attempt 2
	// attempts: 2
}

// A publisher that publishes each key once per topic, across instances.
func ExampleDeduplicator_DecoratePublisher() {
	store := dedupe.NewMemoryStore()
	defer store.Close()
	dedup, err := idemqwatermill.New(store, idemqwatermill.Config{
		OnDuplicate: func(msg *message.Message, stored []*message.Message) error {
			fmt.Println("dropped repeat of", msg.Metadata.Get("Idempotency-Key"))
			return nil
		},
	})
	if err != nil {
		panic(err)
	}
	pubSub := gochannel.NewGoChannel(gochannel.Config{}, watermill.NopLogger{})
	defer pubSub.Close()
	publisher, err := dedup.DecoratePublisher(pubSub) // or router.AddPublisherDecorators(dedup.DecoratePublisher)
	if err != nil {
		panic(err)
	}
	for range 2 {
		msg := message.NewMessage(watermill.NewUUID(), []byte("shipped"))
		msg.Metadata.Set("Idempotency-Key", "shipment-9")
		if err := publisher.Publish("shipments", msg); err != nil {
			panic(err)
		}
	}
	// Output:
	// dropped repeat of shipment-9
}
