package redisstore

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/idemq/idemq/dedupe"
)

// StatsOptions bound Store.Stats. The zero value examines up to
// 100,000 keys of the prefix in up to 1,000 SCAN calls of COUNT 1,000.
type StatsOptions struct {
	// MaxKeys bounds the keys of the prefix examined: Stats stops at the
	// first SCAN page boundary at or past it, and reports Partial. 0 means
	// 100,000.
	MaxKeys int
	// MaxScans bounds the SCAN calls (on a Cluster, all masters'
	// together), which walk the whole database, other prefixes' keys
	// included: Stats stops after that many, and reports Partial. 0 means
	// 1,000.
	MaxScans int
	// Count is SCAN's COUNT hint; 0 means 1,000.
	Count int
}

// StoreStats describe the keys under a store's prefix as one Stats call
// found them. The zero value is an empty prefix, fully scanned.
type StoreStats struct {
	Examined  int64 // keys that SCAN listed under the prefix's record keys
	Claimed   int64 // claims
	Watched   int64 // of the claims, those a waiter marked (one waits, or waited)
	Committed int64 // committed values
	Corrupt   int64 // record keys that hold none of our records (Inspect: a *DecodeError)
	Foreign   int64 // keys that look like records but are not of this store's layout
	// ShortestLease is the claim with the least lease left; the zero
	// KeyInfo when there is none. A claim stored without an expiry (never
	// freed by itself; a guard never stores one) counts as the shortest.
	//
	// It is not the oldest claim: a record keeps neither the time it was
	// claimed nor its lease, and each renewal sets the lease again, so no
	// claim's age can be told. It is the claim most likely to be stuck,
	// though: a live owner renews its claims every third of its shortest
	// lease S (a Batch's queued lease, WithQueuedLease, or the lease if
	// shorter; Run's lease), so every live claim has at least about 2S/3
	// left, and one with less was not renewed on time: its owner crashed
	// or is cut off from Redis. It frees itself when its lease runs out, or
	// ForceRelease frees it now.
	ShortestLease KeyInfo
	// MemoryBytes is the sum of MEMORY USAGE of the record keys examined
	// (ours, corrupt ones included): each key, its value and Redis's
	// overhead, as Redis estimates them.
	MemoryBytes int64
	// ServerMemoryBytes is used_memory of INFO memory, summed over the
	// masters: all the servers' memory, not only this prefix's.
	ServerMemoryBytes int64
	// Partial reports that the scan budget (StatsOptions.MaxKeys or
	// MaxScans) stopped the scan before it covered the whole prefix: the
	// counts and MemoryBytes cover only part of it.
	Partial bool
}

// Stats counts the keys under the store's prefix by state, finds the claim
// with the least lease left and adds up their memory, with SCAN (on a
// Cluster, every master), reading each key with one read-only script call,
// pipelined per SCAN page. It is bounded by opts.MaxKeys and MaxScans.
func (s *Store) Stats(ctx context.Context, opts StatsOptions) (StoreStats, error) {
	if opts.MaxKeys < 0 || opts.MaxScans < 0 || opts.Count < 0 {
		return StoreStats{}, fmt.Errorf("%w: StatsOptions MaxKeys, MaxScans and Count must be >= 0", dedupe.ErrInvalidOption)
	}
	sc, err := s.newScanner(ctx, "", orDefault(opts.Count, 1000))
	if err != nil {
		return StoreStats{}, err
	}
	var st StoreStats
	maxKeys, maxScans := int64(orDefault(opts.MaxKeys, 100_000)), orDefault(opts.MaxScans, 1000)
	for !sc.done() && st.Examined < maxKeys && sc.scans < maxScans {
		names, next, err := sc.scan(ctx)
		if err != nil {
			return StoreStats{}, err
		}
		if err := s.tally(ctx, &st, names); err != nil {
			return StoreStats{}, err
		}
		sc.advance(next)
	}
	st.Partial = !sc.done()
	st.ServerMemoryBytes, err = serverMemory(ctx, sc.nodes)
	return st, err
}

// tally adds the keys of one SCAN page to st.
func (s *Store) tally(ctx context.Context, st *StoreStats, names []string) error {
	st.Examined += int64(len(names))
	var keys, rks []string
	for _, rk := range names {
		if k, ok := s.userKey(rk); ok {
			keys, rks = append(keys, k), append(rks, rk)
		} else {
			st.Foreign++
		}
	}
	replies, err := s.inspectMany(ctx, rks, true)
	if err != nil {
		return s.scanErr(err)
	}
	for i, reply := range replies {
		if len(reply) > 3 {
			mem, _ := reply[3].(int64)
			st.MemoryBytes += mem
		}
		st.add(readInspect(keys[i], rks[i], reply, true))
	}
	return nil
}

// add counts one key; a key gone since SCAN listed it is not counted.
func (st *StoreStats) add(info KeyInfo, err error) {
	switch {
	case err != nil:
		st.Corrupt++
	case info.State == dedupe.Claimed:
		st.Claimed++
		if info.Watched {
			st.Watched++
		}
		if st.ShortestLease.Key == "" || info.TTL < st.ShortestLease.TTL {
			st.ShortestLease = info
		}
	case info.State == dedupe.Committed:
		st.Committed++
	}
}

// serverMemory adds up used_memory of INFO memory over nodes.
func serverMemory(ctx context.Context, nodes []scanNode) (int64, error) {
	var total int64
	for _, n := range nodes {
		info, err := n.client.Info(ctx, "memory").Result()
		if err != nil {
			return 0, fmt.Errorf("dedupe: INFO memory of %s: %w", n.addr, err)
		}
		total += infoField(info, "used_memory")
	}
	return total, nil
}

// infoField reads one integer field of an INFO reply; 0 if it is missing.
func infoField(info, name string) int64 {
	for line := range strings.Lines(info) {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), name+":"); ok {
			n, _ := strconv.ParseInt(v, 10, 64)
			return n
		}
	}
	return 0
}
