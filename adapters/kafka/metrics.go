package kafka

import (
	"context"
	"sync/atomic"

	"go.opentelemetry.io/otel/metric"

	"github.com/idemq/idemq/internal/consume"
)

// Stats are the consumer's counters since it was created.
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
}

// meterName is the instrumentation scope of the OpenTelemetry counters.
const meterName = "github.com/idemq/idemq/adapters/kafka"

// counter is one Stats field, also exported as an OpenTelemetry counter.
type counter struct {
	n    atomic.Int64
	otel metric.Int64Counter
}

func (c *counter) add(n int64) {
	if n == 0 {
		return
	}
	c.n.Add(n)
	c.otel.Add(context.Background(), n)
}

// metrics holds the counters of one Consumer or Processor.
type metrics struct {
	processed, duplicates, conflicts, retries, deadLettered, deadLetterErrors, commits, roundTrips, storeErrors, generations counter
}

func newMetrics(mp metric.MeterProvider) (*metrics, error) {
	m := &metrics{}
	meter := mp.Meter(meterName)
	for _, c := range []struct {
		c          *counter
		name, desc string
	}{
		{&m.processed, "idemq.kafka.processed", "Messages whose handler succeeded and whose outcome is final."},
		{&m.duplicates, "idemq.kafka.duplicates", "Messages whose key was already committed; the handler did not run."},
		{&m.conflicts, "idemq.kafka.inflight_conflicts", "Keys held by another owner when claimed, or committed first by a concurrent run."},
		{&m.retries, "idemq.kafka.retries", "Handler attempts after the first."},
		{&m.deadLettered, "idemq.kafka.dead_lettered", "Messages written to the dead-letter topic."},
		{&m.deadLetterErrors, "idemq.kafka.dead_letter_errors", "Dead-letter writes that failed and were retried."},
		{&m.commits, "idemq.kafka.offset_commits", "Successful offset-commit requests."},
		{&m.roundTrips, "idemq.kafka.guard_round_trips", "Store round trips of the guard."},
		{&m.storeErrors, "idemq.kafka.store_errors", "Store failures that made a message wait and retry."},
		{&m.generations, "idemq.kafka.generations", "Consumer-group generations this member joined; each after the first is a rebalance."},
	} {
		var err error
		if c.c.otel, err = meter.Int64Counter(c.name, metric.WithDescription(c.desc)); err != nil {
			return nil, err
		}
	}
	return m, nil
}

func (m *metrics) stats() Stats {
	return Stats{
		Processed:         m.processed.n.Load(),
		Duplicates:        m.duplicates.n.Load(),
		InFlightConflicts: m.conflicts.n.Load(),
		Retries:           m.retries.n.Load(),
		DeadLettered:      m.deadLettered.n.Load(),
		DeadLetterErrors:  m.deadLetterErrors.n.Load(),
		OffsetCommits:     m.commits.n.Load(),
		GuardRoundTrips:   m.roundTrips.n.Load(),
		StoreErrors:       m.storeErrors.n.Load(),
		Generations:       m.generations.n.Load(),
	}
}

// engine returns the engine's view of the counters.
func (m *metrics) engine() consume.Metrics {
	return consume.Metrics{
		Processed: m.processed.add, Duplicates: m.duplicates.add, Conflicts: m.conflicts.add,
		Retries: m.retries.add, DeadLettered: m.deadLettered.add, DeadLetterErrors: m.deadLetterErrors.add,
		StoreErrors: m.storeErrors.add, RoundTrips: m.roundTrips.add,
	}
}
