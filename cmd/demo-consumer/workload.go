package main

import (
	"cmp"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
)

// keyHeader carries every order's idempotency key.
const keyHeader = "Idempotency-Key"

// order is one message the producer publishes.
type order struct {
	key       string // idempotency key, "order-000042"
	partition int
	resend    string // "" for the first send; "retry" or "replay" for a duplicate
}

// workload returns the messages of a run in the order they are published:
// n orders, of which a share dupRate repeats an earlier key. Half of the
// repeats are producer retries (same partition, a few messages later), the
// other half replays that land on another partition, where another consumer
// may hold them at the same time as the original. It is deterministic, so
// every phase of a run consumes the same workload.
func workload(n int, dupRate float64, partitions int) []order {
	dups := int(math.Round(float64(n) * dupRate))
	unique := n - dups
	type slotted struct {
		slot float64
		o    order
	}
	all := make([]slotted, 0, n)
	for i := range unique {
		all = append(all, slotted{float64(i), order{key: orderKey(i), partition: i % partitions}})
	}
	r := rand.New(rand.NewPCG(7, 42))
	for j := range dups {
		k := j * unique / dups // spread the repeats over the keys
		o := order{key: orderKey(k), partition: k % partitions, resend: "retry"}
		if j%2 == 1 && partitions > 1 {
			o.partition = (k + 1 + j/2%(partitions-1)) % partitions
			o.resend = "replay"
		}
		// A fraction keeps the repeat after its original even at distance 0.
		all = append(all, slotted{float64(k) + 0.5 + float64(r.IntN(4*partitions)), o})
	}
	slices.SortStableFunc(all, func(a, b slotted) int { return cmp.Compare(a.slot, b.slot) })
	orders := make([]order, len(all))
	for i, s := range all {
		orders[i] = s.o
	}
	return orders
}

func orderKey(i int) string { return fmt.Sprintf("order-%06d", i) }

// uniqueKeys returns the distinct keys of orders.
func uniqueKeys(orders []order) map[string]struct{} {
	keys := make(map[string]struct{}, len(orders))
	for _, o := range orders {
		keys[o.key] = struct{}{}
	}
	return keys
}
