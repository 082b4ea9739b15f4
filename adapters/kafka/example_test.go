package idemqkafka_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
	kafkago "github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kfake"

	idemqkafka "github.com/idemq/idemq/adapters/kafka"
	"github.com/idemq/idemq/dedupe"
	"github.com/idemq/idemq/dedupe/redisstore"
)

// A consumer runs each message's handler inside the guard and commits the
// offset once the outcome is final. The order was sent twice: it is charged
// once, and the duplicate gets the receipt. (It runs against the Kafka
// broker and Redis that `make test` starts, or in-process stand-ins.)
func ExampleNewConsumer() {
	brokers, topic, redisClient, cleanup := exampleServices("order-1", "order-1")
	defer cleanup()

	store, err := redisstore.New(redisClient, redisstore.WithPrefix("example:"+topic+":"))
	if err != nil {
		panic(err)
	}
	defer store.Close()

	ctx, stop := context.WithCancel(context.Background())
	consumer, err := idemqkafka.NewConsumer(idemqkafka.Config[string]{
		Reader:  kafkago.ReaderConfig{Brokers: brokers, GroupID: "billing-" + topic, Topic: topic},
		Store:   store, // redisstore.New(redisClient)
		KeyFunc: idemqkafka.HeaderKey("Idempotency-Key"),
		Handle: func(ctx context.Context, m kafkago.Message, end dedupe.End[string]) error {
			receipt := "receipt for " + string(m.Value) // charge the card...
			fmt.Println("charged", string(m.Value))
			end(receipt) // the commit point
			return nil
		},
		OnDuplicate: func(ctx context.Context, m kafkago.Message, receipt string) error {
			fmt.Println("duplicate:", receipt)
			stop() // the example ends here
			return nil
		},
	})
	if err != nil {
		panic(err)
	}
	if err := consumer.Run(ctx); err != nil { // returns nil after a graceful drain
		panic(err)
	}
	// Output:
	// charged order-1
	// duplicate: receipt for order-1
}

// A Processor gives a FetchMessage loop of your own the consumer's
// semantics: commit a message only when Process returned no error, and
// only after every earlier message of its partition.
func ExampleProcessor() {
	ctx := context.Background()
	store := dedupe.NewMemoryStore() // redisstore.New(client) across processes
	defer store.Close()
	p, err := idemqkafka.NewProcessor(idemqkafka.Config[string]{
		Store: store,
		Handle: func(ctx context.Context, m kafkago.Message, end dedupe.End[string]) error {
			end("done")
			return nil
		},
	})
	if err != nil {
		panic(err)
	}
	defer p.Close()

	fetched := []kafkago.Message{ // m, err := reader.FetchMessage(ctx)
		{Offset: 0, Headers: []kafkago.Header{{Key: "Idempotency-Key", Value: []byte("a")}}},
		{Offset: 1, Headers: []kafkago.Header{{Key: "Idempotency-Key", Value: []byte("a")}}},
	}
	for _, m := range fetched {
		outcome, err := p.Process(ctx, m)
		if err != nil {
			break // commit neither m nor anything after it in its partition
		}
		fmt.Println(m.Offset, outcome) // reader.CommitMessages(ctx, m)
	}
	// Output:
	// 0 processed
	// 1 duplicate
}

// exampleServices creates a topic holding one message per value (same
// partition, each with its value as idempotency key) on the broker of
// IDEMQ_KAFKA_BROKERS, and a client of the Redis of IDEMQ_REDIS_ADDR. When
// those are unset (`go test` without `make services`), it starts an
// in-process Kafka-protocol broker (franz-go's kfake) and Redis (miniredis)
// instead, so the example runs anywhere.
func exampleServices(values ...string) (brokers []string, topic string, client *redis.Client, cleanup func()) {
	kafkaAddrs, redisAddr := os.Getenv("IDEMQ_KAFKA_BROKERS"), os.Getenv("IDEMQ_REDIS_ADDR")
	stopEmbedded := func() {}
	if kafkaAddrs == "" || redisAddr == "" {
		kafkaAddrs, redisAddr, stopEmbedded = embeddedServices()
	}
	brokers = strings.Split(kafkaAddrs, ",")
	var b [6]byte
	_, _ = rand.Read(b[:])
	topic = "example-" + hex.EncodeToString(b[:])
	transport := &kafkago.Transport{}
	admin := &kafkago.Client{Addr: kafkago.TCP(brokers...), Transport: transport, Timeout: 10 * time.Second}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := admin.CreateTopics(ctx, &kafkago.CreateTopicsRequest{Topics: []kafkago.TopicConfig{{
		Topic: topic, NumPartitions: 1, ReplicationFactor: 1,
	}}}); err != nil {
		panic(err)
	}
	w := &kafkago.Writer{Addr: kafkago.TCP(brokers...), Topic: topic, RequiredAcks: kafkago.RequireAll,
		BatchTimeout: time.Millisecond, Transport: transport}
	msgs := make([]kafkago.Message, len(values))
	for i, v := range values {
		msgs[i] = kafkago.Message{Value: []byte(v), Headers: []kafkago.Header{{Key: "Idempotency-Key", Value: []byte(v)}}}
	}
	for err := w.WriteMessages(ctx, msgs...); err != nil; err = w.WriteMessages(ctx, msgs...) {
		if ctx.Err() != nil { // the new topic's leader may not be known yet
			panic(err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	_ = w.Close()
	client = redis.NewClient(&redis.Options{Addr: redisAddr})
	return brokers, topic, client, func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_, _ = admin.DeleteTopics(ctx, &kafkago.DeleteTopicsRequest{Topics: []string{topic}})
		if keys, err := client.Keys(ctx, "example:"+topic+":*").Result(); err == nil && len(keys) > 0 {
			client.Del(ctx, keys...)
		}
		_ = client.Close()
		transport.CloseIdleConnections()
		stopEmbedded()
	}
}

// embeddedServices starts kfake and miniredis on loopback.
func embeddedServices() (kafkaAddr, redisAddr string, stop func()) {
	cluster, err := kfake.NewCluster(kfake.Ports(0))
	if err != nil {
		panic(err)
	}
	mini := miniredis.NewMiniRedis()
	if err := mini.Start(); err != nil {
		panic(err)
	}
	return cluster.ListenAddrs()[0], mini.Addr(), func() {
		cluster.Close()
		mini.Close()
	}
}
