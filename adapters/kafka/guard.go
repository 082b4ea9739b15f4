package kafka

import (
	"context"

	"github.com/idemq/idemq/dedupe"
)

// guard is the seam between the consumer and the dedupe core: it claims a
// batch of keys in one round trip and hands out one ticket per key. Its
// shape is the core's batch path: batchGuard is dedupe.Batch (claim-first
// mode); runGuard provides the same with one dedupe.Run per key, for
// optimistic mode, which has no batch path.
type guard[V any] interface {
	// Claim claims keys; err != nil means nothing usable was claimed (a
	// ticket may still carry its own claim's failure in Err).
	Claim(ctx context.Context, keys ...string) ([]ticket[V], error)
	// RoundTrips counts the store round trips so far.
	RoundTrips() int64
	// Close releases every claim still held and stops background work.
	Close() error
}

// ticket is one key of one Claim. Right after Claim, Err is nil (this
// owner holds the key), a *dedupe.ConflictError[V] (already committed) or
// dedupe.ErrInProgress (another owner holds it, maybe an earlier ticket of
// this process).
type ticket[V any] interface {
	Key() string
	Err() error
	// Await waits, for an ErrInProgress ticket, until this ticket owns the
	// key (nil) or its owner committed (*dedupe.ConflictError[V]).
	Await(ctx context.Context) error
	// Context derives a ctx cancelled when the claim is lost.
	Context(parent context.Context) (context.Context, context.CancelFunc)
	// End queues the commit of v; Release queues the release of the claim.
	End(v V) error
	Release() error
	// Result waits for the outcome of End (or Release).
	Result(ctx context.Context) error
}

// newGuard returns the guard for cfg's mode.
func newGuard[V any](cfg *Config[V]) (guard[V], error) {
	opts := []dedupe.RunOption{dedupe.WithTTL(cfg.TTL), dedupe.WithCodec(cfg.Codec)}
	if cfg.Optimistic {
		return newRunGuard[V](cfg.Store, append(opts, dedupe.WithOptimistic())), nil
	}
	return newBatchGuard[V](cfg.Store, append(opts, dedupe.WithClaim(cfg.Lease))...)
}
