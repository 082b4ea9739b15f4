package testenv

import (
	"errors"
	"net"
	"sync"
	"testing"
)

// Proxy is a TCP relay on loopback between clients and one server, for
// fault injection: it can freeze every link, lose the next reply, or cut
// every connection. Point a client at Addr instead of the server.
type Proxy struct {
	ln     net.Listener
	target string
	wg     sync.WaitGroup

	mu     sync.Mutex
	links  map[*link]struct{}
	frozen chan struct{} // non-nil while frozen; closed by Thaw
	drop   func([]byte) bool
	closed bool
}

type link struct{ client, server net.Conn }

// NewProxy starts a proxy to target (host:port), stopped at the end of the test.
func NewProxy(t testing.TB, target string) *Proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("testenv: proxy listen: %v", err)
	}
	p := &Proxy{ln: ln, target: target, links: map[*link]struct{}{}}
	p.wg.Go(p.accept)
	t.Cleanup(p.close)
	return p
}

// Addr is the address clients dial.
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// Freeze stops relaying bytes in both directions on every link, existing or
// new, until Thaw: to the client, the server hangs.
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
// that match, and cut that link: the server ran the command, the client
// never hears of it and sees the connection break (go-redis then retries it
// on a new connection).
func (p *Proxy) DropReply(match func(reply []byte) bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.drop = match
}

// Cut closes every current connection (new ones are accepted).
func (p *Proxy) Cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for l := range p.links {
		l.close()
	}
}

func (p *Proxy) accept() {
	for {
		client, err := p.ln.Accept()
		if err != nil {
			return
		}
		server, err := net.Dial("tcp", p.target)
		if err != nil {
			_ = client.Close()
			continue
		}
		l := &link{client: client, server: server}
		p.mu.Lock()
		if p.closed {
			p.mu.Unlock()
			l.close()
			return
		}
		p.links[l] = struct{}{}
		p.mu.Unlock()
		p.wg.Go(func() { p.pump(l, l.client, l.server, false) })
		p.wg.Go(func() { p.pump(l, l.server, l.client, true) })
	}
}

// pump relays src to dst until either side closes.
func (p *Proxy) pump(l *link, src, dst net.Conn, replies bool) {
	defer p.forget(l)
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 && !p.pass(l, replies, buf[:n]) {
			return
		}
		if n > 0 {
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// pass waits while the proxy is frozen and reports whether the bytes just
// read may go on (false: the link was dropped or closed).
func (p *Proxy) pass(l *link, replies bool, b []byte) bool {
	for {
		p.mu.Lock()
		frozen, closed := p.frozen, p.closed
		drop := replies && p.drop != nil && p.drop(b)
		if drop {
			p.drop = nil
		}
		p.mu.Unlock()
		switch {
		case closed:
			return false
		case drop:
			l.close()
			return false
		case frozen == nil:
			return true
		}
		<-frozen
	}
}

func (p *Proxy) forget(l *link) {
	l.close()
	p.mu.Lock()
	delete(p.links, l)
	p.mu.Unlock()
}

func (l *link) close() {
	_ = l.client.Close()
	_ = l.server.Close()
}

func (p *Proxy) close() {
	p.mu.Lock()
	p.closed = true
	for l := range p.links {
		l.close()
	}
	if p.frozen != nil {
		close(p.frozen)
		p.frozen = nil
	}
	p.mu.Unlock()
	if err := p.ln.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
		return
	}
	p.wg.Wait()
}
