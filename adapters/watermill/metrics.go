package idemqwatermill

import (
	"go.opentelemetry.io/otel/metric"

	"github.com/idemq/idemq/internal/stats"
)

// Stats are a Deduplicator's counters since New, and the handlers running
// now. Config.MeterProvider exports the same through OpenTelemetry as
// idemq.watermill.<name> (processed, duplicates, handler_errors,
// guard_errors, invalid_keys; and the gauge inflight).
type Stats struct {
	Processed     int64 // the handler (or publish) succeeded and its commit won
	Duplicates    int64 // the key was committed already: stored outputs returned, or a publish dropped
	HandlerErrors int64 // the handler (or publish) failed: nothing committed, nacked
	GuardErrors   int64 // the guard failed (*GuardError: Redis down, commit unknown, ...): nacked
	InvalidKeys   int64 // messages without a valid key (handled by InvalidKey), or whose key was reused for another payload (nacked)
	InFlight      int64 // handlers (and guarded publishes) running now
}

const meterName = "github.com/idemq/idemq/adapters/watermill"

type metrics struct {
	processed, duplicates, handlerErrors, guardErrors, invalidKeys stats.Counter
	inFlight                                                       stats.Gauge
}

func newMetrics(mp metric.MeterProvider) (*metrics, error) {
	m := &metrics{}
	return m, stats.Register(mp, meterName,
		stats.Spec{Name: "idemq.watermill.processed", Desc: "Messages whose handler succeeded and whose commit won.", Counter: &m.processed},
		stats.Spec{Name: "idemq.watermill.duplicates", Desc: "Messages whose key was already committed; the handler did not run.", Counter: &m.duplicates},
		stats.Spec{Name: "idemq.watermill.handler_errors", Desc: "Handler failures: nothing committed, the message nacked.", Counter: &m.handlerErrors},
		stats.Spec{Name: "idemq.watermill.guard_errors", Desc: "Guard failures (store down, commit unknown): the message nacked.", Counter: &m.guardErrors},
		stats.Spec{Name: "idemq.watermill.invalid_keys", Desc: "Messages without a valid idempotency key.", Counter: &m.invalidKeys},
		stats.Spec{Name: "idemq.watermill.inflight", Desc: "Handlers running now.", Gauge: &m.inFlight},
	)
}

func (m *metrics) stats() Stats {
	return Stats{
		Processed: m.processed.Load(), Duplicates: m.duplicates.Load(), HandlerErrors: m.handlerErrors.Load(),
		GuardErrors: m.guardErrors.Load(), InvalidKeys: m.invalidKeys.Load(), InFlight: m.inFlight.Load(),
	}
}
