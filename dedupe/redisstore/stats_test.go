package redisstore_test

import (
	"errors"
	"testing"
	"time"

	"github.com/idemq/idemq/dedupe"
	"github.com/idemq/idemq/dedupe/redisstore"
	"github.com/idemq/idemq/internal/testenv"
)

func TestStats(t *testing.T) {
	t.Parallel()
	forEachAdminServer(t, func(t *testing.T, srv testenv.RedisServer) {
		open, raw := isolated(t, srv)
		claimed, committed := scanFixture(t, open, raw, srv.Prefix)
		stuckClaims(t, open(), 10*time.Second, "short-lease")
		s := open()
		// Small pages, and scans enough for a shared server's other keys.
		got, err := s.Stats(adminContext(t), redisstore.StatsOptions{Count: 10, MaxScans: 1 << 20})
		if err != nil {
			t.Fatalf("Stats: %v", err)
		}
		want := redisstore.StoreStats{
			// SCAN matches PREFIX{*: "other" is not examined, the other three
			// names of the fixture's other layouts are foreign.
			Examined: int64(len(claimed) + 1 + len(committed) + 4), Claimed: int64(len(claimed) + 1),
			Committed: int64(len(committed)), Corrupt: 1, Foreign: 3,
		}
		if got.Examined != want.Examined || got.Claimed != want.Claimed || got.Committed != want.Committed ||
			got.Corrupt != want.Corrupt || got.Foreign != want.Foreign || got.Watched != 0 || got.Partial {
			t.Errorf("Stats = %+v, want counts %+v", got, want)
		}
		if sl := got.ShortestLease; sl.Key != "short-lease" || sl.TTL <= 0 || sl.TTL > 10*time.Second {
			t.Errorf("ShortestLease = %+v, want the claim with a 10s lease", sl)
		}
		if got.MemoryBytes <= 0 || got.ServerMemoryBytes < got.MemoryBytes {
			t.Errorf("MemoryBytes %d, ServerMemoryBytes %d: want 0 < the keys' memory <= the servers'", got.MemoryBytes, got.ServerMemoryBytes)
		}
	})
}

func TestStatsStopsAtItsBudget(t *testing.T) {
	t.Parallel()
	forEachServer(t, func(t *testing.T, srv testenv.RedisServer) {
		open, raw := isolated(t, srv)
		claimed, committed := scanFixture(t, open, raw, srv.Prefix)
		total := int64(len(claimed) + len(committed) + 4)
		for _, o := range []redisstore.StatsOptions{{MaxKeys: 1, Count: 1}, {MaxScans: 1, Count: 1}} {
			got, err := open().Stats(adminContext(t), o)
			if err != nil {
				t.Fatalf("Stats: %v", err)
			}
			// SCAN's COUNT is a hint: the first page that lists a key may
			// list them all, and then the scan may still have pages to go.
			if got.Examined > total || (!got.Partial && got.Examined != total) || (o.MaxKeys == 1 && got.Examined < 1) {
				t.Errorf("Stats(%+v) = %+v, want Partial, or all %d keys examined", o, got, total)
			}
			if !got.Partial {
				t.Logf("Stats(%+v): one SCAN page listed every key: %+v", o, got)
			}
		}
	})
}

func TestStatsRejectsNegativeBudget(t *testing.T) {
	t.Parallel()
	s := newStore(t, testenv.Redis(t))
	if _, err := s.Stats(adminContext(t), redisstore.StatsOptions{MaxKeys: -1}); !errors.Is(err, dedupe.ErrInvalidOption) {
		t.Errorf("Stats(MaxKeys -1) = %v, want ErrInvalidOption", err)
	}
}
