package main

import (
	"context"
	"fmt"
	"sync"

	kafkago "github.com/segmentio/kafka-go"
)

// groupWatch records which consumer-group generation each member joined:
// the distinct generations give the number of rebalances, and the phase
// waits until its first members share one generation before producing, so
// that no member drains the topic alone before the others have joined.
type groupWatch struct {
	mu      sync.Mutex
	gens    map[int32]struct{}
	latest  map[int]int32 // member id -> generation it last joined
	changed chan struct{} // closed and replaced on every join
}

func newGroupWatch() *groupWatch {
	return &groupWatch{gens: map[int32]struct{}{}, latest: map[int]int32{}, changed: make(chan struct{})}
}

func (w *groupWatch) joined(member int, gen int32) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.gens[gen] = struct{}{}
	w.latest[member] = gen
	close(w.changed)
	w.changed = make(chan struct{})
}

// rebalances is the number of generations after the first.
func (w *groupWatch) rebalances() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return max(len(w.gens)-1, 0)
}

// await returns once every member in ids has joined the same generation.
func (w *groupWatch) await(ctx context.Context, ids []int) error {
	for {
		w.mu.Lock()
		formed, changed := w.formed(ids), w.changed
		w.mu.Unlock()
		if formed {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("demo: waiting for %d consumers to join the group: %w", len(ids), ctx.Err())
		case <-changed:
		}
	}
}

func (w *groupWatch) formed(ids []int) bool {
	first, ok := w.latest[ids[0]]
	for _, id := range ids {
		if gen, joined := w.latest[id]; !joined || gen != first {
			return false
		}
	}
	return ok
}

// kafkaLogger returns a kafka-go Logger for member id that reports its
// joins. kafka-go says nothing else about generations (its Reader has no
// assignment callbacks), so the log line's format string is matched: a
// cheap comparison, no formatting of the other lines.
func (w *groupWatch) kafkaLogger(id int) kafkago.Logger {
	return kafkago.LoggerFunc(func(format string, args ...any) {
		if format != "joined group %s as member %s in generation %d" || len(args) != 3 {
			return
		}
		if gen, ok := args[2].(int32); ok {
			w.joined(id, gen)
		}
	})
}
