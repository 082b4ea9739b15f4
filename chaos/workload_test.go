package main

import (
	"math/rand/v2"
	"slices"
	"testing"
)

func TestWorkload(t *testing.T) {
	t.Parallel()
	msgs := workload(rand.New(rand.NewPCG(7, 2)), "ka-", 10_000, 0.2, 12)
	if len(msgs) != 10_000 {
		t.Fatalf("len = %d, want 10000", len(msgs))
	}
	if got := len(keysOf(msgs)); got != 8_000 {
		t.Errorf("unique keys = %d, want 8000", got)
	}
	first := map[string]message{}
	retries, replays := 0, 0
	for i, m := range msgs {
		orig, seen := first[m.key]
		switch {
		case m.resend == "" && seen:
			t.Fatalf("message %d: first send of %s after a repeat", i, m.key)
		case m.resend == "":
			first[m.key] = m
		case !seen:
			t.Fatalf("message %d: %s of %s before its first send", i, m.resend, m.key)
		case m.resend == "retry" && m.partition != orig.partition, m.resend == "replay" && m.partition == orig.partition:
			t.Fatalf("message %d: %s of %s on partition %d, original on %d", i, m.resend, m.key, m.partition, orig.partition)
		case m.resend == "retry":
			retries++
		default:
			replays++
		}
	}
	if retries != 1000 || replays != 1000 {
		t.Errorf("retries, replays = %d, %d; want 1000, 1000", retries, replays)
	}
	if again := workload(rand.New(rand.NewPCG(7, 2)), "ka-", 10_000, 0.2, 12); !slices.Equal(again, msgs) {
		t.Errorf("the same seed gave another workload")
	}
}
