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
	consume.Counters
	assigned, revoked, lost stats.Counter
}

func newMetrics(mp metric.MeterProvider) (*metrics, error) {
	m := &metrics{}
	return m, stats.Register(mp, meterName, append(m.Specs("idemq.franz", "Records"),
		stats.Spec{Name: "idemq.franz.partitions_assigned", Desc: "Partitions assigned to this member.", Counter: &m.assigned},
		stats.Spec{Name: "idemq.franz.partitions_revoked", Desc: "Partitions revoked from this member.", Counter: &m.revoked},
		stats.Spec{Name: "idemq.franz.partitions_lost", Desc: "Partitions lost by this member.", Counter: &m.lost},
	)...)
}

func (m *metrics) stats() Stats {
	return Stats{
		Processed: m.Processed.Load(), Duplicates: m.Duplicates.Load(), InFlightConflicts: m.Conflicts.Load(),
		Retries: m.Retries.Load(), DeadLettered: m.DeadLettered.Load(), DeadLetterErrors: m.DeadLetterErrors.Load(),
		OffsetCommits: m.Commits.Load(), GuardRoundTrips: m.RoundTrips.Load(), StoreErrors: m.StoreErrors.Load(),
		PartitionsAssigned: m.assigned.Load(), PartitionsRevoked: m.revoked.Load(), PartitionsLost: m.lost.Load(), InFlight: m.InFlight.Load(),
	}
}
