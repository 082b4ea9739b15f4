package consume

import (
	"context"

	"github.com/idemq/idemq/dedupe"
)

// guard is the engine's seam to the dedupe core: it claims a batch of keys
// in one round trip (in optimistic mode, reads them) and hands out one
// ticket per key. dedupe.Batch is the implementation; tests wrap it.
type guard[V any] interface {
	// Claim claims keys; err != nil means nothing usable was claimed (a
	// ticket may still carry its own claim's failure in Err).
	Claim(ctx context.Context, keys ...dedupe.ClaimKey) ([]ticket[V], error)
	// Promote asks for the promotion of tickets' claims to the full lease,
	// in one round trip (dedupe.Batch.Promote).
	Promote(tickets []ticket[V])
	// RoundTrips counts the store round trips so far.
	RoundTrips() int64
	// Close releases every claim still held and stops background work.
	Close() error
}

// ticket is one key of one Claim: a *dedupe.Ticket.
type ticket[V any] interface {
	Key() string
	Err() error
	Await(ctx context.Context) error
	Start(ctx context.Context) error
	Context(parent context.Context) (context.Context, context.CancelFunc)
	End(v V) error
	Release() error
	Result(ctx context.Context) error
}

var _ ticket[string] = (*dedupe.Ticket[string])(nil)

// batchGuard is guard on a dedupe.Batch.
type batchGuard[V any] struct{ b *dedupe.Batch[V] }

func (g batchGuard[V]) Claim(ctx context.Context, keys ...dedupe.ClaimKey) ([]ticket[V], error) {
	ts, err := g.b.ClaimKeys(ctx, keys...)
	if err != nil {
		return nil, err
	}
	out := make([]ticket[V], len(ts))
	for i, t := range ts {
		out[i] = t
	}
	return out, nil
}

func (g batchGuard[V]) Promote(tickets []ticket[V]) {
	ts := make([]*dedupe.Ticket[V], 0, len(tickets))
	for _, t := range tickets {
		if t, ok := t.(*dedupe.Ticket[V]); ok {
			ts = append(ts, t)
		}
	}
	g.b.Promote(ts...)
}

func (g batchGuard[V]) RoundTrips() int64 { return g.b.Stats().RoundTrips }
func (g batchGuard[V]) Close() error      { return g.b.Close() }
