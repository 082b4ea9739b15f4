package main

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"
)

// summary is a row's figures over its rounds.
type summary struct {
	median, min, max float64 // of the rate
	cpuPerItem       float64 // medians of the per-round figures
	steady           *steadySummary
	server           *serverSummary
	postgres         *pgSummary
	memory           *memorySummary
}

// serverSummary is a row's server figures: from the rounds during which no
// other client used the server, or from all rounds if there was none.
type serverSummary struct {
	cpu, cmds  float64            // medians per key
	perCommand map[string]float64 // calls / items over those rounds
	shared     int                // rounds during which other clients used the server
	rounds     int                // rounds the figures come from
}

// pgSummary is a row's PostgreSQL figures, from the rounds chosen as
// serverSummary's are.
type pgSummary struct {
	commits, wal float64 // medians per message
	shared       int     // rounds during which other clients used the server
	rounds       int     // rounds the figures come from
}

// summarize returns the row's summary, or false if no round succeeded.
func (r *row) summarize() (summary, bool) {
	if len(r.samples) == 0 {
		return summary{}, false
	}
	var rates, cpu []float64
	for _, s := range r.samples {
		rates, cpu = append(rates, s.rate), append(cpu, s.cpuPerItem)
	}
	return summary{median: median(rates), min: slices.Min(rates), max: slices.Max(rates), cpuPerItem: median(cpu),
		steady: summarizeSteady(r.samples), server: summarizeServer(r.samples), postgres: summarizePostgres(r.samples),
		memory: summarizeMemory(r.samples)}, true
}

// steadySummary is a consumer row's rate from the first message to the last
// and the time to its first message, over the rounds that measured them.
type steadySummary struct {
	median, min, max float64 // of the steady rate
	first            time.Duration
}

func summarizeSteady(samples []sample) *steadySummary {
	var rates, first []float64
	for _, s := range samples {
		if s.steadyRate > 0 {
			rates, first = append(rates, s.steadyRate), append(first, float64(s.first))
		}
	}
	if len(rates) == 0 {
		return nil
	}
	return &steadySummary{median: median(rates), min: slices.Min(rates), max: slices.Max(rates),
		first: time.Duration(median(first))}
}

func summarizePostgres(samples []sample) *pgSummary {
	var clean, all []*pgDelta
	for _, s := range samples {
		if d := s.postgres; d != nil {
			if all = append(all, d); d.shared == "" {
				clean = append(clean, d)
			}
		}
	}
	if len(all) == 0 {
		return nil
	}
	use := clean
	if len(use) == 0 {
		use = all
	}
	var commits, wal []float64
	for _, d := range use {
		commits, wal = append(commits, d.commitsPerMsg), append(wal, d.walPerMsg)
	}
	return &pgSummary{commits: median(commits), wal: median(wal), shared: len(all) - len(clean), rounds: len(use)}
}

func summarizeServer(samples []sample) *serverSummary {
	var clean, all []sample
	for _, s := range samples {
		if s.redis != nil {
			all = append(all, s)
			if s.redis.shared == "" {
				clean = append(clean, s)
			}
		}
	}
	if len(all) == 0 {
		return nil
	}
	sum := &serverSummary{shared: len(all) - len(clean), perCommand: map[string]float64{}}
	use := clean
	if len(use) == 0 {
		use = all
	}
	var cpu, cmds []float64
	items := 0.0
	for _, s := range use {
		cpu, cmds = append(cpu, s.redis.cpuPerKey), append(cmds, s.redis.cmdsPerKey)
		for name, perKey := range s.redis.perKey {
			sum.perCommand[name] += perKey * float64(s.items)
		}
		items += float64(s.items)
	}
	for name := range sum.perCommand {
		sum.perCommand[name] /= items
	}
	sum.cpu, sum.cmds, sum.rounds = median(cpu), median(cmds), len(use)
	return sum
}

// median of xs (0 for none): the middle value, or the mean of the two.
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// topCommands lists the commands with the most calls per key, e.g.
// "set 1.00, evalsha 0.004", leaving out those under one per 1,000 keys
// (connection set-up: hello, client|setname).
func topCommands(perCommand map[string]float64, n int) string {
	names := make([]string, 0, len(perCommand))
	for name, x := range perCommand {
		if x >= 0.001 {
			names = append(names, name)
		}
	}
	sort.Slice(names, func(i, j int) bool {
		if perCommand[names[i]] != perCommand[names[j]] {
			return perCommand[names[i]] > perCommand[names[j]]
		}
		return names[i] < names[j]
	})
	var parts []string
	for _, name := range names[:min(n, len(names))] {
		parts = append(parts, name+" "+perKey(perCommand[name]))
	}
	return strings.Join(parts, ", ")
}

// perKey formats a per-key count with the digits that matter.
func perKey(x float64) string {
	switch {
	case x >= 0.1:
		return fmt.Sprintf("%.2f", x)
	case x >= 0.001:
		return fmt.Sprintf("%.3f", x)
	}
	return fmt.Sprintf("%.1g", x)
}

// failed returns the errors of every row that had any.
func (res *results) failed() error {
	var errs []error
	for _, r := range res.rows {
		for _, err := range r.errs {
			errs = append(errs, fmt.Errorf("%s: %w", r.name, err))
		}
	}
	return errors.Join(errs...)
}
