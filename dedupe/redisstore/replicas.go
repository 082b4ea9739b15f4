package redisstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/idemq/idemq/dedupe"
)

// WithReplicaAcks makes a commit count only once n replicas have
// acknowledged it (Redis's WAIT n timeout, sent in the commit's own round
// trip, on its connection). A commit that fewer replicas acknowledged within
// timeout reports an error that says how many did, without being sent
// again, so the guard returns ErrCommitUnknown and the adapters do not
// acknowledge the message: a failover to a replica that had not received the
// commit would lose it, and the redelivery then runs the work again. A
// commit resent after a lost connection stores its value again, so that its
// WAIT covers the first write too. n <= 0 turns it off (the default). The
// timeout must be > 0 and below the client's ReadTimeout (3s by default), or
// the client gives up first. Single node and failover clients only: a
// Cluster is refused, since WAIT acknowledges one connection's writes and a
// Cluster's commits go out on several.
func WithReplicaAcks(n int, timeout time.Duration) Option {
	return func(c *config) { c.replicas, c.replicaTimeout = n, timeout }
}

// checkReplicas validates WithReplicaAcks for client.
func (c config) checkReplicas(cluster bool) error {
	switch {
	case c.replicas <= 0:
		return nil
	case c.replicaTimeout <= 0:
		return fmt.Errorf("%w: WithReplicaAcks(%d, %v): the timeout must be > 0", dedupe.ErrInvalidOption, c.replicas, c.replicaTimeout)
	case cluster:
		return fmt.Errorf("%w: WithReplicaAcks is not supported on a Cluster client", dedupe.ErrInvalidOption)
	}
	return nil
}

// waitReplicas queues WAIT when the round sends commits and the store asks
// for replica acknowledgements.
func (r *round) waitReplicas(ctx context.Context, pipe redis.Pipeliner) *redis.Cmd {
	s := r.plan.store
	if s.replicas <= 0 || !r.commits() {
		return nil
	}
	return pipe.Do(ctx, "WAIT", s.replicas, max(s.replicaTimeout.Milliseconds(), 1))
}

// commits reports whether the round sends a commit.
func (r *round) commits() bool {
	for _, o := range r.ops {
		if o.op.Kind == dedupe.OpCommit {
			return true
		}
	}
	return false
}

// replicated turns the commits that won in this round into errors when
// WAIT saw fewer replicas than asked for: their durability is unknown.
func (r *round) replicated(wait *redis.Cmd) {
	if wait == nil {
		return
	}
	s := r.plan.store
	got, err := wait.Int64()
	var reply redis.Error
	switch {
	case err == nil && int(got) >= s.replicas:
		return
	case err == nil:
		err = fmt.Errorf("%w: %d of %d replicas within %v", dedupe.ErrReplicaAcks, got, s.replicas, s.replicaTimeout)
	case errors.As(err, &reply):
		err = fmt.Errorf("%w: WAIT: %w", dedupe.ErrReplicaAcks, err)
	default: // no answer (a lost connection): the commit is sent again
		err = fmt.Errorf("dedupe: waiting for %d replicas: %w", s.replicas, err)
	}
	r.failCommits(err)
}

// failCommits turns the commits that won in this round into err.
func (r *round) failCommits(err error) {
	for _, o := range r.ops { // the ops that went out in this round
		if o.op.Kind == dedupe.OpCommit && o.res.OK {
			*o.res = dedupe.OpResult{Err: err}
		}
	}
}
