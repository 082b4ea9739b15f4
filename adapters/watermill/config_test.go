package idemqwatermill_test

import (
	"errors"
	"github.com/idemq/idemq/consumer"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	idemqwatermill "github.com/idemq/idemq/adapters/watermill"
	"github.com/idemq/idemq/dedupe"
	"github.com/idemq/idemq/dedupe/redisstore"
)

func TestNewRejectsInvalidConfig(t *testing.T) {
	t.Parallel()
	store := memoryStore(t)
	tests := []struct {
		name, field string
		cfg         idemqwatermill.Config
	}{
		{"NegativeTTL", "Guard.TTL", idemqwatermill.Config{Guard: consumer.Guard{TTL: -time.Second}}},
		{"SubMillisecondTTL", "Guard.TTL", idemqwatermill.Config{Guard: consumer.Guard{TTL: time.Microsecond}}},
		{"NegativeStartTimeout", "StartTimeout", idemqwatermill.Config{StartTimeout: -time.Second}},
		{"LeaseTooShort", "Guard.Lease", idemqwatermill.Config{Guard: consumer.Guard{Lease: time.Millisecond}}},
		{"NegativeLease", "Guard.Lease", idemqwatermill.Config{Guard: consumer.Guard{Lease: -time.Second}}},
		{"OptimisticWithLease", "Guard.Lease", idemqwatermill.Config{Guard: consumer.Guard{Optimistic: true, Lease: time.Second}}},
		{"OptimisticWithNoWait", "NoWait", idemqwatermill.Config{Guard: consumer.Guard{Optimistic: true}, NoWait: true}},
		{"UnknownKeyPolicy", "InvalidKey", idemqwatermill.Config{InvalidKey: 7}},
		{"NegativeMaxOutputBytes", "MaxOutputBytes", idemqwatermill.Config{MaxOutputBytes: -1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			d, err := idemqwatermill.New(store, tt.cfg)
			var ce *consumer.ConfigError
			if !errors.As(err, &ce) || !errors.Is(err, consumer.ErrInvalidConfig) || d != nil {
				t.Fatalf("New = %v, %v; want nil, a *ConfigError", d, err)
			}
			if ce.Field != tt.field || !strings.HasPrefix(err.Error(), "idemqwatermill: invalid config: "+tt.field) {
				t.Errorf("error %q names %q, want %q", err, ce.Field, tt.field)
			}
		})
	}
	t.Run("NilStore", func(t *testing.T) {
		t.Parallel()
		client := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"}) // never dialled
		t.Cleanup(func() { _ = client.Close() })
		failed, err := redisstore.New(client, redisstore.WithPrefix("bad{prefix}"))
		if err == nil {
			t.Fatal("redisstore.New with a braced prefix = nil error")
		}
		for _, s := range []dedupe.Store{nil, failed, (*redisstore.Store)(nil), (*dedupe.MemoryStore)(nil)} {
			d, err := idemqwatermill.New(s, idemqwatermill.Config{})
			var ce *consumer.ConfigError
			if !errors.As(err, &ce) || ce.Field != "store" || d != nil {
				t.Errorf("New(%T(nil)) = %v, %v; want nil, a *ConfigError naming the store", s, d, err)
			}
		}
	})
	t.Run("ZeroConfigIsValid", func(t *testing.T) {
		t.Parallel()
		if _, err := idemqwatermill.New(store, idemqwatermill.Config{}); err != nil {
			t.Errorf("New(zero Config) error = %v, want nil", err)
		}
	})
	t.Run("NilPublisher", func(t *testing.T) {
		t.Parallel()
		d := newDedup(t, store, idemqwatermill.Config{})
		if _, err := d.DecoratePublisher(nil); !errors.Is(err, consumer.ErrInvalidConfig) {
			t.Errorf("DecoratePublisher(nil) error = %v, want ErrInvalidConfig", err)
		}
	})
}

func TestKeyPolicyString(t *testing.T) {
	t.Parallel()
	for p, want := range map[consumer.KeyPolicy]string{
		consumer.KeyReject:  "reject",
		consumer.KeyProcess: "process",
		consumer.KeySkip:    "skip",
		9:                   "KeyPolicy(9)",
	} {
		if got := p.String(); got != want {
			t.Errorf("KeyPolicy(%d).String() = %q, want %q", int(p), got, want)
		}
	}
}
