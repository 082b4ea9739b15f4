package consume

import (
	"context"
	"sync"
	"time"
)

// SessionConfig is what a Session needs of its consumer: the sink for
// offset commits, and when to commit.
type SessionConfig struct {
	// Commit commits the positions (the offset after the last message of
	// each partition's finished prefix). An error is reported to
	// CommitFailed; the positions are tried again at the next commit.
	Commit         func(positions map[Partition]int64) error
	CommitFailed   func(err error)
	CommitEvery    int
	CommitInterval time.Duration
}

// Session is one consumer-group generation's work on an Engine: a loop per
// assigned partition (Partition), their offsets, and the commits. Halt and
// Cancel stop it; End waits for the last commit.
type Session[M, V any] struct {
	e       *Engine[M, V]
	stop    context.Context // done: start nothing new
	halt    context.CancelCauseFunc
	work    context.Context // handlers' parent
	cancel  context.CancelCauseFunc
	commits *committer
	loop    context.CancelFunc
	loopWG  sync.WaitGroup

	mu    sync.Mutex
	fatal error
}

// Session starts a session; handlers run under work (its values, not its
// cancellation: Cancel cancels them). Call End when its partitions are done.
func (e *Engine[M, V]) Session(work context.Context, cfg SessionConfig) *Session[M, V] {
	s := &Session[M, V]{e: e, commits: newCommitter(cfg)}
	s.stop, s.halt = context.WithCancelCause(context.Background())
	s.work, s.cancel = context.WithCancelCause(context.WithoutCancel(work))
	loop, stop := context.WithCancel(context.Background())
	s.loop = stop
	s.loopWG.Go(func() { s.commits.loop(loop) })
	return s
}

// Halt makes the session start nothing new (a rebalance, a shutdown);
// running handlers go on until Cancel.
func (s *Session[M, V]) Halt(cause error) { s.halt(cause) }

// Cancel cancels the running handlers' ctx with cause.
func (s *Session[M, V]) Cancel(cause error) { s.cancel(cause) }

// Halted is closed once the session was halted, by Halt or Fail.
func (s *Session[M, V]) Halted() <-chan struct{} { return s.stop.Done() }

// Stopping is a context done once the session was halted: what a
// partition's fetch loop runs under.
func (s *Session[M, V]) Stopping() context.Context { return s.stop }

// Partition runs one assigned partition until next returns no message
// (next gets the session's stop ctx and a buffer to fill; it waits for at
// least one message, then takes what has arrived). start is the
// partition's committed position.
func (s *Session[M, V]) Partition(p Partition, start int64, next func(stop context.Context, buf []M) []M, batchSize int) {
	o := s.commits.track(p, start)
	r := newPartitionRun(s, o)
	defer r.wait()
	buf := make([]M, 0, batchSize)
	var offs []int64
	for r.slot() {
		batch := next(s.stop, buf[:0])
		if len(batch) == 0 {
			r.free()
			return
		}
		jobs := s.e.newJobs(batch)
		offs = offs[:0]
		for _, j := range jobs {
			offs = append(offs, j.offset)
		}
		o.add(offs...)
		r.run(jobs)
	}
}

// Fail records the first fatal error (End returns it) and halts the session.
func (s *Session[M, V]) Fail(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fatal == nil {
		s.fatal = err
		s.e.error("stopping the consumer", "err", err)
	}
	s.halt(err)
}

// End, once every Partition call has returned, commits the finished
// positions a last time and returns the fatal error, if any.
func (s *Session[M, V]) End() error {
	s.loop()
	s.loopWG.Wait()
	s.commits.flush(true)
	s.halt(nil)
	s.cancel(nil)
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.fatal
}
