package main

import (
	"maps"
	"slices"
	"sync"
	"time"
)

// percentiles are one round's request latencies.
type percentiles struct {
	p50, p99 time.Duration
}

// percentilesOf returns the nearest-rank p50 and p99 of took (zero for none).
func percentilesOf(took []time.Duration) percentiles {
	if len(took) == 0 {
		return percentiles{}
	}
	s := slices.Sorted(slices.Values(took))
	rank := func(pct int) time.Duration { return s[(len(s)*pct+99)/100-1] }
	return percentiles{p50: rank(50), p99: rank(99)}
}

// latencies are a row's percentiles by round (a row's run records them;
// the report reads them once the rounds are over).
type latencies struct {
	mu     sync.Mutex
	rounds map[int]percentiles
}

func newLatencies() *latencies { return &latencies{rounds: map[int]percentiles{}} }

func (l *latencies) record(round int, p percentiles) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.rounds[round] = p
}

// byRound returns the recorded rounds' percentiles.
func (l *latencies) byRound() map[int]percentiles {
	l.mu.Lock()
	defer l.mu.Unlock()
	return maps.Clone(l.rounds)
}

// latencySummary is a row's latency over its rounds: the medians of its
// own percentiles, and of how much they exceed the baseline's in the same
// round (the rounds are interleaved, so the two ran close together).
type latencySummary struct {
	p50, p99           time.Duration
	addedP50, addedP99 time.Duration
	paired             int // rounds measured in both rows: added is from those
}

// summarizeLatency summarizes l against the baseline's latencies (nil or
// l itself: no added figures); false if no round was recorded.
func summarizeLatency(l, base *latencies) (latencySummary, bool) {
	own := l.byRound()
	if len(own) == 0 {
		return latencySummary{}, false
	}
	var others map[int]percentiles
	if base != nil && base != l {
		others = base.byRound()
	}
	var p50, p99, added50, added99 []time.Duration
	for round, p := range own {
		p50, p99 = append(p50, p.p50), append(p99, p.p99)
		if b, ok := others[round]; ok {
			added50, added99 = append(added50, p.p50-b.p50), append(added99, p.p99-b.p99)
		}
	}
	return latencySummary{p50: medianDuration(p50), p99: medianDuration(p99),
		addedP50: medianDuration(added50), addedP99: medianDuration(added99), paired: len(added50)}, true
}

// medianDuration is median for durations.
func medianDuration(ds []time.Duration) time.Duration {
	xs := make([]float64, len(ds))
	for i, d := range ds {
		xs[i] = float64(d)
	}
	return time.Duration(median(xs))
}
