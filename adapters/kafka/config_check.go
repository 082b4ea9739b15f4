package idemqkafka

import (
	"github.com/idemq/idemq/consumer"
	"github.com/idemq/idemq/dedupe"
	"github.com/idemq/idemq/internal/ratelog"
)

// withDefaults returns cfg with every zero optional field set, or a
// *ConfigError for a field out of range. It checks what both NewConsumer
// and NewProcessor use; groupConfig checks the consumer's Reader.
func withDefaults[V any](cfg Config[V]) (Config[V], error) {
	if err := checkRequired(cfg); err != nil {
		return cfg, err
	}
	if err := checkRanges(cfg); err != nil {
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
	switch {
	case cfg.TxStore != nil && dedupe.IsNilTxStore(cfg.TxStore):
		return invalid("TxStore", "is a nil %T", cfg.TxStore)
	case cfg.TxStore != nil && cfg.Store != nil:
		return invalid("TxStore", "and Store are both set: choose one")
	case cfg.TxStore != nil && cfg.Guard != (consumer.Guard{}):
		return invalid("Guard", "must be zero with TxStore (the transaction is the claim; the store keeps its TTL)")
	case cfg.TxStore != nil:
	case cfg.Store == nil:
		return invalid("Store", "is required (or TxStore)")
	case dedupe.IsNilStore(cfg.Store):
		return invalid("Store", "is a nil %T", cfg.Store)
	case cfg.Handle == nil:
		return invalid("Handle", "is required")
	case cfg.InvalidKey == consumer.KeyDeadLetter && cfg.DeadLetter == nil:
		return invalid("InvalidKey", "is KeyDeadLetter but DeadLetter is nil")
	}
	return checkWriter(cfg.DeadLetter)
}

func checkRanges[V any](cfg Config[V]) error {
	if err := cfg.InvalidKey.Check(pkg, "InvalidKey", consumer.KeyReject, consumer.KeyProcess, consumer.KeyDeadLetter); err != nil {
		return err
	}
	if err := cfg.Backoff.Check(pkg, "Backoff"); err != nil {
		return err
	}
	if err := cfg.Guard.Check(pkg); err != nil {
		return err
	}
	switch {
	case cfg.Ordering < consumer.ByPartition || cfg.Ordering > consumer.Unordered:
		return invalid("Ordering", "unknown ordering %d", cfg.Ordering)
	case cfg.Attempts < 0:
		return invalid("Attempts", "is %d, want >= 1 (0: the default)", cfg.Attempts)
	case cfg.MaxInFlight < 0:
		return invalid("MaxInFlight", "is %d, want >= 1 (0: the default)", cfg.MaxInFlight)
	case cfg.BatchSize < 0:
		return invalid("BatchSize", "is %d, want >= 1 (0: the default)", cfg.BatchSize)
	case cfg.CommitEvery < 0:
		return invalid("CommitEvery", "is %d, want >= 1 (0: the default)", cfg.CommitEvery)
	case cfg.CommitInterval < 0:
		return invalid("CommitInterval", "is %v, want > 0 (0: the default)", cfg.CommitInterval)
	case cfg.DrainTimeout < 0:
		return invalid("DrainTimeout", "is %v, want > 0 (0: the default)", cfg.DrainTimeout)
	}
	return nil
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
