package dedupetest

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/idemq/idemq/dedupe"
)

func noop(ctx context.Context, end dedupe.End[int]) (int, error) {
	end(1)
	return 1, nil
}

// validationTests cover bad input: a clear error, and nothing run or stored.
var validationTests = map[string]func(*testing.T, Backend){
	"RejectsBadKeysAndOptions": func(t *testing.T, b Backend) {
		s, ctx := openStore(t, b), testContext(t)
		cases := []struct {
			name string
			key  string
			opts []dedupe.RunOption
			want error
		}{
			{"EmptyKey", "", nil, dedupe.ErrInvalidKey},
			{"KeyOverMax", strings.Repeat("k", dedupe.MaxKeyLen+1), nil, dedupe.ErrInvalidKey},
			{"ZeroTTL", key(t), []dedupe.RunOption{dedupe.WithTTL(0)}, dedupe.ErrInvalidOption},
			{"NegativeTTL", key(t), []dedupe.RunOption{dedupe.WithTTL(-time.Second)}, dedupe.ErrInvalidOption},
			{"SubMillisecondTTL", key(t), []dedupe.RunOption{dedupe.WithTTL(500 * time.Microsecond)}, dedupe.ErrInvalidOption},
			{"TinyLease", key(t), []dedupe.RunOption{dedupe.WithClaim(time.Millisecond)}, dedupe.ErrInvalidOption},
			{"NilCodec", key(t), []dedupe.RunOption{dedupe.WithCodec(nil)}, dedupe.ErrInvalidOption},
			{"ZeroCommitTimeout", key(t), []dedupe.RunOption{dedupe.WithCommitTimeout(0)}, dedupe.ErrInvalidOption},
			{"EmptyKeyOptimistic", "", []dedupe.RunOption{dedupe.WithOptimistic()}, dedupe.ErrInvalidKey},
			{"ClaimAndOptimistic", key(t), []dedupe.RunOption{dedupe.WithClaim(time.Minute), dedupe.WithOptimistic()}, dedupe.ErrInvalidOption},
			{"EagerStartWithoutOptimistic", key(t), []dedupe.RunOption{dedupe.WithEagerStart()}, dedupe.ErrInvalidOption},
			{"KeepClaimOnErrorOptimistic", key(t), []dedupe.RunOption{dedupe.WithOptimistic(), dedupe.WithKeepClaimOnError()}, dedupe.ErrInvalidOption},
			{"NegativeMaxWait", key(t), []dedupe.RunOption{dedupe.WithMaxWait(-time.Second)}, dedupe.ErrInvalidOption},
			{"MaxWaitAndNoWait", key(t), []dedupe.RunOption{dedupe.WithMaxWait(time.Second), dedupe.WithNoWait()}, dedupe.ErrInvalidOption},
		}
		for _, c := range cases {
			called := false
			_, err := dedupe.Run(ctx, s, c.key, func(ctx context.Context, end dedupe.End[int]) (int, error) {
				called = true
				return noop(ctx, end)
			}, c.opts...)
			if !errors.Is(err, c.want) || !strings.HasPrefix(err.Error(), "dedupe: ") {
				t.Errorf("%s: Run = %v, want %v with a \"dedupe: \" message", c.name, err, c.want)
			}
			if called {
				t.Errorf("%s: fn was called", c.name)
			}
		}
	},
	"KeysAreBinarySafe": func(t *testing.T, b Backend) {
		s, ctx := openStore(t, b), testContext(t)
		keys := []string{"\x00\xff" + key(t), "{" + key(t), key(t) + "}{", strings.Repeat("é", dedupe.MaxKeyLen/2)}
		for _, k := range keys {
			if _, err := dedupe.Run(ctx, s, k, noop, dedupe.WithOptimistic()); err != nil {
				t.Fatalf("Run(%q) = %v", k, err)
			}
			if _, err := dedupe.Run(ctx, s, k, noop, dedupe.WithOptimistic()); !errors.Is(err, dedupe.ErrConflict) {
				t.Fatalf("second Run(%q) = %v, want a conflict", k, err)
			}
		}
	},
	"TTLExpiresCommittedValue": func(t *testing.T, b Backend) {
		s, ctx, k := openStore(t, b), testContext(t), key(t)
		const ttl = time.Second
		start := time.Now()
		commitValue(t, s, k, 1, dedupe.WithTTL(ttl))
		_, err := dedupe.Run(ctx, s, k, noop, dedupe.WithOptimistic())
		// Before the TTL the value must be there; a machine too loaded to get
		// here within it cannot tell (the commit's own round trip counts).
		if elapsed := time.Since(start); !errors.Is(err, dedupe.ErrConflict) && elapsed < ttl {
			t.Fatalf("Run %v after the commit (TTL %v) = %v, want a conflict", elapsed, ttl, err)
		}
		waitFree(t, s, k, 5*time.Second)
		if _, err := dedupe.Run(ctx, s, k, noop, dedupe.WithOptimistic()); err != nil {
			t.Fatalf("Run after expiry = %v, want nil", err)
		}
	},
}
