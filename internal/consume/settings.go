package consume

import (
	"time"

	"github.com/idemq/idemq/consumer"
	"github.com/idemq/idemq/dedupe"
)

// Settings are the fields every Kafka adapter's Config shares; Check
// validates them once for all adapters, naming the field in pkg's Config.
type Settings struct {
	Store          dedupe.Store
	TxStore        dedupe.TxStore
	Guard          consumer.Guard
	InvalidKey     consumer.KeyPolicy
	Ordering       consumer.Ordering
	Backoff        consumer.Backoff
	Attempts       int
	MaxInFlight    int
	BatchSize      int
	CommitEvery    int
	CommitInterval time.Duration
	DrainTimeout   time.Duration
}

// CheckStore returns a *consumer.ConfigError unless exactly one of Store
// and TxStore is set, not a typed nil, and Guard is zero with TxStore.
func (s Settings) CheckStore(pkg string) error {
	switch {
	case s.TxStore != nil && dedupe.IsNilTxStore(s.TxStore):
		return consumer.Invalid(pkg, "TxStore", "is a nil %T", s.TxStore)
	case s.TxStore != nil && s.Store != nil:
		return consumer.Invalid(pkg, "TxStore", "and Store are both set: choose one")
	case s.TxStore != nil && s.Guard != (consumer.Guard{}):
		return consumer.Invalid(pkg, "Guard", "must be zero with TxStore (the transaction is the claim; the store keeps its TTL)")
	case s.TxStore != nil:
		return nil
	case s.Store == nil:
		return consumer.Invalid(pkg, "Store", "is required (or TxStore)")
	case dedupe.IsNilStore(s.Store):
		return consumer.Invalid(pkg, "Store", "is a nil %T", s.Store)
	}
	return nil
}

// CheckRanges returns a *consumer.ConfigError for a field out of its
// documented range (0 is every number's default).
func (s Settings) CheckRanges(pkg string) error {
	if err := s.InvalidKey.Check(pkg, "InvalidKey", consumer.KeyReject, consumer.KeyProcess, consumer.KeyDeadLetter); err != nil {
		return err
	}
	if err := s.Backoff.Check(pkg, "Backoff"); err != nil {
		return err
	}
	if err := s.Guard.Check(pkg); err != nil {
		return err
	}
	invalid := func(field, format string, args ...any) error { return consumer.Invalid(pkg, field, format, args...) }
	switch {
	case s.Ordering < consumer.ByPartition || s.Ordering > consumer.Unordered:
		return invalid("Ordering", "unknown ordering %d", s.Ordering)
	case s.Attempts < 0:
		return invalid("Attempts", "is %d, want >= 1 (0: the default)", s.Attempts)
	case s.MaxInFlight < 0:
		return invalid("MaxInFlight", "is %d, want >= 1 (0: the default)", s.MaxInFlight)
	case s.BatchSize < 0:
		return invalid("BatchSize", "is %d, want >= 1 (0: the default)", s.BatchSize)
	case s.CommitEvery < 0:
		return invalid("CommitEvery", "is %d, want >= 1 (0: the default)", s.CommitEvery)
	case s.CommitInterval < 0:
		return invalid("CommitInterval", "is %v, want > 0 (0: the default)", s.CommitInterval)
	case s.DrainTimeout < 0:
		return invalid("DrainTimeout", "is %v, want > 0 (0: the default)", s.DrainTimeout)
	}
	return nil
}

// WithDefaults returns s with every zero number set to its consumer.Default
// value, Backoff's defaults, and Guard's unless TxStore is set (a
// transactional store keeps its own TTL).
func (s Settings) WithDefaults() Settings {
	setDefault(&s.Attempts, consumer.DefaultAttempts)
	setDefault(&s.MaxInFlight, consumer.DefaultMaxInFlight)
	setDefault(&s.BatchSize, consumer.DefaultBatchSize)
	setDefault(&s.CommitEvery, consumer.DefaultCommitEvery)
	setDefault(&s.CommitInterval, consumer.DefaultCommitInterval)
	setDefault(&s.DrainTimeout, consumer.DefaultDrainTimeout)
	s.Backoff = s.Backoff.WithDefaults()
	if s.TxStore == nil {
		s.Guard = s.Guard.WithDefaults()
	}
	return s
}

// setDefault sets *p to def when *p is its type's zero value.
func setDefault[T comparable](p *T, def T) {
	var zero T
	if *p == zero {
		*p = def
	}
}
