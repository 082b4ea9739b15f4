package testenv

import (
	"context"
	"testing"
	"time"

	kafkago "github.com/segmentio/kafka-go"

	"github.com/idemq/idemq/internal/kafkaadmin"
)

// KafkaBroker is a real Kafka broker (or cluster) reachable from the tests.
type KafkaBroker struct {
	Brokers []string
}

// Kafka returns the broker from IDEMQ_KAFKA_BROKERS (or a container).
func Kafka(t testing.TB) KafkaBroker {
	t.Helper()
	brokers := addrsFromEnv("IDEMQ_KAFKA_BROKERS")
	if brokers == nil {
		brokers = kafkaContainer(t)
	}
	k := KafkaBroker{Brokers: brokers}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := k.Client(t).Metadata(ctx, &kafkago.MetadataRequest{}); err != nil {
		Missing(t, "Kafka at "+brokers[0], "IDEMQ_KAFKA_BROKERS", err.Error())
	}
	return k
}

// Client returns a kafka-go client with its own transport, whose idle
// connections are closed at the end of the test.
func (k KafkaBroker) Client(t testing.TB) *kafkago.Client {
	transport := &kafkago.Transport{}
	t.Cleanup(transport.CloseIdleConnections)
	return &kafkago.Client{Addr: kafkago.TCP(k.Brokers...), Transport: transport, Timeout: 10 * time.Second}
}

// Topic creates a topic unique to this call with the given number of
// partitions, waits until every partition has a leader, and deletes it at the
// end of the test.
func (k KafkaBroker) Topic(t testing.TB, partitions int) string {
	t.Helper()
	topic := Name(t)
	c := k.Client(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	k.DeleteAtCleanup(t, topic)
	if err := kafkaadmin.CreateTopic(ctx, c, topic, partitions); err != nil {
		t.Fatalf("testenv: %v", err)
	}
	return topic
}

// DeleteAtCleanup deletes topic (made by the test itself) at the end of the test.
func (k KafkaBroker) DeleteAtCleanup(t testing.TB, topic string) {
	c := k.Client(t)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_, _ = c.DeleteTopics(ctx, &kafkago.DeleteTopicsRequest{Topics: []string{topic}})
	})
}

// Group returns a consumer-group name unique to this call.
func (k KafkaBroker) Group(t testing.TB) string { return "group-" + Name(t) }

// Writer returns a kafka-go Writer for the topic with settings fit for tests
// (all acks, no batching delay, its own transport), closed at the end of the test.
func (k KafkaBroker) Writer(t testing.TB, topic string) *kafkago.Writer {
	transport := &kafkago.Transport{}
	w := &kafkago.Writer{
		Addr:         kafkago.TCP(k.Brokers...),
		Topic:        topic,
		Balancer:     &kafkago.Hash{},
		RequiredAcks: kafkago.RequireAll,
		BatchTimeout: time.Millisecond,
		Transport:    transport,
	}
	t.Cleanup(func() {
		_ = w.Close()
		transport.CloseIdleConnections()
	})
	return w
}

// ReaderConfig returns a consumer-group ReaderConfig with the settings that
// keep joins, rebalances and Close fast on a single broker.
func (k KafkaBroker) ReaderConfig(topic, group string) kafkago.ReaderConfig {
	return kafkago.ReaderConfig{
		Brokers:           k.Brokers,
		Topic:             topic,
		GroupID:           group,
		MinBytes:          1,
		MaxBytes:          10 << 20,
		MaxWait:           250 * time.Millisecond,
		HeartbeatInterval: 100 * time.Millisecond,
		SessionTimeout:    6 * time.Second,
		RebalanceTimeout:  2 * time.Second,
		JoinGroupBackoff:  100 * time.Millisecond,
		StartOffset:       kafkago.FirstOffset,
		CommitInterval:    0, // synchronous commits
	}
}
