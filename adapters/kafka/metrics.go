package idemqkafka

import (
	"go.opentelemetry.io/otel/metric"

	"github.com/idemq/idemq/internal/consume"
	"github.com/idemq/idemq/internal/stats"
)

// Stats are the consumer's counters since it was created, and the
// handlers running now. Config.MeterProvider exports the same through
// OpenTelemetry as idemq.kafka.<name> (processed, duplicates,
// inflight_conflicts, retries, dead_lettered, dead_letter_errors,
// offset_commits, guard_round_trips, store_errors, generations; and the
// gauge inflight).
type Stats struct {
	Processed         int64 // handler succeeded and the outcome is final (Processed, ProcessedWithoutKey)
	Duplicates        int64 // key already committed: handler not run (OnDuplicate ran)
	InFlightConflicts int64 // key held by another owner when claimed, or a concurrent run committed first
	Retries           int64 // handler or OnDuplicate attempts after the first
	DeadLettered      int64 // messages written to the dead-letter topic
	DeadLetterErrors  int64 // dead-letter writes that failed and were retried
	OffsetCommits     int64 // successful offset-commit requests to the group coordinator
	GuardRoundTrips   int64 // store round trips of the guard: claims, renewals, commits and releases of whole batches, awaits
	StoreErrors       int64 // store failures that made a message wait and retry
	Generations       int64 // consumer-group generations this member joined; each after the first is a rebalance
	InFlight          int64 // handlers running now
}

// meterName is the instrumentation scope of the OpenTelemetry instruments.
const meterName = "github.com/idemq/idemq/adapters/kafka"

// metrics holds the counters of one Consumer or Processor.
type metrics struct {
	consume.Counters
	generations stats.Counter
}

func newMetrics(mp metric.MeterProvider) (*metrics, error) {
	m := &metrics{}
	return m, stats.Register(mp, meterName, append(m.Specs("idemq.kafka", "Messages"),
		stats.Spec{Name: "idemq.kafka.generations", Desc: "Consumer-group generations this member joined; each after the first is a rebalance.", Counter: &m.generations},
	)...)
}

func (m *metrics) stats() Stats {
	return Stats{
		Processed: m.Processed.Load(), Duplicates: m.Duplicates.Load(), InFlightConflicts: m.Conflicts.Load(),
		Retries: m.Retries.Load(), DeadLettered: m.DeadLettered.Load(), DeadLetterErrors: m.DeadLetterErrors.Load(),
		OffsetCommits: m.Commits.Load(), GuardRoundTrips: m.RoundTrips.Load(), StoreErrors: m.StoreErrors.Load(),
		Generations: m.generations.Load(), InFlight: m.InFlight.Load(),
	}
}
