package idemqwatermill_test

import (
	"errors"
	"sync/atomic"
	"testing"
	"time"

	wmessage "github.com/ThreeDotsLabs/watermill/message"
	"github.com/redis/go-redis/v9"

	idemqwatermill "github.com/idemq/idemq/adapters/watermill"
	"github.com/idemq/idemq/dedupe"
	"github.com/idemq/idemq/dedupe/redisstore"
	"github.com/idemq/idemq/internal/testenv"
)

// routerWith runs a router whose one handler h is guarded by a Deduplicator
// on store; it returns the subscriber to deliver messages with and the
// publisher that receives the outputs.
func routerWith(t *testing.T, store dedupe.Store, cfg idemqwatermill.Config, h wmessage.HandlerFunc) (*chanSubscriber, *recordingPublisher) {
	t.Helper()
	sub, pub := newChanSubscriber(), &recordingPublisher{}
	r := newRouter(t)
	r.AddHandler("h", "in", sub, "out", pub, h).AddMiddleware(newDedup(t, store, cfg).Middleware)
	startRouter(t, r)
	return sub, pub
}

// TestRouterAcksOnlyWhatIsDone reads the router's ack or nack for each kind
// of outcome, with a real Redis store.
func TestRouterAcksOnlyWhatIsDone(t *testing.T) {
	t.Parallel()
	srv := testenv.Redis(t)
	onRedis := func(t *testing.T) dedupe.Store { return redisStore(t, within(t, srv)) }
	var runs atomic.Int32
	ok := countingHandler(&runs)

	t.Run("FirstDeliveryAndDuplicateAcked", func(t *testing.T) {
		t.Parallel()
		var runs atomic.Int32
		sub, pub := routerWith(t, onRedis(t), idemqwatermill.Config{}, countingHandler(&runs))
		for i, m := range []*wmessage.Message{newMsg("k1", "a"), newMsg("k1", "a")} {
			if got := sub.verdict(t, m); got != "ack" {
				t.Errorf("delivery %d: %s, want ack", i, got)
			}
		}
		outs := pub.messages()
		if len(outs) != 4 || !sameMessages(outs[2:], outs[:2]) || runs.Load() != 1 {
			t.Errorf("published %d outputs (re-emitted equal: %v), %d runs; want 4, true, 1",
				len(outs), len(outs) == 4 && sameMessages(outs[2:], outs[:2]), runs.Load())
		}
	})

	t.Run("PublishFailureNackedRedeliveryRepublishesSameOutputs", func(t *testing.T) {
		t.Parallel()
		var runs atomic.Int32
		sub, pub := routerWith(t, onRedis(t), idemqwatermill.Config{}, countingHandler(&runs))
		pub.failNext(1)
		if got := sub.verdict(t, newMsg("k1", "a")); got != "nack" {
			t.Errorf("delivery whose outputs failed to publish: %s, want nack", got)
		}
		if got := sub.verdict(t, newMsg("k1", "a")); got != "ack" {
			t.Errorf("redelivery: %s, want ack", got)
		}
		if outs := pub.messages(); len(outs) != 2 || outs[0].UUID != "out-k1" || runs.Load() != 1 {
			t.Errorf("published %v after %d runs; want the 2 stored outputs after 1 run", outs, runs.Load())
		}
	})

	closed := dedupe.NewMemoryStore()
	_ = closed.Close()
	down := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1})
	t.Cleanup(func() { _ = down.Close() })
	downStore, err := redisstore.New(down)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = downStore.Close() })

	nacked := []struct {
		name  string
		store func(t *testing.T) dedupe.Store
		cfg   idemqwatermill.Config
		h     wmessage.HandlerFunc
		msg   *wmessage.Message
	}{
		{"HandlerError", onRedis, idemqwatermill.Config{},
			func(*wmessage.Message) ([]*wmessage.Message, error) { return nil, errBoom }, newMsg("k1", "a")},
		{"HandlerPanic", onRedis, idemqwatermill.Config{},
			func(*wmessage.Message) ([]*wmessage.Message, error) { panic("bug") }, newMsg("k1", "a")},
		{"InvalidKey", onRedis, idemqwatermill.Config{}, ok, newMsg("", "a")},
		{"StoreClosed", func(*testing.T) dedupe.Store { return closed }, idemqwatermill.Config{}, ok, newMsg("k1", "a")},
		{"RedisDown", func(*testing.T) dedupe.Store { return downStore }, idemqwatermill.Config{StartTimeout: 100 * time.Millisecond}, ok, newMsg("k1", "a")},
		{"CommitOutcomeUnknown", func(t *testing.T) dedupe.Store {
			return &faultStore{Store: onRedis(t), commitErr: errors.New("i/o timeout")}
		}, idemqwatermill.Config{}, ok, newMsg("k1", "a")},
	}
	for _, tt := range nacked {
		t.Run(tt.name+"Nacked", func(t *testing.T) {
			t.Parallel()
			sub, pub := routerWith(t, tt.store(t), tt.cfg, tt.h)
			if got := sub.verdict(t, tt.msg); got != "nack" {
				t.Errorf("%s, want nack", got)
			}
			if n := len(pub.messages()); n != 0 {
				t.Errorf("%d outputs published, want none", n)
			}
		})
	}
}
