// Command run is the README's dedupe.Run example: one piece of work per
// key across every process that shares the Redis. Run it against
// `make services` (or set IDEMQ_REDIS_ADDR):
//
//	go run ./examples/run
package main

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/idemq/idemq/dedupe"
	"github.com/idemq/idemq/dedupe/redisstore"
)

type Order struct {
	ID    string
	Total int
}

func main() {
	if err := run(context.Background(), getenv("IDEMQ_REDIS_ADDR", "127.0.0.1:16379"), fmt.Sprintf("example-%d:", time.Now().UnixNano())); err != nil {
		log.Fatal(err)
	}
}

func run(ctx context.Context, redisAddr, prefix string) error {
	client := redis.NewClient(&redis.Options{Addr: redisAddr})
	defer client.Close()
	store, err := redisstore.New(client, redisstore.WithPrefix(prefix))
	if err != nil {
		return err
	}
	defer store.Close()

	placeOrder := func(ctx context.Context, end dedupe.End[string]) (Order, error) {
		order := Order{ID: "order-1", Total: 42} // validate, reserve, charge...
		end(order.ID)                            // commit: duplicates get "order-1"
		return order, nil
	}
	for range 2 { // the same request, twice
		order, err := dedupe.Run(ctx, store, "request-123", placeOrder)
		var dup *dedupe.ConflictError[string]
		switch {
		case errors.As(err, &dup):
			fmt.Println("duplicate: already done as", dup.Value)
		case err != nil:
			return err // Redis down, commit unknown: retry later
		default:
			fmt.Println("placed", order.ID)
		}
	}
	return nil
}

func getenv(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}
