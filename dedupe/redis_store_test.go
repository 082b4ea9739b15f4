package dedupe_test

import (
	"testing"

	"github.com/idemq/idemq/dedupe"
	"github.com/idemq/idemq/dedupe/dedupetest"
	"github.com/idemq/idemq/internal/testenv"
)

// redisBackend makes every store with a new client (its own connections) on
// the test's prefix of a real Redis.
type redisBackend struct{ srv testenv.RedisServer }

func (b redisBackend) Store(t *testing.T) dedupe.Store {
	return newRedisStore(t, b.srv)
}

func newRedisStore(t *testing.T, srv testenv.RedisServer) *dedupe.RedisStore {
	t.Helper()
	s, err := dedupe.NewRedisStore(srv.NewClient(t), dedupe.WithPrefix(srv.Prefix))
	if err != nil {
		t.Fatalf("NewRedisStore: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() }) // before the client's cleanup: LIFO
	return s
}

func TestRedisStoreConformance(t *testing.T) {
	t.Parallel()
	dedupetest.Run(t, func(t *testing.T) dedupetest.Backend { return redisBackend{testenv.Redis(t)} })
}

func TestValkeyStoreConformance(t *testing.T) {
	t.Parallel()
	dedupetest.Run(t, func(t *testing.T) dedupetest.Backend { return redisBackend{testenv.Valkey(t)} })
}

func TestRedisClusterStoreConformance(t *testing.T) {
	t.Parallel()
	dedupetest.Run(t, func(t *testing.T) dedupetest.Backend { return redisBackend{testenv.RedisCluster(t)} })
}

func TestNewRedisStoreRejectsNilClient(t *testing.T) {
	t.Parallel()
	if _, err := dedupe.NewRedisStore(nil); err == nil {
		t.Fatal("NewRedisStore(nil) = nil error, want ErrInvalidOption")
	}
}
