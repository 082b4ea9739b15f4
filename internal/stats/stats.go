// Package stats holds the adapters' counters: each is read in memory (an
// adapter's Stats) and exported through the OpenTelemetry metric API, so
// users pick the exporter.
package stats

import (
	"context"
	"sync/atomic"

	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/metric/noop"
)

// Counter only goes up.
type Counter struct {
	n    atomic.Int64
	otel metric.Int64Counter
}

// Add adds n (ignored when 0).
func (c *Counter) Add(n int64) {
	if n == 0 {
		return
	}
	c.n.Add(n)
	c.otel.Add(context.Background(), n)
}

// Load returns the count so far.
func (c *Counter) Load() int64 { return c.n.Load() }

// Gauge goes up and down: how many of something there are now.
type Gauge struct {
	n    atomic.Int64
	otel metric.Int64UpDownCounter
}

// Add adds delta.
func (g *Gauge) Add(delta int64) {
	g.n.Add(delta)
	g.otel.Add(context.Background(), delta)
}

// Load returns the value now.
func (g *Gauge) Load() int64 { return g.n.Load() }

// Spec names one counter or gauge (set exactly one of them).
type Spec struct {
	Name, Desc string
	Counter    *Counter
	Gauge      *Gauge
}

// Register creates the instruments of specs on mp (nil: no-op) under the
// instrumentation scope.
func Register(mp metric.MeterProvider, scope string, specs ...Spec) error {
	if mp == nil {
		mp = noop.NewMeterProvider()
	}
	meter := mp.Meter(scope)
	for _, s := range specs {
		var err error
		if s.Counter != nil {
			s.Counter.otel, err = meter.Int64Counter(s.Name, metric.WithDescription(s.Desc))
		} else {
			s.Gauge.otel, err = meter.Int64UpDownCounter(s.Name, metric.WithDescription(s.Desc))
		}
		if err != nil {
			return err
		}
	}
	return nil
}
