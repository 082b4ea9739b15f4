package main

import (
	"fmt"
	"strings"
	"time"
)

// timelineWidth is the number of columns of the timeline.
const timelineWidth = 100

var bars = []rune(" ▁▂▃▄▅▆▇█")

// timeline draws each topic's throughput (final outcomes per column of
// time) from the producer's start to the end of the drain, and a line
// marking where each fault began.
func timeline(topics []topicResult, progress [][]time.Time, faults []*faultResult, from, to time.Time, postgres bool) []string {
	span := to.Sub(from)
	if span <= 0 {
		return nil
	}
	col := func(t time.Time) int {
		return min(max(int(int64(timelineWidth)*int64(t.Sub(from))/int64(span)), 0), timelineWidth-1)
	}
	lines := []string{fmt.Sprintf("timeline: %s per column, throughput scaled to each topic's busiest column", seconds(span/timelineWidth))}
	for i, tr := range topics {
		counts := make([]int, timelineWidth)
		peak := 1
		for _, t := range progress[i] {
			c := col(t)
			counts[c]++
			peak = max(peak, counts[c])
		}
		var b strings.Builder
		for _, n := range counts {
			b.WriteRune(bars[(n*(len(bars)-1)+peak-1)/peak])
		}
		lines = append(lines, fmt.Sprintf("%-9s |%s|", short9(tr.title), b.String()))
	}
	marks := []rune(strings.Repeat(" ", timelineWidth))
	for _, f := range faults {
		marks[col(f.start)] = faultMark(f.kind)
	}
	legend := "           K SIGKILL, T SIGTERM, R Redis restart, X Redis crash, P Redis write pause, r Redis latency/cut/freeze, k Kafka latency/cut/freeze"
	if postgres {
		legend = "           K SIGKILL, T SIGTERM, G PostgreSQL restart, B backends terminated, C COMMIT answers lost, g PostgreSQL cut/freeze, k Kafka latency/cut/freeze"
	}
	return append(lines, fmt.Sprintf("%-9s |%s|", "faults", string(marks)), legend)
}

func short9(s string) string { return s[:min(len(s), 9)] }

func faultMark(k faultKind) rune {
	switch k {
	case faultKill:
		return 'K'
	case faultTerm:
		return 'T'
	case faultRedisRestart:
		return 'R'
	case faultRedisCrash:
		return 'X'
	case faultRedisLatency, faultRedisCut, faultRedisFreeze:
		return 'r'
	case faultRedisPause:
		return 'P'
	case faultPGRestart:
		return 'G'
	case faultPGTerminate:
		return 'B'
	case faultPGCut, faultPGFreeze:
		return 'g'
	case faultPGCommitLost:
		return 'C'
	}
	return 'k'
}
