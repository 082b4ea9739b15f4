package redisstore_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/idemq/idemq/dedupe"
	"github.com/idemq/idemq/dedupe/redisstore"
	"github.com/idemq/idemq/internal/testenv"
)

// forEachAdminServer runs test on a standalone Redis, the Cluster and a
// standalone Valkey (native SET ... IFEQ: the CAS probe's server).
func forEachAdminServer(t *testing.T, test func(t *testing.T, srv testenv.RedisServer)) {
	forEachServer(t, test)
	t.Run("Valkey", func(t *testing.T) { t.Parallel(); test(t, testenv.Valkey(t)) })
}

func adminContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// stuckClaims claims keys with a Batch on s, a store of their own, then
// closes s as a crashed process would drop it: the claims stay for their
// lease (the queued lease too, as if every key's work had started), with
// nobody to renew or release them.
func stuckClaims(t *testing.T, s *redisstore.Store, lease time.Duration, keys ...string) {
	t.Helper()
	b, err := dedupe.NewBatch[string](s, dedupe.WithClaim(lease), dedupe.WithQueuedLease(lease))
	if err != nil {
		t.Fatal(err)
	}
	tickets, err := b.Claim(adminContext(t), keys...)
	if err != nil {
		t.Fatalf("Claim: %v", err)
	}
	for _, tk := range tickets {
		if tk.Err() != nil {
			t.Fatalf("claim of %q: %v", tk.Key(), tk.Err())
		}
	}
	_ = s.Close() // the process dies: its releases at Batch.Close never reach Redis
	if err := b.Close(); !errors.Is(err, dedupe.ErrEndNotCalled) {
		t.Fatalf("Batch.Close with abandoned tickets = %v, want ErrEndNotCalled", err)
	}
}

// inspect is Inspect that fails the test on an error.
func inspect(t *testing.T, s *redisstore.Store, key string) redisstore.KeyInfo {
	t.Helper()
	info, err := s.Inspect(adminContext(t), key)
	if err != nil {
		t.Fatalf("Inspect(%q): %v", key, err)
	}
	return info
}

func TestInspect(t *testing.T) {
	t.Parallel()
	forEachAdminServer(t, func(t *testing.T, srv testenv.RedisServer) {
		s := newStore(t, srv)
		stuckClaims(t, newStore(t, srv), time.Minute, "claimed")
		commitValue(t, s, "committed", "receipt")
		commitValue(t, s, "a{b}c", "braced")
		if got := inspect(t, s, "free"); got.State != dedupe.Absent || got.Key != "free" || got.RecordKey != srv.Prefix+"{free}" || got.TTL != 0 {
			t.Errorf("free key: got %+v, want Absent at %q", got, srv.Prefix+"{free}")
		}
		c := inspect(t, s, "claimed")
		if c.State != dedupe.Claimed || c.Token == "" || c.Watched || c.TTL <= 0 || c.TTL > time.Minute || c.Value != nil {
			t.Errorf("stuck claim: got %+v, want Claimed with a token, unwatched, 0 < TTL <= 1m", c)
		}
		v := inspect(t, s, "committed")
		if v.State != dedupe.Committed || string(v.Value) != `"receipt"` || v.Token == "" || v.TTL <= 23*time.Hour || v.TTL > dedupe.DefaultTTL {
			t.Errorf("committed key: got %+v, want Committed, value %q, TTL about 24h", v, `"receipt"`)
		}
		b := inspect(t, s, "a{b}c")
		if b.State != dedupe.Committed || string(b.Value) != `"braced"` || !strings.HasPrefix(b.RecordKey, srv.Prefix+"{#") {
			t.Errorf("key with braces: got %+v, want Committed at %s{#...}:a{b}c", b, srv.Prefix)
		}
	})
}

func TestInspectCorruptRecordIsDecodeError(t *testing.T) {
	t.Parallel()
	forEachServer(t, func(t *testing.T, srv testenv.RedisServer) {
		s := newStore(t, srv)
		ctx := adminContext(t)
		must(t, srv.Client.Set(ctx, srv.Prefix+"{garbage}", "not a record", time.Minute).Err())
		must(t, srv.Client.HSet(ctx, srv.Prefix+"{hash}", "f", "v").Err())
		for _, k := range []string{"garbage", "hash"} {
			info, err := s.Inspect(ctx, k)
			var de *dedupe.DecodeError
			if !errors.As(err, &de) || de.Key != k || info.RecordKey != srv.Prefix+"{"+k+"}" {
				t.Errorf("Inspect(%q) = %+v, %v; want a *DecodeError naming the key", k, info, err)
			}
			for name, op := range map[string]func(context.Context, string) (bool, error){"ForceRelease": s.ForceRelease, "Forget": s.Forget} {
				if done, err := op(ctx, k); done || !errors.As(err, &de) {
					t.Errorf("%s(%q) = %v, %v; want false and a *DecodeError", name, k, done, err)
				}
			}
		}
	})
}

func TestAdminRejectsInvalidKeyAndClosedStore(t *testing.T) {
	t.Parallel()
	srv := testenv.Redis(t)
	s := newStore(t, srv)
	ctx := adminContext(t)
	if _, err := s.Inspect(ctx, ""); !errors.Is(err, dedupe.ErrInvalidKey) {
		t.Errorf("Inspect(\"\") = %v, want ErrInvalidKey", err)
	}
	_ = s.Close()
	if _, err := s.Inspect(ctx, "k"); !errors.Is(err, dedupe.ErrStoreClosed) {
		t.Errorf("Inspect after Close = %v, want ErrStoreClosed", err)
	}
	if _, err := s.ForceRelease(ctx, "k"); !errors.Is(err, dedupe.ErrStoreClosed) {
		t.Errorf("ForceRelease after Close = %v, want ErrStoreClosed", err)
	}
	if _, err := s.Scan(ctx, redisstore.ScanOptions{}); !errors.Is(err, dedupe.ErrStoreClosed) {
		t.Errorf("Scan after Close = %v, want ErrStoreClosed", err)
	}
}

// TestAdminAfterScriptFlush flushes the server's script cache: the
// operator calls load their scripts again (a pipelined Scan page, whose
// calls all fail with NOSCRIPT, as well as single calls).
func TestAdminAfterScriptFlush(t *testing.T) {
	t.Parallel()
	srv := testenv.Redis(t)
	s := newStore(t, srv)
	ctx := adminContext(t)
	stuckClaims(t, newStore(t, srv), time.Minute, "a", "b")
	for _, step := range []func() error{
		func() error {
			_, err := s.Scan(ctx, redisstore.ScanOptions{Match: "a", Count: 1000, MaxScans: 1000})
			return err
		},
		func() error { _, err := s.Inspect(ctx, "a"); return err },
		func() error { _, err := s.ForceRelease(ctx, "b"); return err },
	} {
		must(t, srv.Client.ScriptFlush(ctx).Err())
		if err := step(); err != nil {
			t.Fatalf("after SCRIPT FLUSH: %v", err)
		}
	}
}
