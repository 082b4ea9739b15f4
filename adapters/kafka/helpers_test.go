package idemqkafka_test

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	kafkago "github.com/segmentio/kafka-go"

	idemqkafka "github.com/idemq/idemq/adapters/kafka"
	"github.com/idemq/idemq/consumer"
	"github.com/idemq/idemq/dedupe"
	"github.com/idemq/idemq/dedupe/redisstore"
	"github.com/idemq/idemq/internal/kafkatest"
	"github.com/idemq/idemq/internal/testenv"
)

// env is one test's Kafka topic, consumer group and Redis-backed store.
type env struct {
	k     testenv.KafkaBroker
	admin *kafkago.Client // offsets and lag
	store *redisstore.Store
	topic string
	group string
	parts int
}

func setup(t *testing.T, partitions int) *env {
	t.Helper()
	k, srv := testenv.Kafka(t), testenv.Redis(t)
	store, err := redisstore.New(srv.Client, redisstore.WithPrefix(srv.Prefix))
	if err != nil {
		t.Fatalf("redisstore.New: %v", err)
	}
	t.Cleanup(func() { _ = store.Close() })
	return &env{k: k, admin: k.Client(t), store: store, topic: k.Topic(t, partitions), group: k.Group(t), parts: partitions}
}

// config returns a Config with fast test settings; the caller sets Handle.
func (e *env) config() idemqkafka.Config[string] {
	rc := e.k.ReaderConfig(e.topic, e.group)
	return idemqkafka.Config[string]{
		Reader:         rc,
		Store:          e.store,
		KeyFunc:        idemqkafka.HeaderKey("Idempotency-Key"),
		Backoff:        consumer.Backoff{Min: 10 * time.Millisecond, Max: 100 * time.Millisecond},
		Guard:          consumer.Guard{Lease: 5 * time.Second},
		CommitInterval: 100 * time.Millisecond,
		DrainTimeout:   10 * time.Second,
		Logger:         slog.New(slog.DiscardHandler),
	}
}

// deadLetterTopic creates a topic for dead letters and a writer to it.
func (e *env) deadLetterTopic(t *testing.T) (string, *kafkago.Writer) {
	t.Helper()
	topic := e.k.Topic(t, 1)
	w := e.k.Writer(t, topic)
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
	if err := e.k.Writer(t, e.topic).WriteMessages(ctx, msgs...); err != nil {
		t.Fatalf("WriteMessages: %v", err)
	}
}

// running is a Consumer's Run in the background.
type running struct {
	cancel context.CancelCauseFunc
	done   chan struct{}
	err    error
}

// start runs c until the test ends (or stop is called).
func start[V any](t *testing.T, c *idemqkafka.Consumer[V]) *running {
	t.Helper()
	ctx, cancel := context.WithCancelCause(context.Background())
	r := &running{cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(r.done)
		r.err = c.Run(ctx)
	}()
	t.Cleanup(func() {
		if err := r.stop(t); errors.Is(err, dedupe.ErrEndNotCalled) {
			t.Errorf("Run = %v: a claim was neither ended nor released", err)
		}
	})
	return r
}

// stop cancels Run and returns its error, failing the test if Run does not
// return within a minute.
func (r *running) stop(t *testing.T) error {
	t.Helper()
	r.cancel(errors.New("test: stop"))
	return r.wait(t, time.Minute)
}

func (r *running) wait(t *testing.T, d time.Duration) error {
	t.Helper()
	select {
	case <-r.done:
		return r.err
	case <-time.After(d):
		t.Fatalf("Run did not return within %v", d)
		return nil
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

// committed returns the group's committed offset of each partition (-1: none).
func (e *env) committed(t *testing.T) map[int]int64 {
	return kafkatest.Committed(t, e.admin, e.topic, e.group, e.parts)
}

// lag is the group's total lag: messages after the committed offsets.
func (e *env) lag(t *testing.T) int64 { return kafkatest.Lag(t, e.admin, e.topic, e.group, e.parts) }
