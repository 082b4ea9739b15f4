package main

import (
	"context"
	"fmt"
	"strconv"
	"sync/atomic"
	"time"

	kafkago "github.com/segmentio/kafka-go"
)

// uuidHeader is watermill-kafka's header for the message UUID.
const uuidHeader = "_watermill_message_uuid"

// produceBatch bounds the messages of one WriteMessages call.
const produceBatch = 2000

// burst is n messages published at once at a time after the start.
type burst struct {
	at time.Duration
	n  int
}

// due is how many of n messages are published t after the start: the
// bursts' messages at their times, the rest at a steady rate over d.
func due(n int, bursts []burst, d, t time.Duration) int {
	steady := n
	for _, b := range bursts {
		steady -= b.n
	}
	k := int(float64(max(steady, 0)) * min(t.Seconds()/d.Seconds(), 1))
	for _, b := range bursts {
		if b.at <= t {
			k += b.n
		}
	}
	return min(k, n)
}

// produce publishes msgs to topic over d (see due), each to the partition
// the workload chose, directly to the broker (the producer is not behind
// the fault proxy), and counts what was acknowledged in sent.
func produce(ctx context.Context, brokers, topic string, msgs []message, bursts []burst, d time.Duration, sent *atomic.Int64) error {
	transport := &kafkago.Transport{ClientID: "chaos-producer"}
	defer transport.CloseIdleConnections()
	w := &kafkago.Writer{
		Addr: kafkago.TCP(brokers), Topic: topic, Balancer: explicitPartition{},
		RequiredAcks: kafkago.RequireAll, BatchTimeout: time.Millisecond, BatchSize: produceBatch,
		Transport: transport,
	}
	defer w.Close()
	start := time.Now()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for i := 0; i < len(msgs); {
		if k := min(due(len(msgs), bursts, d, time.Since(start)), i+produceBatch); k > i {
			if err := w.WriteMessages(ctx, kafkaMessages(topic, msgs, i, k)...); err != nil {
				return fmt.Errorf("chaos: producing to %s: %w", topic, err)
			}
			sent.Add(int64(k - i))
			i = k
			continue
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
	return nil
}

func kafkaMessages(topic string, msgs []message, from, to int) []kafkago.Message {
	out := make([]kafkago.Message, 0, to-from)
	for i := from; i < to; i++ {
		m := msgs[i]
		km := kafkago.Message{
			Key: []byte(m.key), Value: []byte(`{"order":"` + m.key + `"}`), Partition: m.partition,
			Headers: []kafkago.Header{
				{Key: keyHeader, Value: []byte(m.key)},
				{Key: uuidHeader, Value: []byte(topic + "/" + strconv.Itoa(i))},
			},
		}
		if m.resend != "" {
			km.Headers = append(km.Headers, kafkago.Header{Key: "Chaos-Resend", Value: []byte(m.resend)})
		}
		out = append(out, km)
	}
	return out
}

// explicitPartition sends each message to the partition the workload chose.
type explicitPartition struct{}

func (explicitPartition) Balance(m kafkago.Message, partitions ...int) int {
	return partitions[m.Partition%len(partitions)]
}
