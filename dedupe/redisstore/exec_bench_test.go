package redisstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/idemq/idemq/dedupe"
	"github.com/idemq/idemq/dedupe/redisstore"
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
	cpu := processCPU()
	b.ReportAllocs()
	b.ResetTimer()
	execPairs(b, store, freshKeys("eo-"))
	b.StopTimer()
	b.ReportMetric(float64(processCPU()-cpu)/float64(time.Microsecond)/float64(b.N), "cpu-µs/op")
}

// execPairs sends b.N claims of fresh keys, execGroup per Exec, then an
// Exec of their fenced commits, failing b on any op that does not succeed.
func execPairs(b *testing.B, store *redisstore.Store, fresh func() string) {
	ctx := context.Background()
	claims, commits := make([]dedupe.Op, execGroup), make([]dedupe.Op, execGroup)
	const token = "tok-0123456789ab"
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
}

// BenchmarkExecNoServer is BenchmarkExecOps with a hook answering every
// pipeline in place of a server (claims find their keys free, commits
// store), so that what it measures is the store's client side alone: the
// ops' commands built and queued, go-redis's pipeline plumbing up to its
// hooks, and the replies read. No network, no other goroutine: its ns/op
// is CPU, far steadier on a busy machine than the other benchmarks'.
// Script: commits are script calls (Redis 7.0); Native: SET ... IFEQ
// (Valkey 8.1+, Redis 8.4+).
func BenchmarkExecNoServer(b *testing.B) {
	for _, native := range []bool{false, true} {
		name := "Script"
		if native {
			name = "Native"
		}
		b.Run(name, func(b *testing.B) {
			client := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"}) // never dialled
			client.AddHook(answeringHook{native: native})
			defer client.Close()
			store, err := redisstore.New(client)
			if err != nil {
				b.Fatal(err)
			}
			defer store.Close()
			b.ReportAllocs()
			execPairs(b, store, freshKeys("en-"))
		})
	}
}

// answeringHook answers the commands of an Exec of fresh claims and their
// fenced commits as a server would, without one: a claim's SET NX GET
// finds the key free (nil), SET ... IFEQ stores (the CAS probe's too,
// when native, else a syntax error), a script call stores every op.
type answeringHook struct{ native bool }

// serverError is an error reply.
type serverError string

func (e serverError) Error() string { return string(e) }
func (serverError) RedisError()     {}

func (answeringHook) DialHook(next redis.DialHook) redis.DialHook { return next }

func (answeringHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook { return next }

func (h answeringHook) ProcessPipelineHook(redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(_ context.Context, cmds []redis.Cmder) error {
		for _, cmd := range cmds {
			switch c := cmd.(type) {
			case *redis.StatusCmd: // SET NX GET
				c.SetErr(redis.Nil)
			case *redis.Cmd:
				switch args := c.Args(); {
				case c.Name() == "evalsha":
					replies := make([]any, args[2].(int))
					for i := range replies {
						replies[i] = int64(1)
					}
					c.SetVal(replies)
				case h.native:
					c.SetVal("OK")
				default:
					c.SetErr(serverError("ERR syntax error"))
				}
			}
		}
		return nil
	}
}
