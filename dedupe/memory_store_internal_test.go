package dedupe

import (
	"context"
	"strconv"
	"testing"
	"time"
)

// TestMemoryStoreSweepsExpiredRecords lets 3,000 claims expire, then writes
// as many fresh keys: the expired records must be gone by then (swept, not
// only skipped on reads), and live ones kept.
func TestMemoryStoreSweepsExpiredRecords(t *testing.T) {
	t.Parallel()
	now := time.Unix(1000, 0)
	s := NewMemoryStore()
	s.now = func() time.Time { return now }
	ctx := context.Background()
	const n = 3000
	for i := range n {
		if _, ok, err := s.Claim(ctx, "old-"+strconv.Itoa(i), "tok", time.Millisecond); err != nil || !ok {
			t.Fatalf("Claim = %v, %v", ok, err)
		}
	}
	now = now.Add(time.Second)
	for i := range n {
		if _, ok, err := s.Claim(ctx, "new-"+strconv.Itoa(i), "tok", time.Hour); err != nil || !ok {
			t.Fatalf("Claim = %v, %v", ok, err)
		}
	}
	s.mu.Lock()
	left := len(s.records)
	s.mu.Unlock()
	if left > n+sweepEvery {
		t.Fatalf("%d records after %d expired and %d live ones, want at most %d", left, n, n, n+sweepEvery)
	}
	if rec, err := s.Get(ctx, "new-0"); err != nil || rec.State != Claimed {
		t.Fatalf("a live claim after the sweep = %+v, %v", rec, err)
	}
}
