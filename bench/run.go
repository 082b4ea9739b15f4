package main

import (
	"context"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/idemq/idemq/dedupe"
	"github.com/idemq/idemq/dedupe/redisstore"
)

// runCallers is how many goroutines call dedupe.Run at once in the Run row,
// as the 64 handlers in flight of the Watermill rows do; its floor is the
// two-write floor at the same depth.
const runCallers = 64

// runRow is the Run row's name; runFloor the floor it is compared with.
var (
	runRow   = "run/redis/" + strconv.Itoa(runCallers)
	runFloor = floorName("redis", runCallers)
)

// runRows are the per-message path without a broker: concurrent
// single-key dedupe.Run calls against the two-write floor of their depth.
func runRows(o options) []*row {
	return []*row{
		{name: runFloor, section: sectionBatch, unit: "keys/s", needs: needRedis, server: onRedis,
			baseline: runFloor, floor: runFloor, note: "the floor at the depth of `" + runRow + "`'s callers",
			run: floorRun(runCallers, o.messages)},
		{name: runRow, section: sectionBatch, unit: "keys/s", needs: needRedis, server: onRedis,
			baseline: runFloor, floor: runFloor, run: runCallersRun(o.messages),
			note: strconv.Itoa(runCallers) + " goroutines, each calling dedupe.Run (claim-first, the default " +
				"lease) on one fresh key after another, fn ending with struct{}{}; one store with group commit"},
	}
}

// runCallersRun runs keys fresh keys through dedupe.Run from runCallers
// goroutines sharing one store, each waiting for its Run before the next.
func runCallersRun(keys int) runFunc {
	return func(ctx context.Context, _ *services, rr rowRound) (timed, error) {
		store, err := redisstore.New(rr.server.client, redisstore.WithPrefix(rr.prefix))
		if err != nil {
			return timed{}, err
		}
		defer store.Close()
		var next atomic.Int64
		start := time.Now()
		err = inCallers(ctx, runCallers, func(ctx context.Context) error {
			for i := next.Add(1); i <= int64(keys) && ctx.Err() == nil; i = next.Add(1) {
				if _, err := dedupe.Run(ctx, store, "r"+strconv.FormatInt(i, 36), endEmpty); err != nil {
					return err
				}
			}
			return nil
		})
		return timed{elapsed: time.Since(start), items: keys}, err
	}
}

// endEmpty is the Run row's fn: it commits struct{}{}, as the Kafka rows'
// handlers do.
func endEmpty(_ context.Context, end dedupe.End[struct{}]) (struct{}, error) {
	end(struct{}{})
	return struct{}{}, nil
}

// inCallers runs loop in n goroutines and returns the first error (which
// cancels the others' ctx), or ctx's cause.
func inCallers(ctx context.Context, n int, loop func(ctx context.Context) error) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			if err := loop(ctx); err != nil {
				cancel(err)
			}
		})
	}
	wg.Wait()
	return context.Cause(ctx)
}
