// Package faultproxy is a loopback TCP relay between clients and one server
// that injects network faults: added latency, dropped connections, a lost
// reply, and a freeze (bytes stop flowing both ways, connections stay open).
// Point a client at Addr instead of the server. It is usable in tests (see
// internal/testenv.NewProxy) and in programs such as the chaos run.
//
//	p, err := faultproxy.Listen("127.0.0.1:0", redisAddr)
//	defer p.Close()
//	p.SetLatency(50 * time.Millisecond) // every byte arrives 50ms later, each way
//	p.Cut()                             // every open connection is closed now
//	p.Freeze(); time.Sleep(5 * time.Second); p.Thaw()
package faultproxy

import (
	"errors"
	"fmt"
	"net"
	"sync"
	"time"
)

// dialTimeout bounds the proxy's connect to the target.
const dialTimeout = 2 * time.Second

// Proxy relays every connection accepted on its listener to the target.
type Proxy struct {
	ln     net.Listener
	target string
	wg     sync.WaitGroup

	mu      sync.Mutex
	links   map[*link]struct{}
	latency time.Duration
	frozen  chan struct{} // non-nil while frozen; closed by Thaw
	drop    func([]byte) bool
	closed  bool
	stats   Stats
}

// Stats counts what the proxy did.
type Stats struct {
	Accepted   int // connections accepted from clients
	DialFailed int // accepted connections closed because the target did not answer
	Cut        int // connections closed by Cut or DropReply
}

// Listen starts a proxy on addr ("127.0.0.1:0" picks a free port) that relays
// to target (host:port). Close stops it.
func Listen(addr, target string) (*Proxy, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("faultproxy: listen on %s: %w", addr, err)
	}
	p := &Proxy{ln: ln, target: target, links: map[*link]struct{}{}}
	p.wg.Go(p.accept)
	return p, nil
}

// Addr is the address clients dial.
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// Target is the address the proxy relays to.
func (p *Proxy) Target() string { return p.target }

// Stats returns the counters so far.
func (p *Proxy) Stats() Stats {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stats
}

// SetLatency delays every chunk of bytes read from now on by d before it is
// relayed, in each direction (a round trip gains 2d). Throughput is not
// limited: chunks in flight overlap. 0 removes the delay.
func (p *Proxy) SetLatency(d time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.latency = max(d, 0)
}

// Freeze stops relaying bytes in both directions on every link, existing or
// new, until Thaw: to the client the server hangs, and the connection stays
// open. Bytes read meanwhile are held and relayed after Thaw (as TCP would
// deliver them once a partition heals), unless their link was closed.
func (p *Proxy) Freeze() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.frozen == nil {
		p.frozen = make(chan struct{})
	}
}

// Thaw resumes relaying.
func (p *Proxy) Thaw() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.frozen != nil {
		close(p.frozen)
		p.frozen = nil
	}
}

// DropReply makes the proxy lose the next bytes the server sends on any link
// that match, and cut that link once what it read before is relayed: the
// server ran the command, the client never hears of it and sees the
// connection break (go-redis then retries it on a new connection).
func (p *Proxy) DropReply(match func(reply []byte) bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.drop = match
}

// Cut closes every current connection, both sides, and returns how many it
// closed. New connections are accepted as before.
func (p *Proxy) Cut() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := len(p.links)
	for l := range p.links {
		l.close()
	}
	p.stats.Cut += n
	return n
}

// Close stops accepting, closes every connection and waits for the relay
// goroutines to end.
func (p *Proxy) Close() error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil
	}
	p.closed = true
	for l := range p.links {
		l.close()
	}
	if p.frozen != nil {
		close(p.frozen)
		p.frozen = nil
	}
	p.mu.Unlock()
	err := p.ln.Close()
	p.wg.Wait()
	if errors.Is(err, net.ErrClosed) {
		err = nil
	}
	return err
}

func (p *Proxy) accept() {
	for {
		client, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.count(func(s *Stats) { s.Accepted++ })
		server, err := net.DialTimeout("tcp", p.target, dialTimeout)
		if err != nil {
			p.count(func(s *Stats) { s.DialFailed++ })
			_ = client.Close()
			continue
		}
		if !p.start(newLink(client, server)) {
			return
		}
	}
}

func (p *Proxy) count(f func(*Stats)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	f(&p.stats)
}

// start registers l and starts its two directions; false if the proxy closed.
func (p *Proxy) start(l *link) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		l.close()
		return false
	}
	p.links[l] = struct{}{}
	for _, d := range []*direction{l.up, l.down} {
		p.wg.Go(func() { p.read(l, d) })
		p.wg.Go(func() { p.write(l, d) })
	}
	return true
}

func (p *Proxy) forget(l *link) {
	l.close()
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.links, l)
}
