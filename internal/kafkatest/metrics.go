package kafkatest

import (
	"context"
	"maps"
	"sync/atomic"
	"testing"
	"time"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/idemq/idemq/dedupe"
	"github.com/idemq/idemq/internal/testwait"
)

var metricScenarios = map[string]scenario{
	"MatchStats":          metricsMatchStats,
	"ProcessorMatchStats": processorMetricsMatchStats,
}

// metricsMatchStats: Config.MeterProvider exports every counter of Stats,
// and nothing else, as <prefix>.<name> with the same value: the in-flight
// gauge while a handler runs, and every counter after a run with fresh
// keys, duplicates, a handler that fails once, one that always fails (a
// retry, then a dead letter) and a graceful stop.
func metricsMatchStats(t *testing.T, d Driver) {
	e := setup(t, d, 2)
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	t.Cleanup(func() { _ = mp.Shutdown(context.Background()) })
	held, release := make(chan struct{}, 1), make(chan struct{})
	cfg := e.config()
	cfg.MeterProvider = mp
	cfg.DeadLetterTopic = e.deadLetterTopic(t)
	cfg.Attempts = 2
	cfg.Handle = metricsHandler(held, release)
	var msgs []Message
	for i := range 20 {
		msgs = append(msgs, msg(i%2, key(i), "v"))
	}
	msgs = append(msgs, msg(1, key(1), "dup"), msg(0, key(2), "dup"), msg(0, "b", "bad"), msg(1, "f", "flaky"))
	e.produce(t, msgs...)
	r := e.start(t, cfg)
	e.LagZero(t, time.Minute)

	e.produce(t, msg(0, "h", "hold"))
	testwait.Recv(t, held, "the held handler running")
	// The gauge moves in memory before its exported instrument, and an
	// earlier job may still be giving its slot back: wait until both say 1
	// while the handler is held.
	inflight := d.Adapter().MetricPrefix + ".inflight"
	Eventually(t, time.Minute, "one handler in flight, in Stats and in metric "+inflight, func() bool {
		return r.Stats().InFlight == 1 && exported(t, reader)[inflight].value == 1
	})
	close(release)
	e.LagZero(t, time.Minute)
	if err := r.Stop(t); err != nil {
		t.Fatal(err)
	}

	s := r.Stats()
	checkExported(t, d.Adapter().MetricPrefix, exported(t, reader), s)
	if s.Processed != 22 || s.Duplicates != 2 || s.Retries != 2 || s.DeadLettered != 1 || s.DeadLetterErrors != 0 ||
		s.StoreErrors != 0 || s.InFlight != 0 || s.OffsetCommits == 0 || s.GuardRoundTrips == 0 || s.Assignments < 2 {
		t.Errorf("Stats = %+v, want Processed 22, Duplicates 2, Retries 2, DeadLettered 1, no errors, InFlight 0, "+
			"OffsetCommits and GuardRoundTrips > 0, Assignments >= 2", s)
	}
	if sum(s.Own) == 0 {
		t.Errorf("Stats.Own = %v, want the member's join counted (generations, partitions assigned)", s.Own)
	}
}

// processorMetricsMatchStats: a Processor exports its Stats through its
// Config.MeterProvider as a Consumer does: after a processed message, a
// duplicate and a retried failure.
func processorMetricsMatchStats(t *testing.T, d Driver) {
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	t.Cleanup(func() { _ = mp.Shutdown(context.Background()) })
	p := newProcessor(t, d, Config{MeterProvider: mp, Attempts: 2, Handle: metricsHandler(nil, nil)})
	ctx := context.Background()
	for _, m := range []Message{msg(0, "k", "v"), msg(0, "k", "dup"), msg(0, "f", "flaky")} {
		if _, err := p.Process(ctx, m); err != nil {
			t.Fatalf("Process(%s) = %v", m.Value, err)
		}
	}
	s := p.Stats()
	checkExported(t, d.Adapter().MetricPrefix, exported(t, reader), s)
	if s.Processed != 2 || s.Duplicates != 1 || s.Retries != 1 || s.GuardRoundTrips == 0 || s.InFlight != 0 {
		t.Errorf("Stats = %+v, want Processed 2, Duplicates 1, Retries 1, GuardRoundTrips > 0, InFlight 0", s)
	}
}

// metricsHandler fails "bad" always and "flaky" once, holds "hold" (after a
// send on held) until release is closed, and ends every other message.
func metricsHandler(held chan<- struct{}, release <-chan struct{}) HandleFunc {
	var flaky atomic.Int32
	return func(ctx context.Context, m Message, end dedupe.End[string]) error {
		switch string(m.Value) {
		case "bad":
			return errBoom
		case "flaky":
			if flaky.Add(1) == 1 {
				return errBoom
			}
		case "hold":
			select {
			case held <- struct{}{}:
			default:
			}
			select {
			case <-release:
			case <-ctx.Done():
				return context.Cause(ctx)
			}
		}
		end("ok")
		return nil
	}
}

// point is an exported int64 sum: a counter (monotonic) or a gauge.
type point struct {
	value     int64
	monotonic bool
}

// exported collects reader's int64 sums by instrument name, failing t for an
// instrument of another kind.
func exported(t *testing.T, reader *sdkmetric.ManualReader) map[string]point {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := reader.Collect(context.Background(), &rm); err != nil {
		t.Fatalf("Collect: %v", err)
	}
	got := map[string]point{}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			s, ok := m.Data.(metricdata.Sum[int64])
			if !ok {
				t.Errorf("metric %s is a %T, want an int64 counter or up-down counter", m.Name, m.Data)
				continue
			}
			p := point{monotonic: s.IsMonotonic}
			for _, dp := range s.DataPoints {
				p.value += dp.Value
			}
			got[m.Name] = p
		}
	}
	return got
}

// checkExported fails t unless got holds s: each counter as a monotonic
// sum named prefix.<name> of the same value (absent: never added to, 0),
// the gauge inflight as a non-monotonic one, and no other instrument.
func checkExported(t *testing.T, prefix string, got map[string]point, s Stats) {
	t.Helper()
	want := map[string]int64{
		"processed": s.Processed, "duplicates": s.Duplicates, "inflight_conflicts": s.InFlightConflicts,
		"retries": s.Retries, "dead_lettered": s.DeadLettered, "dead_letter_errors": s.DeadLetterErrors,
		"offset_commits": s.OffsetCommits, "guard_round_trips": s.GuardRoundTrips, "store_errors": s.StoreErrors,
		"inflight": s.InFlight,
	}
	maps.Copy(want, s.Own)
	got = maps.Clone(got)
	for name, v := range want {
		p, ok := got[prefix+"."+name]
		if p.value != v {
			t.Errorf("metric %s.%s = %d, Stats says %d", prefix, name, p.value, v)
		}
		if ok && p.monotonic != (name != "inflight") {
			t.Errorf("metric %s.%s is monotonic %v, want %v", prefix, name, p.monotonic, name != "inflight")
		}
		delete(got, prefix+"."+name)
	}
	for name := range got {
		t.Errorf("metric %s is exported but is no counter of Stats", name)
	}
}

func sum(m map[string]int64) int64 {
	var n int64
	for _, v := range m {
		n += v
	}
	return n
}
