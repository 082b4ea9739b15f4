package idemqfranz

import (
	"go.opentelemetry.io/otel/metric"

	"github.com/idemq/idemq/internal/consume"
	"github.com/idemq/idemq/internal/stats"
)

// Stats are the consumer's counters since it was created, and the handlers
// running now. Config.MeterProvider exports the same through OpenTelemetry
// as idemq.franz.<name> (processed, duplicates, inflight_conflicts,
// retries, dead_lettered, dead_letter_errors, offset_commits,
// guard_round_trips, store_errors, partitions_assigned,
// partitions_revoked, partitions_lost; and the gauge inflight).
type Stats struct {
	Processed          int64 // handler succeeded and the outcome is final (Processed, ProcessedWithoutKey)
	Duplicates         int64 // key already committed: handler not run (OnDuplicate ran)
	InFlightConflicts  int64 // key held by another owner when claimed, or a concurrent run committed first
	Retries            int64 // handler or OnDuplicate attempts after the first
	DeadLettered       int64 // records written to the dead-letter topic
	DeadLetterErrors   int64 // dead-letter writes that failed and were retried
	OffsetCommits      int64 // successful offset-commit requests
	GuardRoundTrips    int64 // store round trips of the guard
	StoreErrors        int64 // store failures that made a record wait and retry
	PartitionsAssigned int64 // partitions assigned to this member, over every rebalance
	PartitionsRevoked  int64 // partitions revoked from it (their finished prefix committed)
	PartitionsLost     int64 // partitions lost (nothing committed)
	InFlight           int64 // handlers running now
}

const meterName = "github.com/idemq/idemq/adapters/franz"

// metrics holds the counters of one Consumer or Processor.
type metrics struct {
	processed, duplicates, conflicts, retries, deadLettered, deadLetterErrors stats.Counter
	commits, roundTrips, storeErrors, assigned, revoked, lost                 stats.Counter
	inFlight                                                                  stats.Gauge
}

func newMetrics(mp metric.MeterProvider) (*metrics, error) {
	m := &metrics{}
	return m, stats.Register(mp, meterName,
		stats.Spec{Name: "idemq.franz.processed", Desc: "Records whose handler succeeded and whose outcome is final.", Counter: &m.processed},
		stats.Spec{Name: "idemq.franz.duplicates", Desc: "Records whose key was already committed; the handler did not run.", Counter: &m.duplicates},
		stats.Spec{Name: "idemq.franz.inflight_conflicts", Desc: "Keys held by another owner when claimed, or committed first by a concurrent run.", Counter: &m.conflicts},
		stats.Spec{Name: "idemq.franz.retries", Desc: "Handler attempts after the first.", Counter: &m.retries},
		stats.Spec{Name: "idemq.franz.dead_lettered", Desc: "Records written to the dead-letter topic.", Counter: &m.deadLettered},
		stats.Spec{Name: "idemq.franz.dead_letter_errors", Desc: "Dead-letter writes that failed and were retried.", Counter: &m.deadLetterErrors},
		stats.Spec{Name: "idemq.franz.offset_commits", Desc: "Successful offset-commit requests.", Counter: &m.commits},
		stats.Spec{Name: "idemq.franz.guard_round_trips", Desc: "Store round trips of the guard.", Counter: &m.roundTrips},
		stats.Spec{Name: "idemq.franz.store_errors", Desc: "Store failures that made a record wait and retry.", Counter: &m.storeErrors},
		stats.Spec{Name: "idemq.franz.partitions_assigned", Desc: "Partitions assigned to this member.", Counter: &m.assigned},
		stats.Spec{Name: "idemq.franz.partitions_revoked", Desc: "Partitions revoked from this member.", Counter: &m.revoked},
		stats.Spec{Name: "idemq.franz.partitions_lost", Desc: "Partitions lost by this member.", Counter: &m.lost},
		stats.Spec{Name: "idemq.franz.inflight", Desc: "Handlers running now.", Gauge: &m.inFlight},
	)
}

func (m *metrics) stats() Stats {
	return Stats{
		Processed: m.processed.Load(), Duplicates: m.duplicates.Load(), InFlightConflicts: m.conflicts.Load(),
		Retries: m.retries.Load(), DeadLettered: m.deadLettered.Load(), DeadLetterErrors: m.deadLetterErrors.Load(),
		OffsetCommits: m.commits.Load(), GuardRoundTrips: m.roundTrips.Load(), StoreErrors: m.storeErrors.Load(),
		PartitionsAssigned: m.assigned.Load(), PartitionsRevoked: m.revoked.Load(), PartitionsLost: m.lost.Load(),
		InFlight: m.inFlight.Load(),
	}
}

// engine returns the engine's view of the counters.
func (m *metrics) engine() consume.Metrics {
	return consume.Metrics{
		Processed: m.processed.Add, Duplicates: m.duplicates.Add, Conflicts: m.conflicts.Add,
		Retries: m.retries.Add, DeadLettered: m.deadLettered.Add, DeadLetterErrors: m.deadLetterErrors.Add,
		StoreErrors: m.storeErrors.Add, RoundTrips: m.roundTrips.Add, InFlight: m.inFlight.Add,
	}
}
