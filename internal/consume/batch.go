package consume

import (
	"context"

	"github.com/idemq/idemq/dedupe"
	"github.com/idemq/idemq/internal/clock"
)

// runBatch takes jobs (one partition's messages, in offset order) to a final
// outcome each, in waves: claim every key in one round trip, run what can
// run without waiting for another owner, settle the commits, then wait -
// holding no claim - for the keys other owners hold (and for the chains of
// an earlier batch that gate this one's), and go again.
//
// Holding nothing while waiting is what prevents the cross-partition
// deadlock (A holds k and waits for x, B holds x and waits for k): a chain
// that meets a key in progress releases the claims it has not started and
// settles the ones it ended before it awaits.
//
// It returns MessageError's error for a job that can never finish, or nil
// once every job is done or the scope stops.
func (e *Engine[M, V]) runBatch(sc *scope, jobs []*job[M, V]) error {
	pending := jobs
	for len(pending) > 0 && !sc.stopping() {
		ready, gated := split(e.chains(pending))
		if !e.claim(sc, ready) {
			break
		}
		heads, err := e.wave(sc, ready)
		if err == nil {
			err = e.await(sc, heads, gated)
		}
		if err != nil {
			e.drop(pending)
			return err
		}
		pending = undone(pending)
	}
	e.drop(pending)
	return nil
}

// split separates the chains that may run from those whose gate is shut.
func split[M, V any](chains []chain[M, V]) (ready, gated []chain[M, V]) {
	for _, c := range chains {
		if c.open() {
			ready = append(ready, c)
		} else {
			gated = append(gated, c)
		}
	}
	return ready, gated
}

// claim gets a ticket for every job that needs one, retrying store failures
// with backoff until the store answers; false when the scope stopped first.
// A claim slower than ClaimTimeout counts as a store failure.
func (e *Engine[M, V]) claim(sc *scope, chains []chain[M, V]) bool {
	n := 0
	for _, c := range chains {
		n += len(c.jobs)
	}
	need, keys := make([]*job[M, V], 0, n), make([]dedupe.ClaimKey, 0, n)
	for _, c := range chains {
		ahead := 0 // the chain's jobs to run first: claimed promoted (see promoteAhead)
		for _, j := range c.jobs {
			if j.done() || j.ended() {
				continue
			}
			ahead++
			if j.t == nil && j.key != "" && j.keyErr == nil && !e.transactional(j) {
				need = append(need, j)
				keys = append(keys, dedupe.ClaimKey{Key: j.key, Fingerprint: j.print, Promote: ahead <= promoteAhead})
			}
		}
	}
	for len(keys) > 0 {
		ctx, cancel := context.WithTimeout(sc.stop, e.cfg.ClaimTimeout)
		ts, err := e.guard.Claim(ctx, keys...)
		cancel()
		e.countRoundTrips()
		if err == nil {
			for i, j := range need {
				j.claimed(ts[i], ts[i].Err(), keys[i].Promote)
			}
			sc.fails = 0
			return true
		}
		if sc.stopping() {
			return false
		}
		count(e.cfg.Metrics.StoreErrors, 1)
		e.warn("claiming keys failed; retrying", "keys", len(keys), "err", err)
		if !clock.Sleep(sc.stop, e.cfg.Backoff.Delay(sc.fails)) {
			return false
		}
		sc.fails++
	}
	return true
}

// drop gives up the tickets of jobs that will not run now: a ticket that
// still holds its key (its claim held, or held but lost by the local clock)
// is released, so no one waits for it and the Batch forgets it; for any
// other ticket Release is refused (dedupe.ErrNotOwned), harmlessly.
func (e *Engine[M, V]) drop(jobs []*job[M, V]) {
	for _, j := range jobs {
		if j.t == nil || j.ended() || j.done() {
			continue
		}
		_ = j.t.Release()
		j.unclaim()
	}
}
