package idemqwatermill_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	wm "github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill-redisstream/pkg/redisstream"
	wmessage "github.com/ThreeDotsLabs/watermill/message"
	"github.com/redis/go-redis/v9"

	idemqwatermill "github.com/idemq/idemq/adapters/watermill"
	"github.com/idemq/idemq/internal/testenv"
)

// Sizes of the main scenario: 2,000 messages, 30% of them duplicates by key,
// and the first attempt of 10% of the keys fails (a nack and a redelivery).
const (
	scenarioMessages = 2000
	scenarioKeys     = 1400
	scenarioFailing  = 140
)

var errFailOnce = errors.New("failing once")

// scenario is the input of the main test and the handler it runs.
type scenario struct {
	srv        testenv.RedisServer
	msgs       []*wmessage.Message // in publish order
	deliveries map[string]int      // published messages per key
	failOnce   map[string]bool
	attempted  sync.Map // keys whose handler ran at least once
	failures   atomic.Int64
	duplicates atomic.Int64
	contended  atomic.Int64 // claims that found another owner working
}

// newScenario spreads the duplicates of a key within a few positions of its
// first message, so that the two routers often hold a key at the same time.
func newScenario(t *testing.T, srv testenv.RedisServer) *scenario {
	seed := uint64(time.Now().UnixNano())
	t.Logf("scenario seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, seed))
	s := &scenario{srv: srv, deliveries: map[string]int{}, failOnce: map[string]bool{}}
	type slot struct {
		key string
		pos float64
	}
	var slots []slot
	for i := range scenarioKeys {
		slots = append(slots, slot{fmt.Sprintf("k%d", i), float64(i)})
	}
	for range scenarioMessages - scenarioKeys {
		i := rng.IntN(scenarioKeys)
		slots = append(slots, slot{slots[i].key, float64(i) + 4*rng.Float64()})
	}
	slices.SortStableFunc(slots, func(a, b slot) int { return int(a.pos*1e6) - int(b.pos*1e6) })
	for _, sl := range slots {
		s.msgs = append(s.msgs, newMsg(sl.key, "order "+sl.key))
		s.deliveries[sl.key]++
	}
	for _, i := range rng.Perm(scenarioKeys)[:scenarioFailing] {
		s.failOnce[fmt.Sprintf("k%d", i)] = true
	}
	return s
}

// dedup returns one instance's Deduplicator: its own Redis client and store.
func (s *scenario) dedup(t *testing.T) *idemqwatermill.Deduplicator {
	store := &faultStore{Store: redisStore(t, s.srv), contended: &s.contended}
	return newDedup(t, store, idemqwatermill.Config{
		OnDuplicate: func(*wmessage.Message, []*wmessage.Message) error { s.duplicates.Add(1); return nil },
	})
}

// handler fails the first attempt of the failOnce keys, then adds 1 to the
// key's counter in Redis (the effect) and produces one output whose UUID and
// payload are new on every run.
func (s *scenario) handler(client redis.UniversalClient, router int) wmessage.HandlerFunc {
	return func(msg *wmessage.Message) ([]*wmessage.Message, error) {
		k := msg.Metadata.Get(keyField)
		if _, again := s.attempted.LoadOrStore(k, true); s.failOnce[k] && !again {
			s.failures.Add(1)
			return nil, errFailOnce
		}
		if err := client.Incr(msg.Context(), s.srv.Prefix+"effect:"+k).Err(); err != nil {
			return nil, err
		}
		return []*wmessage.Message{output(wm.NewUUID(), k, fmt.Sprintf("%s by router %d at %d", k, router, time.Now().UnixNano()))}, nil
	}
}

// check verifies the outcome once every message was acked.
func (s *scenario) check(t *testing.T, outputs []*wmessage.Message) {
	t.Helper()
	ctx := context.Background()
	keys := make([]string, 0, len(s.deliveries))
	for k := range s.deliveries {
		keys = append(keys, s.srv.Prefix+"effect:"+k)
	}
	counts, err := s.srv.Client.MGet(ctx, keys...).Result()
	if err != nil {
		t.Fatal(err)
	}
	for i, c := range counts {
		if c != "1" {
			t.Errorf("%s = %v, want 1", keys[i], c)
		}
	}
	byKey := map[string][]*wmessage.Message{}
	for _, o := range outputs {
		byKey[o.Metadata.Get("key")] = append(byKey[o.Metadata.Get("key")], o)
	}
	for k, n := range s.deliveries {
		outs := byKey[k]
		if len(outs) < n {
			t.Errorf("key %s: %d outputs for %d deliveries", k, len(outs), n)
			continue
		}
		for _, o := range outs[1:] {
			if !o.Equals(outs[0]) {
				t.Errorf("key %s: output %s %q differs from %s %q", k, o.UUID, o.Payload, outs[0].UUID, outs[0].Payload)
			}
		}
	}
	if got, want := s.duplicates.Load(), int64(scenarioMessages-scenarioKeys); got < want {
		t.Errorf("duplicates reported = %d, want >= %d", got, want)
	}
	if got := s.failures.Load(); got != scenarioFailing {
		t.Errorf("forced failures = %d, want %d", got, scenarioFailing)
	}
	t.Logf("%d messages, %d keys, %d outputs, %d duplicates reported, %d forced failures, %d claims found another owner working",
		len(s.msgs), len(s.deliveries), len(outputs), s.duplicates.Load(), s.failures.Load(), s.contended.Load())
}

// TestTwoRouters is the main scenario, on two transports: two routers (two
// consumer instances, each with its own Redis clients and store) share 2,000
// messages, 30% of them duplicates by key, and the first attempt of 140 keys
// fails. The effect (a counter per key in Redis) must be exactly 1 per key,
// every message acked, and the outputs of a key and its duplicates identical.
func TestTwoRouters(t *testing.T) {
	t.Parallel()
	srv := testenv.Redis(t)
	t.Run("GoChannel", func(t *testing.T) {
		t.Parallel()
		twoRoutersGoChannel(t, within(t, srv))
	})
	t.Run("RedisStream", func(t *testing.T) {
		t.Parallel()
		twoRoutersRedisStream(t, within(t, srv))
	})
}

// twoRoutersGoChannel: each message goes to one router at random, as a
// consumer group would.
func twoRoutersGoChannel(t *testing.T, srv testenv.RedisServer) {
	s := newScenario(t, srv)
	ps := newGoChannel(t)
	out := collect(t, ps, "out")
	for i := range 2 {
		r := newRouter(t)
		r.AddMiddleware(s.dedup(t).Middleware)
		r.AddHandler("process", fmt.Sprintf("in-%d", i), ps, "out", ps, s.handler(srv.NewClient(t), i))
		startRouter(t, r)
	}
	publishEach(t, ps, s.msgs, func(int) string { return fmt.Sprintf("in-%d", rand.IntN(2)) })
	out.mu.Lock()
	outputs := slices.Clone(out.msgs)
	out.mu.Unlock()
	s.check(t, outputs)
}

// twoRoutersRedisStream: both routers in one consumer group of a Redis
// stream (a real broker: consumer groups, pending entries, redelivery after
// a nack and reclaiming of idle entries).
func twoRoutersRedisStream(t *testing.T, srv testenv.RedisServer) {
	s := newScenario(t, srv)
	in, outStream, group := srv.Prefix+"in", srv.Prefix+"out", "consumers"
	pub := streamPublisher(t, srv)
	if err := pub.Publish(in, s.msgs...); err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		sub, err := redisstream.NewSubscriber(redisstream.SubscriberConfig{
			Client:                        srv.NewClient(t), // closed by sub.Close
			ConsumerGroup:                 group,
			Consumer:                      fmt.Sprintf("consumer-%d", i),
			BlockTime:                     10 * time.Millisecond,
			DisableIndefiniteInitialBlock: true,
			ClaimInterval:                 300 * time.Millisecond,
			MaxIdleTime:                   500 * time.Millisecond,
		}, wm.NopLogger{})
		if err != nil {
			t.Fatal(err)
		}
		r := newRouter(t)
		r.AddMiddleware(s.dedup(t).Middleware)
		r.AddHandler("process", in, sub, outStream, streamPublisher(t, srv), s.handler(srv.NewClient(t), i))
		startRouter(t, r)
	}
	waitAllAcked(t, srv.Client, in, group, scenarioMessages)
	s.check(t, readStream(t, srv.Client, outStream))
}

func streamPublisher(t *testing.T, srv testenv.RedisServer) *redisstream.Publisher {
	pub, err := redisstream.NewPublisher(redisstream.PublisherConfig{Client: srv.NewClient(t)}, wm.NopLogger{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = pub.Close() })
	return pub
}

// waitAllAcked waits until the group has read all n entries of stream and
// none is pending (delivered but not acked).
func waitAllAcked(t *testing.T, c redis.UniversalClient, stream, group string, n int64) {
	t.Helper()
	ctx := context.Background()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(60 * time.Second)
	for {
		groups, err := c.XInfoGroups(ctx, stream).Result()
		if err == nil && len(groups) == 1 && groups[0].EntriesRead == n && groups[0].Lag == 0 && groups[0].Pending == 0 {
			return
		}
		select {
		case <-tick.C:
		case <-deadline:
			t.Fatalf("stream %s not fully acked by group %s within 60s: %+v, %v", stream, group, groups, err)
		}
	}
}

// readStream returns every message of a stream written by redisstream.
func readStream(t *testing.T, c redis.UniversalClient, stream string) []*wmessage.Message {
	t.Helper()
	entries, err := c.XRange(context.Background(), stream, "-", "+").Result()
	if err != nil {
		t.Fatal(err)
	}
	var msgs []*wmessage.Message
	for _, e := range entries {
		m, err := redisstream.DefaultMarshallerUnmarshaller{}.Unmarshal(e.Values)
		if err != nil {
			t.Fatal(err)
		}
		msgs = append(msgs, m)
	}
	return msgs
}
