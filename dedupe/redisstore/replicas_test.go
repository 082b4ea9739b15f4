package redisstore_test

import (
	"context"
	"crypto/rand"
	"errors"
	"github.com/idemq/idemq/internal/testwait"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/idemq/idemq/dedupe"
	"github.com/idemq/idemq/dedupe/redisstore"
	"github.com/idemq/idemq/internal/testenv"
)

// replicaServers are the servers with one replica each that the replica
// tests run on: Redis, and Valkey with its native SET ... IFEQ.
var replicaServers = []struct {
	name   string
	server func(testing.TB) (testenv.RedisServer, string)
}{
	{"Redis", testenv.RedisWithReplica},
	{"Valkey", testenv.ValkeyWithReplica},
}

// TestReplicaAcks runs commits on a server with one real replica. With
// WithReplicaAcks(1, ...) a commit returns only once the replica has it: a
// read on the replica right after Run returned finds the value. Asking for
// two replicas (there is one) makes every commit's outcome unknown:
// ErrCommitUnknown, in Run and in a Batch, so no consumer acks it; the error
// says how many replicas acknowledged, and comes after one WAIT, not at the
// commit timeout.
func TestReplicaAcks(t *testing.T) {
	t.Parallel()
	for _, s := range replicaServers {
		t.Run(s.name, func(t *testing.T) {
			t.Parallel()
			srv, replicaAddr := s.server(t)
			testReplicaAcks(t, srv, replicaAddr)
		})
	}
}

func testReplicaAcks(t *testing.T, srv testenv.RedisServer, replicaAddr string) {
	replica := redis.NewClient(&redis.Options{Addr: replicaAddr})
	defer replica.Close()
	ctx := context.Background()
	store := func(n int) *redisstore.Store {
		s, err := redisstore.New(srv.NewClient(t), redisstore.WithPrefix(srv.Prefix), redisstore.WithReplicaAcks(n, 500*time.Millisecond))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close() })
		return s
	}
	one := store(1)
	run := rand.Text()[:8] // keys of this run only: the servers are shared and keep committed keys
	for i := range 20 {
		k := "acked-" + string(rune('a'+i)) + "-" + run
		if _, err := dedupe.Run(ctx, one, k, func(ctx context.Context, end dedupe.End[int]) (int, error) {
			end(i)
			return i, nil
		}); err != nil {
			t.Fatalf("Run with one replica ack = %v", err)
		}
		if v, err := replica.Get(ctx, srv.Prefix+"{"+k+"}").Result(); err != nil || v == "" {
			t.Fatalf("the replica has %q, %v right after the commit returned; want the committed record", v, err)
		}
	}
	two := store(2)
	start := time.Now()
	_, err := dedupe.Run(ctx, two, "unacked-"+run, func(ctx context.Context, end dedupe.End[int]) (int, error) {
		end(1)
		return 1, nil
	})
	if !errors.Is(err, dedupe.ErrCommitUnknown) || !strings.Contains(err.Error(), "1 of 2 replicas") {
		t.Fatalf("Run asking for 2 replica acks with 1 replica = %v, want ErrCommitUnknown saying 1 of 2 replicas", err)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("Run asking for 2 replica acks took %v; want about one WAIT (500ms), not the commit timeout", took)
	}
	batch, err := dedupe.NewBatch[int](two)
	if err != nil {
		t.Fatal(err)
	}
	defer batch.Close()
	tickets, err := batch.Claim(ctx, "unacked-batch-"+run)
	if err != nil {
		t.Fatal(err)
	}
	if err := tickets[0].End(1); err != nil {
		t.Fatal(err)
	}
	if err := tickets[0].Result(ctx); !errors.Is(err, dedupe.ErrCommitUnknown) || !strings.Contains(err.Error(), "1 of 2 replicas") {
		t.Fatalf("batch commit asking for 2 replica acks = %v, want ErrCommitUnknown saying 1 of 2 replicas", err)
	}
}

func TestReplicaAcksOptionIsChecked(t *testing.T) {
	t.Parallel()
	srv := testenv.RedisCluster(t)
	if _, err := redisstore.New(srv.Client, redisstore.WithReplicaAcks(1, time.Second)); !errors.Is(err, dedupe.ErrInvalidOption) {
		t.Errorf("WithReplicaAcks on a Cluster = %v, want ErrInvalidOption", err)
	}
	if _, err := redisstore.New(srv.NewClient(t), redisstore.WithReplicaAcks(1, 0)); !errors.Is(err, dedupe.ErrInvalidOption) {
		t.Errorf("WithReplicaAcks without a timeout = %v, want ErrInvalidOption", err)
	}
}

// TestReplicaAcksResentCommit kills a commit's connection while it is
// blocked in WAIT for a frozen replica (connected, acknowledging nothing
// new). The commit is then sent again on a new connection and finds its own
// value there; it must still count only once the replica has it, which it
// never does here: Run returns ErrCommitUnknown, with WAIT's answer in the
// error, well before the commit timeout (a WAIT that answered is not sent
// again). On Redis and on Valkey (native SET ... IFEQ), in claim and
// optimistic mode.
func TestReplicaAcksResentCommit(t *testing.T) {
	t.Parallel()
	modes := []struct {
		name string
		opts []dedupe.RunOption
	}{
		{"Claim", nil},
		{"Optimistic", []dedupe.RunOption{dedupe.WithOptimistic()}},
	}
	for _, s := range replicaServers {
		t.Run(s.name, func(t *testing.T) {
			t.Parallel()
			srv, replicaAddr := s.server(t)
			for _, m := range modes {
				t.Run(m.name, func(t *testing.T) {
					// A key of this run only: the servers are shared and keep committed keys.
					killCommitInWait(t, srv, replicaAddr, m.name+"-"+rand.Text()[:8], m.opts...)
				})
			}
		})
	}
}

// killCommitInWait runs one commit of key while the replica is frozen,
// kills its connection once it is blocked in WAIT, and checks Run's error.
func killCommitInWait(t *testing.T, srv testenv.RedisServer, replicaAddr, key string, opts ...dedupe.RunOption) {
	ctx := context.Background()
	name := testenv.Name(t)
	client := redis.NewClient(&redis.Options{Addr: srv.Addrs[0], ClientName: name})
	t.Cleanup(func() { _ = client.Close() })
	store, err := redisstore.New(client, redisstore.WithPrefix(srv.Prefix), redisstore.WithReplicaAcks(1, time.Second))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close() })
	defer testenv.FreezeReplica(t, replicaAddr)()
	start := time.Now()
	done := make(chan error, 1)
	go func() {
		_, err := dedupe.Run(ctx, store, key, func(ctx context.Context, end dedupe.End[int]) (int, error) {
			end(1)
			return 1, nil
		}, opts...)
		done <- err
	}()
	killInWait(t, srv.Client, name)
	err = testwait.Recv(t, done, "the commit whose WAIT was killed to return")
	took := time.Since(start)
	replica := redis.NewClient(&redis.Options{Addr: replicaAddr})
	defer replica.Close()
	if n, err := replica.Exists(ctx, srv.Prefix+"{"+key+"}").Result(); err != nil || n != 0 {
		t.Fatalf("the frozen replica has %d keys, %v; want 0 (the freeze did not hold)", n, err)
	}
	if !errors.Is(err, dedupe.ErrCommitUnknown) {
		t.Fatalf("Run = %v, though no replica has the value; want ErrCommitUnknown", err)
	}
	if !strings.Contains(err.Error(), "0 of 1 replicas") {
		t.Errorf("Run = %v; want WAIT's answer (0 of 1 replicas) in the error", err)
	}
	if took > 5*time.Second {
		t.Errorf("Run took %v; want about the WAIT timeout (1s) after the kill, not the commit timeout", took)
	}
}

// killInWait kills the connection named name once it is blocked in WAIT.
func killInWait(t *testing.T, admin redis.UniversalClient, name string) {
	t.Helper()
	ctx := context.Background()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		list, err := admin.ClientList(ctx).Result()
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(list, "\n") {
			f := clientFields(line)
			if f["name"] == name && f["cmd"] == "wait" {
				if err := admin.Do(ctx, "CLIENT", "KILL", "ID", f["id"]).Err(); err != nil {
					t.Fatal(err)
				}
				return
			}
		}
	}
	t.Fatalf("no connection named %s blocked in WAIT within 5s", name)
}

// clientFields reads one line of CLIENT LIST.
func clientFields(line string) map[string]string {
	f := map[string]string{}
	for _, kv := range strings.Fields(line) {
		k, v, _ := strings.Cut(kv, "=")
		f[k] = v
	}
	return f
}
