package faultproxy

import (
	"net"
	"sync"
	"time"
)

// link is one relayed connection: the client's and the server's side, and a
// direction for each way bytes flow.
type link struct {
	client, server net.Conn
	up, down       *direction // client to server, server to client
	done           chan struct{}
	once           sync.Once
}

// direction relays src to dst: a reader queues chunks with the time they
// are due, a writer relays them when due and not frozen. Two goroutines, so
// that latency delays bytes without limiting throughput.
type direction struct {
	src, dst net.Conn
	replies  bool // server to client: DropReply applies
	queue    chan chunk
}

type chunk struct {
	data []byte
	due  time.Time
}

// queued bounds the chunks in flight per direction (up to 32 KiB each).
const queued = 64

func newLink(client, server net.Conn) *link {
	return &link{
		client: client, server: server, done: make(chan struct{}),
		up:   &direction{src: client, dst: server, queue: make(chan chunk, queued)},
		down: &direction{src: server, dst: client, replies: true, queue: make(chan chunk, queued)},
	}
}

func (l *link) close() {
	l.once.Do(func() {
		close(l.done)
		_ = l.client.Close()
		_ = l.server.Close()
	})
}

// read queues what d's source sends until it ends, the link closes, or a
// reply is dropped; then it closes the queue, and the writer closes the
// link once it has relayed what was queued.
func (p *Proxy) read(l *link, d *direction) {
	defer close(d.queue)
	buf := make([]byte, 32<<10)
	for {
		n, err := d.src.Read(buf)
		if n > 0 {
			c, ok := p.admit(d, buf[:n])
			if !ok {
				return
			}
			select {
			case d.queue <- c:
			case <-l.done:
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// admit stamps the bytes just read with their due time, or reports false
// if they are a reply DropReply matches (the match is then used up).
func (p *Proxy) admit(d *direction, b []byte) (chunk, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if d.replies && p.drop != nil && p.drop(b) {
		p.drop = nil
		p.stats.Cut++
		return chunk{}, false
	}
	return chunk{data: append([]byte(nil), b...), due: time.Now().Add(p.latency)}, true
}

// write relays d's queued chunks, each when due and while not frozen, and
// closes the link when the queue ends or a write fails.
func (p *Proxy) write(l *link, d *direction) {
	defer p.forget(l)
	for c := range d.queue {
		if !p.await(l, c.due) {
			return
		}
		if _, err := d.dst.Write(c.data); err != nil {
			return
		}
	}
}

// await waits until due and until the proxy is not frozen; false if the
// link closed meanwhile.
func (p *Proxy) await(l *link, due time.Time) bool {
	if wait := time.Until(due); wait > 0 {
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-l.done:
			t.Stop()
			return false
		}
	}
	for {
		p.mu.Lock()
		frozen, closed := p.frozen, p.closed
		p.mu.Unlock()
		switch {
		case closed:
			return false
		case frozen == nil:
			return true
		}
		select {
		case <-frozen:
		case <-l.done:
			return false
		}
	}
}
