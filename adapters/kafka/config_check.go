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
	st := settings(cfg).WithDefaults()
	cfg.Guard, cfg.Backoff, cfg.Attempts, cfg.MaxInFlight = st.Guard, st.Backoff, st.Attempts, st.MaxInFlight
	cfg.BatchSize, cfg.CommitEvery, cfg.CommitInterval, cfg.DrainTimeout = st.BatchSize, st.CommitEvery, st.CommitInterval, st.DrainTimeout
	if cfg.Codec == nil {
		cfg.Codec = dedupe.JSONCodec{}
	}
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
