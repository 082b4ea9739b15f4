package testenv

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// RedisWithReplica returns the standalone Redis of IDEMQ_REDIS_ADDR and
// the address of its one replica, IDEMQ_REDIS_REPLICA_ADDR. No container
// fallback. Tests that get the same replica run one at a time (see
// FreezeReplica).
func RedisWithReplica(t testing.TB) (RedisServer, string) {
	t.Helper()
	return withReplica(t, "Redis", "IDEMQ_REDIS_ADDR", "IDEMQ_REDIS_REPLICA_ADDR")
}

// ValkeyWithReplica returns the standalone Valkey of IDEMQ_VALKEY_ADDR and
// the address of its one replica, IDEMQ_VALKEY_REPLICA_ADDR. No container
// fallback. Tests that get the same replica run one at a time (see
// FreezeReplica).
func ValkeyWithReplica(t testing.TB) (RedisServer, string) {
	t.Helper()
	return withReplica(t, "Valkey", "IDEMQ_VALKEY_ADDR", "IDEMQ_VALKEY_REPLICA_ADDR")
}

func withReplica(t testing.TB, service, primaryVar, replicaVar string) (RedisServer, string) {
	t.Helper()
	replica := addrsFromEnv(replicaVar)
	if replica == nil {
		Missing(t, "a "+service+" replica", replicaVar, "variable unset; no container fallback")
	}
	primary := addrsFromEnv(primaryVar)
	if primary == nil {
		Missing(t, service, primaryVar, "variable unset")
	}
	lockReplica(t, replica[0])
	return newRedisServer(t, primary[:1], false), replica[0]
}

// replicaLocks holds one lock per replica address: a test that gets a
// replica holds its lock until its cleanup, since another test may freeze
// the replica (FreezeReplica) and every replica-acknowledged commit of this
// binary would then fail. A file lock does the same across processes.
var replicaLocks sync.Map // address -> *sync.Mutex

func lockReplica(t testing.TB, addr string) {
	mu, _ := replicaLocks.LoadOrStore(addr, new(sync.Mutex))
	mu.(*sync.Mutex).Lock()
	t.Cleanup(mu.(*sync.Mutex).Unlock)
	lockReplicaFile(t, addr) // its cleanup runs first
}

// maxFreeze bounds a freeze, so that a test killed mid-freeze does not leave
// the shared replica frozen.
const maxFreeze = 30 * time.Second

// FreezeReplica makes the replica at addr stop applying its master's
// replication stream (CLIENT PAUSE WRITE on the replica: the master's
// writes are write commands to it) until the returned function, the test's
// cleanup or maxFreeze thaws it. The replica stays connected and answers
// reads, but acknowledges nothing new: WAIT on the master counts it out.
// Call it only with an address from RedisWithReplica or ValkeyWithReplica,
// whose lock keeps other tests away from the frozen replica.
func FreezeReplica(t testing.TB, addr string) (thaw func()) {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: addr})
	t.Cleanup(func() { _ = c.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.Do(ctx, "CLIENT", "PAUSE", maxFreeze.Milliseconds(), "WRITE").Err(); err != nil {
		t.Fatalf("testenv: freezing the replica at %s: %v", addr, err)
	}
	var once sync.Once
	thaw = func() {
		once.Do(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if err := c.Do(ctx, "CLIENT", "UNPAUSE").Err(); err != nil {
				t.Errorf("testenv: thawing the replica at %s: %v", addr, err)
			}
		})
	}
	t.Cleanup(thaw)
	return thaw
}
