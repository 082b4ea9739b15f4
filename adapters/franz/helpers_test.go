package idemqfranz_test

import (
	"context"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	idemqfranz "github.com/idemq/idemq/adapters/franz"
	"github.com/idemq/idemq/internal/kafkatest"
	"github.com/idemq/idemq/internal/testenv"
)

// env is one test's topic, consumer group and store.
type env struct{ *kafkatest.Env }

func setup(t *testing.T, partitions int) *env {
	t.Helper()
	return &env{kafkatest.NewEnv(t, testenv.Redis(t), partitions)}
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

func (e *env) clientOpts(extra ...kgo.Opt) []kgo.Opt { return clientOpts(e.Kafka, extra...) }

// config returns kafkatest's FastConfig of e's member, as the driver
// translates it; the caller sets Handle.
func (e *env) config(t *testing.T) idemqfranz.Config[string] {
	return driver{k: e.Kafka}.config(t, kafkatest.FastConfig(e.Group, e.Topic, e.Store))
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
		r.Topic = e.Topic
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := producer(t, e.Kafka).ProduceSync(ctx, rs...).FirstErr(); err != nil {
		t.Fatalf("ProduceSync: %v", err)
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
