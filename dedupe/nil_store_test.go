package dedupe_test

import (
	"context"
	"errors"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/idemq/idemq/dedupe"
	"github.com/idemq/idemq/dedupe/redisstore"
)

// nilStores are stores that are nil inside a non-nil Store: what a failed
// redisstore.New returns, passed on without checking its error.
func nilStores(t *testing.T) map[string]dedupe.Store {
	t.Helper()
	client := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"}) // never dialled
	t.Cleanup(func() { _ = client.Close() })
	failed, err := redisstore.New(client, redisstore.WithPrefix("bad{prefix}"))
	if err == nil {
		t.Fatal("redisstore.New with a braced prefix = nil error")
	}
	return map[string]dedupe.Store{
		"FailedNewRedisStore": failed,
		"NilRedisStore":       (*redisstore.Store)(nil),
		"NilMemoryStore":      (*dedupe.MemoryStore)(nil),
	}
}

// TestNilStoreIsRefused: Run and NewBatch refuse a nil store, typed or not,
// with ErrInvalidOption, and run nothing; they must not panic on it, nor
// start goroutines that do.
func TestNilStoreIsRefused(t *testing.T) {
	t.Parallel()
	stores := nilStores(t)
	stores["Nil"] = nil
	for name, s := range stores {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if !dedupe.IsNilStore(s) {
				t.Errorf("IsNilStore(%T) = false, want true", s)
			}
			called := false
			_, err := dedupe.Run(context.Background(), s, "k", func(ctx context.Context, end dedupe.End[int]) (int, error) {
				called = true
				end(1)
				return 1, nil
			})
			if !errors.Is(err, dedupe.ErrInvalidOption) || called {
				t.Errorf("Run on a nil %T = %v (fn called: %v), want ErrInvalidOption and fn not called", s, err, called)
			}
			for _, opts := range [][]dedupe.BatchOption{nil, {dedupe.WithOptimistic()}} {
				if b, err := dedupe.NewBatch[int](s, opts...); !errors.Is(err, dedupe.ErrInvalidOption) || b != nil {
					t.Errorf("NewBatch(%T, %d options) = %v, %v; want nil, ErrInvalidOption", s, len(opts), b, err)
				}
			}
		})
	}
}

func TestIsNilStoreOfRealStores(t *testing.T) {
	t.Parallel()
	m := dedupe.NewMemoryStore()
	defer m.Close()
	if dedupe.IsNilStore(m) {
		t.Error("IsNilStore(NewMemoryStore()) = true, want false")
	}
}
