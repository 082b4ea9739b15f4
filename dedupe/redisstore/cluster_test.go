package redisstore_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/idemq/idemq/internal/testenv"
)

// TestRedisClusterSlotMigrationResubscribes moves the slot of a watched key
// to another master with CLUSTER SETSLOT and MIGRATE while a guard runs.
// The old master drops the sharded subscription (a server-side SUNSUBSCRIBE);
// the store must resubscribe on the slot's new master and re-read, so that a
// later commit still stops the guard.
func TestRedisClusterSlotMigrationResubscribes(t *testing.T) {
	t.Parallel()
	srv := testenv.RedisCluster(t)
	s := newStore(t, srv)
	k := "moving-" + testenv.Name(t)
	results := blockedRuns(t, s, []string{k})
	moveSlot(t, srv, channel(srv.Prefix, k))
	commitValue(t, newStore(t, srv), k, "after the move")
	select {
	case err := <-results:
		assertConflict(t, err, "after the move")
	case <-time.After(15 * time.Second):
		t.Fatal("a guard whose key's slot moved never heard of the commit")
	}
}

// moveSlot migrates the slot of key from its master to another one.
func moveSlot(t *testing.T, srv testenv.RedisServer, key string) {
	t.Helper()
	ctx := context.Background()
	c := srv.Client.(*redis.ClusterClient)
	slot, err := c.ClusterKeySlot(ctx, key).Result()
	if err != nil {
		t.Fatal(err)
	}
	from, err := c.MasterForKey(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	var masters []*redis.Client // the test Cluster's seed addresses are its masters
	for _, addr := range srv.Addrs {
		masters = append(masters, redis.NewClient(&redis.Options{Addr: addr}))
	}
	var src, dst *redis.Client
	for _, m := range masters {
		defer m.Close()
		if m.Options().Addr == from.Options().Addr {
			src = m
		} else if dst == nil {
			dst = m
		}
	}
	srcID, dstID := nodeID(t, src), nodeID(t, dst)
	must(t, dst.Do(ctx, "CLUSTER", "SETSLOT", slot, "IMPORTING", srcID).Err())
	must(t, src.Do(ctx, "CLUSTER", "SETSLOT", slot, "MIGRATING", dstID).Err())
	host, port, _ := strings.Cut(dst.Options().Addr, ":")
	for {
		keys, err := src.ClusterGetKeysInSlot(ctx, int(slot), 100).Result()
		must(t, err)
		if len(keys) == 0 {
			break
		}
		args := []any{"MIGRATE", host, port, "", 0, 5000, "KEYS"}
		for _, k := range keys {
			args = append(args, k)
		}
		must(t, src.Do(ctx, args...).Err())
	}
	for _, m := range []*redis.Client{dst, src} {
		must(t, m.Do(ctx, "CLUSTER", "SETSLOT", slot, "NODE", dstID).Err())
	}
	for _, m := range masters {
		if m != src && m != dst {
			must(t, m.Do(ctx, "CLUSTER", "SETSLOT", slot, "NODE", dstID).Err())
		}
	}
	t.Logf("moved slot %d of %q from %s to %s", slot, key, src.Options().Addr, dst.Options().Addr)
}

func nodeID(t *testing.T, c *redis.Client) string {
	t.Helper()
	id, err := c.Do(context.Background(), "CLUSTER", "MYID").Text()
	must(t, err)
	return id
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
