package redisstore_test

import (
	"bytes"
	"context"
	"errors"
	"github.com/idemq/idemq/internal/testwait"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/idemq/idemq/dedupe"
	"github.com/idemq/idemq/dedupe/dedupetest"
	"github.com/idemq/idemq/dedupe/redisstore"
	"github.com/idemq/idemq/internal/testenv"
)

// proxiedStore returns a store whose client (go-redis defaults: context
// deadlines do not bound reads, lost replies are retried) reaches the
// standalone Redis through a fault-injecting proxy.
func proxiedStore(t *testing.T, opts ...redisstore.Option) (*redisstore.Store, *testenv.Proxy, testenv.RedisServer) {
	t.Helper()
	srv := testenv.Redis(t)
	proxy := testenv.NewProxy(t, srv.Addrs[0])
	client := redis.NewClient(&redis.Options{Addr: proxy.Addr()})
	t.Cleanup(func() { _ = client.Close() })
	s, err := redisstore.New(client, append([]redisstore.Option{redisstore.WithPrefix(srv.Prefix)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s, proxy, srv
}

func TestRedisStalledLinkCancelsOwnerBeforeTaker(t *testing.T) {
	t.Parallel()
	owner, proxy, srv := proxiedStore(t)
	// Frozen, the owner's renewals hang until go-redis's 3s read timeout.
	dedupetest.StalledOwnerStopsFirst(t, owner, newStore(t, srv), proxy.Freeze)
}

func TestRedisCommitTimeoutWithFrozenLink(t *testing.T) {
	t.Parallel()
	s, proxy, _ := proxiedStore(t)
	done := make(chan error, 1)
	go func() {
		_, err := dedupe.Run(context.Background(), s, "frozen-commit", func(ctx context.Context, end dedupe.End[int]) (int, error) {
			proxy.Freeze()
			end(1)
			return 1, nil
		}, dedupe.WithClaim(time.Minute), dedupe.WithCommitTimeout(200*time.Millisecond))
		done <- err
	}()
	select {
	case err := <-done:
		if !errors.Is(err, dedupe.ErrCommitUnknown) {
			t.Fatalf("Run = %v, want ErrCommitUnknown", err)
		}
	case <-time.After(2 * time.Second): // go-redis's read timeout is 3s
		t.Fatal("Run waited for the hung commit past its 200ms commit timeout")
	}
	proxy.Thaw()
}

// commitWon matches the commit script's reply for a won commit.
func commitWon(b []byte) bool { return bytes.Equal(b, []byte("*1\r\n:1\r\n")) }

// claimFree matches the reply to a claim's SET NX GET on a free key (null).
func claimFree(b []byte) bool { return bytes.Equal(b, []byte("_\r\n")) }

func TestRedisLostCommitReplyIsRetriedAndWins(t *testing.T) {
	t.Parallel()
	for _, mode := range []struct {
		name string
		opts []dedupe.RunOption
	}{{"Optimistic", []dedupe.RunOption{dedupe.WithOptimistic()}}, {"Claim", []dedupe.RunOption{dedupe.WithClaim(time.Minute)}}} {
		t.Run(mode.name, func(t *testing.T) {
			t.Parallel()
			s, proxy, _ := proxiedStore(t)
			got, err := dedupe.Run(context.Background(), s, "lost-reply", func(ctx context.Context, end dedupe.End[string]) (int, error) {
				proxy.DropReply(commitWon)
				end("mine")
				return 7, nil
			}, mode.opts...)
			if err != nil || got != 7 {
				t.Fatalf("Run whose commit reply was lost = %v, %v; want 7, nil (go-redis resent the commit)", got, err)
			}
		})
	}
}

func TestRedisLostClaimReplyIsRetriedAndHolds(t *testing.T) {
	t.Parallel()
	s, proxy, _ := proxiedStore(t)
	proxy.DropReply(claimFree)
	got, err := dedupe.Run(context.Background(), s, "lost-claim", func(ctx context.Context, end dedupe.End[int]) (int, error) {
		end(1)
		return 1, nil
	}, dedupe.WithClaim(time.Minute), dedupe.WithNoWait())
	if err != nil || got != 1 {
		t.Fatalf("Run whose claim reply was lost = %v, %v; want 1, nil (not in progress against itself)", got, err)
	}
}

func TestNewRefusesBadClientsAndPrefixes(t *testing.T) {
	t.Parallel()
	for _, c := range []redis.UniversalClient{nil, (*redis.Client)(nil), (*redis.ClusterClient)(nil)} {
		if s, err := redisstore.New(c); !errors.Is(err, dedupe.ErrInvalidOption) || s != nil {
			t.Errorf("redisstore.New(%#v) = %v, %v; want nil, ErrInvalidOption", c, s, err)
		}
	}
	ring := redis.NewRing(&redis.RingOptions{Addrs: map[string]string{"a": "127.0.0.1:1"}})
	defer ring.Close()
	if _, err := redisstore.New(ring); !errors.Is(err, dedupe.ErrInvalidOption) {
		t.Errorf("redisstore.New(*redis.Ring) = %v, want ErrInvalidOption", err)
	}
	client := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"})
	defer client.Close()
	for _, prefix := range []string{"a{b}:", "{", "x}"} {
		if _, err := redisstore.New(client, redisstore.WithPrefix(prefix)); !errors.Is(err, dedupe.ErrInvalidOption) {
			t.Errorf("WithPrefix(%q) = %v, want ErrInvalidOption", prefix, err)
		}
	}
}

func TestRedisWatchFailsFastWhileRedisIsDown(t *testing.T) {
	t.Parallel()
	t.Run("Refused", func(t *testing.T) {
		t.Parallel()
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		_ = ln.Close() // nothing listens there now
		client := redis.NewClient(&redis.Options{Addr: addr})
		defer client.Close()
		s, err := redisstore.New(client)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		assertStoreErrorSoon(t, s, redisstore.DefaultSubscribeTimeout)
	})
	t.Run("Frozen", func(t *testing.T) {
		t.Parallel()
		s, proxy, _ := proxiedStore(t, redisstore.WithSubscribeTimeout(300*time.Millisecond))
		proxy.Freeze()
		assertStoreErrorSoon(t, s, 2*time.Second)
	})
}

// assertStoreErrorSoon runs an optimistic Run that must fail with a
// *StoreError before within, without running fn.
func assertStoreErrorSoon(t *testing.T, s dedupe.Store, within time.Duration) {
	t.Helper()
	done := make(chan error, 1)
	go func() {
		_, err := dedupe.Run(context.Background(), s, "down", func(ctx context.Context, end dedupe.End[int]) (int, error) {
			t.Error("fn ran while Redis was unreachable")
			return 0, nil
		}, dedupe.WithOptimistic())
		done <- err
	}()
	select {
	case err := <-done:
		var se *dedupe.StoreError
		if !errors.As(err, &se) {
			t.Fatalf("Run = %v, want a *dedupe.StoreError", err)
		}
	case <-time.After(within):
		t.Fatalf("Run still waits for a subscription after %v", within)
	}
}

// TestRedisCloseWithNotificationsInFlight closes stores while commits
// notify their guards and their pub/sub connections are being replaced:
// Close must be safe at any moment (no send on a closed channel).
func TestRedisCloseWithNotificationsInFlight(t *testing.T) {
	t.Parallel()
	srv := testenv.Redis(t)
	committer := newStore(t, srv)
	keys := make([]string, 32)
	for round := range 15 {
		s, name := namedStore(t, srv)
		for i := range keys {
			keys[i] = "close-" + string(rune('a'+round)) + "-" + string(rune('A'+i))
		}
		results := blockedRuns(t, s, keys)
		var wg sync.WaitGroup
		for _, k := range keys {
			wg.Go(func() {
				_, _, _ = committer.Commit(context.Background(), k, dedupe.Commit{Token: "c", Value: []byte(`"x"`), TTL: time.Minute})
			})
		}
		wg.Go(func() { killPubSubIfAny(srv, name) })
		_ = s.Close()
		wg.Wait()
		for range keys {
			if err := testwait.Recv(t, results, "a blocked guard to return"); err == nil {
				t.Fatal("a blocked guard won")
			}
		}
	}
}

// killPubSubIfAny kills the pub/sub connections named name, if there are
// any (the store may be closing).
func killPubSubIfAny(srv testenv.RedisServer, name string) {
	ctx := context.Background()
	c := srv.Client.(*redis.Client)
	out, _ := c.Do(ctx, "CLIENT", "LIST", "TYPE", "pubsub").Text()
	for _, line := range strings.Split(out, "\n") {
		if strings.Contains(line, " name="+name+" ") {
			_ = c.Do(ctx, "CLIENT", "KILL", "ID", strings.TrimPrefix(strings.Fields(line)[0], "id=")).Err()
		}
	}
}

// stallGate makes every connection of a client block its writes while
// stalled, as a socket whose send buffer is full does, until the write
// deadline go-redis sets (its WriteTimeout).
type stallGate struct {
	mu       sync.Mutex
	open     chan struct{} // closed while writes may pass
	timedOut chan struct{} // a stalled write reached its deadline
}

func newStallGate() *stallGate {
	g := &stallGate{open: make(chan struct{}), timedOut: make(chan struct{}, 1)}
	close(g.open)
	return g
}

func (g *stallGate) stall() { g.mu.Lock(); g.open = make(chan struct{}); g.mu.Unlock() }
func (g *stallGate) resume() {
	g.mu.Lock()
	defer g.mu.Unlock()
	select {
	case <-g.open:
	default:
		close(g.open)
	}
}

func (g *stallGate) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	return &stallConn{Conn: c, g: g}, nil
}

type stallConn struct {
	net.Conn
	g        *stallGate
	deadline time.Time // guarded by g.mu
}

func (c *stallConn) SetDeadline(t time.Time) error {
	c.setWriteDeadline(t)
	return c.Conn.SetDeadline(t)
}

func (c *stallConn) SetWriteDeadline(t time.Time) error {
	c.setWriteDeadline(t)
	return c.Conn.SetWriteDeadline(t)
}

func (c *stallConn) setWriteDeadline(t time.Time) {
	c.g.mu.Lock()
	c.deadline = t
	c.g.mu.Unlock()
}

func (c *stallConn) Write(b []byte) (int, error) {
	c.g.mu.Lock()
	open, deadline := c.g.open, c.deadline
	c.g.mu.Unlock()
	var expired <-chan time.Time
	if !deadline.IsZero() {
		timer := time.NewTimer(time.Until(deadline))
		defer timer.Stop()
		expired = timer.C
	}
	select {
	case <-open:
		return c.Conn.Write(b)
	case <-expired:
		select {
		case c.g.timedOut <- struct{}{}:
		default:
		}
		return 0, os.ErrDeadlineExceeded
	}
}

// TestRedisStalledPubSubWriteBlocksNothing stalls the writes of a store's
// connections, as a full socket buffer does: closing a guard's interest (an
// UNSUBSCRIBE that cannot be written) must not block that Run, and once the
// link recovers, the store reconnects and a guard whose key was committed
// meanwhile (its notification lost with the stalled connection) is stopped
// by the re-read.
func TestRedisStalledPubSubWriteBlocksNothing(t *testing.T) {
	t.Parallel()
	srv := testenv.Redis(t)
	gate := newStallGate()
	const writeTimeout = time.Second
	client := redis.NewClient(&redis.Options{Addr: srv.Addrs[0], Dialer: gate.dial, WriteTimeout: writeTimeout})
	t.Cleanup(func() { _ = client.Close() })
	t.Cleanup(gate.resume) // before the client closes: LIFO
	s, err := redisstore.New(client, redisstore.WithPrefix(srv.Prefix))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	cancelCtx, cancel := context.WithCancel(context.Background())
	defer cancel()
	started := make(chan struct{}, 2)
	first, second := make(chan error, 1), make(chan error, 1)
	blocked := func(ctx context.Context, k string, out chan<- error) {
		_, err := dedupe.Run(ctx, s, k, func(ctx context.Context, end dedupe.End[string]) (int, error) {
			started <- struct{}{}
			<-ctx.Done()
			return 0, ctx.Err()
		}, dedupe.WithOptimistic())
		out <- err
	}
	go blocked(cancelCtx, "first", first)
	go blocked(context.Background(), "second", second)
	testwait.Recv(t, started, "the first Run's fn to start")
	testwait.Recv(t, started, "the second Run's fn to start")
	gate.stall()
	cancel() // the first guard ends: its UNSUBSCRIBE cannot be written
	select {
	case <-first:
	case <-time.After(writeTimeout / 2):
		t.Fatal("a Run whose interest closes waited for a stalled pub/sub write")
	}
	testwait.Recv(t, gate.timedOut, "the stalled UNSUBSCRIBE to time out") // the connection is dropped
	commitValue(t, newStore(t, srv), "second", "done")
	gate.resume()
	select {
	case err := <-second:
		assertConflict(t, err, "done")
	case <-time.After(10 * time.Second):
		t.Fatal("a guard whose key was committed during the stall still runs 10s after the link recovered")
	}
}
