package kafka

import (
	"log/slog"
	"time"

	kafkago "github.com/segmentio/kafka-go"
	"go.opentelemetry.io/otel/metric/noop"

	"github.com/idemq/idemq/dedupe"
)

// withDefaults returns cfg with every zero optional field set, or an error
// for a field out of range. It checks what both NewConsumer and
// NewProcessor use; checkReader checks the consumer's Reader.
func withDefaults[V any](cfg Config[V]) (Config[V], error) {
	if err := checkRequired(cfg); err != nil {
		return cfg, err
	}
	if cfg.Key == nil {
		cfg.Key = HeaderKey(DefaultKeyHeader)
	}
	setDefault(&cfg.Attempts, DefaultAttempts)
	setDefault(&cfg.Backoff.Min, defaultBackoffMin)
	setDefault(&cfg.Backoff.Max, max(defaultBackoffMax, cfg.Backoff.Min))
	setDefault(&cfg.Lease, DefaultLease)
	setDefault(&cfg.TTL, dedupe.DefaultTTL)
	setDefault[dedupe.Codec](&cfg.Codec, dedupe.JSONCodec{})
	setDefault(&cfg.MaxInFlight, DefaultMaxInFlight)
	setDefault(&cfg.BatchSize, DefaultBatchSize)
	setDefault(&cfg.CommitEvery, DefaultCommitEvery)
	setDefault(&cfg.CommitInterval, DefaultCommitInterval)
	setDefault(&cfg.DrainTimeout, DefaultDrainTimeout)
	setDefault(&cfg.Logger, slog.New(slog.DiscardHandler))
	if cfg.MeterProvider == nil {
		cfg.MeterProvider = noop.NewMeterProvider()
	}
	return cfg, checkRanges(cfg)
}

func checkRequired[V any](cfg Config[V]) error {
	switch {
	case cfg.Store == nil:
		return invalid("Store is required")
	case cfg.Handle == nil:
		return invalid("Handle is required")
	}
	return checkDeadLetter(cfg.DeadLetter, cfg.InvalidKey)
}

func checkDeadLetter(w *kafkago.Writer, policy KeyPolicy) error {
	switch {
	case w == nil && policy == KeyDeadLetter:
		return invalid("InvalidKey is KeyDeadLetter but DeadLetter is nil")
	case w == nil:
		return nil
	case w.Topic == "":
		return invalid("DeadLetter.Topic is empty")
	case w.Async:
		return invalid("DeadLetter is Async: its writes are never acknowledged")
	case w.RequiredAcks == kafkago.RequireNone:
		return invalid("DeadLetter.RequiredAcks is RequireNone: set RequireAll (or RequireOne)")
	}
	return nil
}

func checkRanges[V any](cfg Config[V]) error {
	switch {
	case cfg.InvalidKey < KeyStop || cfg.InvalidKey > KeyDeadLetter:
		return invalid("unknown InvalidKey policy %d", cfg.InvalidKey)
	case cfg.Ordering < ByPartition || cfg.Ordering > Unordered:
		return invalid("unknown Ordering %d", cfg.Ordering)
	case cfg.Attempts < 1, cfg.MaxInFlight < 1, cfg.BatchSize < 1, cfg.CommitEvery < 1:
		return invalid("Attempts, MaxInFlight, BatchSize and CommitEvery must be >= 1 (or 0 for the default)")
	case cfg.Backoff.Min < 0 || cfg.Backoff.Max < cfg.Backoff.Min:
		return invalid("Backoff{Min: %v, Max: %v}: need 0 <= Min <= Max", cfg.Backoff.Min, cfg.Backoff.Max)
	case cfg.Lease < minLease, cfg.TTL < 0, cfg.CommitInterval < 0, cfg.DrainTimeout < 0:
		return invalid("Lease must be >= %v; TTL, CommitInterval and DrainTimeout must be >= 0", minLease)
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
