package main

import (
	"context"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/idemq/idemq/dedupe"
	"github.com/idemq/idemq/dedupe/redisstore"
)

// batchRun measures the batch path: fresh keys claimed, ended and committed
// in rounds of size keys by 4 goroutines sharing one dedupe.Batch
// (claim-first, 30s lease), as BenchmarkBatch of dedupe/batch_bench_test.go
// does; the value committed is struct{}{} ("{}"), as the Kafka rows'.
func batchRun(size, keys int) runFunc {
	return func(ctx context.Context, _ *services, rr rowRound) (timed, error) {
		store, err := redisstore.New(rr.server.client, redisstore.WithPrefix(rr.prefix))
		if err != nil {
			return timed{}, err
		}
		defer store.Close()
		batch, err := dedupe.NewBatch[struct{}](store, dedupe.WithClaim(30*time.Second))
		if err != nil {
			return timed{}, err
		}
		defer batch.Close()
		var seq atomic.Int64
		fresh := func() string { return "b" + strconv.FormatInt(seq.Add(1), 36) }
		start := time.Now()
		err = inRounds(ctx, keys, size, func(ctx context.Context, n int) error { return batchOf(ctx, batch, n, fresh) })
		return timed{elapsed: time.Since(start), items: keys}, err
	}
}

// batchOf claims n fresh keys, ends them all and waits for their commits.
func batchOf(ctx context.Context, batch *dedupe.Batch[struct{}], n int, fresh func() string) error {
	keys := make([]string, n)
	for i := range keys {
		keys[i] = fresh()
	}
	tickets, err := batch.Claim(ctx, keys...)
	if err != nil {
		return err
	}
	for _, t := range tickets {
		if err := t.End(struct{}{}); err != nil {
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
