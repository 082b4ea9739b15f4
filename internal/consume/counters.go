package consume

import "github.com/idemq/idemq/internal/stats"

// Counters are the counters every Kafka adapter keeps, exported through
// OpenTelemetry as <prefix>.<name> by Specs; an adapter adds its own.
type Counters struct {
	Processed, Duplicates, Conflicts, Retries, DeadLettered, DeadLetterErrors stats.Counter
	Commits, RoundTrips, StoreErrors                                          stats.Counter
	InFlight                                                                  stats.Gauge
}

// Specs describes the counters for stats.Register; what names the
// adapter's unit of work ("Messages", "Records").
func (c *Counters) Specs(prefix, what string) []stats.Spec {
	return []stats.Spec{
		{Name: prefix + ".processed", Desc: what + " whose handler succeeded and whose outcome is final.", Counter: &c.Processed},
		{Name: prefix + ".duplicates", Desc: what + " whose key was already committed; the handler did not run.", Counter: &c.Duplicates},
		{Name: prefix + ".inflight_conflicts", Desc: "Keys held by another owner when claimed, or committed first by a concurrent run.", Counter: &c.Conflicts},
		{Name: prefix + ".retries", Desc: "Handler attempts after the first.", Counter: &c.Retries},
		{Name: prefix + ".dead_lettered", Desc: what + " written to the dead-letter topic.", Counter: &c.DeadLettered},
		{Name: prefix + ".dead_letter_errors", Desc: "Dead-letter writes that failed and were retried.", Counter: &c.DeadLetterErrors},
		{Name: prefix + ".offset_commits", Desc: "Successful offset-commit requests.", Counter: &c.Commits},
		{Name: prefix + ".guard_round_trips", Desc: "Store round trips of the guard.", Counter: &c.RoundTrips},
		{Name: prefix + ".store_errors", Desc: "Store failures, each retried after a backoff.", Counter: &c.StoreErrors},
		{Name: prefix + ".inflight", Desc: "Handlers running now.", Gauge: &c.InFlight},
	}
}

// Engine returns the engine's view of the counters.
func (c *Counters) Engine() Metrics {
	return Metrics{
		Processed: c.Processed.Add, Duplicates: c.Duplicates.Add, Conflicts: c.Conflicts.Add,
		Retries: c.Retries.Add, DeadLettered: c.DeadLettered.Add, DeadLetterErrors: c.DeadLetterErrors.Add,
		StoreErrors: c.StoreErrors.Add, RoundTrips: c.RoundTrips.Add, InFlight: c.InFlight.Add,
	}
}
