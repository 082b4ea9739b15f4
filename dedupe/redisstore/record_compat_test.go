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

// Owner tokens as versions before 12-byte base64url tokens made them: a
// run's, 16 random bytes in hex; a Batch ticket's, 8 of them, '-' and a
// base-36 counter.
const (
	oldToken      = "0f1e2d3c4b5a69788796a5b4c3d2e1f0"
	oldBatchToken = "0f1e2d3c4b5a6978-2s"
)

// servers are the three kinds of server a store runs on: Redis 7.0 (commits
// by script), Valkey (native SET ... IFEQ) and a Redis Cluster.
var servers = []struct {
	name string
	srv  func(testing.TB) testenv.RedisServer
}{{"Redis", testenv.Redis}, {"Valkey", testenv.Valkey}, {"Cluster", testenv.RedisCluster}}

// setRaw writes a record as an earlier version's store did, at key's record
// key, and returns the store.
func setRaw(t *testing.T, srv testenv.RedisServer, key, record string, ttl time.Duration) *redisstore.Store {
	t.Helper()
	s, ctx := newStore(t, srv), context.Background()
	info, err := s.Inspect(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Client.Set(ctx, info.RecordKey, record, ttl).Err(); err != nil {
		t.Fatal(err)
	}
	return s
}

// TestRedisOldFormatValueIsHonoured puts a value committed by an earlier
// version where a rolling upgrade leaves it: a run of this version gets it
// as a duplicate, the old run's resent commit still finds its own record
// and wins, and another token's commit loses.
func TestRedisOldFormatValueIsHonoured(t *testing.T) {
	t.Parallel()
	for _, c := range servers {
		for _, tok := range []string{oldToken, oldBatchToken} {
			t.Run(c.name+"/"+tok, func(t *testing.T) {
				t.Parallel()
				ctx, k := context.Background(), "old-value"
				s := setRaw(t, c.srv(t), k, "V"+tok+":old", time.Minute)
				_, err := dedupe.Run(ctx, s, k, func(context.Context, dedupe.End[string]) (string, error) {
					t.Error("fn ran on a committed key")
					return "", nil
				}, dedupe.WithCodec(dedupe.RawCodec{}))
				var ce *dedupe.ConflictError[string]
				if !errors.As(err, &ce) || ce.Value != "old" {
					t.Fatalf("Run = %v, want a *ConflictError with the old value", err)
				}
				for _, fenced := range []bool{true, false} {
					c := dedupe.Commit{Token: tok, Fenced: fenced, Value: []byte("old"), TTL: time.Minute}
					if cur, won, err := s.Commit(ctx, k, c); err != nil || !won || cur.Token != tok {
						t.Fatalf("resent commit (fenced %v) = %+v, won %v, %v; want won with the old token", fenced, cur, won, err)
					}
				}
				cur, won, err := s.Commit(ctx, k, dedupe.Commit{Token: "AbCdEfGhIjKlMnOp", Value: []byte("new"), TTL: time.Minute})
				if err != nil || won || cur.Token != tok || string(cur.Value) != "old" {
					t.Fatalf("another token's commit = %+v, won %v, %v; want lost to the old value", cur, won, err)
				}
			})
		}
	}
}

// TestRedisOldFormatClaimIsFenced puts an earlier version's claim on a key:
// a run of this version does not take it, and the claim's owner commits
// through this version's store (SET ... IFEQ on Valkey, the script on
// Redis 7.0), resends that commit and wins both times.
func TestRedisOldFormatClaimIsFenced(t *testing.T) {
	t.Parallel()
	for _, c := range servers {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			ctx, k := context.Background(), "old-claim"
			s := setRaw(t, c.srv(t), k, "C"+oldToken, time.Minute)
			_, err := dedupe.Run(ctx, s, k, func(context.Context, dedupe.End[string]) (string, error) {
				t.Error("fn ran on a claimed key")
				return "", nil
			}, dedupe.WithCodec(dedupe.RawCodec{}), dedupe.WithNoWait())
			if !errors.Is(err, dedupe.ErrInProgress) {
				t.Fatalf("Run = %v, want ErrInProgress", err)
			}
			for range 2 {
				c := dedupe.Commit{Token: oldToken, Fenced: true, Value: []byte("v"), TTL: time.Minute}
				if _, won, err := s.Commit(ctx, k, c); err != nil || !won {
					t.Fatalf("the old owner's commit won = %v, %v; want true, nil", won, err)
				}
			}
			if rec, err := s.Get(ctx, k); err != nil || rec.State != dedupe.Committed || rec.Token != oldToken || string(rec.Value) != "v" {
				t.Fatalf("Get = %+v, %v; want committed \"v\" by the old token", rec, err)
			}
		})
	}
}

// TestRedisRecordOfSmallValueIsOneAllocation pins the size of what Run and
// Batch commit for a 24-byte value: "V", a 16-character token, ":" and the
// value, 42 bytes, within the 44 that Redis 7 keeps in one allocation with
// its object header (OBJECT ENCODING embstr) instead of two (raw).
func TestRedisRecordOfSmallValueIsOneAllocation(t *testing.T) {
	t.Parallel()
	srv := testenv.Redis(t)
	s, ctx := newStore(t, srv), context.Background()
	value := strings.Repeat("v", 24)
	end := func(_ context.Context, end dedupe.End[string]) (string, error) {
		end(value)
		return value, nil
	}
	if _, err := dedupe.Run(ctx, s, "run", end, dedupe.WithCodec(dedupe.RawCodec{})); err != nil {
		t.Fatal(err)
	}
	batch, err := dedupe.NewBatch[string](s, dedupe.WithCodec(dedupe.RawCodec{}))
	if err != nil {
		t.Fatal(err)
	}
	defer batch.Close()
	tickets, err := batch.Claim(ctx, "batch")
	if err == nil {
		err = tickets[0].End(value)
	}
	if err == nil {
		err = tickets[0].Result(ctx)
	}
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"run", "batch"} {
		info, err := s.Inspect(ctx, k)
		if err != nil {
			t.Fatal(err)
		}
		rec, err := srv.Client.Get(ctx, info.RecordKey).Result()
		if err != nil {
			t.Fatal(err)
		}
		if want := "V" + info.Token + ":" + value; len(rec) != 42 || len(info.Token) != 16 || rec != want {
			t.Errorf("%s: record %q (%d bytes), want %q, 42 bytes", k, rec, len(rec), want)
		}
		if enc, err := srv.Client.ObjectEncoding(ctx, info.RecordKey).Result(); err != nil || enc != "embstr" {
			t.Errorf("%s: OBJECT ENCODING = %q, %v; want embstr", k, enc, err)
		}
	}
}
