package main

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	kafkago "github.com/segmentio/kafka-go"
)

// produce publishes the orders to topic, each to the partition the workload
// chose, and returns once every message is acknowledged by all replicas.
func produce(ctx context.Context, brokers []string, topic string, orders []order) error {
	transport := &kafkago.Transport{}
	defer transport.CloseIdleConnections()
	w := &kafkago.Writer{
		Addr:         kafkago.TCP(brokers...),
		Topic:        topic,
		Balancer:     explicitPartition{},
		RequiredAcks: kafkago.RequireAll,
		BatchTimeout: time.Millisecond, // the default 1s makes every batch wait
		BatchSize:    1000,
		Transport:    transport,
	}
	defer w.Close()
	msgs := make([]kafkago.Message, len(orders))
	for i, o := range orders {
		msgs[i] = orderMessage(o)
	}
	if err := w.WriteMessages(ctx, msgs...); err != nil {
		return fmt.Errorf("demo: producing %d orders to %s: %w", len(msgs), topic, err)
	}
	return nil
}

// orderMessage is the Kafka message of one order: keyed by order, with the
// idempotency key in a header.
func orderMessage(o order) kafkago.Message {
	body, _ := json.Marshal(struct {
		Order       string `json:"order"`
		AmountCents int    `json:"amount_cents"`
	}{o.key, 100 + len(o.key)*7})
	m := kafkago.Message{
		Key:       []byte(o.key),
		Value:     body,
		Partition: o.partition, // read by explicitPartition only
		Headers:   []kafkago.Header{{Key: keyHeader, Value: []byte(o.key)}},
	}
	if o.resend != "" {
		m.Headers = append(m.Headers, kafkago.Header{Key: "Demo-Resend", Value: []byte(o.resend)})
	}
	return m
}

// explicitPartition sends each message to the partition the workload chose
// (kafka-go's Writer ignores Message.Partition otherwise).
type explicitPartition struct{}

func (explicitPartition) Balance(m kafkago.Message, partitions ...int) int {
	return partitions[m.Partition%len(partitions)]
}
