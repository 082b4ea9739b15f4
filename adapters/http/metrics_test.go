package idemqhttp_test

import (
	"context"
	"net/http"
	"testing"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	idemqhttp "github.com/idemq/idemq/adapters/http"
	"github.com/idemq/idemq/consumer"
)

// TestMetrics: every counter of Stats is exported through the
// MeterProvider with the same value, after requests of every kind.
func TestMetrics(t *testing.T) {
	t.Parallel()
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	t.Cleanup(func() { _ = mp.Shutdown(context.Background()) })
	m := newMiddleware(t, memoryStore(t), idemqhttp.Config{MeterProvider: mp, MissingKey: consumer.KeyProcess, MaxBodyBytes: 4})
	srv := serve(t, m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Has("fail") {
			w.WriteHeader(http.StatusInternalServerError)
		}
	})))
	for _, req := range []request{
		{key: "k1", body: "a"}, {key: "k1", body: "a"}, {key: "k1", body: "b"}, // processed, replay, reused
		{key: `"open`}, {key: "k2", body: "12345"}, // key errors: malformed, too large
		{key: "k3", path: "/?fail"}, {noKey: true}, // not stored, unguarded
	} {
		do(t, srv, req)
	}

	var rm metricdata.ResourceMetrics
	if err := reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	got := map[string]int64{}
	for _, sm := range rm.ScopeMetrics {
		for _, metric := range sm.Metrics {
			if sum, ok := metric.Data.(metricdata.Sum[int64]); ok {
				for _, dp := range sum.DataPoints {
					got[metric.Name] += dp.Value
				}
			}
		}
	}
	s := m.Stats()
	want := idemqhttp.Stats{Processed: 1, Replays: 1, KeyReused: 1, KeyErrors: 2, NotStored: 1, Unguarded: 1}
	if s != want {
		t.Errorf("Stats = %+v, want %+v", s, want)
	}
	for name, want := range map[string]int64{
		"idemq.http.processed": s.Processed, "idemq.http.replays": s.Replays, "idemq.http.in_progress": s.InProgress,
		"idemq.http.key_errors": s.KeyErrors, "idemq.http.key_reused": s.KeyReused, "idemq.http.not_stored": s.NotStored,
		"idemq.http.unguarded": s.Unguarded, "idemq.http.guard_errors": s.GuardErrors, "idemq.http.inflight": s.InFlight,
	} {
		if got[name] != want {
			t.Errorf("metric %s = %d, Stats says %d", name, got[name], want)
		}
	}
}
