package main

import (
	"slices"
	"testing"
)

func TestWorkload(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name        string
		n           int
		rate        float64
		partitions  int
		wantUnique  int
		wantRetries int
		wantReplays int
	}{
		{"Default", 8000, 0.2, 6, 6400, 800, 800},
		{"NoDuplicates", 100, 0, 6, 100, 0, 0},
		{"OnePartitionHasOnlyRetries", 100, 0.2, 1, 80, 20, 0},
		{"MoreRepeatsThanKeys", 100, 0.9, 4, 10, 45, 45},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			orders := workload(tc.n, tc.rate, tc.partitions)
			if got := len(orders); got != tc.n {
				t.Fatalf("len = %d, want %d", got, tc.n)
			}
			if got := len(uniqueKeys(orders)); got != tc.wantUnique {
				t.Errorf("unique keys = %d, want %d", got, tc.wantUnique)
			}
			retries, replays := checkResends(t, orders)
			if retries != tc.wantRetries || replays != tc.wantReplays {
				t.Errorf("retries, replays = %d, %d; want %d, %d", retries, replays, tc.wantRetries, tc.wantReplays)
			}
			if again := workload(tc.n, tc.rate, tc.partitions); !slices.Equal(again, orders) {
				t.Errorf("a second call returned another workload; want the same")
			}
		})
	}
}

// checkResends checks that every repeat follows its key's first send, a
// retry on the same partition and a replay on another, and counts them.
func checkResends(t *testing.T, orders []order) (retries, replays int) {
	t.Helper()
	first := map[string]order{}
	for i, o := range orders {
		orig, seen := first[o.key]
		switch {
		case o.resend == "" && seen:
			t.Errorf("order %d: first send of %s comes after a repeat", i, o.key)
		case o.resend == "":
			first[o.key] = o
		case !seen:
			t.Errorf("order %d: %s of %s before its first send", i, o.resend, o.key)
		case o.resend == "retry" && o.partition != orig.partition:
			t.Errorf("order %d: retry of %s on partition %d, want %d", i, o.key, o.partition, orig.partition)
		case o.resend == "replay" && o.partition == orig.partition:
			t.Errorf("order %d: replay of %s on the original's partition %d", i, o.key, o.partition)
		}
		switch o.resend {
		case "retry":
			retries++
		case "replay":
			replays++
		}
	}
	return retries, replays
}
