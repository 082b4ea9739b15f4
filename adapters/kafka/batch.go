package kafka

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"

	"github.com/idemq/idemq/dedupe"
)

// runBatch takes jobs (one partition's messages, in offset order) to a final
// outcome each, in waves: claim every key in one round trip, run what can
// run without waiting for another owner, wait for the commits, then wait -
// holding no claim - for the keys other owners hold, and go again.
//
// Holding nothing while waiting is what prevents the cross-partition
// deadlock (A holds k and waits for x, B holds x and waits for k): a chain
// that meets a key in progress releases the claims it has not started and
// settles the ones it ended before it awaits.
//
// It returns a *MessageError for a job that can never finish (no dead
// letter), or nil once every job is done or the scope stops.
func (p *pipeline[V]) runBatch(sc *scope, jobs []*job[V]) error {
	pending := jobs
	for len(pending) > 0 && !sc.stopping() {
		if !p.claim(sc, pending) {
			break
		}
		heads, err := p.wave(sc, pending)
		p.settle(sc, pending)
		if err != nil {
			p.drop(pending)
			return err
		}
		p.await(sc, heads)
		pending = undone(pending)
	}
	p.drop(pending)
	return nil
}

// claim gets a ticket for every job that needs one, retrying store failures
// with backoff until the store answers; false when the scope stopped first.
func (p *pipeline[V]) claim(sc *scope, jobs []*job[V]) bool {
	var need []*job[V]
	var keys []string
	for _, j := range jobs {
		if !j.done && j.t == nil && j.key != "" && j.keyErr == nil {
			need, keys = append(need, j), append(keys, j.key)
		}
	}
	for len(keys) > 0 {
		ts, err := p.guard.Claim(sc.stop, keys...)
		p.m.roundTrips.add(1)
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

// wave runs the jobs' chains (see chains) and returns the first blocked job
// of each chain that stopped at one.
func (p *pipeline[V]) wave(sc *scope, jobs []*job[V]) ([]*job[V], error) {
	chains := p.chains(jobs)
	if len(chains) == 1 {
		var halt atomic.Bool
		head, err := p.chain(sc, chains[0], &halt)
		return appendHead(nil, head), err
	}
	var (
		mu    sync.Mutex
		wg    sync.WaitGroup
		heads []*job[V]
		first error
		halt  atomic.Bool
	)
	for _, c := range chains {
		wg.Go(func() {
			head, err := p.chain(sc, c, &halt)
			mu.Lock()
			defer mu.Unlock()
			heads = appendHead(heads, head)
			if err != nil && first == nil {
				first = err
			}
		})
	}
	wg.Wait()
	return heads, first
}

func appendHead[V any](heads []*job[V], head *job[V]) []*job[V] {
	if head == nil {
		return heads
	}
	return append(heads, head)
}

// chains splits jobs into the sequences that must run one after another:
// all of them (ByPartition), those sharing a Kafka message key (ByKey), or
// each alone (Unordered).
func (p *pipeline[V]) chains(jobs []*job[V]) [][]*job[V] {
	switch p.cfg.Ordering {
	case ByKey:
		var chains [][]*job[V]
		index := map[string]int{}
		for _, j := range jobs {
			i, ok := index[string(j.msg.Key)]
			if !ok || len(j.msg.Key) == 0 {
				i = len(chains)
				index[string(j.msg.Key)] = i
				chains = append(chains, nil)
			}
			chains[i] = append(chains[i], j)
		}
		return chains
	case Unordered:
		chains := make([][]*job[V], len(jobs))
		for i, j := range jobs {
			chains[i] = []*job[V]{j}
		}
		return chains
	}
	return [][]*job[V]{jobs}
}

// chain runs jobs in order until one cannot run without waiting (it is
// returned; the claims after it are released), the scope stops, or a job
// fails for good (halt tells the other chains to stop too).
func (p *pipeline[V]) chain(sc *scope, jobs []*job[V], halt *atomic.Bool) (*job[V], error) {
	ran := map[string]*job[V]{} // keys this chain already ran in this wave
	for i, j := range jobs {
		if j.done {
			continue
		}
		if sc.stopping() || halt.Load() {
			p.drop(jobs[i:])
			return nil, nil
		}
		ok, err := p.step(sc, j, ran[j.key])
		if err != nil {
			halt.Store(true)
			p.drop(jobs[i+1:])
			return nil, err
		}
		if !ok {
			p.drop(jobs[i+1:])
			return j, nil
		}
		ran[j.key] = j
	}
	return nil, nil
}

// settle waits for the outcome of every ended job's commit. A commit whose
// outcome is unknown sends the job back to be claimed again.
func (p *pipeline[V]) settle(sc *scope, jobs []*job[V]) {
	ctx, cancel := context.WithTimeout(context.Background(), resultTimeout)
	defer cancel()
	waited := false
	for _, j := range jobs {
		if !j.ended || j.done {
			continue
		}
		waited = true
		p.settleOne(ctx, sc, j)
	}
	if waited {
		p.m.roundTrips.add(1)
	}
}

func (p *pipeline[V]) settleOne(ctx context.Context, sc *scope, j *job[V]) {
	err := j.t.Result(ctx)
	var conflict *dedupe.ConflictError[V]
	switch {
	case err == nil:
		p.finish(sc, j, Processed)
	case errors.As(err, &conflict): // a run that took over the lease committed: the work is done
		p.m.conflicts.add(1)
		p.finish(sc, j, Processed)
	default:
		p.storeFailed(j, "committing", err)
	}
}

// await waits, holding no claim, for the keys that blocked the chains'
// heads; a head whose claim failed waits out a backoff instead.
func (p *pipeline[V]) await(sc *scope, heads []*job[V]) {
	backoff := false
	var wg sync.WaitGroup
	for _, j := range heads {
		if j.t == nil {
			backoff = true
			continue
		}
		p.m.conflicts.add(1)
		wg.Go(func() { p.awaitOne(sc, j) })
	}
	wg.Wait()
	if backoff {
		sleep(sc.stop, p.cfg.Backoff.delay(sc.fails))
		sc.fails++
	}
}

func (p *pipeline[V]) awaitOne(sc *scope, j *job[V]) {
	err := j.t.Await(sc.stop)
	p.m.roundTrips.add(1)
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
