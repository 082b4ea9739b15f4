package kafka

import (
	"context"

	"github.com/idemq/idemq/dedupe"
)

// batchGuard is the claim-first guard: the core's batch path. Claims,
// renewals, commits and releases of many keys share round trips.
type batchGuard[V any] struct{ b *dedupe.Batch[V] }

var _ ticket[string] = (*dedupe.Ticket[string])(nil)

func newBatchGuard[V any](store dedupe.Store, opts ...dedupe.RunOption) (*batchGuard[V], error) {
	b, err := dedupe.NewBatch[V](store, opts...)
	if err != nil {
		return nil, err
	}
	return &batchGuard[V]{b: b}, nil
}

// Claim implements guard.
func (g *batchGuard[V]) Claim(ctx context.Context, keys ...string) ([]ticket[V], error) {
	ts, err := g.b.Claim(ctx, keys...)
	if err != nil {
		return nil, err
	}
	out := make([]ticket[V], len(ts))
	for i, t := range ts {
		out[i] = t
	}
	return out, nil
}

// RoundTrips implements guard.
func (g *batchGuard[V]) RoundTrips() int64 { return g.b.Stats().RoundTrips }

// Close implements guard.
func (g *batchGuard[V]) Close() error { return g.b.Close() }
