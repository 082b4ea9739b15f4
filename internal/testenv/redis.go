package testenv

import (
	"context"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// RedisServer is a real Redis (standalone or Cluster) with a key prefix that
// belongs to one test.
type RedisServer struct {
	Addrs   []string // one address for a standalone server, seed addresses for a Cluster
	Cluster bool
	Prefix  string // unique to the test, ends in ':'; keys under it are deleted at cleanup
	Client  redis.UniversalClient
	// Protocol is the RESP version of the clients NewClient makes: 0 for
	// go-redis's default (3), or 2.
	Protocol int
}

// Redis returns the standalone Redis from IDEMQ_REDIS_ADDR (or a container).
func Redis(t testing.TB) RedisServer {
	t.Helper()
	addrs := addrsFromEnv("IDEMQ_REDIS_ADDR")
	if addrs == nil {
		addrs = redisContainer(t)
	}
	return newRedisServer(t, addrs[:1], false)
}

// Valkey returns the standalone Valkey 8.1+ from IDEMQ_VALKEY_ADDR, a server
// with native compare-and-set (SET ... IFEQ). No container fallback.
func Valkey(t testing.TB) RedisServer {
	t.Helper()
	addrs := addrsFromEnv("IDEMQ_VALKEY_ADDR")
	if addrs == nil {
		Missing(t, "Valkey", "IDEMQ_VALKEY_ADDR", "variable unset; no container fallback")
	}
	return newRedisServer(t, addrs[:1], false)
}

// RedisCluster returns the Redis Cluster from IDEMQ_REDIS_CLUSTER_ADDRS.
func RedisCluster(t testing.TB) RedisServer {
	t.Helper()
	addrs := addrsFromEnv("IDEMQ_REDIS_CLUSTER_ADDRS")
	if addrs == nil {
		Missing(t, "Redis Cluster", "IDEMQ_REDIS_CLUSTER_ADDRS", "variable unset; no container fallback")
	}
	return newRedisServer(t, addrs, true)
}

func newRedisServer(t testing.TB, addrs []string, cluster bool) RedisServer {
	t.Helper()
	s := RedisServer{Addrs: addrs, Cluster: cluster, Prefix: "test:" + Name(t) + ":"}
	s.Client = s.NewClient(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.Client.Ping(ctx).Err(); err != nil {
		Missing(t, "Redis at "+addrs[0], "IDEMQ_REDIS_ADDR", err.Error())
	}
	t.Cleanup(func() { s.deletePrefix(t) })
	return s
}

// NewClient returns a new client (its own connection pool) for the server,
// closed at the end of the test.
func (s RedisServer) NewClient(t testing.TB) redis.UniversalClient {
	t.Helper()
	var c redis.UniversalClient
	if s.Cluster {
		c = redis.NewClusterClient(&redis.ClusterOptions{Addrs: s.Addrs, Protocol: s.Protocol})
	} else {
		c = redis.NewClient(&redis.Options{Addr: s.Addrs[0], Protocol: s.Protocol})
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// deletePrefix removes every key under the test's prefix, on every master,
// a pipeline of UNLINKs per SCAN page (a benchmark leaves millions).
func (s RedisServer) deletePrefix(t testing.TB) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	del := func(ctx context.Context, c *redis.Client) error {
		var cursor uint64
		for {
			keys, next, err := c.Scan(ctx, cursor, s.Prefix+"*", 5000).Result()
			if err != nil {
				return err
			}
			if _, err := c.Pipelined(ctx, func(p redis.Pipeliner) error {
				for _, k := range keys {
					p.Unlink(ctx, k) // one key each: a Cluster node refuses keys of several slots
				}
				return nil
			}); err != nil {
				return err
			}
			if cursor = next; cursor == 0 {
				return nil
			}
		}
	}
	var err error
	switch c := s.Client.(type) {
	case *redis.ClusterClient:
		err = c.ForEachMaster(ctx, del)
	case *redis.Client:
		err = del(ctx, c)
	}
	if err != nil {
		t.Errorf("testenv: deleting keys under %q: %v", s.Prefix, err)
	}
}
