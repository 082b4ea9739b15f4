package main

import (
	"bytes"
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/idemq/idemq/dedupe"
	"github.com/idemq/idemq/dedupe/redisstore"
)

// markerRow names a server's memory baseline: a plain marker per key.
func markerRow(server string) string { return "memory/" + server + "/marker" }

// memoryName names the memory row of a path ("run", "batch") and value size.
func memoryName(server, path string, size int) string {
	return "memory/" + server + "/" + path + "-" + strconv.Itoa(size) + "B"
}

// memoryValueSizes are the committed values' sizes: a small value (an ID, a
// short receipt) and a larger one.
var memoryValueSizes = []int{24, 256}

// memoryRows measure the server memory a remembered key costs: a plain
// marker, the committed value alone, and the records dedupe.Run and
// dedupe.Batch commit, under the same key names, on each server.
func memoryRows(o options) []*row {
	var rows []*row
	for _, s := range []struct {
		label string
		needs need
		srv   func(*services) *server
	}{{"redis", needRedis, onRedis}, {"valkey", needValkey, onValkey}} {
		m := func(name, note string, run runFunc) *row {
			return &row{name: name, section: sectionMemory, unit: "keys/s", needs: s.needs, server: s.srv,
				baseline: markerRow(s.label), note: note, run: run}
		}
		rows = append(rows, m(markerRow(s.label), fmt.Sprintf("`SET k 1 PX %d` per key, pipelined (%d per "+
			"pipeline, %d goroutines), k the record key the store uses for that key", memoryTTL.Milliseconds(),
			memoryPipeline, callers), markerRun(o.messages, "1")))
		for _, size := range memoryValueSizes {
			rows = append(rows,
				m(memoryName(s.label, "value", size), fmt.Sprintf("`SET k v PX %d`, v the %d-byte value alone, "+
					"written as the marker is: what the value costs without a record around it",
					memoryTTL.Milliseconds(), size), markerRun(o.messages, strings.Repeat("v", size))),
				m(memoryName(s.label, "run", size), fmt.Sprintf("dedupe.Run (claim-first, RawCodec, the default TTL) "+
					"from %d goroutines, fn ending with a %d-byte value", runCallers, size), runMemoryRun(size, o.messages)),
				m(memoryName(s.label, "batch", size), fmt.Sprintf("one dedupe.Batch (claim-first, RawCodec), %d "+
					"goroutines claiming %d keys at a time, each ended with a %d-byte value", callers, memoryPipeline, size),
					batchMemoryRun(size, o.messages)))
		}
	}
	return rows
}

// Sizes of the memory rows: the marker's TTL is the store's default TTL,
// and the marker and batch rows write this many keys per round trip.
const (
	memoryTTL      = dedupe.DefaultTTL
	memoryPipeline = 500
)

// memoryKey is the i-th key of a memory round whose keys start with base:
// every key of every round has the same length (see memoryKeyBase), so
// that the rows compare like with like.
func memoryKey(base string, i int) string {
	s := strconv.FormatInt(int64(i), 36)
	return base + strings.Repeat("0", max(6-len(s), 0)) + s
}

// recordKey is where a Store with redisstore.DefaultPrefix keeps key k
// (see redisstore's package doc); the store rows check it with Inspect.
func recordKey(k string) string { return recordKeyPrefix(k) + "}" }

// recordKeyPrefix is what the record keys of the keys that start with base
// start with.
func recordKeyPrefix(base string) string { return redisstore.DefaultPrefix + "{" + base }

// markerRun writes keys markers, `SET k value PX ttl`, k the record key of
// the round's i-th key.
func markerRun(keys int, value string) runFunc {
	return func(ctx context.Context, _ *services, rr rowRound) (timed, error) {
		client := rr.server.newClient()
		defer client.Close()
		var seq atomic.Int64
		start := time.Now()
		err := inRounds(ctx, keys, memoryPipeline, func(ctx context.Context, n int) error {
			first := int(seq.Add(int64(n))) - n
			p := client.Pipeline()
			for i := first; i < first+n; i++ {
				p.Set(ctx, recordKey(memoryKey(rr.prefix, i)), value, memoryTTL)
			}
			_, err := p.Exec(ctx)
			return err
		})
		return timed{elapsed: time.Since(start), items: keys}, err
	}
}

// runMemoryRun commits keys values of size bytes through dedupe.Run, from
// runCallers goroutines sharing one store on a client of the round's own.
func runMemoryRun(size, keys int) runFunc {
	return func(ctx context.Context, _ *services, rr rowRound) (timed, error) {
		client := rr.server.newClient()
		defer client.Close()
		store, err := memoryStore(ctx, client, rr.prefix)
		if err != nil {
			return timed{}, err
		}
		defer store.Close()
		value := bytes.Repeat([]byte{'v'}, size)
		fn := func(_ context.Context, end dedupe.End[[]byte]) ([]byte, error) {
			end(value)
			return value, nil
		}
		var next atomic.Int64
		start := time.Now()
		err = inCallers(ctx, runCallers, func(ctx context.Context) error {
			for i := next.Add(1) - 1; i < int64(keys) && ctx.Err() == nil; i = next.Add(1) - 1 {
				if _, err := dedupe.Run(ctx, store, memoryKey(rr.prefix, int(i)), fn, dedupe.WithCodec(dedupe.RawCodec{})); err != nil {
					return err
				}
			}
			return nil
		})
		return timed{elapsed: time.Since(start), items: keys}, err
	}
}

// batchMemoryRun commits keys values of size bytes through one
// dedupe.Batch, callers goroutines claiming memoryPipeline keys at a time.
func batchMemoryRun(size, keys int) runFunc {
	return func(ctx context.Context, _ *services, rr rowRound) (timed, error) {
		client := rr.server.newClient()
		defer client.Close()
		store, err := memoryStore(ctx, client, rr.prefix)
		if err != nil {
			return timed{}, err
		}
		defer store.Close()
		batch, err := dedupe.NewBatch[[]byte](store, dedupe.WithCodec(dedupe.RawCodec{}))
		if err != nil {
			return timed{}, err
		}
		defer batch.Close()
		value := bytes.Repeat([]byte{'v'}, size)
		var seq atomic.Int64
		start := time.Now()
		err = inRounds(ctx, keys, memoryPipeline, func(ctx context.Context, n int) error {
			first := int(seq.Add(int64(n))) - n
			ks := make([]string, n)
			for i := range ks {
				ks[i] = memoryKey(rr.prefix, first+i)
			}
			return commitEach(ctx, batch, ks, value)
		})
		return timed{elapsed: time.Since(start), items: keys}, err
	}
}

// commitEach claims keys with batch, ends each with value and waits for
// every commit.
func commitEach(ctx context.Context, batch *dedupe.Batch[[]byte], keys []string, value []byte) error {
	tickets, err := batch.Claim(ctx, keys...)
	if err != nil {
		return err
	}
	for _, t := range tickets {
		if err := t.End(value); err != nil {
			return err
		}
	}
	for _, t := range tickets {
		if err := t.Result(ctx); err != nil {
			return err
		}
	}
	return nil
}

// memoryStore is a store with the default prefix, after checking that it
// keeps the round's keys where recordKey says (so the marker row writes
// the same names).
func memoryStore(ctx context.Context, client *redis.Client, base string) (*redisstore.Store, error) {
	store, err := redisstore.New(client)
	if err != nil {
		return nil, err
	}
	k := memoryKey(base, 0)
	info, err := store.Inspect(ctx, k)
	if err == nil && info.RecordKey != recordKey(k) {
		err = fmt.Errorf("the store keeps %q at %q, the marker row writes %q", k, info.RecordKey, recordKey(k))
	}
	if err != nil {
		_ = store.Close()
		return nil, err
	}
	return store, nil
}
