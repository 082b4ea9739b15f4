package idemqkafka_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	kafkago "github.com/segmentio/kafka-go"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/idemq/idemq/dedupe"
	"github.com/idemq/idemq/internal/kafkatest"
)

// TestMetrics proves behaviour 8: every counter of Stats is exported through
// the MeterProvider with the same value, after a run with fresh keys,
// duplicates, a retry and a dead letter.
func TestMetrics(t *testing.T) {
	t.Parallel()
	e := setup(t, 2)
	_, w := e.deadLetterTopic(t)
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	t.Cleanup(func() { _ = mp.Shutdown(context.Background()) })
	var flaky atomic.Int32
	cfg := e.config()
	cfg.MeterProvider = mp
	cfg.DeadLetter = w
	cfg.Attempts = 2
	cfg.Handle = func(ctx context.Context, m kafkago.Message, end dedupe.End[string]) error {
		switch string(m.Value) {
		case "bad":
			return errBoom
		case "flaky":
			if flaky.Add(1) == 1 {
				return errBoom
			}
		}
		end("ok")
		return nil
	}
	var msgs []kafkago.Message
	for i := range 20 {
		msgs = append(msgs, msg(key(i), "v"))
	}
	msgs = append(msgs, msg(key(1), "dup"), msg(key(2), "dup"), msg("b", "bad"), msg("f", "flaky"))
	e.produce(t, msgs...)
	c := mustConsumer(t, cfg)
	r := start(t, c)
	kafkatest.Eventually(t, time.Minute, "lag 0", func() bool { return e.lag(t) == 0 })
	if err := r.stop(t); err != nil {
		t.Fatal(err)
	}

	var rm metricdata.ResourceMetrics
	if err := reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	got := map[string]int64{}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if sum, ok := m.Data.(metricdata.Sum[int64]); ok {
				for _, dp := range sum.DataPoints {
					got[m.Name] += dp.Value
				}
			}
		}
	}
	s := c.Stats()
	for name, want := range map[string]int64{
		"idemq.kafka.processed":          s.Processed,
		"idemq.kafka.duplicates":         s.Duplicates,
		"idemq.kafka.inflight_conflicts": s.InFlightConflicts,
		"idemq.kafka.retries":            s.Retries,
		"idemq.kafka.dead_lettered":      s.DeadLettered,
		"idemq.kafka.offset_commits":     s.OffsetCommits,
		"idemq.kafka.guard_round_trips":  s.GuardRoundTrips,
		"idemq.kafka.store_errors":       s.StoreErrors,
		"idemq.kafka.generations":        s.Generations,
	} {
		if got[name] != want {
			t.Errorf("metric %s = %d, Stats says %d", name, got[name], want)
		}
	}
	if s.Processed != 21 || s.Duplicates != 2 || s.Retries != 2 || s.DeadLettered != 1 || s.OffsetCommits == 0 || s.GuardRoundTrips == 0 || s.Generations < 1 {
		t.Errorf("Stats = %+v, want Processed 21, Duplicates 2, Retries 2, DeadLettered 1, OffsetCommits, GuardRoundTrips and Generations > 0", s)
	}
}
