package main

import (
	"context"
	"regexp"
	"time"
)

// section is one table of the report.
type section int

const (
	sectionKafka section = iota
	sectionKafkaIO
	sectionPostgres
	sectionBatch
	sectionWatermill
	sectionHTTP
	sectionMemory
)

// row is one line of a table: what it measures and what it measured.
type row struct {
	name     string
	section  section
	unit     string // of the rate: "msgs/s" or "keys/s"
	needs    need
	server   func(*services) *server   // whose INFO deltas the row reports; nil: none
	baseline string                    // the row its median is divided by
	floor    string                    // the floor row its Redis CPU per key is divided by
	keysDDL  func(table string) string // a row on PostgreSQL: its dedupe table's DDL; nil: no PostgreSQL figures
	note     string                    // how it is measured, for the report
	run      runFunc
	latency  *latencies // an HTTP row's per-request latency, by round; nil for others

	samples []sample
	errs    []error
}

// runFunc measures one round of a row. It returns the timed part and how
// many messages or keys it covered; it must return soon after ctx ends.
type runFunc func(ctx context.Context, env *services, rr rowRound) (timed, error)

// rowRound is what a round of a row gets: its round number and, for a row
// with a server, the server and a fresh key prefix on it; for a row on
// PostgreSQL, the server and the round's tables, created empty.
type rowRound struct {
	row    string
	round  int
	server *server
	prefix string
	pg     *pgServer
	tables pgTables
}

// timed is the measured part of a round.
type timed struct {
	elapsed time.Duration
	items   int
	first   time.Duration // from the start to the first message; 0: not measured (a row that is not a consumer)
}

// filter keeps the rows whose names match re.
func filter(rows []*row, re *regexp.Regexp) []*row {
	var kept []*row
	for _, r := range rows {
		if re.MatchString(r.name) {
			kept = append(kept, r)
		}
	}
	return kept
}

// find returns the row of that name, or nil.
func find(rows []*row, name string) *row {
	for _, r := range rows {
		if r.name == name {
			return r
		}
	}
	return nil
}
