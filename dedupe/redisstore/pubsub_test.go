package redisstore_test

import (
	"context"
	"errors"
	"fmt"
	"github.com/idemq/idemq/internal/testwait"
	"strings"
	"sync"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/idemq/idemq/dedupe"
	"github.com/idemq/idemq/dedupe/redisstore"
	"github.com/idemq/idemq/internal/testenv"
)

// channel is the documented notification channel of key k under prefix.
func channel(prefix, k string) string { return prefix + "{" + k + "}:events" }

// Subscribers counts, on the server, the subscribers of the keys' channels
// (PUBSUB NUMSUB, or SHARDNUMSUB on each channel's master in a Cluster).
func (b redisBackend) Subscribers(t *testing.T, keys []string) int {
	ctx := context.Background()
	total := 0
	switch c := b.srv.Client.(type) {
	case *redis.ClusterClient:
		for _, k := range keys {
			ch := channel(b.srv.Prefix, k)
			node, err := c.MasterForKey(ctx, ch)
			if err != nil {
				t.Fatalf("MasterForKey: %v", err)
			}
			counts, err := node.PubSubShardNumSub(ctx, ch).Result()
			if err != nil {
				t.Fatalf("PUBSUB SHARDNUMSUB: %v", err)
			}
			total += int(counts[ch])
		}
	default:
		for chunk := range chunks(keys, 500) {
			chans := make([]string, len(chunk))
			for i, k := range chunk {
				chans[i] = channel(b.srv.Prefix, k)
			}
			counts, err := b.srv.Client.PubSubNumSub(ctx, chans...).Result()
			if err != nil {
				t.Fatalf("PUBSUB NUMSUB: %v", err)
			}
			for _, n := range counts {
				total += int(n)
			}
		}
	}
	return total
}

func chunks(s []string, n int) func(func([]string) bool) {
	return func(yield func([]string) bool) {
		for len(s) > 0 {
			m := min(n, len(s))
			if !yield(s[:m]) {
				return
			}
			s = s[m:]
		}
	}
}

// namedStore returns a store whose client names its connections, so the test
// can find them in CLIENT LIST.
func namedStore(t *testing.T, srv testenv.RedisServer) (*redisstore.Store, string) {
	t.Helper()
	name := "idemq-" + strings.ReplaceAll(testenv.Name(t), "/", "_")
	var client redis.UniversalClient
	if srv.Cluster {
		client = redis.NewClusterClient(&redis.ClusterOptions{Addrs: srv.Addrs, ClientName: name})
	} else {
		client = redis.NewClient(&redis.Options{Addr: srv.Addrs[0], ClientName: name})
	}
	t.Cleanup(func() { _ = client.Close() })
	s, err := redisstore.New(client, redisstore.WithPrefix(srv.Prefix))
	if err != nil {
		t.Fatalf("redisstore.New: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s, name
}

// pubsubConns returns "addr id" of every pub/sub connection named name, on every master.
func pubsubConns(t *testing.T, srv testenv.RedisServer, name string) []string {
	t.Helper()
	var mu sync.Mutex
	var conns []string
	list := func(ctx context.Context, c *redis.Client) error {
		out, err := c.Do(ctx, "CLIENT", "LIST", "TYPE", "pubsub").Text()
		for _, line := range strings.Split(out, "\n") {
			if strings.Contains(line, " name="+name+" ") {
				id := strings.TrimPrefix(strings.Fields(line)[0], "id=")
				mu.Lock()
				conns = append(conns, c.Options().Addr+" "+id)
				mu.Unlock()
			}
		}
		return err
	}
	var err error
	switch c := srv.Client.(type) {
	case *redis.ClusterClient:
		err = c.ForEachMaster(context.Background(), list)
	case *redis.Client:
		err = list(context.Background(), c)
	}
	if err != nil {
		t.Fatalf("CLIENT LIST: %v", err)
	}
	return conns
}

func forEachServer(t *testing.T, test func(t *testing.T, srv testenv.RedisServer)) {
	t.Run("Standalone", func(t *testing.T) { t.Parallel(); test(t, testenv.Redis(t)) })
	t.Run("Cluster", func(t *testing.T) { t.Parallel(); test(t, testenv.RedisCluster(t)) })
}

// blockedRuns starts one guard per key whose fn blocks until its ctx ends,
// and returns once all are running. Their results arrive on the channel.
func blockedRuns(t *testing.T, s dedupe.Store, keys []string) <-chan error {
	t.Helper()
	results := make(chan error, len(keys))
	var running sync.WaitGroup
	for _, k := range keys {
		running.Add(1)
		go func() {
			_, err := dedupe.Run(context.Background(), s, k, func(ctx context.Context, end dedupe.End[string]) (int, error) {
				running.Done()
				<-ctx.Done()
				return 0, ctx.Err()
			}, dedupe.WithOptimistic())
			results <- err
		}()
	}
	running.Wait()
	return results
}

func TestStoreSharesOnePubSubConnection(t *testing.T) {
	t.Parallel()
	forEachServer(t, func(t *testing.T, srv testenv.RedisServer) {
		s, name := namedStore(t, srv)
		keys := make([]string, 64)
		for i := range keys {
			keys[i] = fmt.Sprintf("k%d", i)
		}
		results := blockedRuns(t, s, keys)
		conns := pubsubConns(t, srv, name)
		want := 1
		if srv.Cluster {
			want = 3 // one per master: 64 keys cover every master
		}
		if len(conns) != want {
			t.Errorf("%d guards use %d pub/sub connections, want %d", len(keys), len(conns), want)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		for range keys {
			if err := testwait.Recv(t, results, "a guard to end with the store"); !errors.Is(err, dedupe.ErrStoreClosed) {
				t.Errorf("guard = %v, want ErrStoreClosed", err)
			}
		}
	})
}

// TestStoreResyncsAfterReconnect kills the store's pub/sub connections
// while guards run. A value stored with no notification at all (as if it was
// published while the connection was down) must still stop its guard, because
// every live guard re-reads its key after the store resubscribes; and a
// later commit must still reach a guard that was running before the kill.
func TestStoreResyncsAfterReconnect(t *testing.T) {
	t.Parallel()
	forEachServer(t, func(t *testing.T, srv testenv.RedisServer) {
		s, name := namedStore(t, srv)
		ctx := context.Background()
		silent := blockedRuns(t, s, []string{"silent"})
		notified := blockedRuns(t, s, []string{"notified"})
		if err := srv.Client.Set(ctx, srv.Prefix+"{silent}", `Vwriter:"unseen"`, 0).Err(); err != nil {
			t.Fatalf("SET: %v", err)
		}
		killPubSub(t, srv, name)
		assertConflict(t, testwait.Recv(t, silent, "the silently committed guard to stop"), "unseen")
		commitValue(t, newStore(t, srv), "notified", "after")
		assertConflict(t, testwait.Recv(t, notified, "the notified guard to stop"), "after")
	})
}

func killPubSub(t *testing.T, srv testenv.RedisServer, name string) {
	t.Helper()
	conns := pubsubConns(t, srv, name)
	if len(conns) == 0 {
		t.Fatal("no pub/sub connection to kill")
	}
	for _, c := range conns {
		addr, id, _ := strings.Cut(c, " ")
		node := redis.NewClient(&redis.Options{Addr: addr})
		err := node.Do(context.Background(), "CLIENT", "KILL", "ID", id).Err()
		_ = node.Close()
		if err != nil {
			t.Fatalf("CLIENT KILL ID %s on %s: %v", id, addr, err)
		}
	}
}

func assertConflict[V comparable](t *testing.T, err error, want V) {
	t.Helper()
	var conflict *dedupe.ConflictError[V]
	if !errors.As(err, &conflict) || conflict.Value != want {
		t.Fatalf("err = %v, want a *dedupe.ConflictError with value %v", err, want)
	}
}

func commitValue[V any](t *testing.T, s dedupe.Store, k string, v V) {
	t.Helper()
	_, err := dedupe.Run(context.Background(), s, k, func(ctx context.Context, end dedupe.End[V]) (int, error) {
		end(v)
		return 0, nil
	}, dedupe.WithOptimistic())
	if err != nil {
		t.Fatalf("commit %q: %v", k, err)
	}
}
