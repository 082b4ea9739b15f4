package redisstore_test

import (
	"context"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/idemq/idemq/dedupe"
	"github.com/idemq/idemq/dedupe/redisstore"
	"github.com/idemq/idemq/internal/testenv"
)

// benchCallers is how many goroutines share the store in BenchmarkBatch, as
// the partition loops of a consumer do.
const benchCallers = 4

// BenchmarkBatch measures the batch path on a real standalone Redis: fresh
// keys claimed, ended and committed by benchCallers goroutines sharing one
// Batch, in batches of 1, 16, 100 and 500 keys; then the same number of keys
// through concurrent claim-mode Runs. Right after each, the Redis-side limit
// is measured on the same number of keys: pipelines of plain SET NX PX of the
// same depth, sent by as many goroutines. Metrics:
//   - keys/s, and setnx-keys/s for the baseline;
//   - x-setnx: keys/s as a fraction of the baseline's;
//   - cmds/key: Redis commands per key, counted by the server (INFO
//     commandstats: a script call counts once, its inner commands too);
//   - trips/key: client round trips (pipelines and single commands) per key.
func BenchmarkBatch(b *testing.B) {
	srv, hook, client := benchClient(b)
	store := benchStore(b, srv, client)
	fresh := freshKeys("bk-")
	for _, size := range []int{1, 16, 100, 500} {
		b.Run("Batch"+strconv.Itoa(size), func(b *testing.B) {
			batch, err := dedupe.NewBatch[int](store, dedupe.WithClaim(30*time.Second))
			if err != nil {
				b.Fatal(err)
			}
			defer batch.Close()
			measureKeys(b, srv, hook, size, func(ctx context.Context, n int) error {
				return batchOf(ctx, batch, n, fresh)
			})
		})
	}
	plain := benchStore(b, srv, client, redisstore.WithoutGroupCommit())
	for _, s := range []struct {
		name  string
		store dedupe.Store
	}{{"RunClaim", store}, {"RunClaimNoGroupCommit", plain}} {
		b.Run(s.name, func(b *testing.B) {
			measureKeys(b, srv, hook, 1, func(ctx context.Context, n int) error {
				_, err := dedupe.Run(ctx, s.store, fresh(), func(ctx context.Context, end dedupe.End[int]) (int, error) {
					end(1)
					return 1, nil
				}, dedupe.WithClaim(30*time.Second))
				return err
			})
		})
	}
}

// batchOf claims n fresh keys, ends them all and waits for their commits.
func batchOf(ctx context.Context, batch *dedupe.Batch[int], n int, fresh func() string) error {
	keys := make([]string, n)
	for i := range keys {
		keys[i] = fresh()
	}
	tickets, err := batch.Claim(ctx, keys...)
	if err != nil {
		return err
	}
	for _, t := range tickets {
		if err := t.End(1); err != nil {
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

// measureKeys runs round(ctx, size) from benchCallers goroutines until b.N
// keys are done (workers=1 rounds of Run use 64 goroutines instead), then
// the SET NX PX baseline at the same depth, and reports the metrics of
// BenchmarkBatch.
func measureKeys(b *testing.B, srv testenv.RedisServer, hook *countingHook, size int, round func(ctx context.Context, n int) error) {
	callers := benchCallers
	if size == 1 {
		callers = 64 // single-key rounds need many in flight to load Redis
	}
	ctx := context.Background()
	cmds, trips := serverCommands(b, srv), hook.trips.Load()
	b.ResetTimer()
	start := time.Now()
	runRounds(b, b.N, size, callers, func(n int) error { return round(ctx, n) })
	elapsed := time.Since(start)
	b.StopTimer()
	cmds, trips = serverCommands(b, srv)-cmds, hook.trips.Load()-trips
	baseline := setNXPipelines(b, srv, b.N, size, callers)
	keys := float64(b.N)
	b.ReportMetric(keys/elapsed.Seconds(), "keys/s")
	b.ReportMetric(keys/baseline.Seconds(), "setnx-keys/s")
	b.ReportMetric(baseline.Seconds()/elapsed.Seconds(), "x-setnx")
	b.ReportMetric(float64(cmds)/keys, "cmds/key")
	b.ReportMetric(float64(trips)/keys, "trips/key")
	b.ReportMetric(0, "ns/op")
}

// runRounds splits total keys into rounds of at most size, run by callers
// goroutines.
func runRounds(b *testing.B, total, size, callers int, round func(n int) error) {
	var left atomic.Int64
	left.Store(int64(total))
	var wg sync.WaitGroup
	for range callers {
		wg.Go(func() {
			for {
				n := int(min(left.Add(-int64(size))+int64(size), int64(size)))
				if n <= 0 {
					return
				}
				if err := round(n); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
}

// setNXPipelines sends total plain SET NX PX commands of fresh keys in
// pipelines of size, from callers goroutines, and returns how long it took.
func setNXPipelines(b *testing.B, srv testenv.RedisServer, total, size, callers int) time.Duration {
	ctx := context.Background()
	var seq atomic.Int64
	start := time.Now()
	runRounds(b, total, size, callers, func(n int) error {
		_, err := srv.Client.Pipelined(ctx, func(p redis.Pipeliner) error {
			for range n {
				p.SetNX(ctx, srv.Prefix+"setnx-"+strconv.FormatInt(seq.Add(1), 36), "C0123456789abcdef", time.Minute)
			}
			return nil
		})
		return err
	})
	return time.Since(start)
}
