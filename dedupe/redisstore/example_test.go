package redisstore_test

import (
	"context"
	"errors"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/idemq/idemq/dedupe"
	"github.com/idemq/idemq/dedupe/redisstore"
)

// A store on Redis is shared by every process that uses the same Redis and
// prefix. Close the store before the client.
func ExampleNew() {
	client := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379"})
	defer client.Close()
	store, err := redisstore.New(client, redisstore.WithPrefix("orders:"))
	if err != nil {
		panic(err)
	}
	defer store.Close()

	_, err = dedupe.Run(context.Background(), store, "request-123",
		func(ctx context.Context, end dedupe.End[string]) (string, error) {
			end("done")
			return "done", nil
		}, dedupe.WithTTL(time.Hour))
	if errors.Is(err, dedupe.ErrCommitUnknown) {
		// The outcome is unknown: do not acknowledge the message.
	}
}
