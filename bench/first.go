package main

import (
	"sync/atomic"
	"time"
)

// firstMessage is how long after its start a round's first message came:
// the rate from the first message to the last (the steady state) leaves out
// the join, the first fetch and the consumer's start.
type firstMessage struct{ ns atomic.Int64 } // 0: none yet

// mark records the first message; only the caller that counted it calls it.
func (f *firstMessage) mark(start time.Time) { f.ns.Store(int64(max(time.Since(start), 1))) }

// after is the time from the start to the first message, 0 before it.
func (f *firstMessage) after() time.Duration { return time.Duration(f.ns.Load()) }
