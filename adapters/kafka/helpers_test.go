package idemqkafka_test

import (
	"context"
	"errors"
	"testing"
	"time"

	kafkago "github.com/segmentio/kafka-go"

	idemqkafka "github.com/idemq/idemq/adapters/kafka"
	"github.com/idemq/idemq/internal/kafkatest"
	"github.com/idemq/idemq/internal/testenv"
)

// env is one test's topic, consumer group and store.
type env struct{ *kafkatest.Env }

func setup(t *testing.T, partitions int) *env {
	t.Helper()
	return &env{kafkatest.NewEnv(t, testenv.Redis(t), partitions)}
}

// config returns kafkatest's FastConfig of e's member, as the driver
// translates it; the caller sets Handle.
func (e *env) config(t *testing.T) idemqkafka.Config[string] {
	return (&driver{k: e.Kafka}).config(t, kafkatest.FastConfig(e.Group, e.Topic, e.Store))
}

// deadLetterTopic creates a topic for dead letters and a writer to it.
func (e *env) deadLetterTopic(t *testing.T) (string, *kafkago.Writer) {
	t.Helper()
	topic := e.Kafka.Topic(t, 1)
	w := e.Kafka.Writer(t, topic)
	w.Balancer = &kafkago.LeastBytes{}
	return topic, w
}

// msg returns a message with an idempotency key header (none if key is "").
func msg(key, value string) kafkago.Message {
	m := kafkago.Message{Key: []byte(value), Value: []byte(value)}
	if key != "" {
		m.Headers = []kafkago.Header{{Key: "Idempotency-Key", Value: []byte(key)}}
	}
	return m
}

// produce writes msgs to e's topic, spread over the partitions by the hash
// of their Kafka key.
func (e *env) produce(t *testing.T, msgs ...kafkago.Message) {
	t.Helper()
	if len(msgs) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := e.Kafka.Writer(t, e.Topic).WriteMessages(ctx, msgs...); err != nil {
		t.Fatalf("WriteMessages: %v", err)
	}
}

// readAll reads n messages from partition 0 of topic with a Reader outside
// any group, failing after a minute.
func readAll(t *testing.T, k testenv.KafkaBroker, topic string, n int) []kafkago.Message {
	t.Helper()
	r := kafkago.NewReader(kafkago.ReaderConfig{Brokers: k.Brokers, Topic: topic, MaxWait: 100 * time.Millisecond, ReadLagInterval: -1})
	defer r.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out := make([]kafkago.Message, 0, n)
	for len(out) < n {
		m, err := r.ReadMessage(ctx)
		if err != nil {
			t.Fatalf("reading %s after %d of %d messages: %v", topic, len(out), n, err)
		}
		out = append(out, m)
	}
	return out
}

func header(m kafkago.Message, name string) string {
	for _, h := range m.Headers {
		if h.Key == name {
			return string(h.Value)
		}
	}
	return ""
}

var errBoom = errors.New("boom")

func mustConsumer[V any](t *testing.T, cfg idemqkafka.Config[V]) *idemqkafka.Consumer[V] {
	t.Helper()
	c, err := idemqkafka.NewConsumer(cfg)
	if err != nil {
		t.Fatalf("NewConsumer: %v", err)
	}
	return c
}
