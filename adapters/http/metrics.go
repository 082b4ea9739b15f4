package idemqhttp

import (
	"go.opentelemetry.io/otel/metric"

	"github.com/idemq/idemq/internal/stats"
)

// Stats are a Middleware's counters since New, and the handlers running
// now. Config.MeterProvider exports the same through OpenTelemetry as
// idemq.http.<name> (processed, replays, in_progress, key_errors,
// key_reused, not_stored, unguarded, guard_errors; and the gauge
// inflight).
type Stats struct {
	Processed   int64 // the handler ran and its response was stored
	Replays     int64 // a stored response was replayed; the handler did not run
	InProgress  int64 // 409: the key was being processed by another request
	KeyErrors   int64 // 400 or 413: no key (required), a malformed key, a body too large or unreadable
	KeyReused   int64 // 422: the key was stored for another request
	NotStored   int64 // the handler ran and its response was not stored (5xx, 408/409/423/425/429, no response, too large)
	Unguarded   int64 // no key, and Config.MissingKey let the handler run without the guard
	GuardErrors int64 // 503 or 500: the store failed, the commit's outcome is unknown, a stored response does not decode
	InFlight    int64 // guarded handlers running now
}

const meterName = "github.com/idemq/idemq/adapters/http"

type metrics struct {
	processed, replays, inProgress, keyErrors, keyReused, notStored, unguarded, guardErrors stats.Counter
	inFlight                                                                                stats.Gauge
}

func newMetrics(mp metric.MeterProvider) (*metrics, error) {
	m := &metrics{}
	return m, stats.Register(mp, meterName,
		stats.Spec{Name: "idemq.http.processed", Desc: "Requests whose handler ran and whose response was stored.", Counter: &m.processed},
		stats.Spec{Name: "idemq.http.replays", Desc: "Requests answered with a stored response; the handler did not run.", Counter: &m.replays},
		stats.Spec{Name: "idemq.http.in_progress", Desc: "Requests answered 409: another request with the key was running.", Counter: &m.inProgress},
		stats.Spec{Name: "idemq.http.key_errors", Desc: "Requests answered 400 or 413: no key, a malformed key, a body too large or unreadable.", Counter: &m.keyErrors},
		stats.Spec{Name: "idemq.http.key_reused", Desc: "Requests answered 422: the key was stored for another request.", Counter: &m.keyReused},
		stats.Spec{Name: "idemq.http.not_stored", Desc: "Requests whose handler ran and whose response was not stored.", Counter: &m.notStored},
		stats.Spec{Name: "idemq.http.unguarded", Desc: "Requests without a key run without the guard (MissingKey: KeyProcess).", Counter: &m.unguarded},
		stats.Spec{Name: "idemq.http.guard_errors", Desc: "Requests answered 503 or 500: the store failed or the outcome is unknown.", Counter: &m.guardErrors},
		stats.Spec{Name: "idemq.http.inflight", Desc: "Guarded handlers running now.", Gauge: &m.inFlight},
	)
}

func (m *metrics) stats() Stats {
	return Stats{
		Processed: m.processed.Load(), Replays: m.replays.Load(), InProgress: m.inProgress.Load(),
		KeyErrors: m.keyErrors.Load(), KeyReused: m.keyReused.Load(), NotStored: m.notStored.Load(),
		Unguarded: m.unguarded.Load(), GuardErrors: m.guardErrors.Load(), InFlight: m.inFlight.Load(),
	}
}
