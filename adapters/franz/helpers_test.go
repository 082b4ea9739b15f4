package idemqfranz_test

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	kafkago "github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kgo"

	idemqfranz "github.com/idemq/idemq/adapters/franz"
	"github.com/idemq/idemq/consumer"
	"github.com/idemq/idemq/dedupe"
	"github.com/idemq/idemq/dedupe/redisstore"
	"github.com/idemq/idemq/internal/kafkaadmin"
	"github.com/idemq/idemq/internal/kafkatest"
	"github.com/idemq/idemq/internal/testenv"
)

// env is one test's Kafka topic, consumer group and Redis-backed store.
type env struct {
	k     testenv.KafkaBroker
	admin *kafkago.Client // for the group's lag
	store *redisstore.Store
	topic string
	group string
	parts int
}

func setup(t *testing.T, partitions int) *env {
	t.Helper()
	k := testenv.Kafka(t)
	srv := testenv.Redis(t)
	store, err := redisstore.New(srv.Client, redisstore.WithPrefix(srv.Prefix))
	if err != nil {
		t.Fatalf("redisstore.New: %v", err)
	}
	t.Cleanup(func() { _ = store.Close() })
	return &env{k: k, admin: k.Client(t), store: store, topic: topic(t, k, partitions), group: "franz-group-" + testenv.Name(t), parts: partitions}
}

// topic creates a topic named for the test, deleted at its end.
func topic(t *testing.T, k testenv.KafkaBroker, partitions int) string {
	t.Helper()
	name := "franz-" + testenv.Name(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	k.DeleteAtCleanup(t, name)
	if err := kafkaadmin.CreateTopic(ctx, k.Client(t), name, partitions); err != nil {
		t.Fatal(err)
	}
	return name
}

// clientOpts are the franz-go options of a test consumer: fast joins,
// rebalances and polls on a single broker.
func clientOpts(k testenv.KafkaBroker, extra ...kgo.Opt) []kgo.Opt {
	return append([]kgo.Opt{
		kgo.SeedBrokers(k.Brokers...),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchMaxWait(100 * time.Millisecond),
		kgo.SessionTimeout(6 * time.Second),
		kgo.HeartbeatInterval(100 * time.Millisecond),
		kgo.RebalanceTimeout(5 * time.Second),
	}, extra...)
}

func (e *env) clientOpts(extra ...kgo.Opt) []kgo.Opt { return clientOpts(e.k, extra...) }

// config returns a Config with fast test settings; the caller sets Handle.
func (e *env) config() idemqfranz.Config[string] {
	return idemqfranz.Config[string]{
		Group:          e.group,
		Topics:         []string{e.topic},
		Client:         e.clientOpts(),
		Store:          e.store,
		Backoff:        consumer.Backoff{Min: 10 * time.Millisecond, Max: 100 * time.Millisecond},
		Guard:          consumer.Guard{Lease: 5 * time.Second},
		CommitInterval: 100 * time.Millisecond,
		DrainTimeout:   10 * time.Second,
		Logger:         slog.New(slog.DiscardHandler),
	}
}

// producer returns a client that writes to the partition each record names,
// closed at the end of the test.
func producer(t *testing.T, k testenv.KafkaBroker) *kgo.Client {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(k.Brokers...), kgo.RecordPartitioner(kgo.ManualPartitioner()), kgo.ProducerLinger(0))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return cl
}

// rec returns a record for partition p with an idempotency key header
// (none if key is "").
func rec(p int32, key, value string) *kgo.Record {
	r := &kgo.Record{Partition: p, Key: []byte(value), Value: []byte(value)}
	if key != "" {
		r.Headers = []kgo.RecordHeader{{Key: "Idempotency-Key", Value: []byte(key)}}
	}
	return r
}

// produce writes rs to e's topic (each to its Partition).
func (e *env) produce(t *testing.T, rs ...*kgo.Record) {
	t.Helper()
	for _, r := range rs {
		r.Topic = e.topic
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := producer(t, e.k).ProduceSync(ctx, rs...).FirstErr(); err != nil {
		t.Fatalf("ProduceSync: %v", err)
	}
}

// running is a Consumer's Run in the background.
type running struct {
	cancel context.CancelCauseFunc
	done   chan struct{}
	err    error
}

// start runs c until the test ends (or stop is called).
func start[V any](t *testing.T, c *idemqfranz.Consumer[V]) *running {
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

func mustConsumer[V any](t *testing.T, cfg idemqfranz.Config[V]) *idemqfranz.Consumer[V] {
	t.Helper()
	c, err := idemqfranz.NewConsumer(cfg)
	if err != nil {
		t.Fatalf("NewConsumer: %v", err)
	}
	return c
}

func header(r *kgo.Record, name string) string {
	for i := len(r.Headers) - 1; i >= 0; i-- {
		if r.Headers[i].Key == name {
			return string(r.Headers[i].Value)
		}
	}
	return ""
}

// read reads n records of topic from its start, failing after a minute.
func read(t *testing.T, k testenv.KafkaBroker, topic string, n int) []*kgo.Record {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(k.Brokers...), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchMaxWait(100*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var out []*kgo.Record
	for len(out) < n {
		fs := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			t.Fatalf("reading %s after %d of %d records: %v", topic, len(out), n, err)
		}
		out = append(out, fs.Records()...)
	}
	return out
}

// committed returns the group's committed offset of each partition (-1: none).
func (e *env) committed(t *testing.T) map[int]int64 {
	return kafkatest.Committed(t, e.admin, e.topic, e.group, e.parts)
}

// lag is the group's total lag: records after the committed offsets.
func (e *env) lag(t *testing.T) int64 { return kafkatest.Lag(t, e.admin, e.topic, e.group, e.parts) }
