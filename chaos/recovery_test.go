package main

import (
	"testing"
	"time"
)

func TestStallAndBack(t *testing.T) {
	t.Parallel()
	t0 := time.Unix(1000, 0)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	var progress []time.Time
	for ms := 0; ms < 3000; ms += 10 { // 100/s
		progress = append(progress, at(ms))
	}
	for ms := 8000; ms < 12000; ms += 10 { // after a 5s stall
		progress = append(progress, at(ms))
	}
	if got, resumed := stallIn(progress, at(2995), at(4000)); got != 5010*time.Millisecond || !resumed.Equal(at(8000)) {
		t.Errorf("stall = %v resumed at %v, want 5.01s at 8s", got, resumed.Sub(t0))
	}
	if got, _ := stallIn(progress, at(4000), at(5000)); got != 0 {
		t.Errorf("a stall that began 1s before the fault = %v, want 0 (not its own)", got)
	}
	if back, ok := backAt(progress, at(3000), 100); !ok || !back.Equal(at(8000)) {
		t.Errorf("back at %v, %v; want 8s", back.Sub(t0), ok)
	}
	if _, ok := backAt(progress, at(11800), 100); ok {
		t.Errorf("back after the end of progress; want not within the horizon")
	}
}
