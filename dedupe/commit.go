package dedupe

import (
	"context"
	"fmt"
	"time"

	"github.com/idemq/idemq/internal/clock"
)

// asyncStore is a Store that sends an op without its caller waiting (see
// BatchStore): end hands it the commit, and no goroutine of the guard's
// waits for the store call.
type asyncStore interface {
	ExecAsync(ctx context.Context, op Op, done func(OpResult))
}

// end is the End handed to fn: the first call while fn runs starts the
// commit. The value is encoded before the call counts, so a codec that
// panics leaves the run as if end was never called.
func (x *execution[V]) end(value V) {
	x.mu.Lock()
	returned := x.returned
	x.mu.Unlock()
	if returned {
		return
	}
	data, encErr := x.g.cfg.codec.Encode(value)
	x.mu.Lock()
	if x.returned {
		x.mu.Unlock()
		return
	}
	x.ends++
	if x.ends > 1 {
		x.mu.Unlock()
		return
	}
	x.endedAt = time.Now()
	x.committed = make(chan struct{})
	if encErr != nil {
		x.mu.Unlock()
		x.setResult(commitResult{err: &encodeError{encErr}})
		return
	}
	x.data = data
	deadline := x.endedAt.Add(x.g.cfg.commitTimeout)
	x.expireAt(deadline)
	x.mu.Unlock()
	x.startCommit(data, deadline)
}

// startCommit sends the commit of data: through the store's ExecAsync when
// it has one, else from a goroutine. Its result reaches setResult.
func (x *execution[V]) startCommit(data []byte, deadline time.Time) {
	if s, ok := x.g.store.(asyncStore); ok {
		op := Op{Kind: OpCommit, Key: x.g.key, Token: x.g.token, Fenced: x.g.fenced(), Value: data, TTL: x.g.cfg.ttl}
		s.ExecAsync(context.Background(), op, x.commitReplied)
		return
	}
	go func() { x.setResult(x.g.commit(data, deadline, 0)) }()
}

// commitReplied takes the store's answer to the commit sent with
// ExecAsync: a failure worth sending again is retried from a goroutine,
// as commit does.
func (x *execution[V]) commitReplied(r OpResult) {
	x.mu.Lock()
	data, deadline := x.data, x.endedAt.Add(x.g.cfg.commitTimeout)
	x.mu.Unlock()
	res := commitResult{current: r.Current, won: r.OK, err: r.Err}
	if !retryable(r.Err) || !retryBefore(deadline, 0) {
		x.setResult(res)
		return
	}
	go func() {
		ctx, cancel := context.WithDeadline(context.Background(), deadline)
		defer cancel()
		if clock.Sleep(ctx, retryBackoff(0)) {
			res = x.g.commit(data, deadline, 1)
		}
		x.setResult(res)
	}()
}

// commit runs the store's atomic commit of data until deadline, from
// attempt n: detached from Run's ctx (an abandoned commit has an unknown
// outcome), bounded by deadline for clients that honour context deadlines,
// and sent again after a failure worth it (see retry.go).
func (g *guard[V]) commit(data []byte, deadline time.Time, n int) commitResult {
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()
	c := Commit{Token: g.token, Fenced: g.fenced(), Value: data, TTL: g.cfg.ttl}
	for ; ; n++ {
		cur, won, err := g.store.Commit(ctx, g.key, c)
		if !retryable(err) || !retryBefore(deadline, n) || !clock.Sleep(ctx, retryBackoff(n)) {
			return commitResult{current: cur, won: won, err: err}
		}
	}
}

// expireAt sets the timer for the commit timeout: the lease's timer in
// claim mode (the heartbeat ends with end), a new one in optimistic mode.
// Caller holds mu.
func (x *execution[V]) expireAt(deadline time.Time) {
	if x.timer == nil {
		x.timer = time.AfterFunc(time.Until(deadline), x.commitTick)
		return
	}
	x.timer.Reset(time.Until(deadline))
}

// commitTick is the timer's tick once end was called: at the commit
// timeout, the commit's outcome is unknown by the guard's own clock, even
// if the store call still hangs.
func (x *execution[V]) commitTick() {
	x.mu.Lock()
	due := !time.Now().Before(x.endedAt.Add(x.g.cfg.commitTimeout))
	x.mu.Unlock()
	if due {
		x.setResult(commitResult{err: fmt.Errorf("no reply within the commit timeout (%v)", x.g.cfg.commitTimeout)})
	}
}

// setResult records the commit's result, unless one is in already: a
// reply that comes after the commit timeout changes nothing.
func (x *execution[V]) setResult(r commitResult) {
	x.mu.Lock()
	if x.decided {
		x.mu.Unlock()
		return
	}
	x.decided, x.result = true, r
	x.mu.Unlock()
	close(x.committed)
}

// awaitCommit returns the commit's result, or ErrCommitUnknown once the
// commit timeout has passed since end (commitTick).
func (x *execution[V]) awaitCommit() commitResult {
	x.mu.Lock()
	committed := x.committed
	x.mu.Unlock()
	<-committed
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.timer != nil {
		x.timer.Stop()
	}
	return x.result
}

type commitResult struct {
	current Record
	won     bool
	err     error
}
