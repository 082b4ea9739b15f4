package main

import (
	"bytes"
	"fmt"
	"math"
)

// target is one of the targets of issues 13 and 24 to 27: a ratio of two figures of this run.
type target struct {
	what       string
	row, of    string // row's figure / of's figure
	serverCPU  bool   // the figure: server CPU per key; otherwise the median rate
	atMost     bool   // met when the ratio is <= bound; otherwise >=
	bound      float64
	issueToday string // the figure the issue starts from
}

var targets = []target{
	{"Redis CPU per fresh key (claim + commit) vs the two-write floor, Redis 7.0", "kafka/idemq-redis", floorName("redis", floorDepth), true, true, 1.5, "≈ 4-5×"},
	{"the same on Valkey 8.1", "kafka/idemq-valkey", floorName("valkey", floorDepth), true, true, 1.2, ""},
	{"Kafka adapter on a do-nothing store vs raw ConsumerGroup", "kafka/idemq-nullstore", rawGroupRow, false, false, 0.85, "0.59×"},
	{"on the memory store", "kafka/idemq-memory", rawGroupRow, false, false, 0.7, "0.31×"},
	{"on Redis, claim-first, fresh keys", "kafka/idemq-redis", rawGroupRow, false, false, 0.4, "0.15×"},
	{"on Redis, 20% duplicate keys", "kafka/idemq-redis-dup20", rawGroupRow, false, false, 0.45, ""},
	{"on Valkey 8.1", "kafka/idemq-valkey", rawGroupRow, false, false, 0.5, ""},
	{"optimistic mode on Redis", "kafka/idemq-redis-optimistic", rawGroupRow, false, false, 0.3, "0.04×"},
	{"idemqfranz (franz-go) on a do-nothing store vs raw franz-go", franzNullStoreRow, franzRow, false, false, 0.85, ""},
	{"idemqfranz on Valkey 8.1 vs idemqkafka (kafka-go) on Valkey 8.1", franzValkeyRow, "kafka/idemq-valkey", false, false, 1.3, ""},
	{"idemq consumer on the PostgreSQL store vs a hand-written loop of one transaction per message",
		"kafka/idemq-postgres", pgFloorRow, false, false, 0.8, ""},
	{"a handler that makes one Redis round trip (INCR), idemq consumer with consumer.ByKey vs a plain kafka-go loop, sequential per partition",
		ioName(incrIO, "idemq-redis-bykey"), ioName(incrIO, "raw-consumergroup"), false, false, 3, ""},
	{"the same with consumer.ByPartition", ioName(incrIO, "idemq-redis-bypartition"), ioName(incrIO, "raw-consumergroup"), false, false, 0.8, ""},
	{"dedupe.Batch at batch 500 vs the two-write floor, Redis 7.0 (keys/s)", batchName("redis", 500), floorName("redis", 500), false, false, 0.6, "≈ 0.3×"},
	{"the same on Valkey 8.1", batchName("valkey", 500), floorName("valkey", 500), false, false, 0.6, ""},
	{"HTTP middleware on Redis vs the bare handler, 64 clients (requests/s)", httpIdemqRow, httpBareRow, false, false, 0.5, ""},
	{"dedupe.Run, 64 concurrent callers on fresh keys, vs the two-write floor at depth 64, Redis 7.0 (keys/s)", runRow, runFloor, false, false, 0.5, ""},
}

func writeTargets(b *bytes.Buffer, res *results) {
	b.WriteString("\n## Targets (issues 13 and 24 to 27)\n\n| target | measured | target | met |\n|---|--:|--:|---|\n")
	for _, t := range targets {
		ratio := t.measure(res.rows)
		measured, met := "not measured", "-"
		if !math.IsNaN(ratio) {
			measured, met = fmt.Sprintf("%.2f×", ratio), "no"
			if (t.atMost && ratio <= t.bound) || (!t.atMost && ratio >= t.bound) {
				met = "yes"
			}
		}
		cmp := "≥"
		if t.atMost {
			cmp = "≤"
		}
		what := fmt.Sprintf("%s (`%s` / `%s`)", t.what, t.row, t.of)
		if t.issueToday != "" {
			what += "; the issue's starting point " + t.issueToday
		}
		fmt.Fprintf(b, "| %s | %s | %s %.2g× | %s |\n", what, measured, cmp, t.bound, met)
	}
	writeMemoryTargets(b, res.rows)
	writeLatencyTargets(b, res.rows)
}

// measure is the target's ratio in this run, NaN if a row is missing.
func (t target) measure(rows []*row) float64 {
	r := find(rows, t.row)
	if r == nil {
		return math.NaN()
	}
	s, ok := r.summarize()
	if !ok {
		return math.NaN()
	}
	figure := func(s summary) float64 { return s.median }
	if t.serverCPU {
		figure = serverCPU
	}
	return ratioTo(rows, t.of, figure(s), figure)
}

func writeFailures(b *bytes.Buffer, res *results) {
	err := res.failed()
	if err == nil {
		return
	}
	b.WriteString("\n## Failures\n\n```\n" + err.Error() + "\n```\n")
}
