package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/idemq/idemq/internal/testenv"
)

// TestHTTPRows runs the two HTTP rows, two rounds each, against the real
// Redis and checks their figures, the latency table and targets of the
// report, and that the middleware's keys are gone afterwards.
func TestHTTPRows(t *testing.T) {
	useServices(t)
	out := filepath.Join(t.TempDir(), "RESULTS.md")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	res, err := run(ctx, []string{"-short", "-rounds", "2", "-only", "^http/", "-out", out}, testLog(t))
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	if len(res.rows) != 2 {
		t.Fatalf("%d rows measured, want the 2 HTTP rows", len(res.rows))
	}
	for _, r := range res.rows {
		if len(r.errs) > 0 || len(r.samples) != 2 {
			t.Errorf("%s: %d samples, errors %v", r.name, len(r.samples), r.errs)
		}
		s, ok := summarizeLatency(r.latency, find(res.rows, httpBareRow).latency)
		if !ok || s.p50 <= 0 || s.p99 < s.p50 {
			t.Errorf("%s: latency %+v (recorded: %v), want 0 < p50 <= p99", r.name, s, ok)
		}
		if r.name == httpIdemqRow && (s.paired != 2 || s.addedP99 == 0) {
			t.Errorf("%s: %d rounds paired with the bare row, added p99 %v: want 2 and a figure", r.name, s.paired, s.addedP99)
		}
	}
	if s := find(res.rows, httpIdemqRow).samples[0]; s.redis == nil || s.redis.cmdsPerKey < 2 {
		t.Errorf("%s: server figures %+v, want at least the claim and the commit per request", httpIdemqRow, s.redis)
	}
	checkHTTPReport(t, out)
	checkNoKeys(t, "idemqbench:"+res.env.runID+":*")
}

func checkHTTPReport(t *testing.T, path string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)
	for _, want := range []string{"## HTTP middleware (requests/s)", "| row | p50 µs | p99 µs | added p50 µs | added p99 µs |",
		"| `http/bare` | ", "0 (baseline) | 0 (baseline) |", "| `http/idemq-redis` | ",
		"(`http/idemq-redis` / `http/bare`) | ", "(`http/idemq-redis` − `http/bare`, p99) | "} {
		if !strings.Contains(text, want) {
			t.Errorf("the report lacks %q:\n%s", want, text)
		}
	}
	for _, line := range strings.Split(text, "\n") {
		if strings.Contains(line, "`http/") && (strings.Contains(line, "failed") || strings.Contains(line, "not measured")) {
			t.Errorf("the report says an HTTP row failed or was not measured: %s", line)
		}
	}
}

// checkNoKeys fails if any key of the pattern is left on Redis.
func checkNoKeys(t *testing.T, pattern string) {
	t.Helper()
	it := testenv.Redis(t).Client.Scan(context.Background(), 0, pattern, 10_000).Iterator()
	for it.Next(context.Background()) {
		t.Errorf("key %s left behind", it.Val())
	}
	if err := it.Err(); err != nil {
		t.Fatal(err)
	}
}

func TestPercentilesOf(t *testing.T) {
	ms := func(ns ...int) []time.Duration {
		var ds []time.Duration
		for _, n := range ns {
			ds = append(ds, time.Duration(n)*time.Millisecond)
		}
		return ds
	}
	hundred := make([]int, 100)
	for i := range hundred {
		hundred[i] = 100 - i // unsorted
	}
	for _, tc := range []struct {
		name     string
		took     []time.Duration
		p50, p99 time.Duration
	}{
		{"None", nil, 0, 0},
		{"One", ms(7), 7 * time.Millisecond, 7 * time.Millisecond},
		{"Two", ms(9, 1), 1 * time.Millisecond, 9 * time.Millisecond},
		{"Hundred", ms(hundred...), 50 * time.Millisecond, 99 * time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := percentilesOf(tc.took)
			if got.p50 != tc.p50 || got.p99 != tc.p99 {
				t.Errorf("percentilesOf = %+v, want p50 %v p99 %v", got, tc.p50, tc.p99)
			}
		})
	}
}

// TestSummarizeLatency checks that added latency pairs rounds: a round the
// baseline did not record is left out of it.
func TestSummarizeLatency(t *testing.T) {
	base, l := newLatencies(), newLatencies()
	base.record(1, percentiles{p50: 100, p99: 1000})
	base.record(2, percentiles{p50: 300, p99: 3000})
	l.record(1, percentiles{p50: 150, p99: 1400})
	l.record(2, percentiles{p50: 330, p99: 3200})
	l.record(3, percentiles{p50: 900, p99: 9000}) // the baseline's round 3 failed
	got, ok := summarizeLatency(l, base)
	want := latencySummary{p50: 330, p99: 3200, addedP50: 40, addedP99: 300, paired: 2}
	if !ok || got != want {
		t.Errorf("summarizeLatency = %+v, %v; want %+v, true", got, ok, want)
	}
	if got, ok := summarizeLatency(base, base); !ok || got.paired != 0 {
		t.Errorf("the baseline against itself: %+v, %v; want no rounds paired", got, ok)
	}
	if _, ok := summarizeLatency(newLatencies(), base); ok {
		t.Error("a row without rounds has a summary")
	}
}

func TestLatencyTargets(t *testing.T) {
	rows := func(bareP99, idemqP99 time.Duration) []*row {
		bare := &row{name: httpBareRow, baseline: httpBareRow, latency: newLatencies()}
		idemq := &row{name: httpIdemqRow, baseline: httpBareRow, latency: newLatencies()}
		bare.latency.record(1, percentiles{p50: 1, p99: bareP99})
		idemq.latency.record(1, percentiles{p50: 2, p99: idemqP99})
		return []*row{bare, idemq}
	}
	for _, tc := range []struct {
		name string
		rows []*row
		want string
	}{
		{"Met", rows(2*time.Millisecond, 2800*time.Microsecond), "| 0.80 ms | ≤ 1 ms | yes |"},
		{"Missed", rows(2*time.Millisecond, 3500*time.Microsecond), "| 1.50 ms | ≤ 1 ms | no |"},
		{"BareMissing", rows(0, 0)[1:], "| not measured | ≤ 1 ms | - |"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var b bytes.Buffer
			writeLatencyTargets(&b, tc.rows)
			if !strings.Contains(b.String(), tc.want) {
				t.Errorf("the target line is %q, want it to contain %q", b.String(), tc.want)
			}
		})
	}
}
