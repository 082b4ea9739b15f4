package main

import (
	"context"
	"fmt"
	"math"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"
)

// memoryDelta is a memory round's figures.
type memoryDelta struct {
	perKey    float64 // the keyspace's growth per key written
	residual  float64 // what is left of it per key once the keys are deleted: ~0 unless something else changed
	record    string  // one record as stored: its length and encoding, e.g. "42 B embstr"
	disturbed string  // why the figures may not be the keys' alone; "" if nothing says so
}

// disturbance says why a round's figures may not be its keys' alone:
// another client used the server, or the memory did not come back after
// the deletion (others' keys expired or were deleted, or a hash table
// resized for them) within 1 byte per key plus 2% of the figure.
func (d *memoryDelta) disturbance(server *redisDelta) string {
	switch {
	case server != nil && server.shared != "":
		return server.shared
	case math.Abs(d.residual) > 1+math.Abs(d.perKey)/50:
		return fmt.Sprintf("%s B/key left after deleting", bytesCell(d.residual))
	}
	return ""
}

// How a memory round waits for the server's memory to settle (a hash
// table's incremental rehash, a shrink after the deletion, a closed
// client's buffers): it polls until two readings settleEvery apart differ
// by at most settleSlack bytes, settleReads times at most (a server that
// others write to never settles: the round then counts as shared anyway).
const (
	settleEvery = 300 * time.Millisecond
	settleReads = 10
	settleSlack = 256
)

// measureMemory runs one round of a memory row: the keyspace's memory
// (settled) before, the row's writes under keys of the round's own, the
// memory after, one record's length and encoding, the deletion of every
// key, and the memory once more, which must be back where it was.
func measureMemory(ctx context.Context, env *services, r *row, round int) (sample, error) {
	srv := r.server(env)
	rr := rowRound{row: r.name, round: round, server: srv, prefix: srv.memoryKeys()}
	defer func() { _ = srv.deletePrefix(context.WithoutCancel(ctx), recordKeyPrefix(rr.prefix)) }()
	runtime.GC()
	before, err := srv.settled(ctx)
	if err != nil {
		return sample{}, err
	}
	cpu := processCPU()
	t, err := bounded(ctx, env, r, rr)
	cpu = processCPU() - cpu
	if err != nil {
		return sample{}, err
	}
	after, err := srv.settled(ctx)
	var record string
	if err == nil { // the middle key's (earlier versions' Batch tokens grew with its counter)
		record, err = srv.describeRecord(ctx, recordKey(memoryKey(rr.prefix, t.items/2)))
	}
	if err == nil {
		err = srv.deletePrefix(ctx, recordKeyPrefix(rr.prefix))
	}
	if err != nil {
		return sample{}, err
	}
	emptied, err := srv.settled(ctx)
	if err != nil {
		return sample{}, err
	}
	items := float64(t.items)
	m := &memoryDelta{perKey: float64(after.keys-before.keys) / items,
		residual: float64(emptied.keys-before.keys) / items, record: record}
	s := sample{rate: items / t.elapsed.Seconds(), items: t.items, memory: m,
		cpuPerItem: float64(cpu) / float64(time.Microsecond) / items}
	s.redis, err = srv.delta(ctx, before, emptied, t.items)
	if err == nil {
		m.disturbed = m.disturbance(s.redis)
	}
	return s, err
}

func memoryLog(d *memoryDelta) string {
	if d == nil {
		return ""
	}
	s := fmt.Sprintf("  memory %6.1f B/key (%s), %s B/key left after deleting", d.perKey, d.record, bytesCell(d.residual))
	if d.disturbed != "" {
		s += " [disturbed: " + d.disturbed + "]"
	}
	return s
}

// memoryKeys is the start of a fresh memory round's keys: "ib", the run's
// random hex and the round's number, two base-36 digits.
func (s *server) memoryKeys() string {
	n := strconv.FormatInt(s.memoryRuns.Add(1)%(36*36), 36)
	return s.memoryBase + strings.Repeat("0", 2-len(n)) + n + "-"
}

// settled reads the server's point once its memory stopped moving (see
// settleEvery), or after settleReads readings.
func (s *server) settled(ctx context.Context) (*redisPoint, error) {
	p, err := s.point(ctx)
	for i := 0; err == nil && i < settleReads; i++ {
		select {
		case <-ctx.Done():
			return nil, context.Cause(ctx)
		case <-time.After(settleEvery):
		}
		var next *redisPoint
		if next, err = s.point(ctx); err == nil {
			moved := next.keys - p.keys
			p = next
			if moved >= -settleSlack && moved <= settleSlack {
				break
			}
		}
	}
	return p, err
}

// describeRecord says how key's string is stored: "42 B embstr".
func (s *server) describeRecord(ctx context.Context, key string) (string, error) {
	n, err := s.client.StrLen(ctx, key).Result()
	if err != nil {
		return "", err
	}
	enc, err := s.client.ObjectEncoding(ctx, key).Result()
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%d B %s", n, enc), nil
}

// memorySummary is a memory row's figures over the rounds nothing
// disturbed, or over all rounds if every one was.
type memorySummary struct {
	median, min, max float64 // bytes per key
	residual         float64 // median
	record           string
	disturbed        int // rounds
	rounds           int // the figures come from
}

func summarizeMemory(samples []sample) *memorySummary {
	var clean, all []*memoryDelta
	for _, s := range samples {
		if d := s.memory; d != nil {
			if all = append(all, d); d.disturbed == "" {
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
	var perKey, residual []float64
	for _, d := range use {
		perKey, residual = append(perKey, d.perKey), append(residual, d.residual)
	}
	return &memorySummary{median: median(perKey), min: slices.Min(perKey), max: slices.Max(perKey),
		residual: median(residual), record: use[0].record, disturbed: len(all) - len(clean), rounds: len(use)}
}
