package main

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/idemq/idemq/internal/testenv"
)

func TestStats(t *testing.T) {
	t.Parallel()
	forEachServer(t, func(t *testing.T, srv testenv.RedisServer) {
		stuckClaims(t, srv, time.Minute, "c-1", "c-2")
		stuckClaims(t, srv, 5*time.Second, "short")
		for _, k := range []string{"v-1", "v{2}"} {
			commit(t, srv, k, k)
		}
		if err := srv.Client.Set(t.Context(), srv.Prefix+"{bad}", "junk", time.Minute).Err(); err != nil {
			t.Fatal(err)
		}
		r := on(t, srv, "", "-json", "stats", "--lease", "10s")
		r.want(t, exitOK)
		var v statsView
		if err := json.Unmarshal([]byte(r.out), &v); err != nil {
			t.Fatalf("%v in %q", err, r.out)
		}
		if v.Prefix != srv.Prefix || v.Examined != 6 || v.Claimed != 3 || v.Committed != 2 || v.Corrupt != 1 || v.Partial {
			t.Errorf("stats = %+v, want 6 keys examined: 3 claimed, 2 committed, 1 corrupt", v)
		}
		if v.ShortestLease == nil || v.ShortestLease.Key != "short" || !v.NotRenewed {
			t.Errorf("shortest lease %+v (not renewed: %v), want the 5s claim, not renewed on a 10s lease", v.ShortestLease, v.NotRenewed)
		}
		if v.MemoryBytes <= 0 || v.ServerMemoryBytes < v.MemoryBytes {
			t.Errorf("memory %d of %d bytes", v.MemoryBytes, v.ServerMemoryBytes)
		}
		text := on(t, srv, "", "stats")
		text.want(t, exitOK)
		text.fieldsAre(t, map[string]string{"examined": "6 keys; the scan is complete", "claimed": "3 (0 marked by a waiting duplicate)", "committed": "2"})
		partial := on(t, srv, "", "-json", "stats", "--max-keys", "1", "--count", "1", "--max-scans", "5")
		partial.want(t, exitOK)
		if err := json.Unmarshal([]byte(partial.out), &v); err != nil || (!v.Partial && v.Examined != 6) {
			t.Errorf("stats on a budget = %q (%v), want partial, or all 6 keys", partial.out, err)
		}
	})
}
