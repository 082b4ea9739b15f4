package idemqkafka_test

import (
	"context"
	"errors"
	"github.com/idemq/idemq/consumer"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/go-redis/v9"
	kafkago "github.com/segmentio/kafka-go"

	idemqkafka "github.com/idemq/idemq/adapters/kafka"
	"github.com/idemq/idemq/dedupe"
	"github.com/idemq/idemq/dedupe/pgstore"
	"github.com/idemq/idemq/dedupe/redisstore"
)

// TestConfigErrors proves that every Config a user could get wrong is a
// *ConfigError naming the field at NewConsumer, matching ErrInvalidConfig,
// never a panic or a hang later (kafka-go's NewReader panics on some of
// these; a dead-letter writer without an address would retry for ever).
func TestConfigErrors(t *testing.T) {
	t.Parallel()
	store := dedupe.NewMemoryStore()
	t.Cleanup(func() { _ = store.Close() })
	valid := func() idemqkafka.Config[string] {
		return idemqkafka.Config[string]{
			Reader: kafkago.ReaderConfig{Brokers: []string{"127.0.0.1:1"}, GroupID: "g", Topic: "t"},
			Store:  store,
			Handle: func(context.Context, kafkago.Message, dedupe.End[string]) error { return nil },
		}
	}
	writer := func(change func(w *kafkago.Writer)) func(*idemqkafka.Config[string]) {
		return func(c *idemqkafka.Config[string]) {
			w := &kafkago.Writer{Addr: kafkago.TCP("127.0.0.1:1"), Topic: "dlt", RequiredAcks: kafkago.RequireAll}
			change(w)
			c.DeadLetter = w
		}
	}
	type change = func(*idemqkafka.Config[string])
	for _, tc := range []struct {
		name, field string
		change      change
	}{
		{"NoStore", "Store", func(c *idemqkafka.Config[string]) { c.Store = nil }},
		{"NilRedisStore", "Store", func(c *idemqkafka.Config[string]) { c.Store = (*redisstore.Store)(nil) }},
		{"NilMemoryStore", "Store", func(c *idemqkafka.Config[string]) { c.Store = (*dedupe.MemoryStore)(nil) }},
		{"FailedNewRedisStore", "Store", func(c *idemqkafka.Config[string]) { c.Store = failedRedisStore(t) }},
		{"NilTxStore", "TxStore", func(c *idemqkafka.Config[string]) { c.Store, c.TxStore = nil, (*pgstore.Store[pgx.Tx])(nil) }},
		{"StoreAndTxStore", "TxStore", func(c *idemqkafka.Config[string]) { c.TxStore = txStore(t) }},
		{"TxStoreWithLease", "Guard", func(c *idemqkafka.Config[string]) { c.Store, c.TxStore, c.Guard.Lease = nil, txStore(t), time.Second }},
		{"TxStoreWithoutHandle", "Handle", func(c *idemqkafka.Config[string]) { c.Store, c.TxStore, c.Handle = nil, txStore(t), nil }},
		{"NoHandle", "Handle", func(c *idemqkafka.Config[string]) { c.Handle = nil }},
		{"NoBrokers", "Reader", func(c *idemqkafka.Config[string]) { c.Reader.Brokers = nil }},
		{"EmptyBroker", "Reader.Brokers", func(c *idemqkafka.Config[string]) { c.Reader.Brokers = []string{"127.0.0.1:1", " "} }},
		{"NoGroup", "Reader", func(c *idemqkafka.Config[string]) { c.Reader.GroupID = "" }},
		{"NoTopic", "Reader", func(c *idemqkafka.Config[string]) { c.Reader.Topic = "" }},
		{"TopicAndGroupTopics", "Reader.Topic", func(c *idemqkafka.Config[string]) { c.Reader.GroupTopics = []string{"u"} }},
		{"Partition", "Reader.Partition", func(c *idemqkafka.Config[string]) { c.Reader.Partition = 3 }},
		{"ReaderCommitInterval", "Reader.CommitInterval", func(c *idemqkafka.Config[string]) { c.Reader.CommitInterval = time.Second }},
		{"ReaderLagInterval", "Reader.ReadLagInterval", func(c *idemqkafka.Config[string]) { c.Reader.ReadLagInterval = time.Second }},
		{"NegativeQueueCapacity", "Reader.QueueCapacity", func(c *idemqkafka.Config[string]) { c.Reader.QueueCapacity = -1 }},
		{"NegativeMaxWait", "Reader.MaxWait", func(c *idemqkafka.Config[string]) { c.Reader.MaxWait = -time.Second }},
		{"NegativeReadBatchTimeout", "Reader.ReadBatchTimeout", func(c *idemqkafka.Config[string]) { c.Reader.ReadBatchTimeout = -1 }},
		{"NegativeMaxAttempts", "Reader.MaxAttempts", func(c *idemqkafka.Config[string]) { c.Reader.MaxAttempts = -1 }},
		{"UnknownIsolationLevel", "Reader.IsolationLevel", func(c *idemqkafka.Config[string]) { c.Reader.IsolationLevel = 7 }},
		{"NegativeDialerTimeout", "Reader.Dialer.Timeout", func(c *idemqkafka.Config[string]) { c.Reader.Dialer = &kafkago.Dialer{Timeout: -1} }},
		{"NegativeSessionTimeout", "Reader.SessionTimeout", func(c *idemqkafka.Config[string]) { c.Reader.SessionTimeout = -time.Second }},
		{"HeartbeatTooSlow", "Reader.HeartbeatInterval", func(c *idemqkafka.Config[string]) {
			c.Reader.HeartbeatInterval, c.Reader.SessionTimeout = 3*time.Second, 6*time.Second
		}},
		{"BadStartOffset", "Reader", func(c *idemqkafka.Config[string]) { c.Reader.StartOffset = 42 }},
		{"MinBytesAboveMaxBytes", "Reader", func(c *idemqkafka.Config[string]) { c.Reader.MinBytes, c.Reader.MaxBytes = 10, 5 }},
		{"ReadBackoffInverted", "Reader.ReadBackoffMax", func(c *idemqkafka.Config[string]) { c.Reader.ReadBackoffMin = 5 * time.Second }},
		{"DeadLetterPolicyWithoutWriter", "InvalidKey", func(c *idemqkafka.Config[string]) { c.InvalidKey = consumer.KeyDeadLetter }},
		{"DeadLetterNoAddr", "DeadLetter.Addr", writer(func(w *kafkago.Writer) { w.Addr = nil })},
		{"DeadLetterNoTopic", "DeadLetter.Topic", writer(func(w *kafkago.Writer) { w.Topic = "" })},
		{"DeadLetterNoAcks", "DeadLetter.RequiredAcks", writer(func(w *kafkago.Writer) { w.RequiredAcks = kafkago.RequireNone })},
		{"DeadLetterBadAcks", "DeadLetter.RequiredAcks", writer(func(w *kafkago.Writer) { w.RequiredAcks = 5 })},
		{"DeadLetterAsync", "DeadLetter.Async", writer(func(w *kafkago.Writer) { w.Async = true })},
		{"DeadLetterNegativeBatchBytes", "DeadLetter", writer(func(w *kafkago.Writer) { w.BatchBytes = -1 })},
		{"DeadLetterNegativeTimeout", "DeadLetter.WriteTimeout", writer(func(w *kafkago.Writer) { w.WriteTimeout = -time.Second })},
		{"DeadLetterBadCompression", "DeadLetter.Compression", writer(func(w *kafkago.Writer) { w.Compression = 9 })},
		{"UnknownPolicy", "InvalidKey", func(c *idemqkafka.Config[string]) { c.InvalidKey = 9 }},
		{"UnknownOrdering", "Ordering", func(c *idemqkafka.Config[string]) { c.Ordering = -1 }},
		{"NegativeAttempts", "Attempts", func(c *idemqkafka.Config[string]) { c.Attempts = -1 }},
		{"NegativeMaxInFlight", "MaxInFlight", func(c *idemqkafka.Config[string]) { c.MaxInFlight = -4 }},
		{"NegativeBatchSize", "BatchSize", func(c *idemqkafka.Config[string]) { c.BatchSize = -1 }},
		{"NegativeCommitEvery", "CommitEvery", func(c *idemqkafka.Config[string]) { c.CommitEvery = -1 }},
		{"ShortLease", "Guard.Lease", func(c *idemqkafka.Config[string]) { c.Guard.Lease = time.Millisecond }},
		{"LeaseWhileOptimistic", "Guard.Lease", func(c *idemqkafka.Config[string]) { c.Guard.Optimistic, c.Guard.Lease = true, time.Second }},
		{"SubMillisecondTTL", "Guard.TTL", func(c *idemqkafka.Config[string]) { c.Guard.TTL = time.Microsecond }},
		{"NegativeCommitInterval", "CommitInterval", func(c *idemqkafka.Config[string]) { c.CommitInterval = -1 }},
		{"NegativeDrainTimeout", "DrainTimeout", func(c *idemqkafka.Config[string]) { c.DrainTimeout = -1 }},
		{"BackoffInverted", "Backoff", func(c *idemqkafka.Config[string]) {
			c.Backoff = consumer.Backoff{Min: time.Second, Max: time.Millisecond}
		}},
		{"NegativeBackoff", "Backoff", func(c *idemqkafka.Config[string]) { c.Backoff.Min = -1 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cfg := valid()
			tc.change(&cfg)
			c, err := idemqkafka.NewConsumer(cfg)
			var ce *consumer.ConfigError
			if !errors.As(err, &ce) || !errors.Is(err, consumer.ErrInvalidConfig) || c != nil {
				t.Fatalf("NewConsumer = %v, %v; want nil, a *ConfigError", c, err)
			}
			if ce.Field != tc.field || !strings.HasPrefix(err.Error(), "idemqkafka: invalid config: "+tc.field) {
				t.Errorf("error %q names field %q, want %q", err, ce.Field, tc.field)
			}
		})
	}
	t.Run("ProcessorRefusesNilStore", func(t *testing.T) {
		t.Parallel()
		for _, s := range []dedupe.Store{nil, (*redisstore.Store)(nil), (*dedupe.MemoryStore)(nil), failedRedisStore(t)} {
			p, err := idemqkafka.NewProcessor(idemqkafka.Config[string]{Store: s, Handle: valid().Handle})
			var ce *consumer.ConfigError
			if !errors.As(err, &ce) || ce.Field != "Store" || p != nil {
				t.Errorf("NewProcessor with Store %T(nil) = %v, %v; want nil, a *ConfigError naming Store", s, p, err)
			}
		}
	})
	t.Run("ValidWithDefaults", func(t *testing.T) {
		t.Parallel()
		if _, err := idemqkafka.NewConsumer(valid()); err != nil {
			t.Errorf("NewConsumer = %v, want nil", err)
		}
		p, err := idemqkafka.NewProcessor(idemqkafka.Config[string]{Store: store, Handle: valid().Handle})
		if err != nil {
			t.Fatalf("NewProcessor without Reader = %v, want nil", err)
		}
		if err := p.Close(); err != nil {
			t.Errorf("Processor.Close = %v", err)
		}
	})
}

// failedRedisStore is what a failed redisstore.New returns: a nil
// *redisstore.Store, passed on when its error is not checked.
func failedRedisStore(t *testing.T) *redisstore.Store {
	client := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"}) // never dialled
	t.Cleanup(func() { _ = client.Close() })
	s, err := redisstore.New(client, redisstore.WithPrefix("bad{prefix}"))
	if err == nil {
		t.Fatal("redisstore.New with a braced prefix = nil error")
	}
	return s
}

// txStore is a transactional store that is never used (its pool is never
// connected): for configuration checks.
func txStore(t *testing.T) *pgstore.Store[pgx.Tx] {
	t.Helper()
	pool, err := pgxpool.New(context.Background(), "postgres://nobody@127.0.0.1:1/none")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	s, err := pgstore.New(pool, "scope")
	if err != nil {
		t.Fatal(err)
	}
	return s
}
