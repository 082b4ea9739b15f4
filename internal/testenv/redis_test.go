package testenv_test

import (
	"context"
	"net"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/idemq/idemq/internal/testenv"
)

// TestRedisIsReal proves the standalone server is a real redis-server: a value
// written on one connection is read on another, and PUBLISH reaches a
// subscriber on a third.
func TestRedisIsReal(t *testing.T) {
	t.Parallel()
	srv := testenv.Redis(t)
	ctx := context.Background()
	key := srv.Prefix + "k"
	if err := srv.Client.Set(ctx, key, "v1", time.Minute).Err(); err != nil {
		t.Fatalf("SET: %v", err)
	}
	if got, err := srv.NewClient(t).Get(ctx, key).Result(); err != nil || got != "v1" {
		t.Fatalf("GET from a second connection = %q, %v; want \"v1\", nil", got, err)
	}
	info, err := srv.Client.Info(ctx, "server").Result()
	if err != nil || !strings.Contains(info, "redis_version:") {
		t.Fatalf("INFO server = %.60q, %v; want a redis_version line", info, err)
	}
	assertPublishReaches(ctx, t, srv, srv.Prefix+"chan")
}

func assertPublishReaches(ctx context.Context, t *testing.T, srv testenv.RedisServer, channel string) {
	t.Helper()
	sub := srv.NewClient(t).Subscribe(ctx, channel)
	defer sub.Close()
	if _, err := sub.Receive(ctx); err != nil { // the subscription confirmation
		t.Fatalf("SUBSCRIBE: %v", err)
	}
	if n, err := srv.Client.Publish(ctx, channel, "hello").Result(); err != nil || n != 1 {
		t.Fatalf("PUBLISH = %d receivers, %v; want 1, nil", n, err)
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	msg, err := sub.ReceiveMessage(ctx)
	if err != nil || msg.Payload != "hello" {
		t.Fatalf("received %v, %v; want payload \"hello\"", msg, err)
	}
}

// TestRedisClusterIsReal proves the cluster is a healthy 3-master Redis
// Cluster that runs a script on hash-tagged keys of one slot.
func TestRedisClusterIsReal(t *testing.T) {
	t.Parallel()
	srv := testenv.RedisCluster(t)
	ctx := context.Background()
	cc, ok := srv.Client.(*redis.ClusterClient)
	if !ok {
		t.Fatalf("client is %T, want *redis.ClusterClient", srv.Client)
	}
	info, err := cc.ClusterInfo(ctx).Result()
	if err != nil || !strings.Contains(info, "cluster_state:ok") {
		t.Fatalf("CLUSTER INFO = %.80q, %v; want cluster_state:ok", info, err)
	}
	var masters atomic.Int32 // ForEachMaster calls the function concurrently
	if err := cc.ForEachMaster(ctx, func(context.Context, *redis.Client) error { masters.Add(1); return nil }); err != nil {
		t.Fatalf("ForEachMaster: %v", err)
	}
	if masters := masters.Load(); masters != 3 {
		t.Fatalf("masters = %d, want 3", masters)
	}
	swap := redis.NewScript(`redis.call('SET', KEYS[1], ARGV[1]); return redis.call('GETSET', KEYS[2], redis.call('GET', KEYS[1]))`)
	a, b := srv.Prefix+"{tag}a", srv.Prefix+"{tag}b"
	if err := cc.Set(ctx, b, "old", time.Minute).Err(); err != nil {
		t.Fatalf("SET: %v", err)
	}
	got, err := swap.Run(ctx, cc, []string{a, b}, "new").Text()
	if err != nil || got != "old" {
		t.Fatalf("script on {tag} keys = %q, %v; want \"old\", nil", got, err)
	}
	if got, _ := cc.Get(ctx, b).Result(); got != "new" {
		t.Fatalf("after script %s = %q, want \"new\"", b, got)
	}
}

// TestOwnRedis proves that OwnRedis starts a server of the test's own, not
// the shared one, that takes writes, and that it is gone after the test.
func TestOwnRedis(t *testing.T) {
	t.Parallel()
	var addr string
	t.Run("Server", func(t *testing.T) {
		srv := testenv.OwnRedis(t)
		addr = srv.Addrs[0]
		if shared := os.Getenv("IDEMQ_REDIS_ADDR"); addr == shared {
			t.Fatalf("OwnRedis returned the shared server %s", shared)
		}
		ctx := context.Background()
		if n, err := srv.Client.Incr(ctx, srv.Prefix+"n").Result(); err != nil || n != 1 {
			t.Fatalf("INCR = %d, %v; want 1, nil", n, err)
		}
		if n, err := srv.Client.DBSize(ctx).Result(); err != nil || n != 1 {
			t.Fatalf("DBSIZE = %d, %v; want 1 (a server of its own), nil", n, err)
		}
	})
	if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		_ = c.Close()
		t.Errorf("the server on %s still accepts connections after its test ended", addr)
	}
}
