package redisstore

import (
	"github.com/redis/go-redis/v9"

	"github.com/idemq/idemq/internal/clock"
)

// unsubscribed handles an unsubscribe reply for channel on sh: the answer to
// one of ours, or Redis dropping the subscription by itself, as a Cluster
// node does for the channels of a slot that moved to another master. Then
// the interest moves to the slot's new master (rehome).
func (s *subscriber) unsubscribed(sh *shard, channel string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if n := sh.unsubs[channel]; n > 0 {
		if n == 1 {
			delete(sh.unsubs, channel)
		} else {
			sh.unsubs[channel] = n - 1
		}
		return
	}
	in := s.interests[channel]
	if s.closed || in == nil || in.shard != sh {
		return
	}
	s.log.Info("dedupe: Redis dropped a subscription (slot moved?); resubscribing", "addr", sh.addr, "channel", channel)
	s.unhome(in)
}

// unhome takes in off its shard and starts moving it to the shard that
// serves its channel now. Caller holds mu.
func (s *subscriber) unhome(in *interest) {
	from := in.shard
	delete(from.interests, in.channel)
	delete(from.pending, in.channel)
	in.shard = nil
	s.wg.Go(func() { s.rehome(in, from.addr) })
}

// rehome subscribes in on the shard of its channel's master, once the
// client's slot map shows a master other than from (or after rehomeAttempts
// reloads, on the same one). The confirmation tells its watchers to re-read.
func (s *subscriber) rehome(in *interest, from string) {
	backoff := minBackoff
	for attempt := 1; ; attempt++ {
		if c, ok := s.client.(*redis.ClusterClient); ok {
			c.ReloadState(s.ctx)
		}
		sh, err := s.shardFor(s.ctx, in.channel)
		if err == nil && (sh.addr != from || attempt >= rehomeAttempts) {
			s.mu.Lock()
			defer s.mu.Unlock()
			if !s.closed && s.interests[in.channel] == in && in.shard == nil {
				in.shard = sh
				sh.interests[in.channel] = in
				sh.subscribe(in.channel)
			}
			return
		}
		if !clock.Sleep(s.ctx, backoff) {
			return
		}
		backoff = min(2*backoff, maxBackoff)
	}
}

// rehomeAttempts bounds how long rehome waits for the Cluster's slot map
// to show a new master before it resubscribes where it was.
const rehomeAttempts = 8
