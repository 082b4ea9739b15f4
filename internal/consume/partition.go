package consume

import (
	"context"
	"github.com/idemq/idemq/consumer"
	"sync"
)

// Partition names one partition of a log.
type Partition struct {
	Topic string
	ID    int
}

// maxWaves is how many batches of one partition may run at once in ByKey
// and Unordered: a slow message then holds back only its own batch's tail,
// and a partition has at most maxWaves*BatchSize messages in flight.
// ByPartition runs one batch at a time.
const maxWaves = 4

// partitionRun runs one partition's batches, each in its own goroutine
// when they may overlap. In ByKey, a batch's chain of an order key waits
// (holding no claim) until the previous batch's chain of that key has
// finished.
type partitionRun[M, V any] struct {
	s      *Session[M, V]
	o      *offsets
	work   context.Context // the session's work ctx, per partition: handlers' contexts hang off it, not off one shared by every partition
	cancel context.CancelFunc
	slots  chan struct{}
	wg     sync.WaitGroup

	mu    sync.Mutex
	gates map[string]chan struct{} // ByKey: the done channel of the latest batch's chain per order key
}

func newPartitionRun[M, V any](s *Session[M, V], o *offsets) *partitionRun[M, V] {
	n := maxWaves
	if s.e.cfg.Ordering == consumer.ByPartition {
		n = 1
	}
	work, cancel := context.WithCancel(s.work)
	return &partitionRun[M, V]{s: s, o: o, work: work, cancel: cancel, slots: make(chan struct{}, n), gates: map[string]chan struct{}{}}
}

// slot waits for room for one more batch; false once the session stops.
func (r *partitionRun[M, V]) slot() bool {
	select {
	case r.slots <- struct{}{}:
		return true
	case <-r.s.stop.Done():
		return false
	}
}

func (r *partitionRun[M, V]) free() { <-r.slots }

// run runs a batch in the slot taken by slot: inline when batches do not
// overlap, in a goroutine otherwise.
func (r *partitionRun[M, V]) run(jobs []*job[M, V]) {
	dones := r.gate(jobs)
	sc := &scope{stop: r.s.stop, work: r.work, finish: func(offset int64) { r.s.commits.finished(r.o, offset) }}
	batch := func() {
		defer r.free()
		if err := r.s.e.runBatch(sc, jobs); err != nil {
			r.s.Fail(err) // before the gates open: the next chains see the stop
		}
		r.open(dones)
	}
	if cap(r.slots) == 1 {
		batch()
		return
	}
	r.wg.Go(batch)
}

// gate links, in ByKey, the first job of each order key in jobs to the
// previous batch's chain of that key, and returns this batch's done
// channels.
func (r *partitionRun[M, V]) gate(jobs []*job[M, V]) map[string]chan struct{} {
	if r.s.e.cfg.Ordering != consumer.ByKey {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	dones := map[string]chan struct{}{}
	for _, j := range jobs {
		k := string(r.s.e.cfg.Log.OrderKey(j.msg))
		if len(k) == 0 || dones[k] != nil {
			continue
		}
		j.gate = r.gates[k]
		dones[k] = make(chan struct{})
		r.gates[k] = dones[k]
	}
	return dones
}

// open closes a finished batch's done channels.
func (r *partitionRun[M, V]) open(dones map[string]chan struct{}) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for k, ch := range dones {
		close(ch)
		if r.gates[k] == ch {
			delete(r.gates, k)
		}
	}
}

// wait waits for the running batches.
func (r *partitionRun[M, V]) wait() {
	r.wg.Wait()
	r.cancel()
}
