package redisstore

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/idemq/idemq/dedupe"
)

// subscriber multiplexes every guard's interest in its key over one pub/sub
// connection per shard (one in all on a single node; one per master on a
// Cluster, where notifications use sharded pub/sub). Guards on the same key
// share one subscription.
//
// Bookkeeping happens under mu; the (un)subscribe commands it decides are
// queued per shard, in order, and written by the shard's writer goroutine
// outside the lock, so a stalled socket delays only that shard's commands,
// never Watch, Interest.Close or the delivery of notifications.
type subscriber struct {
	client  redis.UniversalClient
	sharded bool
	log     *slog.Logger
	timeout time.Duration   // for a subscription to be confirmed
	ctx     context.Context // cancelled by close; bounds reconnects
	cancel  context.CancelFunc
	done    chan struct{}
	wg      sync.WaitGroup

	mu        sync.Mutex
	closed    bool
	interests map[string]*interest // by channel
	shards    map[string]*shard    // by master address ("" when not sharded)
}

// interest is the subscription to one channel, shared by its watchers.
type interest struct {
	channel   string
	shard     *shard // nil while it moves to another shard (rehome)
	watchers  map[*dedupe.Mailbox]struct{}
	ready     chan struct{} // closed when Redis first confirmed the subscription
	confirmed bool
}

func newSubscriber(client redis.UniversalClient, sharded bool, log *slog.Logger, timeout time.Duration) *subscriber {
	ctx, cancel := context.WithCancel(context.Background())
	return &subscriber{
		client: client, sharded: sharded, log: log, timeout: timeout, ctx: ctx, cancel: cancel,
		done:      make(chan struct{}),
		interests: map[string]*interest{},
		shards:    map[string]*shard{},
	}
}

// watch registers a watcher of channel and waits for Redis to confirm the
// subscription (at once if it is already confirmed).
func (s *subscriber) watch(ctx context.Context, channel string) (dedupe.Interest, error) {
	sh, err := s.shardFor(ctx, channel)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil, dedupe.ErrStoreClosed
	}
	in := s.interests[channel]
	if in == nil {
		in = &interest{channel: channel, shard: sh, watchers: map[*dedupe.Mailbox]struct{}{}, ready: make(chan struct{})}
		s.interests[channel] = in
		sh.interests[channel] = in
		sh.subscribe(channel)
	}
	w := dedupe.NewMailbox(func(w *dedupe.Mailbox) { s.unwatch(in, w) })
	in.watchers[w] = struct{}{}
	failed, down := sh.failed, sh.ps == nil && sh.connErr != nil
	s.mu.Unlock()
	if down {
		w.Close()
		return nil, s.unreachable(sh)
	}
	return w, s.awaitReady(ctx, in, w, failed)
}

// awaitReady waits until Redis confirms the subscription of in, for at most
// the subscribe timeout; a failed connect of its shard ends the wait at once.
func (s *subscriber) awaitReady(ctx context.Context, in *interest, w *dedupe.Mailbox, failed <-chan struct{}) error {
	timer := time.NewTimer(s.timeout)
	defer timer.Stop()
	var err error
	select {
	case <-in.ready:
		return nil
	case <-ctx.Done():
		err = context.Cause(ctx)
	case <-s.done:
		return dedupe.ErrStoreClosed
	case <-failed:
		s.mu.Lock()
		sh := in.shard
		s.mu.Unlock()
		err = s.unreachable(sh)
	case <-timer.C:
		err = fmt.Errorf("dedupe: Redis did not confirm the subscription to %q within %v", in.channel, s.timeout)
	}
	w.Close()
	return err
}

// unreachable is the error of a watch on a shard that cannot connect.
func (s *subscriber) unreachable(sh *shard) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if sh == nil || sh.connErr == nil {
		return errors.New("dedupe: the pub/sub connection is down")
	}
	return fmt.Errorf("dedupe: the pub/sub connection to %q is down: %w", sh.addr, sh.connErr)
}

// unwatch removes a watcher; the last one of a channel unsubscribes.
func (s *subscriber) unwatch(in *interest, w *dedupe.Mailbox) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(in.watchers, w)
	if len(in.watchers) > 0 || s.closed {
		return
	}
	delete(s.interests, in.channel)
	if in.shard != nil {
		delete(in.shard.interests, in.channel)
		in.shard.unsubscribe(in.channel)
	}
}

// confirmed handles Redis's confirmation of a subscription on sh. The last
// outstanding confirmation makes a new interest ready, or, for one that was
// ready before (a resubscription after a reconnect or a move), tells its
// watchers to re-read the key: notifications sent meanwhile are lost.
func (s *subscriber) confirmed(sh *shard, channel string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if n := sh.pending[channel]; n > 1 {
		sh.pending[channel] = n - 1
		return
	}
	delete(sh.pending, channel)
	in := s.interests[channel]
	if s.closed || in == nil || in.shard != sh {
		return
	}
	if !in.confirmed {
		in.confirmed = true
		close(in.ready)
		return
	}
	in.send(dedupe.Event{Kind: dedupe.EventResync})
}

// deliver hands a notification to the channel's watchers.
func (s *subscriber) deliver(channel, payload string) {
	ev, ok := parseEvent(payload)
	if !ok {
		s.log.Warn("dedupe: ignoring a notification with an unknown payload", "channel", channel)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if in := s.interests[channel]; in != nil && !s.closed {
		in.send(ev)
	}
}

// send gives ev to every watcher. Caller holds mu, and the store is open.
func (in *interest) send(ev dedupe.Event) {
	for w := range in.watchers {
		w.Send(ev)
	}
}

// shardFor returns the shard that serves channel, starting it if needed.
func (s *subscriber) shardFor(ctx context.Context, channel string) (*shard, error) {
	addr, node := "", s.client
	if s.sharded {
		master, err := s.client.(*redis.ClusterClient).MasterForKey(ctx, channel)
		if err != nil {
			return nil, err
		}
		addr, node = master.Options().Addr, master
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, dedupe.ErrStoreClosed
	}
	sh := s.shards[addr]
	if sh == nil {
		sh = newShard(s, addr, node)
		s.shards[addr] = sh
		s.wg.Go(sh.run)
		s.wg.Go(sh.write)
	}
	return sh, nil
}

func (s *subscriber) active() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.interests)
}

func (s *subscriber) isClosed() bool {
	select {
	case <-s.done:
		return true
	default:
		return false
	}
}

// close ends every watcher and stops the shards' goroutines. Deliveries and
// confirmations check closed under mu, so none can reach a closed watcher.
func (s *subscriber) close() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	close(s.done)
	for _, sh := range s.shards {
		sh.drop(sh.ps)
	}
	for _, in := range s.interests {
		for w := range in.watchers {
			w.End()
		}
	}
	s.mu.Unlock()
	s.cancel()
	s.wg.Wait()
}

// isClosedErr reports an error that only means the connection was closed by us.
func isClosedErr(err error) bool {
	return errors.Is(err, redis.ErrClosed) || errors.Is(err, context.Canceled)
}

// watchedKeys reports, per op, whether a watcher of this store watches the
// op's key; nil when none does (the common case: no lookup per op). Only
// the kinds an Exec sends differently for a watched key are looked up.
func (s *subscriber) watchedKeys(st *Store, ops []dedupe.Op) []bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.interests) == 0 {
		return nil
	}
	watched := make([]bool, len(ops))
	for i, op := range ops {
		if watchable(op.Kind) {
			watched[i] = s.interests[st.channel(op.Key)] != nil
		}
	}
	return watched
}
