package main

import (
	"bytes"
	"fmt"
	"math"
	"strings"

	"github.com/idemq/idemq/dedupe/redisstore"
)

const memoryColumns = "| row | one record (STRLEN, OBJECT ENCODING) | bytes/key | min | max | × marker | " +
	"after deleting, bytes/key | rounds disturbed |\n|---|---|--:|--:|--:|--:|--:|---|\n"

// memoryTableRow renders one row of the memory table.
func memoryTableRow(all []*row, r *row) string {
	sum, ok := r.summarize()
	if !ok || sum.memory == nil {
		return "| `" + r.name + "` | failed | | | | | | |"
	}
	m := sum.memory
	ratio := ratioCell(ratioTo(all, r.baseline, m.median, memoryPerKey))
	if r.name == r.baseline {
		ratio = "1 (baseline)"
	}
	return fmt.Sprintf("| `%s` | %s | %.1f | %.1f | %.1f | %s | %s | %s |", r.name, m.record, m.median, m.min, m.max,
		ratio, bytesCell(m.residual), sharedCell(m.disturbed, m.rounds, len(r.samples)))
}

// bytesCell formats a small per-key figure, 0.00 rather than -0.00.
func bytesCell(x float64) string {
	if math.Abs(x) < 0.005 {
		x = 0
	}
	return fmt.Sprintf("%.2f", x)
}

// memoryPerKey is the figure memory ratios divide: NaN without memory figures.
func memoryPerKey(s summary) float64 {
	if s.memory == nil {
		return math.NaN()
	}
	return s.memory.median
}

// memoryIntro says how the memory rows are measured.
func memoryIntro(res *results) string {
	var allocators []string
	k := ""
	for _, s := range []*server{res.env.redis, res.env.valkey} {
		if s != nil {
			allocators, k = append(allocators, fmt.Sprintf("%s %s", s.label, s.allocator)), memoryKey(s.memoryBase+"00-", 0)
		}
	}
	return fmt.Sprintf("What remembering a key costs the server. Each round writes %s fresh keys: user keys of %d "+
		"bytes, kept at record keys of %d (`%s` + `{key}`, the default prefix), the same names for every row. The "+
		"memory is INFO memory used_memory less the buffers it reports (mem_clients_normal, mem_clients_slaves, "+
		"mem_replication_backlog, mem_aof_buffer), read once it has settled (two readings %s apart within %d bytes, "+
		"%d readings at most): before the writes, after them (the writing clients closed), and after deleting "+
		"every key of the round. bytes/key is the growth over the keys written, median over the rounds nothing "+
		"disturbed (min and max beside it); after deleting is what remained per key (about 0 when nothing else "+
		"changed the server's memory). A round is disturbed (last column) when another client used the server "+
		"(as in the other tables) or more than 1 byte per key plus 2%% of its figure remained after deleting "+
		"(others' keys expiring or deleted, a hash table resized for them). It includes each key's share of the keyspace's and the "+
		"expiries' hash tables, so it depends on how many keys the server holds. The record column is one key's "+
		"stored string. Allocators (INFO memory mem_allocator): %s.",
		rate(float64(res.opts.messages)), len(k), len(recordKey(k)), redisstore.DefaultPrefix,
		settleEvery, settleSlack, settleReads, strings.Join(allocators, ", "))
}

// memoryTargets are the memory targets of issue 25: a row's bytes per key
// over its server's marker (bound 0: a figure without a target).
var memoryTargets = []struct {
	what, row  string
	bound      float64
	issueToday string
}{
	{"Redis memory per key committed by dedupe.Run with a 24-byte value vs a plain marker under the same key name, Redis 7.0",
		memoryName("redis", "run", 24), 1.3, "1.68×"},
	{"the same committed by dedupe.Batch", memoryName("redis", "batch", 24), 1.3, ""},
	// No target: the floor under the two above, since a record that holds
	// the value cannot cost less than the value stored bare.
	{"the 24-byte value alone, stored bare under the same key name: the floor of any record that keeps it",
		memoryName("redis", "value", 24), 0, ""},
}

func writeMemoryTargets(b *bytes.Buffer, rows []*row) {
	for _, t := range memoryTargets {
		measured, met := "not measured", "-"
		if r := find(rows, t.row); r != nil {
			if s, ok := r.summarize(); ok {
				if ratio := ratioTo(rows, r.baseline, memoryPerKey(s), memoryPerKey); !math.IsNaN(ratio) {
					measured, met = fmt.Sprintf("%.2f×", ratio), "no"
					if ratio <= t.bound {
						met = "yes"
					}
					if t.bound == 0 {
						met = "-"
					}
				}
			}
		}
		what := fmt.Sprintf("%s (`%s` / `%s`)", t.what, t.row, markerRow("redis"))
		if t.issueToday != "" {
			what += "; the issue's starting point " + t.issueToday
		}
		bound := fmt.Sprintf("≤ %.2g×", t.bound)
		if t.bound == 0 {
			bound = "-"
		}
		fmt.Fprintf(b, "| %s | %s | %s | %s |\n", what, measured, bound, met)
	}
}
