package main

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/idemq/idemq/consumer"
)

// tableRow renders one row of a section's table with a server's columns.
func tableRow(all []*row, r *row) string {
	sum, ok := r.summarize()
	if !ok {
		return "| `" + r.name + "` | failed | | | | | | | | | |"
	}
	cells := rateCells(all, r, sum)
	if sv := sum.server; sv == nil {
		cells = append(cells, "", "", "", "", "")
	} else {
		cells = append(cells, fmt.Sprintf("%.2f", sv.cpu),
			ratioCell(ratioTo(all, r.floor, sv.cpu, serverCPU)),
			fmt.Sprintf("%.2f", sv.cmds), topCommands(sv.perCommand, 6), sharedCell(sv.shared, sv.rounds, len(r.samples)))
	}
	if r.name == r.floor && len(cells) > 7 {
		cells[7] = "1 (floor)"
	}
	return "| " + strings.Join(cells, " | ") + " |"
}

// steadyRow renders one row of a section's steady-state table, false for a
// row without those figures.
func steadyRow(all []*row, r *row) (string, bool) {
	sum, ok := r.summarize()
	if !ok || sum.steady == nil {
		return "", false
	}
	st := sum.steady
	ratio := ratioCell(ratioTo(all, r.baseline, st.median, steadyMedian))
	if r.name == r.baseline {
		ratio = "1 (baseline)"
	}
	return fmt.Sprintf("| `%s` | %s | %s | %s | %s | %s | %s |", r.name, rate(sum.median), rate(st.median),
		rate(st.min), rate(st.max), ratio, st.first.Round(time.Millisecond)), true
}

// steadyMedian is the figure steady ratios divide: NaN without steady figures.
func steadyMedian(s summary) float64 {
	if s.steady == nil {
		return math.NaN()
	}
	return s.steady.median
}

// pgTableRow renders one row of the PostgreSQL section's table.
func pgTableRow(all []*row, r *row) string {
	sum, ok := r.summarize()
	if !ok {
		return "| `" + r.name + "` | failed | | | | | | | |"
	}
	cells := rateCells(all, r, sum)
	if pg := sum.postgres; pg == nil {
		cells = append(cells, "", "", "")
	} else {
		cells = append(cells, fmt.Sprintf("%.3f", pg.commits), rate(pg.wal), sharedCell(pg.shared, pg.rounds, len(r.samples)))
	}
	return "| " + strings.Join(cells, " | ") + " |"
}

// rateCells are the first cells of every table: the name, the rates, the
// ratio to the baseline and the consumer's CPU.
func rateCells(all []*row, r *row, sum summary) []string {
	ratio := ratioCell(ratioTo(all, r.baseline, sum.median, func(s summary) float64 { return s.median }))
	if r.name == r.baseline {
		ratio = "1 (baseline)"
	}
	return []string{"`" + r.name + "`", rate(sum.median), rate(sum.min), rate(sum.max), ratio,
		fmt.Sprintf("%.2f", sum.cpuPerItem)}
}

// ratioTo divides x by the figure of the named row, NaN when that row is
// absent or failed.
func ratioTo(all []*row, name string, x float64, figure func(summary) float64) float64 {
	if name == "" {
		return math.NaN()
	}
	base := find(all, name)
	if base == nil {
		return math.NaN()
	}
	s, ok := base.summarize()
	if !ok || figure(s) == 0 || math.IsNaN(figure(s)) {
		return math.NaN()
	}
	return x / figure(s)
}

// serverCPU is the figure the floor ratios divide: NaN without server figures.
func serverCPU(s summary) float64 {
	if s.server == nil {
		return math.NaN()
	}
	return s.server.cpu
}

// sharedCell says in how many rounds others used the server, and from how
// many rounds (used) the server figures come.
func sharedCell(shared, used, rounds int) string {
	switch {
	case shared == 0:
		return fmt.Sprintf("0 of %d", rounds)
	case used == shared:
		return fmt.Sprintf("%d of %d (figures from all)", shared, rounds)
	}
	return fmt.Sprintf("%d of %d (figures from the other %d)", shared, rounds, used)
}

func ratioCell(x float64) string {
	if math.IsNaN(x) {
		return "-"
	}
	return fmt.Sprintf("%.2f", x)
}

// rate formats a rate with thousands separators: 412,345.
func rate(x float64) string {
	s := strconv.FormatInt(int64(math.Round(x)), 10)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// sectionIntro says what a section's rows share.
func sectionIntro(res *results, s section) string {
	o := res.opts
	switch s {
	case sectionKafka:
		intro := fmt.Sprintf("Topics produced once up front: %s messages of %d B on %d partitions, round-robin, "+
			"the key in header %s.", rate(float64(o.messages)), o.valueSize, o.partitions, keyHeader)
		if k := res.env.kafka; k != nil && k.dups.name != "" {
			intro += fmt.Sprintf(" Fresh-key topic: %s unique keys. Duplicates topic: %s unique keys; %s messages "+
				"(%.1f%%) repeat an earlier message's key, %s of them on another partition than that key's first message.",
				rate(float64(k.fresh.uniqueKeys)), rate(float64(k.dups.uniqueKeys)), rate(float64(k.dups.repeats)),
				100*float64(k.dups.repeats)/float64(k.dups.messages), rate(float64(k.dups.elsewhere)))
		}
		return intro + " Each round has a fresh consumer group and a fresh key prefix. Timed from the join (or Run) " +
			"to the last message fetched (raw rows) or given its final outcome (idemq rows: handler and duplicate " +
			"calls == messages); CPU is counted until Run has returned. Group settings of every kafka-go row: " +
			"MaxWait 250ms, MaxBytes 10 MiB, heartbeat 100ms, session 6s; of every franz-go row: FetchMaxWait 250ms, " +
			"FetchMaxPartitionBytes 10 MiB, the same heartbeat and session, the cooperative-sticky balancer. " +
			"× floor: server CPU per key over that of `" +
			floorName("redis", floorDepth) + "` (Valkey rows: `" + floorName("valkey", floorDepth) + "`)."
	case sectionKafkaIO:
		return ioIntro(res)
	case sectionPostgres:
		return fmt.Sprintf("The fresh-key topic of the Kafka section; a fresh consumer group per round, and two fresh "+
			"tables, created before the round's window and dropped after it: the effects (`%s`) and the row's dedupe "+
			"table. Both rows write through a pgx pool of %d connections (one per partition), opened and closed in the "+
			"round, one transaction per message, one at a time per partition; timed as the Kafka section's rows (the "+
			"floor: to the last message's COMMIT), and each round must leave one effect row per message. PostgreSQL "+
			"figures are per message over the whole round (the pool's sessions have ended, their statistics flushed, "+
			"before the second reading): commits are the delta of pg_stat_database.xact_commit of the database of "+
			"IDEMQ_POSTGRES_URL (with a few statements of our measuring session), WAL bytes the delta of "+
			"pg_current_wal_lsn() (the whole server: autovacuum and checkpoints included). A round counts as shared "+
			"(last column) when a session we did not open started (pg_stat_database.sessions, all databases) or another "+
			"client session was active (pg_stat_activity) during it. Ratios are to `%s`.",
			fmt.Sprintf(effectsSchema, "effects"), o.partitions, pgFloorRow)
	case sectionHTTP:
		return httpIntro(res)
	case sectionMemory:
		return memoryIntro(res)
	case sectionBatch:
		return fmt.Sprintf("Fresh keys under a fresh prefix per round, %d goroutines sharing one store; "+
			"%s keys per round. A floor row of depth d sends, per round of d keys, one pipeline of d "+
			"`SET k C<token> NX PX %d` and then one of d `SET k V<token>:%s XX PX %d` (the claim and the fenced "+
			"overwrite, unchecked); a batch row claims d keys with one dedupe.Batch (lease 30s), ends each with "+
			"struct{}{} and waits for every commit. Ratios are to the floor of the same server and depth.",
			callers, rate(float64(o.messages)), floorLeaseMS, floorValue, floorTTLMS)
	}
	return fmt.Sprintf("A router on GoChannel, %d messages in flight (%d goroutines each publishing its next "+
		"message once the last was handled), every message a new key, %s messages per round; timed from the first "+
		"publish to the last message handled. × floor: server CPU per key over that of `"+floorName("redis", floorDepth)+"`.", wmInFlight, wmInFlight, rate(float64(o.messages)))
}

// ioIntro says what the rows whose handler does I/O share.
func ioIntro(res *results) string {
	o := res.opts
	return fmt.Sprintf("The keyed topic, produced once up front: %s messages of %d B on %d partitions, round-robin, "+
		"every message a new key in header %s, and Kafka message keys a0 ... a%d (%d per partition, every message "+
		"of a Kafka key on one partition, as a producer hashing keys would place them). The handler's work per "+
		"message: `kafka-incr/*`, one Redis round trip, an INCR of a counter named after the message's Kafka key "+
		"under the round's key prefix, through the go-redis client (pool of 64) the idemq rows' store uses too; "+
		"`kafka-2ms/*`, %s on a timer (time.NewTimer, no I/O), standing for a call to a slower service. The raw "+
		"rows run `%s`'s loop: one goroutine per partition, each message handled before the next is fetched, "+
		"as a plain kafka-go consumer is written. The idemq rows run the consumer with default settings "+
		"(MaxInFlight %d, BatchSize %d) and the Ordering their name says; the handler calls end(struct{}{}) after "+
		"its work. Timed as the Kafka section's rows; ratios are to the raw row of the same handler. Server "+
		"figures include the handlers' INCRs (one per message).",
		rate(float64(o.ioMessages)), o.valueSize, o.partitions, keyHeader, o.partitions*kafkaKeysPerPartition-1,
		kafkaKeysPerPartition, ioLatency, rawGroupRow, consumer.DefaultMaxInFlight, consumer.DefaultBatchSize)
}
