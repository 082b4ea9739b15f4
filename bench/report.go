package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// writeReport writes RESULTS.md: a header, a table per section, the
// targets, and the failures if any.
func writeReport(path string, res *results) error {
	var b bytes.Buffer
	writeHeader(&b, res)
	for _, s := range []section{sectionKafka, sectionKafkaIO, sectionPostgres, sectionBatch, sectionWatermill, sectionHTTP,
		sectionMemory} {
		writeSection(&b, res, s)
	}
	writeTargets(&b, res)
	writeFailures(&b, res)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, b.Bytes(), 0o644)
}

func writeHeader(b *bytes.Buffer, res *results) {
	o, m := res.opts, res.machine
	fmt.Fprintf(b, "# idemq benchmark results\n\n")
	fmt.Fprintf(b, "Command: `make bench` (`scripts/services.sh start`, the variables of `scripts/services.sh env`, "+
		"then `go run ./bench`). This file: `%s`, started %s, %d rounds per row, interleaved (round 1 of every "+
		"row, then round 2, ...); the run took %s. Load average (1 min) %s at the start, %s at the end.\n\n",
		o.commandLine(), res.started.UTC().Format("2006-01-02 15:04 MST"), o.rounds, res.elapsed.Round(time.Second),
		m.loadStart, res.loadEnd)
	fmt.Fprintf(b, "| machine | |\n|---|---|\n")
	fmt.Fprintf(b, "| CPUs (runtime.NumCPU) | %d |\n| OS/arch | %s/%s |\n| Go | %s |\n", m.cpus, m.goos, m.goarch, m.goVersion)
	for _, s := range [][2]string{{"Redis (IDEMQ_REDIS_ADDR, INFO server)", m.redis},
		{"Valkey (IDEMQ_VALKEY_ADDR, INFO server)", m.valkey}, {"PostgreSQL (IDEMQ_POSTGRES_URL, its settings)", m.postgres},
		{"Kafka (IDEMQ_KAFKA_BROKERS, from its log)", m.kafka}} {
		if s[1] != "" {
			fmt.Fprintf(b, "| %s | %s |\n", s[0], s[1])
		}
	}
	b.WriteString("\nKafka, Redis, Valkey, PostgreSQL and this program share the machine's cores, and other work may run on it: " +
		"compare figures within this file only. Every figure is the median over the rounds (min and max of the rate " +
		"beside it); ratios are of medians. Server figures are deltas of INFO around each round: CPU is " +
		"used_cpu_user + used_cpu_sys, commands are commandstats calls (a script call counts once and each command it " +
		"runs counts too; INFO itself is left out), per message or key of the round; anything else the server did " +
		"meanwhile counts too. Consumer CPU is this process's getrusage(RUSAGE_SELF) user + sys over the round, " +
		"per message or key. Every round starts after a runtime.GC(). The server is shared with whatever else runs on the machine: a round during which a " +
		"connection we did not open was made, or a client not named ours sent a command (CLIENT LIST), counts as " +
		"shared (last column), and the server figures come from the other rounds when there are any. The top " +
		"commands are calls per key over those rounds.\n")
}

func writeSection(b *bytes.Buffer, res *results, s section) {
	rows := rowsOf(res.rows, s)
	if len(rows) == 0 {
		return
	}
	fmt.Fprintf(b, "\n## %s\n\n%s\n\n", sectionTitles[s], sectionIntro(res, s))
	columns, render := serverColumns, tableRow
	switch s {
	case sectionPostgres:
		columns, render = pgColumns, pgTableRow
	case sectionMemory:
		columns, render = memoryColumns, memoryTableRow
	}
	b.WriteString(columns)
	for _, r := range rows {
		b.WriteString(render(res.rows, r) + "\n")
	}
	b.WriteString("\n")
	for _, r := range rows {
		if r.note != "" {
			fmt.Fprintf(b, "- `%s`: %s.\n", r.name, r.note)
		}
	}
	writeSteady(b, res.rows, rows)
	if s == sectionHTTP {
		writeLatencies(b, res.rows)
	}
}

// writeSteady lists the consumer rows' rates from the first message to the
// last beside their end-to-end rates, if the section has any.
func writeSteady(b *bytes.Buffer, all, rows []*row) {
	var lines []string
	for _, r := range rows {
		if line, ok := steadyRow(all, r); ok {
			lines = append(lines, line)
		}
	}
	if len(lines) == 0 {
		return
	}
	b.WriteString("\nFrom the first message to the last (the steady state: without the join, the first fetch and the " +
		"consumer's start), beside the end-to-end median of the table above; the time to the first message runs from " +
		"where the row's timing starts (the join, or Run). Ratios are of steady medians.\n\n" + steadyColumns)
	b.WriteString(strings.Join(lines, "\n") + "\n")
}

const steadyColumns = "| row | end-to-end median | steady median | min | max | steady ratio to baseline | " +
	"to the first message (median) |\n|---|--:|--:|--:|--:|--:|--:|\n"

// The columns of a table: a Redis server's figures, or PostgreSQL's.
const (
	serverColumns = "| row | median | min | max | ratio to baseline | consumer CPU µs/item | server CPU µs/key | × floor | " +
		"server cmds/key | top commands per key | rounds others used the server |\n|---|--:|--:|--:|--:|--:|--:|--:|--:|---|---|\n"
	pgColumns = "| row | median | min | max | ratio to baseline | consumer CPU µs/item | PostgreSQL commits/msg | " +
		"WAL bytes/msg | rounds others used the server |\n|---|--:|--:|--:|--:|--:|--:|--:|---|\n"
)

var sectionTitles = map[section]string{
	sectionKafka:     "Kafka consumers (msgs/s)",
	sectionKafkaIO:   "Kafka consumers whose handler does I/O (msgs/s)",
	sectionPostgres:  "Kafka consumers with their effects in PostgreSQL (msgs/s)",
	sectionBatch:     "Batch path and the two-write floor (keys/s)",
	sectionWatermill: "Watermill middleware (msgs/s)",
	sectionHTTP:      "HTTP middleware (requests/s)",
	sectionMemory:    "Server memory per committed key (bytes/key)",
}

func rowsOf(rows []*row, s section) []*row {
	var in []*row
	for _, r := range rows {
		if r.section == s {
			in = append(in, r)
		}
	}
	return in
}
