package consume

import (
	"context"
	"github.com/idemq/idemq/consumer"
	"slices"
	"sync"
	"testing"
	"time"
)

// fakePartitions is an in-memory log: each partition's messages, delivered
// in batches of the given sizes (cycled), as a broker's fetches would.
type fakePartitions struct {
	msgs  map[int][]msg
	sizes []int
}

// run is one session over the fake log: it feeds every partition, waits
// until every message has a final outcome (or the test's ctx ends), then
// halts the session and ends it.
type run struct {
	t   *testing.T
	e   *Engine[msg, string]
	log fakePartitions

	mu       sync.Mutex
	finished map[msg]consumer.Outcome
	order    []msg                 // finished, in order
	commits  []map[Partition]int64 // every successful commit
	bad      []string              // property violations seen at commit time
	all      chan struct{}         // closed once every message finished
	total    int
	onCommit func(map[Partition]int64) error // nil: accept
}

func newRun(t *testing.T, e *Engine[msg, string], log fakePartitions) *run {
	r := &run{t: t, e: e, log: log, finished: map[msg]consumer.Outcome{}, all: make(chan struct{})}
	for _, ms := range log.msgs {
		r.total += len(ms)
	}
	e.onFinish = r.finish
	return r
}

func (r *run) finish(m msg, o consumer.Outcome) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, twice := r.finished[m]; twice {
		r.bad = append(r.bad, "a message got two outcomes")
	}
	r.finished[m] = o
	r.order = append(r.order, m)
	if len(r.finished) == r.total {
		close(r.all)
	}
}

// commit checks, at every commit, that no position passes a message without
// a final outcome.
func (r *run) commit(pos map[Partition]int64) error {
	if r.onCommit != nil {
		if err := r.onCommit(pos); err != nil {
			return err
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for p, off := range pos {
		for _, m := range r.log.msgs[p.ID] {
			if _, done := r.finished[m]; m.offset < off && !done {
				r.bad = append(r.bad, "committed past an unfinished message")
			}
		}
	}
	r.commits = append(r.commits, pos)
	return nil
}

// start runs the session in the background and returns it and a func that
// waits for every outcome (or gives up when ctx ends), stops the session
// and returns End's error.
func (r *run) start(ctx context.Context) (*Session[msg, string], func() error) {
	s := r.e.Session(ctx, SessionConfig{Commit: r.commit, CommitEvery: 7, CommitInterval: 5 * time.Millisecond})
	var parts sync.WaitGroup
	for id, ms := range r.log.msgs {
		parts.Go(func() {
			feed := r.feed(ms)
			s.Partition(Partition{Topic: "t", ID: id}, 0, feed, 16)
		})
	}
	return s, func() error {
		select {
		case <-r.all:
		case <-ctx.Done():
		case <-s.Halted(): // a fatal error
		}
		s.Halt(context.Canceled)
		parts.Wait()
		return s.End()
	}
}

// feed returns a partition's next function: batches of the fake log's
// sizes, then nothing until the session stops.
func (r *run) feed(ms []msg) func(context.Context, []msg) []msg {
	i, n := 0, 0
	return func(stop context.Context, buf []msg) []msg {
		if i == len(ms) {
			<-stop.Done()
			return nil
		}
		size := r.log.sizes[n%len(r.log.sizes)]
		n++
		end := min(i+size, len(ms), i+cap(buf))
		buf = append(buf, ms[i:end]...)
		i = end
		return buf
	}
}

// check fails the test on any violation seen, and checks that the last
// commit of each partition is the position after its last message.
func (r *run) check() {
	r.t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, b := range slices.Compact(slices.Sorted(slices.Values(r.bad))) {
		r.t.Error(b)
	}
	last := map[Partition]int64{}
	for _, c := range r.commits {
		for p, off := range c {
			if off < last[p] {
				r.t.Errorf("partition %d: commit %d after %d: moved back", p.ID, off, last[p])
			}
			last[p] = off
		}
	}
	for id, ms := range r.log.msgs {
		p := Partition{Topic: "t", ID: id}
		if want := ms[len(ms)-1].offset + 1; len(r.finished) == r.total && last[p] != want {
			r.t.Errorf("partition %d: last commit %d, want %d (every message finished)", id, last[p], want)
		}
	}
}
