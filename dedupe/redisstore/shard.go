package redisstore

import (
	"context"
	"errors"
	"net"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/idemq/idemq/internal/clock"
)

// Reconnect backoff and keep-alive of the pub/sub connections.
const (
	minBackoff  = 10 * time.Millisecond
	maxBackoff  = 2 * time.Second
	idlePing    = 15 * time.Second
	dialTimeout = 5 * time.Second
)

// shard is one pub/sub connection and the channels it carries. Its fields
// are guarded by the subscriber's mu; only run reads messages, and only
// write sends commands.
type shard struct {
	sub       *subscriber
	addr      string
	node      redis.UniversalClient
	wake      chan struct{} // the writer has commands to send
	ps        *redis.PubSub // nil while disconnected
	interests map[string]*interest
	pending   map[string]int // subscribe commands queued or sent, not yet confirmed
	unsubs    map[string]int // unsubscribe commands queued or sent, not yet confirmed
	queue     []shardCmd
	connErr   error         // why the last connect failed; nil once connected
	failed    chan struct{} // closed when a connect attempt fails; then replaced
}

// shardCmd is a (un)subscribe command for the connection ps.
type shardCmd struct {
	ps        *redis.PubSub
	channel   string
	subscribe bool
}

func newShard(s *subscriber, addr string, node redis.UniversalClient) *shard {
	return &shard{
		sub: s, addr: addr, node: node, wake: make(chan struct{}, 1),
		interests: map[string]*interest{}, pending: map[string]int{}, unsubs: map[string]int{},
		failed: make(chan struct{}),
	}
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
			if !clock.Sleep(sh.sub.ctx, backoff) {
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
// slots). A channel whose slot has moved to another master (as the client's
// slot map says) moves to that master's shard instead. The confirmations
// make new interests ready and tell the old ones to re-read their keys.
func (sh *shard) connect() bool {
	ps := sh.newPubSub()
	ctx, cancel := context.WithTimeout(sh.sub.ctx, dialTimeout)
	defer cancel()
	if err := ps.Ping(ctx); err != nil { // dials outside the lock
		_ = ps.Close()
		sh.connectFailed(err)
		return false
	}
	moved := sh.movedChannels(ctx)
	sh.sub.mu.Lock()
	defer sh.sub.mu.Unlock()
	if sh.sub.closed {
		_ = ps.Close()
		return false
	}
	sh.ps, sh.connErr = ps, nil
	sh.pending, sh.unsubs, sh.queue = map[string]int{}, map[string]int{}, nil
	for channel, in := range sh.interests {
		if moved[channel] {
			sh.sub.unhome(in)
			continue
		}
		sh.subscribe(channel)
	}
	return true
}

// movedChannels returns the shard's channels that the Cluster client's slot
// map places on another master now (none when not sharded).
func (sh *shard) movedChannels(ctx context.Context) map[string]bool {
	c, ok := sh.sub.client.(*redis.ClusterClient)
	if !ok {
		return nil
	}
	sh.sub.mu.Lock()
	channels := make([]string, 0, len(sh.interests))
	for channel := range sh.interests {
		channels = append(channels, channel)
	}
	sh.sub.mu.Unlock()
	moved := map[string]bool{}
	for _, channel := range channels {
		if m, err := c.MasterForKey(ctx, channel); err == nil && m.Options().Addr != sh.addr {
			moved[channel] = true
		}
	}
	return moved
}

// connectFailed records a failed connect and wakes the watches waiting for
// this shard, so they fail fast instead of hanging while Redis is down.
func (sh *shard) connectFailed(err error) {
	sh.sub.mu.Lock()
	defer sh.sub.mu.Unlock()
	sh.connErr = err
	close(sh.failed)
	sh.failed = make(chan struct{})
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

// subscribe queues a subscribe command for channel if connected; otherwise
// connect will. Caller holds mu.
func (sh *shard) subscribe(channel string) {
	if sh.ps == nil {
		return
	}
	sh.pending[channel]++
	sh.enqueue(shardCmd{ps: sh.ps, channel: channel, subscribe: true})
}

// unsubscribe queues an unsubscribe command for channel if connected.
// Caller holds mu.
func (sh *shard) unsubscribe(channel string) {
	if sh.ps == nil {
		return
	}
	sh.unsubs[channel]++
	sh.enqueue(shardCmd{ps: sh.ps, channel: channel})
}

func (sh *shard) enqueue(c shardCmd) {
	sh.queue = append(sh.queue, c)
	select {
	case sh.wake <- struct{}{}:
	default:
	}
}

// write sends the queued commands in order until the subscriber closes.
func (sh *shard) write() {
	for {
		select {
		case <-sh.wake:
		case <-sh.sub.ctx.Done():
			return
		}
		for _, c := range sh.take() {
			sh.send(c)
		}
	}
}

// take returns the queued commands for the current connection; those for
// a dropped one are void (connect subscribes everything again).
func (sh *shard) take() []shardCmd {
	sh.sub.mu.Lock()
	defer sh.sub.mu.Unlock()
	cmds := sh.queue[:0:0]
	for _, c := range sh.queue {
		if c.ps == sh.ps {
			cmds = append(cmds, c)
		}
	}
	sh.queue = nil
	return cmds
}

// send writes one command; a failed write drops the connection, and run
// reconnects and resubscribes.
func (sh *shard) send(c shardCmd) {
	ctx := sh.sub.ctx
	var err error
	switch {
	case c.subscribe && sh.sub.sharded:
		err = c.ps.SSubscribe(ctx, c.channel)
	case c.subscribe:
		err = c.ps.Subscribe(ctx, c.channel)
	case sh.sub.sharded:
		err = c.ps.SUnsubscribe(ctx, c.channel)
	default:
		err = c.ps.Unsubscribe(ctx, c.channel)
	}
	if err != nil {
		sh.sub.mu.Lock()
		sh.drop(c.ps)
		sh.sub.mu.Unlock()
	}
}

func (sh *shard) dispatch(msg any) {
	switch m := msg.(type) {
	case *redis.Subscription:
		switch m.Kind {
		case "subscribe", "ssubscribe":
			sh.sub.confirmed(sh, m.Channel)
		case "unsubscribe", "sunsubscribe":
			sh.sub.unsubscribed(sh, m.Channel)
		}
	case *redis.Message:
		sh.sub.deliver(m.Channel, m.Payload)
	}
}
