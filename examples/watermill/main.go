// Command watermill is the README's Watermill example: a router whose
// handler runs once per Idempotency-Key, with idemq's middleware on a
// Redis store. Run it against `make services` (or set IDEMQ_REDIS_ADDR):
//
//	go run ./examples/watermill
package main

import (
	"context"
	"fmt"
	"log"
	"os"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/pubsub/gochannel"
	"github.com/redis/go-redis/v9"

	idemqwatermill "github.com/idemq/idemq/adapters/watermill"
	"github.com/idemq/idemq/dedupe/redisstore"
)

func main() {
	if err := run(context.Background(), getenv("IDEMQ_REDIS_ADDR", "127.0.0.1:16379"), fmt.Sprintf("example-%d:", time.Now().UnixNano())); err != nil {
		log.Fatal(err)
	}
}

func run(ctx context.Context, redisAddr, prefix string) error {
	client := redis.NewClient(&redis.Options{Addr: redisAddr})
	defer client.Close()
	store, err := redisstore.New(client, redisstore.WithPrefix(prefix)) // shared by every instance
	if err != nil {
		return err
	}
	defer store.Close()

	ctx, stop := context.WithCancel(ctx)
	defer stop()
	dedup, err := idemqwatermill.New(store, idemqwatermill.Config{
		Scope: "charge", // the same on every instance (the default, the handler's name, must then match)
		OnDuplicate: func(msg *message.Message, stored []*message.Message) error {
			fmt.Println("duplicate:", msg.Metadata.Get("Idempotency-Key"))
			stop() // the example ends here
			return nil
		},
	})
	if err != nil {
		return err
	}
	pubSub := gochannel.NewGoChannel(gochannel.Config{}, watermill.NopLogger{})
	router := message.NewDefaultRouter(watermill.NopLogger{})
	router.AddMiddleware(dedup.Middleware)
	router.AddConsumerHandler("charge", "orders", pubSub, func(msg *message.Message) error {
		fmt.Println("charging", msg.Metadata.Get("Idempotency-Key")) // charge the card...
		return nil
	})
	go func() {
		<-router.Running()
		for range 2 { // a producer retry: one order, sent twice
			msg := message.NewMessage(watermill.NewUUID(), []byte("10 EUR"))
			msg.Metadata.Set("Idempotency-Key", "order-1")
			if err := pubSub.Publish("orders", msg); err != nil {
				log.Print(err)
				stop()
				return
			}
		}
	}()
	return router.Run(ctx) // returns once ctx is cancelled and the handlers are done
}

func getenv(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}
