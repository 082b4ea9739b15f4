package redisstore_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/idemq/idemq/dedupe"
	"github.com/idemq/idemq/internal/testenv"
)

// TestRedisEmptyStoredStringIsDecodeError puts an empty string where a
// record belongs: no claim can be taken there, so it must be reported as
// corrupt, not read as a free key.
func TestRedisEmptyStoredStringIsDecodeError(t *testing.T) {
	t.Parallel()
	srv := testenv.Redis(t)
	s := newStore(t, srv)
	ctx := context.Background()
	if err := srv.Client.Set(ctx, srv.Prefix+"{empty}", "", time.Minute).Err(); err != nil {
		t.Fatal(err)
	}
	for _, mode := range []struct {
		name string
		opts []dedupe.RunOption
	}{{"Optimistic", []dedupe.RunOption{dedupe.WithOptimistic()}}, {"Claim", []dedupe.RunOption{dedupe.WithClaim(time.Minute)}}} {
		_, err := dedupe.Run(ctx, s, "empty", func(ctx context.Context, end dedupe.End[int]) (int, error) {
			t.Errorf("%s: fn ran on a corrupt record", mode.name)
			return 0, nil
		}, mode.opts...)
		var de *dedupe.DecodeError
		if !errors.As(err, &de) {
			t.Errorf("%s: Run = %v, want a *dedupe.DecodeError", mode.name, err)
		}
	}
}

// TestRedisRecoversFromScriptFlush flushes the server's script cache: the
// next script calls get NOSCRIPT, did not run, and must be loaded and sent
// again, for Run and for the batch path.
func TestRedisRecoversFromScriptFlush(t *testing.T) {
	t.Parallel()
	srv := testenv.Redis(t)
	s := newStore(t, srv)
	ctx := context.Background()
	flush := func() {
		if err := srv.Client.ScriptFlush(ctx).Err(); err != nil {
			t.Fatal(err)
		}
	}
	flush()
	if _, err := dedupe.Run(ctx, s, "after-flush", func(ctx context.Context, end dedupe.End[int]) (int, error) {
		end(1)
		return 1, nil
	}, dedupe.WithClaim(time.Minute)); err != nil {
		t.Fatalf("Run after SCRIPT FLUSH = %v, want nil", err)
	}
	batch, err := dedupe.NewBatch[int](s)
	if err != nil {
		t.Fatal(err)
	}
	defer batch.Close()
	tickets, err := batch.Claim(ctx, "b1", "b2")
	if err != nil {
		t.Fatal(err)
	}
	flush()
	if err := tickets[0].End(1); err != nil {
		t.Fatal(err)
	}
	if err := tickets[1].Release(); err != nil {
		t.Fatal(err)
	}
	if err := tickets[0].Result(ctx); err != nil {
		t.Fatalf("batch commit after SCRIPT FLUSH = %v, want nil", err)
	}
	if err := tickets[1].Result(ctx); !errors.Is(err, dedupe.ErrReleased) {
		t.Fatalf("batch release after SCRIPT FLUSH = %v, want ErrReleased", err)
	}
}
