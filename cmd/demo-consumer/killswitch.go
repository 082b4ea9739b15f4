package main

import (
	"context"
	"errors"
	"net"
	"sync"
	"time"
)

// errKilled is what a killed consumer's dials return.
var errKilled = errors.New("demo: this consumer was stopped abruptly")

// killSwitch owns one consumer's connections to Kafka. Cut closes them all
// and refuses new ones: to the broker the consumer has crashed. It sends no
// LeaveGroup and no last offset commit, so the group notices only when the
// member misses the next rebalance, and the messages it handled since its
// last commit are delivered again to whoever takes its partitions over.
type killSwitch struct {
	mu    sync.Mutex
	conns map[net.Conn]struct{}
	cut   bool
}

func newKillSwitch() *killSwitch { return &killSwitch{conns: map[net.Conn]struct{}{}} }

// DialContext is a kafka-go Dialer.DialFunc.
func (k *killSwitch) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	if k.isCut() {
		return nil, errKilled
	}
	d := net.Dialer{Timeout: 10 * time.Second}
	c, err := d.DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	return k.track(c)
}

// Dial is Sarama's proxy.Dialer (Config.Net.Proxy.Dialer).
func (k *killSwitch) Dial(network, addr string) (net.Conn, error) {
	return k.DialContext(context.Background(), network, addr)
}

func (k *killSwitch) track(c net.Conn) (net.Conn, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.cut {
		_ = c.Close()
		return nil, errKilled
	}
	k.conns[c] = struct{}{}
	return &trackedConn{Conn: c, k: k}, nil
}

// Cut closes every connection and refuses new ones.
func (k *killSwitch) Cut() {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.cut = true
	for c := range k.conns {
		_ = c.Close()
	}
	clear(k.conns)
}

func (k *killSwitch) isCut() bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.cut
}

func (k *killSwitch) forget(c net.Conn) {
	k.mu.Lock()
	defer k.mu.Unlock()
	delete(k.conns, c)
}

// trackedConn leaves the switch's set when its owner closes it.
type trackedConn struct {
	net.Conn
	k *killSwitch
}

func (c *trackedConn) Close() error {
	c.k.forget(c.Conn)
	return c.Conn.Close()
}
