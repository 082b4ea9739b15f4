package kafka

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"

	"github.com/idemq/idemq/dedupe"
)

// runGuard implements guard with one dedupe.Run per key: the Run's function
// holds the key (the claim, in claim mode) until the ticket is ended or
// released. A second ticket for a key this process already holds gets
// dedupe.ErrInProgress without asking the store (single flight), as the
// core's batch path does.
type runGuard[V any] struct {
	store  dedupe.Store
	opts   []dedupe.RunOption
	ctx    context.Context // cancelled by Close: every Run ends
	cancel context.CancelFunc
	wg     sync.WaitGroup

	roundTrips atomic.Int64

	mu     sync.Mutex
	owners map[string]*runOwner[V] // the Run holding, or acquiring, each key
}

func newRunGuard[V any](store dedupe.Store, opts []dedupe.RunOption) *runGuard[V] {
	ctx, cancel := context.WithCancel(context.Background())
	return &runGuard[V]{store: store, opts: opts, ctx: ctx, cancel: cancel, owners: map[string]*runOwner[V]{}}
}

// Claim implements guard: it starts one Run per key (not waiting for
// another owner) and returns once each has decided.
func (g *runGuard[V]) Claim(ctx context.Context, keys ...string) ([]ticket[V], error) {
	ts := make([]*runTicket[V], len(keys))
	for i, key := range keys {
		ts[i] = g.ticket(key, true)
	}
	var failed error
	for _, t := range ts {
		if err := t.decide(ctx); err != nil && failed == nil {
			failed = err
		}
	}
	if failed != nil {
		for _, t := range ts {
			if t.err == nil {
				_ = t.Release()
			}
		}
		return nil, failed
	}
	out := make([]ticket[V], len(ts))
	for i, t := range ts {
		out[i] = t
	}
	return out, nil
}

// ticket starts acquiring key, or returns an ErrInProgress ticket when this
// process already holds it.
func (g *runGuard[V]) ticket(key string, noWait bool) *runTicket[V] {
	g.mu.Lock()
	defer g.mu.Unlock()
	if o := g.owners[key]; o != nil {
		return &runTicket[V]{g: g, key: key, err: dedupe.ErrInProgress, waitFor: o}
	}
	o := newRunOwner(g, key)
	g.owners[key] = o
	opts := g.opts
	if noWait {
		opts = append(opts[:len(opts):len(opts)], dedupe.WithNoWait())
	}
	g.wg.Go(func() { o.run(opts) })
	return &runTicket[V]{g: g, key: key, owner: o}
}

// forget drops o as the key's owner once its Run has returned.
func (g *runGuard[V]) forget(o *runOwner[V]) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.owners[o.key] == o {
		delete(g.owners, o.key)
	}
}

// RoundTrips implements guard. An optimistic Run takes 3 round trips when
// its function runs (subscribe, read, commit) and 2 when it does not.
func (g *runGuard[V]) RoundTrips() int64 { return g.roundTrips.Load() }

// Close implements guard: every Run ends, releasing its claim.
func (g *runGuard[V]) Close() error {
	g.cancel()
	g.wg.Wait()
	return nil
}

// errReleased is what a released owner's function returns to its Run.
var errReleased = errors.New("kafka: claim released")
