package main

import (
	"bytes"
	"fmt"
	"time"
)

// httpIntro says how the HTTP rows are measured.
func httpIntro(res *results) string {
	return fmt.Sprintf("An httptest server on loopback (net/http's ServeMux) and %d clients in this process on "+
		"keep-alive connections, each sending its next `POST /orders` (a %d-byte JSON body, a new Idempotency-Key, "+
		"an %s header) once it has read the last answer; %s requests per round. The handler reads the body and "+
		"answers 201 with a Location and a small JSON body; a round fails unless every request got 201 (none a "+
		"replay) and the handler ran once per request. Every client's connection is opened before the timed part, "+
		"which runs from the first POST to the last answer. Consumer CPU is this whole process's: clients, server "+
		"and middleware. × floor: server CPU per key over that of `%s`.",
		httpClients, len(orderBody), accountHeader, rate(float64(res.opts.messages)), floorName("redis", floorDepth))
}

// writeLatencies writes the latency table of the HTTP rows.
func writeLatencies(b *bytes.Buffer, all []*row) {
	b.WriteString("\nLatency per request, measured by its client from sending the request to reading the whole " +
		"answer: p50 and p99 over every request of a round (nearest rank), medians over the rounds. Added: the " +
		"row's percentile minus that of its baseline in the same round, the median over the rounds both measured.\n\n" +
		"| row | p50 µs | p99 µs | added p50 µs | added p99 µs |\n|---|--:|--:|--:|--:|\n")
	for _, r := range rowsOf(all, sectionHTTP) {
		b.WriteString(latencyRow(all, r) + "\n")
	}
}

func latencyRow(all []*row, r *row) string {
	base := find(all, r.baseline)
	var baseLat *latencies
	if base != nil {
		baseLat = base.latency
	}
	s, ok := summarizeLatency(r.latency, baseLat)
	switch {
	case !ok:
		return "| `" + r.name + "` | failed | | | |"
	case r.name == r.baseline:
		return fmt.Sprintf("| `%s` | %d | %d | 0 (baseline) | 0 (baseline) |", r.name, s.p50.Microseconds(), s.p99.Microseconds())
	case s.paired == 0:
		return fmt.Sprintf("| `%s` | %d | %d | - | - |", r.name, s.p50.Microseconds(), s.p99.Microseconds())
	}
	return fmt.Sprintf("| `%s` | %d | %d | %d | %d |", r.name, s.p50.Microseconds(), s.p99.Microseconds(),
		s.addedP50.Microseconds(), s.addedP99.Microseconds())
}

// latencyTarget is a bound on the p99 latency a row adds to another's.
type latencyTarget struct {
	what    string
	row, of string // row's p99 - of's, round by round
	bound   time.Duration
}

var latencyTargets = []latencyTarget{
	{"added p99 latency of the HTTP middleware on Redis over the bare handler, 64 clients", httpIdemqRow, httpBareRow, time.Millisecond},
}

// writeLatencyTargets adds the latency targets to the targets table.
func writeLatencyTargets(b *bytes.Buffer, all []*row) {
	for _, t := range latencyTargets {
		measured, met := "not measured", "-"
		if added, ok := t.measure(all); ok {
			measured, met = fmt.Sprintf("%.2f ms", milliseconds(added)), "no"
			if added <= t.bound {
				met = "yes"
			}
		}
		fmt.Fprintf(b, "| %s (`%s` − `%s`, p99) | %s | ≤ %.3g ms | %s |\n", t.what, t.row, t.of, measured,
			milliseconds(t.bound), met)
	}
}

// measure is the p99 the row added in this run; false unless both rows
// have a round in common.
func (t latencyTarget) measure(all []*row) (time.Duration, bool) {
	r, of := find(all, t.row), find(all, t.of)
	if r == nil || of == nil || r.latency == nil || of.latency == nil {
		return 0, false
	}
	s, ok := summarizeLatency(r.latency, of.latency)
	return s.addedP99, ok && s.paired > 0
}

func milliseconds(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
