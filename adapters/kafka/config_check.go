package idemqkafka

import (
	"github.com/idemq/idemq/consumer"
	"github.com/idemq/idemq/dedupe"
	"github.com/idemq/idemq/internal/consume"
	"github.com/idemq/idemq/internal/ratelog"
)

// withDefaults returns cfg with every zero optional field set, or a
// *ConfigError for a field out of range. It checks what both NewConsumer
// and NewProcessor use; groupConfig checks the consumer's Reader.
func withDefaults[V any](cfg Config[V]) (Config[V], error) {
	if err := checkRequired(cfg); err != nil {
		return cfg, err
	}
	if err := settings(cfg).CheckRanges(pkg); err != nil {
		return cfg, err
	}
	if cfg.KeyFunc == nil {
		cfg.KeyFunc = HeaderKey(DefaultKeyHeader)
	}
	setDefault(&cfg.Attempts, DefaultAttempts)
	cfg.Backoff = cfg.Backoff.WithDefaults()
	if cfg.TxStore == nil {
		cfg.Guard = cfg.Guard.WithDefaults()
	}
	setDefault[dedupe.Codec](&cfg.Codec, dedupe.JSONCodec{})
	setDefault(&cfg.MaxInFlight, DefaultMaxInFlight)
	setDefault(&cfg.BatchSize, DefaultBatchSize)
	setDefault(&cfg.CommitEvery, DefaultCommitEvery)
	setDefault(&cfg.CommitInterval, DefaultCommitInterval)
	setDefault(&cfg.DrainTimeout, DefaultDrainTimeout)
	cfg.Logger = ratelog.Logger(cfg.Logger, 0)
	return cfg, nil
}

func checkRequired[V any](cfg Config[V]) error {
	if err := settings(cfg).CheckStore(pkg); err != nil {
		return err
	}
	switch {
	case cfg.Handle == nil:
		return invalid("Handle", "is required")
	case cfg.InvalidKey == consumer.KeyDeadLetter && cfg.DeadLetter == nil:
		return invalid("InvalidKey", "is KeyDeadLetter but DeadLetter is nil")
	}
	return checkWriter(cfg.DeadLetter)
}

// settings are cfg's fields that every Kafka adapter shares.
func settings[V any](cfg Config[V]) consume.Settings {
	return consume.Settings{
		Store: cfg.Store, TxStore: cfg.TxStore, Guard: cfg.Guard, InvalidKey: cfg.InvalidKey, Ordering: cfg.Ordering,
		Backoff: cfg.Backoff, Attempts: cfg.Attempts, MaxInFlight: cfg.MaxInFlight, BatchSize: cfg.BatchSize,
		CommitEvery: cfg.CommitEvery, CommitInterval: cfg.CommitInterval, DrainTimeout: cfg.DrainTimeout,
	}
}

// pkg names this package in its *consumer.ConfigError values.
const pkg = "idemqkafka"

// invalid returns a *consumer.ConfigError for field.
func invalid(field, format string, args ...any) error {
	return consumer.Invalid(pkg, field, format, args...)
}

// setDefault sets *p to def when *p is its type's zero value.
func setDefault[T comparable](p *T, def T) {
	var zero T
	if *p == zero {
		*p = def
	}
}
