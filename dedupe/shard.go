package dedupe

import (
	"context"
	"errors"
	"net"
	"time"

	"github.com/redis/go-redis/v9"
)

// Reconnect backoff and keep-alive of the pub/sub connections.
const (
	minBackoff  = 10 * time.Millisecond
	maxBackoff  = 2 * time.Second
	idlePing    = 15 * time.Second
	dialTimeout = 5 * time.Second
)

// shard is one pub/sub connection and the channels it carries. Its fields
// are guarded by the subscriber's mu, except that only run reads messages.
type shard struct {
	sub       *subscriber
	addr      string
	node      redis.UniversalClient
	ps        *redis.PubSub // nil while disconnected
	interests map[string]*interest
	pending   map[string]int // subscribe commands sent, not yet confirmed
}

// run reads the connection until the subscriber closes, reconnecting with
// backoff whenever it breaks.
func (sh *shard) run() {
	backoff := minBackoff
	for {
		ps := sh.current()
		if ps == nil {
			if sh.sub.ctx.Err() != nil {
				return
			}
			if sh.connect() {
				backoff = minBackoff
				continue
			}
			if !sh.sleep(backoff) {
				return
			}
			backoff = min(2*backoff, maxBackoff)
			continue
		}
		msg, err := ps.ReceiveTimeout(sh.sub.ctx, idlePing)
		if err != nil {
			sh.receiveFailed(ps, err)
			continue
		}
		sh.dispatch(msg)
	}
}

func (sh *shard) current() *redis.PubSub {
	sh.sub.mu.Lock()
	defer sh.sub.mu.Unlock()
	return sh.ps
}

func (sh *shard) receiveFailed(ps *redis.PubSub, err error) {
	var nerr net.Error
	if errors.As(err, &nerr) && nerr.Timeout() {
		// Idle: a ping proves the connection is alive (or breaks it).
		ctx, cancel := context.WithTimeout(sh.sub.ctx, dialTimeout)
		defer cancel()
		if perr := ps.Ping(ctx); perr == nil {
			return
		}
	}
	sh.sub.mu.Lock()
	defer sh.sub.mu.Unlock()
	if !sh.sub.closed && !isClosedErr(err) {
		sh.sub.log.Warn("dedupe: pub/sub connection lost; reconnecting", "addr", sh.addr, "err", err)
	}
	sh.drop(ps)
}

// drop closes ps if it is still the shard's connection. Caller holds mu.
func (sh *shard) drop(ps *redis.PubSub) {
	if ps == nil || sh.ps != ps {
		return
	}
	sh.ps = nil
	_ = ps.Close()
}

// connect opens a new connection and subscribes every live channel of the
// shard on it, one command each (a Cluster refuses one SSUBSCRIBE across
// slots). The confirmations make new interests ready and tell the old ones
// to re-read their keys.
func (sh *shard) connect() bool {
	ps := sh.newPubSub()
	ctx, cancel := context.WithTimeout(sh.sub.ctx, dialTimeout)
	defer cancel()
	if err := ps.Ping(ctx); err != nil { // dials outside the lock
		_ = ps.Close()
		return false
	}
	sh.sub.mu.Lock()
	defer sh.sub.mu.Unlock()
	if sh.sub.closed {
		_ = ps.Close()
		return false
	}
	sh.ps = ps
	sh.pending = map[string]int{}
	for channel := range sh.interests {
		sh.subscribe(ctx, channel)
	}
	return true
}

func (sh *shard) newPubSub() *redis.PubSub {
	type subscribing interface {
		Subscribe(ctx context.Context, channels ...string) *redis.PubSub
		SSubscribe(ctx context.Context, channels ...string) *redis.PubSub
	}
	node := sh.node.(subscribing)
	if sh.sub.sharded {
		return node.SSubscribe(sh.sub.ctx)
	}
	return node.Subscribe(sh.sub.ctx)
}

// subscribe sends a subscribe command for channel if connected; otherwise
// connect will. Caller holds mu.
func (sh *shard) subscribe(ctx context.Context, channel string) {
	if sh.ps == nil {
		return
	}
	sh.pending[channel]++
	var err error
	if sh.sub.sharded {
		err = sh.ps.SSubscribe(context.WithoutCancel(ctx), channel)
	} else {
		err = sh.ps.Subscribe(context.WithoutCancel(ctx), channel)
	}
	if err != nil {
		sh.drop(sh.ps) // run reconnects and resubscribes
	}
}

// unsubscribe sends an unsubscribe command for channel if connected. Caller holds mu.
func (sh *shard) unsubscribe(channel string) {
	if sh.ps == nil {
		return
	}
	var err error
	if sh.sub.sharded {
		err = sh.ps.SUnsubscribe(context.Background(), channel)
	} else {
		err = sh.ps.Unsubscribe(context.Background(), channel)
	}
	if err != nil {
		sh.drop(sh.ps)
	}
}

func (sh *shard) dispatch(msg any) {
	switch m := msg.(type) {
	case *redis.Subscription:
		if m.Kind == "subscribe" || m.Kind == "ssubscribe" {
			sh.sub.confirmed(sh, m.Channel)
		}
	case *redis.Message:
		sh.sub.deliver(m.Channel, m.Payload)
	}
}

// sleep waits d, or returns false when the subscriber closes first.
func (sh *shard) sleep(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-sh.sub.ctx.Done():
		return false
	}
}
