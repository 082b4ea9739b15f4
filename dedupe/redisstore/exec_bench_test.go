package redisstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/idemq/idemq/dedupe"
)

// execGroup is how many ops one Exec of BenchmarkExecOps carries: about
// what a group holds in BenchmarkStoreCallers.
const execGroup = 16

// BenchmarkExecOps measures the client side of the store's per-op path
// without the scheduling noise of concurrent callers: one goroutine sends
// Execs of execGroup claims of fresh keys, then Execs of their fenced
// commits. An op is one claim and its commit; cpu-µs/op is this process's
// CPU per op.
func BenchmarkExecOps(b *testing.B) {
	srv, _, client := benchClient(b)
	store := benchStore(b, srv, client)
	fresh := freshKeys("eo-")
	ctx := context.Background()
	claims, commits := make([]dedupe.Op, execGroup), make([]dedupe.Op, execGroup)
	const token = "tok-0123456789ab"
	cpu := processCPU()
	b.ReportAllocs()
	b.ResetTimer()
	for n := 0; n < b.N; n += execGroup {
		for i := range claims {
			k := fresh()
			claims[i] = dedupe.Op{Kind: dedupe.OpClaim, Key: k, Token: token, Lease: dedupe.DefaultLease}
			commits[i] = dedupe.Op{Kind: dedupe.OpCommit, Key: k, Token: token, Fenced: true, Value: []byte("{}"), TTL: time.Hour}
		}
		for _, ops := range [][]dedupe.Op{claims, commits} {
			for i, r := range store.Exec(ctx, ops) {
				if r.Err != nil || !r.OK {
					b.Fatalf("op %d: %+v", i, r)
				}
			}
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(processCPU()-cpu)/float64(time.Microsecond)/float64(b.N), "cpu-µs/op")
}
