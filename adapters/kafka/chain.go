package kafka

import (
	"errors"
	"sync"
	"sync/atomic"

	"github.com/idemq/idemq/dedupe"
)

// chain is a sequence of jobs that must run one after another: all of a
// batch (ByPartition), those sharing a Kafka message key (ByKey), or one job
// (Unordered). gate, when set, is closed once the chain of the same Kafka
// key in the previous batch has finished (ByKey, whose batches overlap).
type chain[V any] struct {
	jobs []*job[V]
	gate <-chan struct{}
}

// open reports whether the chain may run: its previous-batch chain is done.
func (c chain[V]) open() bool {
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
func (p *pipeline[V]) chains(jobs []*job[V]) []chain[V] {
	switch p.cfg.Ordering {
	case ByKey:
		var chains []chain[V]
		index := map[string]int{}
		for _, j := range jobs {
			i, ok := index[string(j.msg.Key)]
			if !ok || len(j.msg.Key) == 0 {
				i = len(chains)
				index[string(j.msg.Key)] = i
				chains = append(chains, chain[V]{gate: j.gate})
			}
			chains[i].jobs = append(chains[i].jobs, j)
		}
		return chains
	case Unordered:
		chains := make([]chain[V], len(jobs))
		for i, j := range jobs {
			chains[i] = chain[V]{jobs: []*job[V]{j}}
		}
		return chains
	}
	return []chain[V]{{jobs: jobs}}
}

// wave runs chains at once and returns the first blocked job of each chain
// that stopped at one, once the commits of what they ended are settled.
func (p *pipeline[V]) wave(sc *scope[V], chains []chain[V]) ([]*job[V], error) {
	n := 0
	for _, c := range chains {
		n += len(c.jobs)
	}
	sc.settler = p.startSettler(sc, n)
	defer func() {
		sc.settler.wait()
		sc.settler = nil
	}()
	var halt atomic.Bool
	if len(chains) == 1 {
		head, err := p.chain(sc, chains[0].jobs, &halt)
		return appendHead(nil, head), err
	}
	var (
		mu    sync.Mutex
		wg    sync.WaitGroup
		heads []*job[V]
		first error
	)
	for _, c := range chains {
		wg.Go(func() {
			head, err := p.chain(sc, c.jobs, &halt)
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

// chain runs jobs in order until one cannot run without waiting (it is
// returned; the claims after it are released), the scope stops, or a job
// fails for good (halt tells the other chains to stop too).
func (p *pipeline[V]) chain(sc *scope[V], jobs []*job[V], halt *atomic.Bool) (*job[V], error) {
	for i, j := range jobs {
		if j.done || j.ended {
			continue
		}
		if sc.stopping() || halt.Load() {
			p.drop(jobs[i:])
			return nil, nil
		}
		ok, err := p.step(sc, j, earlier(jobs[:i], j))
		if !ok && err == nil && p.awaitBriefly(sc, j) {
			ok, err = p.step(sc, j, nil)
		}
		if err != nil {
			halt.Store(true)
			p.drop(jobs[i+1:])
			return nil, err
		}
		if !ok {
			p.drop(jobs[i+1:])
			return j, nil
		}
	}
	return nil, nil
}

// earlier returns the last job of before with j's key when j's key is in
// progress (a rare case: a linear scan is cheaper than indexing every key).
func earlier[V any](before []*job[V], j *job[V]) *job[V] {
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
