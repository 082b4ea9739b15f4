package dedupe

import (
	"context"
	"fmt"
	"time"
)

// flusher sends the queued commits and releases, all that are queued in one
// round trip; what is queued meanwhile goes out in the next. It returns once
// Close has queued the last releases and they are sent.
func (b *Batch[V]) flusher() {
	for {
		select {
		case <-b.wake:
		case <-b.stop:
		}
		if sent := b.flushQueue(); sent {
			continue
		}
		select {
		case <-b.stop:
			return
		default:
		}
	}
}

// flushQueue sends what is queued and applies the replies; ops that failed
// are sent again after a backoff, together with what was queued meanwhile.
// It reports whether there was anything to send.
func (b *Batch[V]) flushQueue() bool {
	queue := b.takeQueue()
	if len(queue) == 0 {
		return false
	}
	for n := 0; len(queue) > 0; n++ {
		if n > 0 {
			time.Sleep(retryBackoff(n - 1))
			queue = append(queue, b.takeQueue()...)
		}
		queue = b.flushOnce(queue, n)
	}
	return true
}

// takeQueue empties the queue of ended and released tickets.
func (b *Batch[V]) takeQueue() []*Ticket[V] {
	b.mu.Lock()
	defer b.mu.Unlock()
	queue := b.queue
	b.queue = nil
	return queue
}

// flushOnce sends the ops of queue (attempt n) and settles them, except
// those that failed and may be sent again before their commit timeout: it
// returns those.
func (b *Batch[V]) flushOnce(queue []*Ticket[V], n int) []*Ticket[V] {
	ops := make([]Op, len(queue))
	for i, t := range queue {
		ops[i] = t.flushOp()
	}
	ctx, cancel := context.WithTimeout(context.Background(), b.cfg.commitTimeout)
	defer cancel()
	results := b.exec(ctx, ops)
	b.mu.Lock()
	defer b.mu.Unlock()
	var again []*Ticket[V]
	for i, t := range queue {
		if retryable(results[i].Err) && retryBefore(t.endedAt.Add(b.cfg.commitTimeout), n) {
			again = append(again, t)
			continue
		}
		t.settle(t.flushed(results[i]))
	}
	return again
}

// flushOp is the op that settles an ended or released ticket. Caller holds
// b.mu, or owns the ticket's queued state.
func (t *Ticket[V]) flushOp() Op {
	if t.state == ticketReleasing {
		return Op{Kind: OpRelease, Key: t.key, Token: t.token}
	}
	return Op{Kind: OpCommit, Key: t.key, Token: t.token, Fenced: t.b.fenced(), Value: t.value, TTL: t.b.cfg.ttl}
}

// flushed reads the reply to flushOp as the ticket's outcome, and tells the
// key's followers the committed value when it is known. Caller holds b.mu.
func (t *Ticket[V]) flushed(r OpResult) error {
	if t.state == ticketReleasing {
		switch {
		case t.closing:
			return ErrBatchClosed
		case r.Err != nil:
			return fmt.Errorf("%w: key %q, but the release failed (the claim ends with its lease): %w", ErrReleased, t.key, r.Err)
		}
		return ErrReleased
	}
	switch {
	case r.Err != nil:
		return unknownCommit(t.key, r.Err)
	case r.OK:
		t.tellFollowers(t.token, t.value)
		return nil
	case r.Current.State == Committed && !t.b.fenced():
		t.tellFollowers(r.Current.Token, r.Current.Value)
		return t.guard().conflict(r.Current.Token, r.Current.Value, nil) // another run committed first
	case r.Current.State == Committed:
		t.tellFollowers(r.Current.Token, r.Current.Value)
		return t.guard().conflict(r.Current.Token, r.Current.Value, ErrLeaseLost)
	case !t.b.fenced():
		return ErrInProgress // a claim-first owner holds the key
	}
	return ErrLeaseLost
}

// tellFollowers records the key's committed value, and the token of the
// run that committed it, for the followers. Caller holds b.mu.
func (t *Ticket[V]) tellFollowers(token string, value []byte) {
	if t.lead != nil {
		t.lead.token, t.lead.value, t.lead.known = token, value, true
	}
}
