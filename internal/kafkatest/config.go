package kafkatest

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/go-redis/v9"

	"github.com/idemq/idemq/consumer"
	"github.com/idemq/idemq/dedupe"
	"github.com/idemq/idemq/dedupe/pgstore"
	"github.com/idemq/idemq/dedupe/redisstore"
)

var configScenarios = map[string]scenario{
	"Errors":                   configErrors,
	"ProcessorRefusesNilStore": processorRefusesNilStore,
	"ValidWithDefaults":        validWithDefaults,
}

// validConfig is a Config NewConsumer accepts, on a memory store; nothing
// connects before Run.
func validConfig(t *testing.T) Config {
	store := dedupe.NewMemoryStore()
	t.Cleanup(func() { _ = store.Close() })
	return Config{
		Group:  "g",
		Topic:  "t",
		Store:  store,
		Handle: func(context.Context, Message, dedupe.End[string]) error { return nil },
	}
}

// configErrors: every value of the fields the adapters share that a user
// could get wrong is a *consumer.ConfigError naming the field at
// NewConsumer, matching ErrInvalidConfig, never a panic or a hang later.
func configErrors(t *testing.T, d Driver) {
	for _, tc := range []struct {
		name, field string
		change      func(*Config)
	}{
		{"NoStore", "Store", func(c *Config) { c.Store = nil }},
		{"NilRedisStore", "Store", func(c *Config) { c.Store = (*redisstore.Store)(nil) }},
		{"NilMemoryStore", "Store", func(c *Config) { c.Store = (*dedupe.MemoryStore)(nil) }},
		{"FailedNewRedisStore", "Store", func(c *Config) { c.Store = failedRedisStore(t) }},
		{"NilTxStore", "TxStore", func(c *Config) { c.Store, c.TxStore = nil, (*pgstore.Store[pgx.Tx])(nil) }},
		{"StoreAndTxStore", "TxStore", func(c *Config) { c.TxStore = txStore(t) }},
		{"TxStoreWithLease", "Guard", func(c *Config) { c.Store, c.TxStore, c.Guard.Lease = nil, txStore(t), time.Second }},
		{"TxStoreWithoutHandle", "Handle", func(c *Config) { c.Store, c.TxStore, c.Handle = nil, txStore(t), nil }},
		{"NoHandle", "Handle", func(c *Config) { c.Handle = nil }},
		{"DeadLetterPolicyWithoutWriter", "InvalidKey", func(c *Config) { c.InvalidKey = consumer.KeyDeadLetter }},
		{"UnknownPolicy", "InvalidKey", func(c *Config) { c.InvalidKey = 9 }},
		{"UnknownOrdering", "Ordering", func(c *Config) { c.Ordering = -1 }},
		{"NegativeAttempts", "Attempts", func(c *Config) { c.Attempts = -1 }},
		{"NegativeMaxInFlight", "MaxInFlight", func(c *Config) { c.MaxInFlight = -4 }},
		{"NegativeBatchSize", "BatchSize", func(c *Config) { c.BatchSize = -1 }},
		{"NegativeCommitEvery", "CommitEvery", func(c *Config) { c.CommitEvery = -1 }},
		{"ShortLease", "Guard.Lease", func(c *Config) { c.Guard.Lease = time.Millisecond }},
		{"LeaseWhileOptimistic", "Guard.Lease", func(c *Config) { c.Guard.Optimistic, c.Guard.Lease = true, time.Second }},
		{"SubMillisecondTTL", "Guard.TTL", func(c *Config) { c.Guard.TTL = time.Microsecond }},
		{"NegativeCommitInterval", "CommitInterval", func(c *Config) { c.CommitInterval = -1 }},
		{"NegativeDrainTimeout", "DrainTimeout", func(c *Config) { c.DrainTimeout = -1 }},
		{"BackoffInverted", "Backoff", func(c *Config) { c.Backoff = consumer.Backoff{Min: time.Second, Max: time.Millisecond} }},
		{"NegativeBackoff", "Backoff", func(c *Config) { c.Backoff.Min = -1 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cfg := validConfig(t)
			tc.change(&cfg)
			c, err := d.NewConsumer(t, cfg)
			var ce *consumer.ConfigError
			if !errors.As(err, &ce) || !errors.Is(err, consumer.ErrInvalidConfig) || c != nil {
				t.Fatalf("NewConsumer = %v, %v; want nil, a *ConfigError", c, err)
			}
			if prefix := d.Adapter().Name + ": invalid config: " + tc.field; ce.Field != tc.field || !strings.HasPrefix(err.Error(), prefix) {
				t.Errorf("error %q names field %q, want %q", err, ce.Field, tc.field)
			}
		})
	}
}

// processorRefusesNilStore: NewProcessor refuses a missing store, nil
// pointers of the stores, and what a failed redisstore.New returns.
func processorRefusesNilStore(t *testing.T, d Driver) {
	for _, s := range []dedupe.Store{nil, (*redisstore.Store)(nil), (*dedupe.MemoryStore)(nil), failedRedisStore(t)} {
		cfg := validConfig(t)
		cfg.Store = s
		p, err := d.NewProcessor(t, cfg)
		var ce *consumer.ConfigError
		if !errors.As(err, &ce) || ce.Field != "Store" || p != nil {
			t.Errorf("NewProcessor with Store %T(nil) = %v, %v; want nil, a *ConfigError naming Store", s, p, err)
		}
	}
}

// validWithDefaults: a Config with only the required fields is accepted,
// by NewConsumer and by NewProcessor (without group or topic).
func validWithDefaults(t *testing.T, d Driver) {
	if _, err := d.NewConsumer(t, validConfig(t)); err != nil {
		t.Errorf("NewConsumer = %v, want nil", err)
	}
	cfg := validConfig(t)
	cfg.Group, cfg.Topic = "", ""
	p, err := d.NewProcessor(t, cfg)
	if err != nil {
		t.Fatalf("NewProcessor without group or topic = %v, want nil", err)
	}
	if err := p.Close(); err != nil {
		t.Errorf("Processor.Close = %v", err)
	}
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
