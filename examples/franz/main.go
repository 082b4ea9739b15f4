// Command franz is the README's franz-go example: a consumer group whose
// handler charges each order once, however often it is delivered, on a
// franz-go client with a cooperative balancer and static membership. Run it
// against `make services` (or set IDEMQ_KAFKA_BROKERS and IDEMQ_REDIS_ADDR):
//
//	go run ./examples/franz
package main

import (
	"context"
	"fmt"
	"log"
	"os"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	idemqfranz "github.com/idemq/idemq/adapters/franz"
	"github.com/idemq/idemq/dedupe"
	"github.com/idemq/idemq/dedupe/redisstore"
)

func main() {
	brokers, redisAddr := getenv("IDEMQ_KAFKA_BROKERS", "127.0.0.1:19092"), getenv("IDEMQ_REDIS_ADDR", "127.0.0.1:16379")
	id := time.Now().UnixNano() // a new topic and key prefix each time it runs
	if err := run(context.Background(), brokers, redisAddr, fmt.Sprintf("orders-%d", id), fmt.Sprintf("example-%d:", id)); err != nil {
		log.Fatal(err)
	}
}

func run(ctx context.Context, brokers, redisAddr, topic, prefix string) error {
	client := redis.NewClient(&redis.Options{Addr: redisAddr})
	defer client.Close()
	store, err := redisstore.New(client, redisstore.WithPrefix(prefix)) // shared by every consumer of the group
	if err != nil {
		return err
	}
	defer store.Close()

	// A producer retry: order-1 is sent twice under one Idempotency-Key.
	if err := publish(ctx, brokers, topic, "order-1", "order-1"); err != nil {
		return err
	}

	ctx, stop := context.WithCancel(ctx)
	defer stop()
	consumer, err := idemqfranz.NewConsumer(idemqfranz.Config[string]{
		Group:  "billing-" + topic,
		Topics: []string{topic},
		Client: []kgo.Opt{ // your franz-go options: TLS, SASL, balancers...
			kgo.SeedBrokers(brokers),
			kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
			kgo.InstanceID("billing-1"), // static membership: a restart keeps its partitions
		},
		Store: store,
		Handle: func(ctx context.Context, r *kgo.Record, end dedupe.End[string]) error {
			receipt := "receipt for " + string(r.Value) // charge the card...
			fmt.Println("charged", string(r.Value))
			end(receipt) // the commit point: duplicates get this value
			return nil
		},
		OnDuplicate: func(ctx context.Context, r *kgo.Record, receipt string) error {
			fmt.Println("duplicate:", receipt)
			stop() // the example ends here
			return nil
		},
	})
	if err != nil {
		return err
	}
	return consumer.Run(ctx) // nil after a graceful drain
}

// publish creates topic and writes one record per value, each with the
// Idempotency-Key header "order-1".
func publish(ctx context.Context, brokers, topic string, values ...string) error {
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers))
	if err != nil {
		return err
	}
	defer cl.Close()
	create := kmsg.NewPtrCreateTopicsRequest()
	create.Topics = []kmsg.CreateTopicsRequestTopic{{Topic: topic, NumPartitions: 1, ReplicationFactor: 1}}
	res, err := create.RequestWith(ctx, cl)
	if err != nil {
		return err
	}
	if err := kerr.ErrorForCode(res.Topics[0].ErrorCode); err != nil {
		return err
	}
	rs := make([]*kgo.Record, len(values))
	for i, v := range values {
		rs[i] = &kgo.Record{Topic: topic, Value: []byte(v), Headers: []kgo.RecordHeader{{Key: "Idempotency-Key", Value: []byte("order-1")}}}
	}
	return cl.ProduceSync(ctx, rs...).FirstErr()
}

func getenv(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}
