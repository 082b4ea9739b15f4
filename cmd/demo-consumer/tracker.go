package main

import (
	"sync"
	"sync/atomic"
)

// position is a message's place in the topic.
type position struct {
	partition int
	offset    int64
}

// tracker follows one phase: which messages have been handled at least
// once (the progress), how many handler runs wrote to the ledger, and when
// the kill point is reached.
type tracker struct {
	total  int
	killAt int // handled messages after which the victim stops abruptly

	mu      sync.Mutex
	seen    map[position]struct{}
	allSeen chan struct{} // closed once every message was handled

	effects atomic.Int64  // handler runs that wrote a ledger entry
	killNow chan struct{} // closed by the victim at the kill point
	fired   atomic.Bool
}

func newTracker(total int, killAt float64) *tracker {
	return &tracker{
		total: total, killAt: int(float64(total) * killAt),
		seen: make(map[position]struct{}, total), allSeen: make(chan struct{}), killNow: make(chan struct{}),
	}
}

// handled records that the message at p reached a final outcome.
func (t *tracker) handled(p position) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if _, ok := t.seen[p]; ok {
		return
	}
	t.seen[p] = struct{}{}
	if len(t.seen) == t.total {
		close(t.allSeen)
	}
}

// count is how many distinct messages were handled.
func (t *tracker) count() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.seen)
}

// atKillPoint reports, once, that the kill point has been reached, and
// closes killNow. The victim asks right after each of its handlers.
func (t *tracker) atKillPoint() bool {
	if t.count() < t.killAt || !t.fired.CompareAndSwap(false, true) {
		return false
	}
	close(t.killNow)
	return true
}
