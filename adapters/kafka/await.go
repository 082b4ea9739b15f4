package kafka

import (
	"cmp"
	"context"
	"errors"
	"sync"
	"time"

	"github.com/idemq/idemq/dedupe"
)

// await waits, holding no claim, for the keys that blocked the chains'
// heads and for the gates of gated chains; a head whose claim failed waits
// out a backoff instead. A head that gets its key runs at once: a claim
// this process holds must not wait for the next wave while another head of
// this process awaits the same key.
func (p *pipeline[V]) await(sc *scope[V], heads []*job[V], gated []chain[V]) error {
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
		p.m.conflicts.add(1)
		wg.Go(func() {
			if err := p.awaitRun(sc, j); err != nil {
				mu.Lock()
				defer mu.Unlock()
				first = cmp.Or(first, err)
			}
		})
	}
	for _, c := range gated {
		wg.Go(func() {
			select {
			case <-c.gate:
			case <-sc.stop.Done():
			}
		})
	}
	wg.Wait()
	if backoff && first == nil {
		sleep(sc.stop, p.cfg.Backoff.delay(sc.fails))
		sc.fails++
	}
	return first
}

// awaitRun awaits a head's key and runs the head if it got it.
func (p *pipeline[V]) awaitRun(sc *scope[V], j *job[V]) error {
	p.awaitOne(sc, j)
	if j.t == nil || j.claim != nil {
		return nil
	}
	_, err := p.execute(sc, j)
	p.settle(sc, []*job[V]{j})
	return err
}

// graceAwait is how long a chain waits for a key in progress while it
// still holds the claims after it (see awaitBriefly).
const graceAwait = 50 * time.Millisecond

// awaitBriefly waits up to graceAwait for the owner of j's key, in
// progress, while the chain keeps the claims it holds, and reports whether
// the key was released (j now holds it) or committed. The owner is most
// often a handler of this process that is about to end: waiting for it is
// cheaper than releasing and claiming again the rest of the batch. If the
// owner is itself waiting for a claim this chain holds, neither can go on
// and both stop waiting after graceAwait, so a deadlock lasts at most that
// long; then the chain releases what it holds before it awaits again.
func (p *pipeline[V]) awaitBriefly(sc *scope[V], j *job[V]) bool {
	if j.t == nil || !errors.Is(j.claim, dedupe.ErrInProgress) || sc.stopping() {
		return false
	}
	ctx, cancel := context.WithTimeout(sc.stop, graceAwait)
	defer cancel()
	err := j.t.Await(ctx)
	p.countRoundTrips()
	var conflict *dedupe.ConflictError[V]
	switch {
	case err == nil || errors.As(err, &conflict):
		p.m.conflicts.add(1)
		j.claim = err
		return true
	case ctx.Err() != nil: // still in progress (or stopping): no claim taken
		return false
	}
	p.storeFailed(j, "awaiting", err)
	return false
}

func (p *pipeline[V]) awaitOne(sc *scope[V], j *job[V]) {
	err := j.t.Await(sc.stop)
	p.countRoundTrips()
	var conflict *dedupe.ConflictError[V]
	switch {
	case err == nil || errors.As(err, &conflict):
		j.claim = err // held, or committed: the next wave runs it
	case sc.stopping():
		j.t, j.claim = nil, nil
	default:
		p.storeFailed(j, "awaiting", err)
	}
}
