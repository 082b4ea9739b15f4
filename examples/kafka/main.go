// Command kafka is the README's Kafka example: a consumer group whose
// handler charges each order once, however often it is delivered. Run it
// against `make services` (or set IDEMQ_KAFKA_BROKERS and IDEMQ_REDIS_ADDR):
//
//	go run ./examples/kafka
package main

import (
	"context"
	"fmt"
	"log"
	"os"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/segmentio/kafka-go"

	idemqkafka "github.com/idemq/idemq/adapters/kafka"
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
	consumer, err := idemqkafka.NewConsumer(idemqkafka.Config[string]{
		Reader: kafka.ReaderConfig{Brokers: []string{brokers}, GroupID: "billing-" + topic, Topic: topic},
		Store:  store,
		Handle: func(ctx context.Context, m kafka.Message, end dedupe.End[string]) error {
			receipt := "receipt for " + string(m.Value) // charge the card...
			fmt.Println("charged", string(m.Value))
			end(receipt) // the commit point: duplicates get this value
			return nil
		},
		OnDuplicate: func(ctx context.Context, m kafka.Message, receipt string) error {
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

// publish creates topic and writes one message per value, each with the
// Idempotency-Key header "order-1".
func publish(ctx context.Context, brokers, topic string, values ...string) error {
	transport := &kafka.Transport{}
	defer transport.CloseIdleConnections()
	admin := &kafka.Client{Addr: kafka.TCP(brokers), Transport: transport}
	res, err := admin.CreateTopics(ctx, &kafka.CreateTopicsRequest{
		Topics: []kafka.TopicConfig{{Topic: topic, NumPartitions: 1, ReplicationFactor: 1}},
	})
	if err != nil {
		return err
	}
	if err := res.Errors[topic]; err != nil {
		return err
	}
	w := &kafka.Writer{Addr: kafka.TCP(brokers), Topic: topic, RequiredAcks: kafka.RequireAll,
		BatchTimeout: time.Millisecond, Transport: transport}
	defer w.Close()
	msgs := make([]kafka.Message, len(values))
	for i, v := range values {
		msgs[i] = kafka.Message{Value: []byte(v), Headers: []kafka.Header{{Key: "Idempotency-Key", Value: []byte("order-1")}}}
	}
	return w.WriteMessages(ctx, msgs...) // retried while the new topic gets its leader
}

func getenv(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}
