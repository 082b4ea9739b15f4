package main

import (
	"context"
	"fmt"
	"io"
	"time"
)

// runRounds interleaves the rounds: round 1 of every row, then round 2 of
// every row, and so on, so that a slow phase of the shared machine hits
// every row alike. A failed round is recorded and the run goes on; an
// interrupted run (ctx cancelled) stops.
func runRounds(ctx context.Context, env *services, rows []*row, rounds int, log io.Writer) {
	for round := 1; round <= rounds; round++ {
		for _, r := range rows {
			if ctx.Err() != nil {
				r.errs = append(r.errs, fmt.Errorf("round %d: %w", round, context.Cause(ctx)))
				continue
			}
			start := time.Now()
			s, err := measure(ctx, env, r, round)
			if err != nil {
				r.errs = append(r.errs, fmt.Errorf("round %d: %w", round, err))
				fmt.Fprintf(log, "bench: round %d/%d %-32s FAILED: %v\n", round, rounds, r.name, err)
				continue
			}
			r.samples = append(r.samples, s)
			fmt.Fprintf(log, "bench: round %d/%d %-32s %10.0f %s  cpu %5.2f µs/item%s  (%s)\n", round, rounds, r.name,
				s.rate, r.unit, s.cpuPerItem, steadyLog(s)+serverLog(s.redis)+pgLog(s.postgres)+memoryLog(s.memory), time.Since(start).Round(time.Millisecond))
		}
	}
}

func steadyLog(s sample) string {
	if s.steadyRate == 0 {
		return ""
	}
	return fmt.Sprintf("  steady %8.0f (first after %s)", s.steadyRate, s.first.Round(time.Millisecond))
}

func serverLog(d *redisDelta) string {
	if d == nil {
		return ""
	}
	s := fmt.Sprintf("  server %5.2f µs/key %5.2f cmds/key", d.cpuPerKey, d.cmdsPerKey)
	if d.shared != "" {
		s += " [shared: " + d.shared + "]"
	}
	return s
}

func pgLog(d *pgDelta) string {
	if d == nil {
		return ""
	}
	s := fmt.Sprintf("  postgres %5.3f commits/msg %6.0f WAL B/msg", d.commitsPerMsg, d.walPerMsg)
	if d.shared != "" {
		s += " [shared: " + d.shared + "]"
	}
	return s
}
