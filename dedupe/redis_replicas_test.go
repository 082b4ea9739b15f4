package dedupe_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/idemq/idemq/dedupe"
	"github.com/idemq/idemq/internal/testenv"
)

// TestReplicaAcks runs commits on a Redis with one real replica. With
// WithReplicaAcks(1, ...) a commit returns only once the replica has it: a
// read on the replica right after Run returned finds the value. Asking for
// two replicas (there is one) makes every commit's outcome unknown:
// ErrCommitUnknown, in Run and in a Batch, so no consumer acks it.
func TestReplicaAcks(t *testing.T) {
	t.Parallel()
	srv, replicaAddr := testenv.RedisWithReplica(t)
	replica := redis.NewClient(&redis.Options{Addr: replicaAddr})
	defer replica.Close()
	ctx := context.Background()
	store := func(n int) *dedupe.RedisStore {
		s, err := dedupe.NewRedisStore(srv.NewClient(t), dedupe.WithPrefix(srv.Prefix), dedupe.WithReplicaAcks(n, 500*time.Millisecond))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close() })
		return s
	}
	one := store(1)
	for i := range 20 {
		k := "acked-" + string(rune('a'+i))
		if _, err := dedupe.Run(ctx, one, k, func(ctx context.Context, end dedupe.End[int]) (int, error) {
			end(i)
			return i, nil
		}); err != nil {
			t.Fatalf("Run with one replica ack = %v", err)
		}
		if v, err := replica.Get(ctx, srv.Prefix+"{"+k+"}").Result(); err != nil || v == "" {
			t.Fatalf("the replica has %q, %v right after the commit returned; want the committed record", v, err)
		}
	}
	two := store(2)
	_, err := dedupe.Run(ctx, two, "unacked", func(ctx context.Context, end dedupe.End[int]) (int, error) {
		end(1)
		return 1, nil
	})
	if !errors.Is(err, dedupe.ErrCommitUnknown) {
		t.Fatalf("Run asking for 2 replica acks with 1 replica = %v, want ErrCommitUnknown", err)
	}
	batch, err := dedupe.NewBatch[int](two)
	if err != nil {
		t.Fatal(err)
	}
	defer batch.Close()
	tickets, err := batch.Claim(ctx, "unacked-batch")
	if err != nil {
		t.Fatal(err)
	}
	if err := tickets[0].End(1); err != nil {
		t.Fatal(err)
	}
	if err := tickets[0].Result(ctx); !errors.Is(err, dedupe.ErrCommitUnknown) {
		t.Fatalf("batch commit asking for 2 replica acks = %v, want ErrCommitUnknown", err)
	}
}

func TestReplicaAcksOptionIsChecked(t *testing.T) {
	t.Parallel()
	srv := testenv.RedisCluster(t)
	if _, err := dedupe.NewRedisStore(srv.Client, dedupe.WithReplicaAcks(1, time.Second)); !errors.Is(err, dedupe.ErrInvalidOption) {
		t.Errorf("WithReplicaAcks on a Cluster = %v, want ErrInvalidOption", err)
	}
	if _, err := dedupe.NewRedisStore(srv.NewClient(t), dedupe.WithReplicaAcks(1, 0)); !errors.Is(err, dedupe.ErrInvalidOption) {
		t.Errorf("WithReplicaAcks without a timeout = %v, want ErrInvalidOption", err)
	}
}
