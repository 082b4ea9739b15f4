package redisstore_test

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/idemq/idemq/dedupe"
	"github.com/idemq/idemq/dedupe/redisstore"
	"github.com/idemq/idemq/internal/testenv"
)

// commandLog records the names of the commands a client sends (pub/sub
// commands do not pass through hooks).
type commandLog struct {
	mu    sync.Mutex
	names map[string]int
}

func (l *commandLog) DialHook(next redis.DialHook) redis.DialHook { return next }

func (l *commandLog) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		l.add(cmd)
		return next(ctx, cmd)
	}
}

func (l *commandLog) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		for _, c := range cmds {
			l.add(c)
		}
		return next(ctx, cmds)
	}
}

func (l *commandLog) add(cmd redis.Cmder) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.names[strings.ToLower(cmd.Name())]++
}

// take returns the counts so far and starts again.
func (l *commandLog) take() map[string]int {
	l.mu.Lock()
	defer l.mu.Unlock()
	names := l.names
	l.names = map[string]int{}
	return names
}

// loggedStore returns a store on a new client of srv whose commands are logged.
func loggedStore(t *testing.T, srv testenv.RedisServer) (*redisstore.Store, *commandLog) {
	t.Helper()
	log := &commandLog{names: map[string]int{}}
	client := srv.NewClient(t)
	client.AddHook(log)
	s, err := redisstore.New(client, redisstore.WithPrefix(srv.Prefix))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s, log
}

// claimAndCommit claims n fresh keys in one Batch call and commits them all.
func claimAndCommit(t *testing.T, s dedupe.Store, prefix string, n int) {
	t.Helper()
	ctx := context.Background()
	batch, err := dedupe.NewBatch[int](s, dedupe.WithClaim(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	defer batch.Close()
	keys := make([]string, n)
	for i := range keys {
		keys[i] = prefix + strconv.Itoa(i)
	}
	tickets, err := batch.Claim(ctx, keys...)
	if err != nil {
		t.Fatal(err)
	}
	for _, tk := range tickets {
		if err := tk.End(1); err != nil {
			t.Fatal(err)
		}
	}
	for _, tk := range tickets {
		if err := tk.Result(ctx); err != nil {
			t.Fatalf("Result(%q) = %v", tk.Key(), err)
		}
	}
}

// TestRedisCommandsPerFreshKey pins what a fresh key costs on each server
// once the store knows it: a claim (SET NX GET) and a fenced commit, which
// is a plain SET ... IFEQ on Valkey 8.1 and one call of the commit script
// per up to 256 keys on Redis 7.0 (the commits of 300 keys may go out in
// a few flushes, so a few calls). Nobody waits, so nothing else is sent.
func TestRedisCommandsPerFreshKey(t *testing.T) {
	t.Parallel()
	const n = 300
	for _, c := range []struct {
		name    string
		srv     func(testing.TB) testenv.RedisServer
		set     int
		scripts [2]int // the least and most EVALSHA calls
	}{
		{"Redis", testenv.Redis, n, [2]int{2, 6}},
		{"Valkey", testenv.Valkey, 2 * n, [2]int{0, 0}},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			s, log := loggedStore(t, c.srv(t))
			claimAndCommit(t, s, "warm-", 1) // the first Exec probes for SET ... IFEQ
			log.take()
			claimAndCommit(t, s, "fresh-", n)
			got := log.take()
			scripts := got["evalsha"]
			delete(got, "evalsha")
			if len(got) != 1 || got["set"] != c.set || scripts < c.scripts[0] || scripts > c.scripts[1] {
				t.Fatalf("commands for %d fresh keys = %v and %d evalsha, want only %d set and %d to %d evalsha",
					n, got, scripts, c.set, c.scripts[0], c.scripts[1])
			}
		})
	}
}

// TestRedisUnwatchedCommitPublishesNothing subscribes to a key's channel
// with a raw client, commits the key with no waiter, then publishes a
// marker: the marker must be the first message, so the commit sent none.
// (That a waiter hears a commit promptly is the conformance suite's
// Claim/WaiterInAnotherStoreHearsCommitPromptly.)
func TestRedisUnwatchedCommitPublishesNothing(t *testing.T) {
	t.Parallel()
	for name, newSrv := range standaloneServers {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			srv := newSrv(t)
			s := newStore(t, srv)
			ctx := context.Background()
			ps := srv.NewClient(t).Subscribe(ctx, channel(srv.Prefix, "quiet"))
			defer ps.Close()
			if _, err := ps.Receive(ctx); err != nil { // the subscription's confirmation
				t.Fatal(err)
			}
			if _, err := dedupe.Run(ctx, s, "quiet", func(ctx context.Context, end dedupe.End[int]) (int, error) {
				end(1)
				return 1, nil
			}, dedupe.WithClaim(time.Minute)); err != nil {
				t.Fatal(err)
			}
			if err := srv.Client.Publish(ctx, channel(srv.Prefix, "quiet"), "marker").Err(); err != nil {
				t.Fatal(err)
			}
			msg, err := ps.ReceiveMessage(ctx)
			if err != nil || msg.Payload != "marker" {
				t.Fatalf("first message = %+v, %v; want the marker: an unwatched commit published", msg, err)
			}
		})
	}
}
