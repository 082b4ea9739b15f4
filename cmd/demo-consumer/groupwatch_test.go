package main

import (
	"context"
	"testing"
	"time"
)

// TestGroupWatch proves that await returns only once every member has
// joined one generation, and that rebalances counts the generations after
// the first, as read from kafka-go's log line.
func TestGroupWatch(t *testing.T) {
	t.Parallel()
	w := newGroupWatch()
	log := func(member int, gen int32) {
		w.kafkaLogger(member).Printf("joined group %s as member %s in generation %d", "g", "m", gen)
	}
	log(1, 1)
	log(2, 2)
	w.kafkaLogger(1).Printf("some other line %d", int32(7))

	formed := make(chan error, 1)
	go func() { formed <- w.await(context.Background(), []int{1, 2}) }()
	select {
	case err := <-formed:
		t.Fatalf("await returned %v while member 1 was still in generation 1", err)
	case <-time.After(50 * time.Millisecond): // no signal exists for "has not returned"
	}
	log(1, 2)
	if err := <-formed; err != nil {
		t.Fatalf("await: %v", err)
	}
	if got := w.rebalances(); got != 1 {
		t.Errorf("rebalances = %d, want 1", got)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := w.await(ctx, []int{1, 3}); err == nil {
		t.Errorf("await for a member that never joined returned nil, want the context's error")
	}
}
