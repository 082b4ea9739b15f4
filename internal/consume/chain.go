package consume

import (
	"errors"
	"github.com/idemq/idemq/consumer"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/idemq/idemq/dedupe"
)

// chain is a sequence of jobs that must run one after another: all of a
// batch (ByPartition), those sharing an order key (ByKey), or one job
// (Unordered). gate, when set, is closed once the chain of the same order
// key in the previous batch has finished (ByKey, whose batches overlap).
type chain[M, V any] struct {
	jobs []*job[M, V]
	gate <-chan struct{}
}

// open reports whether the chain may run: its previous-batch chain is done.
func (c chain[M, V]) open() bool {
	if c.gate == nil {
		return true
	}
	select {
	case <-c.gate:
		return true
	default:
		return false
	}
}

// chains splits jobs (in offset order) into chains.
func (e *Engine[M, V]) chains(jobs []*job[M, V]) []chain[M, V] {
	switch e.cfg.Ordering {
	case consumer.ByKey:
		var chains []chain[M, V]
		index := map[string]int{}
		for _, j := range jobs {
			k := e.cfg.Log.OrderKey(j.msg)
			i, ok := index[string(k)]
			if !ok || len(k) == 0 {
				i = len(chains)
				index[string(k)] = i
				chains = append(chains, chain[M, V]{gate: j.gate})
			}
			chains[i].jobs = append(chains[i].jobs, j)
		}
		return chains
	case consumer.Unordered:
		chains := make([]chain[M, V], len(jobs))
		for i := range jobs {
			chains[i] = chain[M, V]{jobs: jobs[i : i+1 : i+1]} // no slice per job
		}
		return chains
	}
	return []chain[M, V]{{jobs: jobs}}
}

// wave runs chains at once and returns the first blocked job of each chain
// that stopped at one, once the commits of what they ended are settled.
func (e *Engine[M, V]) wave(sc *scope, chains []chain[M, V]) ([]*job[M, V], error) {
	var halt atomic.Bool
	if len(chains) == 1 {
		head, err := e.chain(sc, chains[0].jobs, &halt)
		return appendHead(nil, head), err
	}
	var (
		mu    sync.Mutex
		wg    sync.WaitGroup
		heads []*job[M, V]
		first error
	)
	for _, c := range chains {
		wg.Go(func() {
			head, err := e.chain(sc, c.jobs, &halt)
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

func appendHead[M, V any](heads []*job[M, V], head *job[M, V]) []*job[M, V] {
	if head == nil {
		return heads
	}
	return append(heads, head)
}

// chain runs jobs in order until one cannot run without waiting (it is
// returned; the claims after it are released), the scope stops, or a job
// fails for good (halt tells the other chains to stop too). It settles the
// commits of what it ended before it returns.
func (e *Engine[M, V]) chain(sc *scope, jobs []*job[M, V], halt *atomic.Bool) (*job[M, V], error) {
	s := &settler[M, V]{e: e, sc: sc}
	head, err := e.runChain(sc, s, jobs, halt)
	s.all()
	if err == nil {
		err = s.err
	}
	if err != nil {
		halt.Store(true)
		return nil, err
	}
	return head, nil
}

func (e *Engine[M, V]) runChain(sc *scope, s *settler[M, V], jobs []*job[M, V], halt *atomic.Bool) (*job[M, V], error) {
	ahead := 0                // jobs[:ahead] were asked to promote their claims
	var promoting []ticket[V] // promote's buffer, reused
	for i, j := range jobs {
		if j.done() || j.ended() {
			continue
		}
		if ahead < i+promoteAhead/2 { // refilled by halves: the asks of a chain go out together
			ahead, promoting = e.promote(jobs, max(ahead, i), i+promoteAhead, promoting[:0])
		}
		s.ready()
		switch {
		case s.err != nil:
			e.drop(jobs[i:])
			return nil, s.err
		case sc.stopping() || halt.Load():
			e.drop(jobs[i:])
			return nil, nil
		}
		ok, err := e.step(sc, s, j, earlier(jobs[:i], j))
		if !ok && err == nil && e.awaitBriefly(sc, j) {
			ok, err = e.step(sc, s, j, nil)
		}
		if err != nil {
			e.drop(jobs[i+1:])
			return nil, err
		}
		if !ok {
			e.drop(jobs[i+1:])
			return j, nil
		}
	}
	return nil, nil
}

// earlier returns the last job of before with j's key when j's key is in
// progress (a rare case: a linear scan is cheaper than indexing every key).
func earlier[M, V any](before []*job[M, V], j *job[M, V]) *job[M, V] {
	if j.key == "" || !errors.Is(j.claim, dedupe.ErrInProgress) {
		return nil
	}
	for i := len(before) - 1; i >= 0; i-- {
		if before[i].key == j.key {
			return before[i]
		}
	}
	return nil
}

// promoteAhead is how many jobs of a chain, from the one about to run, have
// their claims promoted to the full lease ahead of their start, so that
// Ticket.Start rarely waits for the store: a chain asks for the next half
// window at a time, and the promotions of every chain go out together in
// the Batch's next round trip. The first window of each chain is claimed
// promoted (dedupe.ClaimKey.Promote), in the claim's own round trip, so
// that a chain's first Start does not wait for a promotion's round trip
// (on nullstore, chains spent a fifth of their time blocked there). A
// consumer killed with promoted keys not started yet holds them for the
// full lease; the rest of its claimed keys for the queued lease. 64 (asks
// of 32) rather than 16 (asks of 8): when chosen, on Redis 7.0 and fresh
// keys, about 55k instead of 42k msgs/s and 13.5 instead of 17 µs of
// consumer CPU per message (bench, two rounds each).
const promoteAhead = 64

// promote asks for the promotion of the held claims of jobs[from:to], in
// one round trip, and returns the end of the range it covered and ts, the
// buffer it filled.
func (e *Engine[M, V]) promote(jobs []*job[M, V], from, to int, ts []ticket[V]) (int, []ticket[V]) {
	to = min(to, len(jobs))
	if from >= to {
		return from, ts
	}
	for _, j := range jobs[from:to] {
		if j.t != nil && j.claim == nil && !j.promote && !j.ended() && !j.done() {
			ts = append(ts, j.t)
		}
	}
	if len(ts) > 0 {
		e.guard.Promote(ts)
		// Let the Batch's heartbeat send them now (only when there was
		// something to ask for: the keys claimed promoted are not asked
		// again, so a chain of one job does not yield): chains are busy on
		// every core, and without a yield the heartbeat runs only when a
		// chain blocks, most often in the Start that needs the promotion
		// (on nullstore, a Start waited once per refill, every 36
		// messages; with the yield, once per 900).
		runtime.Gosched()
	}
	return to, ts
}
