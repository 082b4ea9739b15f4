package kafka

import "context"

// runBatch takes jobs (one partition's messages, in offset order) to a final
// outcome each, in waves: claim every key in one round trip, run what can
// run without waiting for another owner, wait for the commits, then wait -
// holding no claim - for the keys other owners hold (and for the chains of
// an earlier batch that gate this one's), and go again.
//
// Holding nothing while waiting is what prevents the cross-partition
// deadlock (A holds k and waits for x, B holds x and waits for k): a chain
// that meets a key in progress releases the claims it has not started and
// settles the ones it ended before it awaits.
//
// It returns a *MessageError for a job that can never finish (no dead
// letter), or nil once every job is done or the scope stops.
func (p *pipeline[V]) runBatch(sc *scope[V], jobs []*job[V]) error {
	pending := jobs
	for len(pending) > 0 && !sc.stopping() {
		ready, gated := split(p.chains(pending))
		if !p.claim(sc, ready) {
			break
		}
		heads, err := p.wave(sc, ready) // settles what the chains ended
		if err == nil {
			err = p.await(sc, heads, gated)
		}
		if err != nil {
			p.drop(pending)
			return err
		}
		pending = undone(pending)
	}
	p.drop(pending)
	return nil
}

// split separates the chains that may run from those whose gate is shut.
func split[V any](chains []chain[V]) (ready, gated []chain[V]) {
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
// A claim slower than half the lease counts as a store failure.
func (p *pipeline[V]) claim(sc *scope[V], chains []chain[V]) bool {
	var need []*job[V]
	var keys []string
	for _, c := range chains {
		for _, j := range c.jobs {
			if !j.done && j.t == nil && j.key != "" && j.keyErr == nil {
				need, keys = append(need, j), append(keys, j.key)
			}
		}
	}
	for len(keys) > 0 {
		ctx, cancel := context.WithTimeout(sc.stop, p.cfg.Lease/2)
		ts, err := p.guard.Claim(ctx, keys...)
		cancel()
		p.countRoundTrips()
		if err == nil {
			for i, j := range need {
				j.t, j.claim = ts[i], ts[i].Err()
			}
			sc.fails = 0
			return true
		}
		if sc.stopping() {
			return false
		}
		p.m.storeErrors.add(1)
		p.log.Warn("kafka: claiming keys failed; retrying", "keys", len(keys), "err", err)
		if !sleep(sc.stop, p.cfg.Backoff.delay(sc.fails)) {
			return false
		}
		sc.fails++
	}
	return true
}

// drop gives up the tickets of jobs that will not run now: held claims that
// were not started are released, so no one waits for them.
func (p *pipeline[V]) drop(jobs []*job[V]) {
	for _, j := range jobs {
		if j.t == nil || j.ended || j.done {
			continue
		}
		if j.claim == nil {
			_ = j.t.Release()
		}
		j.t, j.claim = nil, nil
	}
}

func undone[V any](jobs []*job[V]) []*job[V] {
	out := jobs[:0:0]
	for _, j := range jobs {
		if !j.done {
			out = append(out, j)
		}
	}
	return out
}
