package consume

import (
	"sort"
	"sync"
)

// offsets tracks one partition's fetched messages in offset order and
// reports the position that may be committed: just after the longest
// prefix whose outcomes are all final. It never moves past an unfinished
// or failed message. Offsets need not be contiguous (compaction,
// transaction markers): the order of add is what counts.
type offsets struct {
	mu       sync.Mutex
	pending  []entry // pending[head:] are ahead of the position; offsets increase
	head     int
	position int64 // the offset after the finished prefix; -1 before any
}

type entry struct {
	offset int64
	done   bool
}

func newOffsets() *offsets { return &offsets{position: -1} }

// add records fetched messages, in one lock; offsets must increase.
func (o *offsets) add(offsets ...int64) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, off := range offsets {
		o.pending = append(o.pending, entry{offset: off})
	}
}

// done records that offset's outcome is final.
func (o *offsets) done(offset int64) {
	o.mu.Lock()
	defer o.mu.Unlock()
	live := o.pending[o.head:]
	i := sort.Search(len(live), func(i int) bool { return live[i].offset >= offset })
	if i == len(live) || live[i].offset != offset || live[i].done {
		return
	}
	live[i].done = true
	for o.head < len(o.pending) && o.pending[o.head].done {
		o.position = o.pending[o.head].offset + 1
		o.head++
	}
	o.compact()
}

// compact drops the entries behind the position once they are the majority.
func (o *offsets) compact() {
	switch {
	case o.head == len(o.pending):
		o.pending, o.head = o.pending[:0], 0
	case o.head > 64 && 2*o.head > len(o.pending):
		n := copy(o.pending, o.pending[o.head:])
		o.pending, o.head = o.pending[:n], 0
	}
}

// take returns the committable position (-1 if none).
func (o *offsets) take() int64 {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.position
}
