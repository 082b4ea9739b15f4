package kafka

import (
	"context"
	"errors"

	"github.com/idemq/idemq/dedupe"
)

// settler applies the outcomes of a wave's commits as they arrive, so that
// the offsets of finished messages move on while a chain still runs (a slow
// handler, retries, a dead-letter write that keeps failing). The core sends
// the commits of every ended ticket together (group commit); the settler
// only waits for each result, in the order the chains ended them.
type settler[V any] struct {
	p    *pipeline[V]
	sc   *scope[V]
	in   chan *job[V]
	done chan struct{}
}

func (p *pipeline[V]) startSettler(sc *scope[V], size int) *settler[V] {
	s := &settler[V]{p: p, sc: sc, in: make(chan *job[V], size), done: make(chan struct{})}
	go s.loop()
	return s
}

// add hands an ended job to the settler; j.settled closes once its outcome
// is applied.
func (s *settler[V]) add(j *job[V]) {
	j.settled = make(chan struct{})
	s.in <- j
}

func (s *settler[V]) loop() {
	defer close(s.done)
	waited := false
	for j := range s.in {
		s.p.settleOne(s.sc, j)
		close(j.settled)
		waited = true
	}
	if waited {
		s.p.countRoundTrips()
	}
}

// wait waits until every added job is settled; the settler is then done.
func (s *settler[V]) wait() {
	close(s.in)
	<-s.done
}

// settle waits for the outcome of every ended job's commit, outside a wave.
func (p *pipeline[V]) settle(sc *scope[V], jobs []*job[V]) {
	waited := false
	for _, j := range jobs {
		if j.ended && !j.done {
			p.settleOne(sc, j)
			waited = true
		}
	}
	if waited {
		p.countRoundTrips()
	}
}

// settleOne waits for the outcome of j's commit. A commit whose outcome is
// unknown sends the job back to be claimed again.
func (p *pipeline[V]) settleOne(sc *scope[V], j *job[V]) {
	err := j.t.Result(context.Background()) // bounded by the guard's commit timeout
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
