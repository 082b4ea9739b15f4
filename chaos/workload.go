package main

import (
	"cmp"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
)

// keyHeader carries every message's idempotency key.
const keyHeader = "Idempotency-Key"

// message is one message the producer publishes.
type message struct {
	key       string
	partition int
	resend    string // "" for a key's first send; "retry" (same partition) or "replay" (another one)
}

// workload returns a topic's messages in publishing order: n messages, of
// which a share dupRate repeats an earlier key. Half of the repeats are
// producer retries (same partition), half replays on another partition,
// where another consumer may hold the key at the same time; half of them
// follow the original closely (often while it is in flight), half up to a
// few thousand messages later. It depends only on rng.
func workload(rng *rand.Rand, keyPrefix string, n int, dupRate float64, partitions int) []message {
	dups := int(math.Round(float64(n) * dupRate))
	unique := n - dups
	type slotted struct {
		slot float64
		m    message
	}
	all := make([]slotted, 0, n)
	for i := range unique {
		all = append(all, slotted{float64(i), message{key: fmt.Sprintf("%s%06d", keyPrefix, i), partition: rng.IntN(partitions)}})
	}
	for j := range dups {
		orig := all[min(j*unique/max(dups, 1)+rng.IntN(3), unique-1)]
		m := message{key: orig.m.key, partition: orig.m.partition, resend: "retry"}
		if j%2 == 1 && partitions > 1 {
			m.partition = (m.partition + 1 + rng.IntN(partitions-1)) % partitions
			m.resend = "replay"
		}
		distance := 0.5 + float64(rng.IntN(20))
		if rng.IntN(2) == 0 {
			distance += float64(rng.IntN(3000))
		}
		all = append(all, slotted{orig.slot + distance, m})
	}
	slices.SortStableFunc(all, func(a, b slotted) int { return cmp.Compare(a.slot, b.slot) })
	msgs := make([]message, len(all))
	for i, s := range all {
		msgs[i] = s.m
	}
	return msgs
}

// keysOf returns the distinct keys of msgs.
func keysOf(msgs []message) map[string]struct{} {
	keys := make(map[string]struct{}, len(msgs))
	for _, m := range msgs {
		keys[m.key] = struct{}{}
	}
	return keys
}
