package kafka

import (
	"cmp"
	"errors"
	"sync"

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
