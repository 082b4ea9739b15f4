package main

import (
	"context"
	"flag"
	"fmt"
	"time"

	"github.com/idemq/idemq/dedupe"
	"github.com/idemq/idemq/dedupe/redisstore"
)

func statsCommand() command {
	return command{
		name: "stats", synopsis: "stats [--max-keys N] [--lease D]",
		summary: "counts by state, the claim with the least lease left, memory used",
		help: `
Scans the prefix (SCAN, every master of a Cluster; at most --max-keys keys and
--max-scans SCAN calls, after which the counts are partial and say so) and reports
how many keys are claimed (and marked by a waiting duplicate), committed, or corrupt;
the claim with the least lease left; the memory of the keys examined (the sum of
MEMORY USAGE of each) and of the servers (INFO memory's used_memory, summed over the
masters).

No claim's age is known (a claim records neither when it was taken nor its lease),
so the claim with the least lease left stands in for the oldest. A live owner renews
its claims every third of its shortest lease, --lease (a Batch's queued lease, 5s by
default, as the adapters use it; Run's lease, if that is shorter): a claim with less
than 2/3 of --lease left was not renewed on time, so its owner is likely gone.`,
		new: newStats,
	}
}

type statsFlags struct {
	maxKeys, maxScans, count int
	lease                    time.Duration
}

func newStats(fs *flag.FlagSet) action {
	f := &statsFlags{}
	fs.IntVar(&f.maxKeys, "max-keys", 100_000, "the most keys of the prefix to examine")
	fs.IntVar(&f.maxScans, "max-scans", 1000, "the most SCAN calls (they walk the whole database, other prefixes too)")
	fs.IntVar(&f.count, "count", 1000, "SCAN's COUNT: keys each SCAN call examines, roughly")
	fs.DurationVar(&f.lease, "lease", dedupe.DefaultQueuedLease, "the shortest lease live owners renew their claims with (a Batch's queued lease), to tell a claim not renewed on time")
	return f.run
}

// statsView is the -json form of stats.
type statsView struct {
	Prefix            string   `json:"prefix"`
	Examined          int64    `json:"examined"`
	Claimed           int64    `json:"claimed"`
	Watched           int64    `json:"watched"`
	Committed         int64    `json:"committed"`
	Corrupt           int64    `json:"corrupt"`
	Foreign           int64    `json:"foreign"`
	ShortestLease     *keyView `json:"shortest_lease"` // null when no claim
	NotRenewed        bool     `json:"shortest_lease_not_renewed"`
	MemoryBytes       int64    `json:"memory_bytes"`
	ServerMemoryBytes int64    `json:"server_memory_bytes"`
	Partial           bool     `json:"partial"`
}

func (f *statsFlags) run(ctx context.Context, a *app, args []string) error {
	if len(args) > 0 {
		return usagef("stats takes no arguments, not %q", args)
	}
	if f.maxKeys < 1 || f.maxScans < 1 || f.count < 1 || f.lease <= 0 {
		return usagef("stats: --max-keys, --max-scans, --count and --lease must be more than 0")
	}
	c, err := a.open(ctx)
	if err != nil {
		return err
	}
	defer c.close()
	ctx, cancel := a.bounded(ctx)
	defer cancel()
	st, err := c.store.Stats(ctx, redisstore.StatsOptions{MaxKeys: f.maxKeys, MaxScans: f.maxScans, Count: f.count})
	if err != nil {
		return fmt.Errorf("idemq: stats: %w", err)
	}
	return a.printStats(f.view(a, st))
}

func (f *statsFlags) view(a *app, st redisstore.StoreStats) statsView {
	v := statsView{
		Prefix: a.g.prefix, Examined: st.Examined, Claimed: st.Claimed, Watched: st.Watched, Committed: st.Committed,
		Corrupt: st.Corrupt, Foreign: st.Foreign, MemoryBytes: st.MemoryBytes, ServerMemoryBytes: st.ServerMemoryBytes, Partial: st.Partial,
	}
	if st.ShortestLease.Key != "" {
		kv := a.view(st.ShortestLease, nil)
		v.ShortestLease, v.NotRenewed = &kv, st.ShortestLease.TTL < f.lease*2/3
	}
	return v
}

func (a *app) printStats(v statsView) error {
	if a.g.json {
		return printJSON(a.out, v)
	}
	scan := plural(int(v.Examined), "key") + "; the scan is complete"
	if v.Partial {
		scan = plural(int(v.Examined), "key") + "; stopped at --max-keys or --max-scans: the counts cover part of the prefix"
	}
	fields(a.out, [][2]string{
		{"prefix", display(v.Prefix)},
		{"examined", scan},
		{"claimed", fmt.Sprintf("%d (%d marked by a waiting duplicate)", v.Claimed, v.Watched)},
		{"committed", fmt.Sprint(v.Committed)},
		{"corrupt", fmt.Sprintf("%d (records that are none of idemq's)", v.Corrupt)},
		{"foreign", fmt.Sprintf("%d (keys under the prefix of another layout)", v.Foreign)},
		{"shortest lease", shortestText(v)},
		{"memory (keys)", bytesText(v.MemoryBytes) + ", MEMORY USAGE of each key examined"},
		{"memory (servers)", bytesText(v.ServerMemoryBytes) + ", INFO used_memory of every master"},
	})
	return nil
}

func shortestText(v statsView) string {
	kv := v.ShortestLease
	if kv == nil {
		return "none (no claim)"
	}
	s := fmt.Sprintf("%s: %s left, token %s", display(kv.Key), ttlText(kv.TTLMillis), kv.Token)
	if v.NotRenewed {
		s += " (not renewed on time: its owner is likely gone)"
	}
	return s
}
