package redisstore_test

import (
	"context"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/idemq/idemq/dedupe"
)

// runCallers is how many goroutines call Run at once in BenchmarkRunCallers,
// as the handlers in flight of a Watermill router do.
const runCallers = 64

// BenchmarkRunCallers measures claim-first Run on a real standalone Redis
// with runCallers concurrent callers, each running fresh keys one after
// another (claim, fn calls end, fenced commit), as an HTTP server or a
// Watermill router with many handlers in flight does. Besides ns/op it
// reports:
//   - cpu-µs/op: this process's CPU (user + system) per Run, the figure to
//     cut: the client side of the per-message path;
//   - cmds/op: Redis commands per Run, counted by the server;
//   - trips/op: client round trips (pipelines and single commands) per Run.
func BenchmarkRunCallers(b *testing.B) {
	srv, hook, client := benchClient(b)
	store := benchStore(b, srv, client)
	fresh := freshKeys("rc-")
	commit := func(ctx context.Context, end dedupe.End[struct{}]) (struct{}, error) {
		end(struct{}{})
		return struct{}{}, nil
	}
	ctx := context.Background()
	before, trips, cpu := serverCommands(b, srv), hook.trips.Load(), processCPU()
	var next atomic.Int64
	var wg sync.WaitGroup
	b.ResetTimer()
	for range runCallers {
		wg.Go(func() {
			for next.Add(1) <= int64(b.N) {
				if _, err := dedupe.Run(ctx, store, fresh(), commit); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	b.StopTimer()
	n := float64(b.N)
	b.ReportMetric(float64(processCPU()-cpu)/float64(time.Microsecond)/n, "cpu-µs/op")
	b.ReportMetric(float64(serverCommands(b, srv)-before)/n, "cmds/op")
	b.ReportMetric(float64(hook.trips.Load()-trips)/n, "trips/op")
}

// processCPU is this process's CPU time so far, user and system.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkStoreCallers is BenchmarkRunCallers without the guard: each of
// runCallers goroutines calls Store.Claim and then Store.Commit on one
// fresh key after another, so that cpu-µs/op is the store's share of a Run.
func BenchmarkStoreCallers(b *testing.B) {
	srv, hook, client := benchClient(b)
	store := benchStore(b, srv, client)
	fresh := freshKeys("sc-")
	ctx := context.Background()
	before, trips, cpu := serverCommands(b, srv), hook.trips.Load(), processCPU()
	var next atomic.Int64
	var wg sync.WaitGroup
	b.ResetTimer()
	for range runCallers {
		wg.Go(func() {
			token := "t" + strconv.Itoa(int(next.Load()))
			for next.Add(1) <= int64(b.N) {
				k := fresh()
				if _, ok, err := store.Claim(ctx, k, token, dedupe.DefaultLease); err != nil || !ok {
					b.Error(ok, err)
					return
				}
				c := dedupe.Commit{Token: token, Fenced: true, Value: []byte("{}"), TTL: dedupe.DefaultTTL}
				if _, ok, err := store.Commit(ctx, k, c); err != nil || !ok {
					b.Error(ok, err)
					return
				}
			}
		})
	}
	wg.Wait()
	b.StopTimer()
	n := float64(b.N)
	b.ReportMetric(float64(processCPU()-cpu)/float64(time.Microsecond)/n, "cpu-µs/op")
	b.ReportMetric(float64(serverCommands(b, srv)-before)/n, "cmds/op")
	b.ReportMetric(float64(hook.trips.Load()-trips)/n, "trips/op")
}
