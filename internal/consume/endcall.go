package consume

import "sync"

// endCall is the end function one handler call gets: the first call's value
// stands; later calls are counted (a bug in the handler) and ignored.
type endCall[V any] struct {
	mu    sync.Mutex
	calls int
	value V
}

func (c *endCall[V]) end(v V) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.calls++; c.calls == 1 {
		c.value = v
	}
}

// result returns how often end was called, and the value that stands.
func (c *endCall[V]) result() (int, V) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.calls, c.value
}
