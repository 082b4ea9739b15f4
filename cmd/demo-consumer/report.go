package main

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// report is a run's outcome: one column per phase.
type report struct {
	kafka, redis string
	postgres     string // "" without -postgres
	effects      string // the PostgreSQL effects table
	produced     int
	uniqueKeys   int
	consumers    int
	partitions   int
	phases       []phaseResult
	elapsed      time.Duration
}

// passed reports whether every guarded phase kept its promise: exactly one
// ledger entry per key, nothing else and no lag; for a phase with the
// documented window (idemq on Redis under -postgres) at least one entry
// per key, nothing else and no lag.
func (r report) passed() bool {
	guarded := 0
	for _, p := range r.phases {
		if p.guarded {
			guarded++
			if !p.passed(r.uniqueKeys) {
				return false
			}
		}
	}
	return guarded > 0
}

func (p phaseResult) passed(keys int) bool {
	if p.window {
		return p.noneLost(keys)
	}
	return p.exactlyOnce(keys)
}

func (p phaseResult) exactlyOnce(keys int) bool {
	return p.noneLost(keys) && p.tally.more == 0
}

func (p phaseResult) noneLost(keys int) bool {
	t := p.tally
	return t.once+t.more == keys && t.missing == 0 && t.extra == 0 && p.lag == 0
}

// write prints the report table and its verdict.
func (r report) write(w io.Writer) {
	r.writeHeader(w)
	t := table{}
	t.row("", func(p phaseResult) string { return p.title })
	t.row("produced messages", func(phaseResult) string { return itoa(r.produced) })
	t.row("unique keys", func(phaseResult) string { return itoa(r.uniqueKeys) })
	t.row("handler runs (ledger writes)", func(p phaseResult) string { return itoa(p.effects) })
	if r.postgres != "" {
		t.row("ledger entries at the end", func(p phaseResult) string { return itoa(p.tally.entries) })
	}
	t.row("duplicates acked without reprocessing", guardedOnly(func(p phaseResult) int64 { return p.duplicates }))
	t.row("in-flight duplicates that waited for the owner", guardedOnly(func(p phaseResult) int64 { return p.waited }))
	t.row("rebalances", func(p phaseResult) string { return itoa(p.rebalances) })
	t.row("keys with exactly 1 ledger entry", func(p phaseResult) string { return itoa(p.tally.once) })
	t.row("keys with more than 1 ledger entry", func(p phaseResult) string { return itoa(p.tally.more) })
	t.row("keys with no ledger entry", func(p phaseResult) string { return itoa(p.tally.missing) })
	t.row("group lag at the end", func(p phaseResult) string { return itoa(p.lag) })
	t.row("elapsed", func(p phaseResult) string { return p.elapsed.Round(10 * time.Millisecond).String() })
	t.row("messages/s", func(p phaseResult) string { return itoa(int64(float64(p.messages) / p.elapsed.Seconds())) })
	t.write(w, r.phases)
	fmt.Fprintf(w, "\n%s\n(total %v)\n", r.verdict(), r.elapsed.Round(100*time.Millisecond))
}

func (r report) writeHeader(w io.Writer) {
	if r.postgres == "" {
		fmt.Fprintf(w, "\nKafka: %s   Redis: %s\n%d consumers on %d partitions; consumer 1 stopped abruptly mid-run, another joined.\n\n",
			r.kafka, r.redis, r.consumers, r.partitions)
		return
	}
	fmt.Fprintf(w, "\nKafka: %s   Redis: %s   PostgreSQL: %s\n", r.kafka, r.redis, r.postgres)
	fmt.Fprintf(w, "%d consumers on %d partitions; consumer 1 crashed mid-run right after an effect, before its commit\n", r.consumers, r.partitions)
	fmt.Fprintf(w, "(every connection cut: Kafka, and Redis or PostgreSQL), another joined. Ledger entries: counts in\n")
	fmt.Fprintf(w, "a Redis hash; for idemq (PostgreSQL), rows of %s, written in the\n", r.effects)
	fmt.Fprintf(w, "transaction that holds the key.\n\n")
}

// table is the report's rows: a label, then one cell per phase.
type table []tableRow

type tableRow struct {
	label string
	cell  func(p phaseResult) string
}

func (t *table) row(label string, cell func(p phaseResult) string) {
	*t = append(*t, tableRow{label, cell})
}

// write prints labels left-aligned and cells right-aligned under their
// column's title.
func (t table) write(w io.Writer, phases []phaseResult) {
	labelWidth := 0
	for _, r := range t {
		labelWidth = max(labelWidth, len(r.label))
	}
	for _, r := range t {
		line := fmt.Sprintf("%-*s", labelWidth, r.label)
		for _, p := range phases {
			line += fmt.Sprintf("   %*s", max(len(p.title), 8), r.cell(p))
		}
		fmt.Fprintln(w, line)
	}
}

// guardedOnly shows v for a guarded phase that counted it (v >= 0), "-"
// otherwise.
func guardedOnly(v func(p phaseResult) int64) func(p phaseResult) string {
	return func(p phaseResult) string {
		if !p.guarded || v(p) < 0 {
			return "-"
		}
		return itoa(v(p))
	}
}

func (r report) verdict() string {
	var lines []string
	for _, p := range r.phases {
		switch {
		case !p.guarded:
			lines = append(lines, fmt.Sprintf("without idemq: %d of %d keys got more than one ledger entry (double effects).", p.tally.more, r.uniqueKeys))
		case p.window && p.noneLost(r.uniqueKeys):
			lines = append(lines, fmt.Sprintf("%s: %d of %d keys got a second ledger entry: effects done before the crash, whose commit\n"+
				"never reached Redis, ran again (the documented window); no key lost.", p.title, p.tally.more, r.uniqueKeys))
		case p.passed(r.uniqueKeys):
			lines = append(lines, fmt.Sprintf("PASS %s: exactly-once effects held, every one of the %d keys has exactly 1 ledger entry.", p.title, r.uniqueKeys))
		default:
			lines = append(lines, fmt.Sprintf("FAIL %s: %s did not hold (%d keys with more than 1 entry, %d with none, %d unknown, lag %d).",
				p.title, p.promise(), p.tally.more, p.tally.missing, p.tally.extra, p.lag))
		}
	}
	return strings.Join(lines, "\n")
}

// promise names what a guarded phase promises.
func (p phaseResult) promise() string {
	if p.window {
		return "at least one entry per key"
	}
	return "exactly-once effects"
}

func itoa[T int | int64](n T) string { return strconv.FormatInt(int64(n), 10) }
