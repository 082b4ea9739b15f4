package consume

import (
	"cmp"
	"context"
	"errors"
	"sync"
	"time"

	"github.com/idemq/idemq/dedupe"
	"github.com/idemq/idemq/internal/clock"
)

// await waits, holding no claim, for the keys that blocked the chains'
// heads and for the gates of gated chains; a head whose claim failed waits
// out a backoff instead. A head that gets its key runs at once: a claim
// this process holds must not wait for the next wave while another head of
// this process awaits the same key.
func (e *Engine[M, V]) await(sc *scope, heads []*job[M, V], gated []chain[M, V]) error {
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		first   error
		backoff bool
	)
	for _, j := range heads {
		if j.t == nil {
			backoff = true
			continue
		}
		count(e.cfg.Metrics.Conflicts, 1)
		wg.Go(func() {
			if err := e.awaitRun(sc, j); err != nil {
				mu.Lock()
				defer mu.Unlock()
				first = cmp.Or(first, err)
			}
		})
	}
	wg.Wait()
	for _, c := range gated {
		select {
		case <-c.gate:
		case <-sc.stop.Done():
		}
	}
	if backoff && first == nil {
		clock.Sleep(sc.stop, e.cfg.Backoff.Delay(sc.fails))
		sc.fails++
	}
	return first
}

// awaitRun awaits a head's key and runs the head if it got it.
func (e *Engine[M, V]) awaitRun(sc *scope, j *job[M, V]) error {
	e.awaitOne(sc, j)
	if j.t == nil || j.claim != nil {
		return nil
	}
	s := &settler[M, V]{e: e, sc: sc}
	_, err := e.execute(sc, s, j)
	s.all()
	return cmp.Or(err, s.err)
}

// graceAwait is how long a chain waits for a key in progress while it
// still holds the claims after it (see awaitBriefly).
const graceAwait = 50 * time.Millisecond

// awaitBriefly waits up to graceAwait for the owner of j's key, in
// progress, while the chain keeps the claims it holds, and reports whether
// the key was released (j now holds it) or committed. The owner is most
// often a handler of this process that is about to end: waiting for it is
// cheaper than releasing and claiming again the rest of the batch (two
// store round trips, and twice the store's work). If the owner is itself
// waiting for a claim this chain holds, neither can go on and both stop
// waiting after graceAwait, so a deadlock lasts at most that long; then the
// chain releases what it holds before it awaits again.
func (e *Engine[M, V]) awaitBriefly(sc *scope, j *job[M, V]) bool {
	if j.t == nil || !errors.Is(j.claim, dedupe.ErrInProgress) || sc.stopping() {
		return false
	}
	ctx, cancel := context.WithTimeout(sc.stop, graceAwait)
	defer cancel()
	err := j.t.Await(ctx)
	e.countRoundTrips()
	switch {
	case decided[V](err):
		count(e.cfg.Metrics.Conflicts, 1)
		j.reclaimed(err)
		return true
	case ctx.Err() != nil: // still in progress (or stopping): no claim taken
		return false
	}
	e.storeFailed(j, "awaiting", err)
	return false
}

func (e *Engine[M, V]) awaitOne(sc *scope, j *job[M, V]) {
	err := j.t.Await(sc.stop)
	e.countRoundTrips()
	switch {
	case decided[V](err):
		j.reclaimed(err) // held, committed, or reused: the next wave decides
	case sc.stopping():
		j.unclaim()
	default:
		e.storeFailed(j, "awaiting", err)
	}
}

// decided reports whether an Await's err tells the key's state: held by
// this owner (nil), committed (*ConflictError) or committed for another
// payload (*KeyReusedError).
func decided[V any](err error) bool {
	var conflict *dedupe.ConflictError[V]
	var reused *dedupe.KeyReusedError
	return err == nil || errors.As(err, &conflict) || errors.As(err, &reused)
}
