package redisstore_test

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/idemq/idemq/dedupe"
	"github.com/idemq/idemq/dedupe/redisstore"
	"github.com/idemq/idemq/internal/testenv"
)

// BenchmarkRun measures Run on a real standalone Redis. Besides ns/op it
// reports:
//   - cmds/op: Redis commands per Run, counted by the server (INFO
//     commandstats, pub/sub commands included);
//   - client-cmds/op: commands the store sent through the client (a go-redis
//     hook); each is one round trip. The SUBSCRIBE the guard waits for adds
//     one more on the shared pub/sub connection; UNSUBSCRIBE is not waited for;
//   - x-setnx: time per Run as a multiple of one SET NX PX round trip,
//     measured in the same benchmark, so figures compare across noisy machines.
func BenchmarkRun(b *testing.B) {
	srv, hook, client := benchClient(b)
	store := benchStore(b, srv, client)
	fresh := freshKeys("bench-")
	commit := func(ctx context.Context, end dedupe.End[int]) (int, error) {
		end(1)
		return 1, nil
	}
	ctx := context.Background()

	b.Run("FreshKey", func(b *testing.B) {
		measure(b, srv, hook, func() error { _, err := dedupe.Run(ctx, store, fresh(), commit, dedupe.WithOptimistic()); return err })
	})
	b.Run("Duplicate", func(b *testing.B) {
		k := fresh()
		if _, err := dedupe.Run(ctx, store, k, commit, dedupe.WithOptimistic()); err != nil {
			b.Fatal(err)
		}
		measure(b, srv, hook, func() error {
			_, err := dedupe.Run(ctx, store, k, commit, dedupe.WithOptimistic())
			if _, ok := err.(*dedupe.ConflictError[int]); ok {
				return nil
			}
			return fmt.Errorf("duplicate: %v", err)
		})
	})
	b.Run("ClaimFreshKey", func(b *testing.B) {
		measure(b, srv, hook, func() error {
			_, err := dedupe.Run(ctx, store, fresh(), commit, dedupe.WithClaim(10*time.Second))
			return err
		})
	})
	b.Run("FreshKeyParallel", func(b *testing.B) {
		before, sent := serverCommands(b, srv), hook.n.Load()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := dedupe.Run(ctx, store, fresh(), commit, dedupe.WithOptimistic()); err != nil {
					b.Error(err)
					return
				}
			}
		})
		b.ReportMetric(float64(serverCommands(b, srv)-before)/float64(b.N), "cmds/op")
		b.ReportMetric(float64(hook.n.Load()-sent)/float64(b.N), "client-cmds/op")
	})
}

// benchClient returns the standalone Redis and a client whose commands and
// round trips a hook counts.
func benchClient(b *testing.B) (testenv.RedisServer, *countingHook, redis.UniversalClient) {
	srv := testenv.Redis(b)
	hook := &countingHook{}
	client := srv.NewClient(b)
	client.AddHook(hook)
	return srv, hook, client
}

// benchStore returns a store on client, closed at the end of the benchmark.
func benchStore(b *testing.B, srv testenv.RedisServer, client redis.UniversalClient, opts ...redisstore.Option) *redisstore.Store {
	store, err := redisstore.New(client, append([]redisstore.Option{redisstore.WithPrefix(srv.Prefix)}, opts...)...)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = store.Close() })
	return store
}

// freshKeys returns a function that makes keys never used before.
func freshKeys(prefix string) func() string {
	var seq atomic.Int64
	return func() string { return prefix + strconv.FormatInt(seq.Add(1), 36) }
}

// measure times op b.N times, then as many SET NX PX round trips as a baseline.
func measure(b *testing.B, srv testenv.RedisServer, hook *countingHook, op func() error) {
	before, sent := serverCommands(b, srv), hook.n.Load()
	start := time.Now()
	for b.Loop() {
		if err := op(); err != nil {
			b.Fatal(err)
		}
	}
	elapsed := time.Since(start)
	cmds, sent := serverCommands(b, srv)-before, hook.n.Load()-sent
	b.StopTimer()
	baseline := setNXBaseline(b, srv, b.N)
	b.ReportMetric(float64(cmds)/float64(b.N), "cmds/op")
	b.ReportMetric(float64(sent)/float64(b.N), "client-cmds/op")
	b.ReportMetric(float64(elapsed)/float64(baseline), "x-setnx")
}

func setNXBaseline(b *testing.B, srv testenv.RedisServer, n int) time.Duration {
	ctx := context.Background()
	start := time.Now()
	for i := range n {
		if err := srv.Client.SetNX(ctx, srv.Prefix+"baseline-"+strconv.Itoa(i), "v", time.Minute).Err(); err != nil {
			b.Fatal(err)
		}
	}
	return time.Since(start)
}

// serverCommands sums the calls of every command the server ran (INFO excluded).
func serverCommands(b *testing.B, srv testenv.RedisServer) int64 {
	info, err := srv.Client.(*redis.Client).Info(context.Background(), "commandstats").Result()
	if err != nil {
		b.Fatal(err)
	}
	var total int64
	for _, line := range strings.Split(info, "\n") {
		name, stats, ok := strings.Cut(strings.TrimSpace(line), ":calls=")
		if !ok || name == "cmdstat_info" {
			continue
		}
		calls, _, _ := strings.Cut(stats, ",")
		n, _ := strconv.ParseInt(calls, 10, 64)
		total += n
	}
	return total
}

// countingHook counts the commands a client sends, and its round trips
// (pub/sub commands do not pass through hooks).
type countingHook struct{ n, trips atomic.Int64 }

func (h *countingHook) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h *countingHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		h.n.Add(1)
		h.trips.Add(1)
		return next(ctx, cmd)
	}
}

func (h *countingHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		h.n.Add(int64(len(cmds)))
		h.trips.Add(1)
		return next(ctx, cmds)
	}
}
