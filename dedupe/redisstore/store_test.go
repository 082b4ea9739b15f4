package redisstore_test

import (
	"context"
	"testing"

	"github.com/idemq/idemq/dedupe"
	"github.com/idemq/idemq/dedupe/dedupetest"
	"github.com/idemq/idemq/dedupe/redisstore"
	"github.com/idemq/idemq/internal/testenv"
)

// standaloneServers are the single-node servers, by name: Redis 7.0 (fenced
// writes in Lua) and Valkey (native SET ... IFEQ).
var standaloneServers = map[string]func(testing.TB) testenv.RedisServer{"Redis": testenv.Redis, "Valkey": testenv.Valkey}

// redisBackend makes every store with a new client (its own connections) on
// the test's prefix of a real Redis.
type redisBackend struct{ srv testenv.RedisServer }

func (b redisBackend) Store(t *testing.T) dedupe.Store {
	return newStore(t, b.srv)
}

func newStore(t *testing.T, srv testenv.RedisServer) *redisstore.Store {
	t.Helper()
	s, err := redisstore.New(srv.NewClient(t), redisstore.WithPrefix(srv.Prefix))
	if err != nil {
		t.Fatalf("redisstore.New: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() }) // before the client's cleanup: LIFO
	return s
}

func TestStoreConformance(t *testing.T) {
	t.Parallel()
	dedupetest.Run(t, func(t *testing.T) dedupetest.Backend { return redisBackend{testenv.Redis(t)} })
}

func TestValkeyStoreConformance(t *testing.T) {
	t.Parallel()
	dedupetest.Run(t, func(t *testing.T) dedupetest.Backend { return redisBackend{testenv.Valkey(t)} })
}

// TestRESP2StoreConformance runs the suite on clients that speak RESP2
// (redis.Options.Protocol 2), which skips go-redis's push-notification
// checks: Lua's replies, nils and errors read alike in both protocols.
func TestRESP2StoreConformance(t *testing.T) {
	t.Parallel()
	for name, srv := range standaloneServers {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s := srv(t)
			s.Protocol = 2
			info, err := s.NewClient(t).ClientInfo(context.Background()).Result()
			if err != nil || info.Resp != 2 {
				t.Fatalf("CLIENT INFO = %+v, %v; want resp=2", info, err)
			}
			dedupetest.Run(t, func(t *testing.T) dedupetest.Backend {
				s := srv(t)
				s.Protocol = 2
				return redisBackend{s}
			})
		})
	}
}

func TestRedisClusterStoreConformance(t *testing.T) {
	t.Parallel()
	dedupetest.Run(t, func(t *testing.T) dedupetest.Backend { return redisBackend{testenv.RedisCluster(t)} })
}

func TestNewRejectsNilClient(t *testing.T) {
	t.Parallel()
	if _, err := redisstore.New(nil); err == nil {
		t.Fatal("redisstore.New(nil) = nil error, want ErrInvalidOption")
	}
}
