package idemqkafka

import (
	"time"

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
	setDefault(&cfg.Backoff.Min, defaultBackoffMin)
	setDefault(&cfg.Backoff.Max, max(defaultBackoffMax, cfg.Backoff.Min))
	if !cfg.Optimistic && cfg.TxStore == nil {
		setDefault(&cfg.Lease, dedupe.DefaultLease)
	}
	setDefault(&cfg.TTL, dedupe.DefaultTTL)
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
	case cfg.TxStore != nil && (cfg.Optimistic || cfg.Lease != 0 || cfg.TTL != 0):
		return invalid("TxStore", "takes no Optimistic, Lease or TTL (the transaction is the claim; the store keeps its TTL)")
	case cfg.TxStore != nil:
	case cfg.Store == nil:
		return invalid("Store", "is required (or TxStore)")
	case dedupe.IsNilStore(cfg.Store):
		return invalid("Store", "is a nil %T", cfg.Store)
	case cfg.Handle == nil:
		return invalid("Handle", "is required")
	case cfg.InvalidKey == KeyDeadLetter && cfg.DeadLetter == nil:
		return invalid("InvalidKey", "is KeyDeadLetter but DeadLetter is nil")
	}
	return checkWriter(cfg.DeadLetter)
}

func checkRanges[V any](cfg Config[V]) error {
	switch {
	case cfg.InvalidKey < KeyReject || cfg.InvalidKey > KeyDeadLetter:
		return invalid("InvalidKey", "unknown policy %d", cfg.InvalidKey)
	case cfg.Ordering < ByPartition || cfg.Ordering > Unordered:
		return invalid("Ordering", "unknown ordering %d", cfg.Ordering)
	case cfg.Attempts < 0:
		return invalid("Attempts", "is %d, want >= 1 (0: the default)", cfg.Attempts)
	case cfg.MaxInFlight < 0:
		return invalid("MaxInFlight", "is %d, want >= 1 (0: the default)", cfg.MaxInFlight)
	case cfg.BatchSize < 0:
		return invalid("BatchSize", "is %d, want >= 1 (0: the default)", cfg.BatchSize)
	case cfg.CommitEvery < 0:
		return invalid("CommitEvery", "is %d, want >= 1 (0: the default)", cfg.CommitEvery)
	case cfg.Backoff.Min < 0 || cfg.Backoff.Max < 0:
		return invalid("Backoff", "%+v: want Min, Max >= 0", cfg.Backoff)
	case cfg.Backoff.Max != 0 && cfg.Backoff.Max < cfg.Backoff.Min:
		return invalid("Backoff", "%+v: Max is below Min", cfg.Backoff)
	case cfg.Optimistic && cfg.Lease != 0:
		return invalid("Lease", "is %v but Optimistic mode takes no claim", cfg.Lease)
	case cfg.Lease != 0 && cfg.Lease < minLease:
		return invalid("Lease", "is %v, want >= %v (0: the default)", cfg.Lease, minLease)
	case cfg.TTL < 0 || cfg.TTL > 0 && cfg.TTL < time.Millisecond:
		return invalid("TTL", "is %v, want >= 1ms (0: the default)", cfg.TTL)
	case cfg.CommitInterval < 0:
		return invalid("CommitInterval", "is %v, want > 0 (0: the default)", cfg.CommitInterval)
	case cfg.DrainTimeout < 0:
		return invalid("DrainTimeout", "is %v, want > 0 (0: the default)", cfg.DrainTimeout)
	}
	return nil
}

// minLease is dedupe.WithClaim's lower bound.
const minLease = 30 * time.Millisecond

// setDefault sets *p to def when *p is its type's zero value.
func setDefault[T comparable](p *T, def T) {
	var zero T
	if *p == zero {
		*p = def
	}
}
