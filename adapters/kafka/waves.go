package kafka

import "sync"

// maxWaves is how many batches of one partition may run at once in ByKey
// and Unordered: a slow message then holds back only its own batch's tail,
// and a partition has at most maxWaves*BatchSize messages in flight.
// ByPartition runs one batch at a time.
const maxWaves = 4

// waves runs one partition's batches, each in its own goroutine when they
// may overlap. In ByKey, a batch's chain of a Kafka key waits (holding no
// claim) until the previous batch's chain of that key has finished.
type waves[V any] struct {
	g     *generation[V]
	o     *offsets
	slots chan struct{}
	wg    sync.WaitGroup

	mu    sync.Mutex
	gates map[string]chan struct{} // ByKey: the done channel of the latest batch's chain per Kafka key
}

func newWaves[V any](g *generation[V], o *offsets) *waves[V] {
	n := maxWaves
	if g.p.cfg.Ordering == ByPartition {
		n = 1
	}
	return &waves[V]{g: g, o: o, slots: make(chan struct{}, n), gates: map[string]chan struct{}{}}
}

// slot waits for room for one more batch; false once the generation stops.
func (w *waves[V]) slot() bool {
	select {
	case w.slots <- struct{}{}:
		return true
	case <-w.g.stop.Done():
		return false
	}
}

func (w *waves[V]) free() { <-w.slots }

// run runs a batch in the slot taken by slot: inline when batches do not
// overlap, in a goroutine otherwise.
func (w *waves[V]) run(jobs []*job[V]) {
	dones := w.gate(jobs)
	sc := &scope[V]{stop: w.g.stop, work: w.g.work, finish: func(offset int64) { w.g.commits.finished(w.o, offset) }}
	batch := func() {
		defer w.free()
		if err := w.g.p.runBatch(sc, jobs); err != nil {
			w.g.fail(err) // before the gates open: the next chains see the stop
		}
		w.open(dones)
	}
	if cap(w.slots) == 1 {
		batch()
		return
	}
	w.wg.Go(batch)
}

// gate links, in ByKey, the first job of each Kafka key in jobs to the
// previous batch's chain of that key, and returns this batch's done
// channels.
func (w *waves[V]) gate(jobs []*job[V]) map[string]chan struct{} {
	if w.g.p.cfg.Ordering != ByKey {
		return nil
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	dones := map[string]chan struct{}{}
	for _, j := range jobs {
		k := string(j.msg.Key)
		if len(k) == 0 || dones[k] != nil {
			continue
		}
		j.gate = w.gates[k]
		dones[k] = make(chan struct{})
		w.gates[k] = dones[k]
	}
	return dones
}

// open closes a finished batch's done channels.
func (w *waves[V]) open(dones map[string]chan struct{}) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for k, ch := range dones {
		close(ch)
		if w.gates[k] == ch {
			delete(w.gates, k)
		}
	}
}

// wait waits for the running batches.
func (w *waves[V]) wait() { w.wg.Wait() }
