package idemqfranz_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	idemqfranz "github.com/idemq/idemq/adapters/franz"
	"github.com/idemq/idemq/dedupe"
)

// TestOutcomesAreCommitted: a fresh key runs the handler once and is
// committed; a duplicate (same key, another partition) does not run the
// handler, OnDuplicate gets the winner's value, and its offset is committed
// too: the group's lag ends at 0.
func TestOutcomesAreCommitted(t *testing.T) {
	t.Parallel()
	e := setup(t, 4)
	const unique, dups = 200, 50
	var handled, dupCalls counts
	var mu sync.Mutex
	winners := map[string]string{}
	cfg := e.config()
	cfg.Handle = func(ctx context.Context, r *kgo.Record, end dedupe.End[string]) error {
		handled.add(header(r, "Idempotency-Key"))
		end("done-" + string(r.Value))
		return nil
	}
	cfg.OnDuplicate = func(ctx context.Context, r *kgo.Record, winner string) error {
		k := header(r, "Idempotency-Key")
		dupCalls.add(k)
		mu.Lock()
		defer mu.Unlock()
		winners[k] = winner
		return nil
	}
	var rs []*kgo.Record
	for i := range unique {
		rs = append(rs, rec(int32(i%4), key(i), "first-"+key(i)))
	}
	e.produce(t, rs...)
	c := mustConsumer(t, cfg)
	start(t, c)
	eventually(t, time.Minute, "every fresh key handled", func() bool { return handled.len() == unique })
	rs = rs[:0]
	for i := range dups {
		rs = append(rs, rec(int32((i+1)%4), key(i), "again-"+key(i)))
	}
	e.produce(t, rs...)
	eventually(t, time.Minute, "lag 0", func() bool { return e.lag(t) == 0 })
	for i := range unique {
		if got := handled.get(key(i)); got != 1 {
			t.Errorf("handler ran %d times for %s, want 1", got, key(i))
		}
	}
	for i := range dups {
		if got := dupCalls.get(key(i)); got != 1 {
			t.Errorf("OnDuplicate ran %d times for %s, want 1", got, key(i))
		}
		if want := "done-first-" + key(i); winners[key(i)] != want {
			t.Errorf("OnDuplicate for %s got winner %q, want %q", key(i), winners[key(i)], want)
		}
	}
	s := c.Stats()
	if s.Processed != unique || s.Duplicates != dups || s.DeadLettered != 0 || s.PartitionsAssigned != 4 {
		t.Errorf("Stats = %+v, want Processed %d, Duplicates %d, DeadLettered 0, PartitionsAssigned 4", s, unique, dups)
	}
	if s.OffsetCommits == 0 || s.GuardRoundTrips == 0 {
		t.Errorf("Stats = %+v, want OffsetCommits and GuardRoundTrips > 0", s)
	}
}

var _ = idemqfranz.ErrRevoked
