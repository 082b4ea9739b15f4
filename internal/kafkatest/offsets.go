package kafkatest

import (
	"context"
	"testing"
	"time"

	kafkago "github.com/segmentio/kafka-go"

	"github.com/idemq/idemq/dedupe/redisstore"
	"github.com/idemq/idemq/internal/kafkaadmin"
	"github.com/idemq/idemq/internal/testenv"
)

// Env is one test's topic, consumer group and Redis-backed store, and the
// group's offsets: what a scenario and an adapter's own tests start from.
type Env struct {
	Kafka testenv.KafkaBroker
	Store *redisstore.Store
	Topic string
	Group string
	Parts int // the topic's partitions
	admin *kafkago.Client
}

// NewEnv creates a topic of partitions partitions and names a group, both
// unique to this call, with a store on srv under the test's prefix; all
// are removed at the end of t.
func NewEnv(t testing.TB, srv testenv.RedisServer, partitions int) *Env {
	t.Helper()
	k := testenv.Kafka(t)
	return &Env{Kafka: k, Store: redisStore(t, srv), Topic: k.Topic(t, partitions), Group: k.Group(t),
		Parts: partitions, admin: k.Client(t)}
}

// redisStore returns a store on srv under the test's prefix, closed at the
// end of t.
func redisStore(t testing.TB, srv testenv.RedisServer) *redisstore.Store {
	t.Helper()
	store, err := redisstore.New(srv.Client, redisstore.WithPrefix(srv.Prefix))
	if err != nil {
		t.Fatalf("redisstore.New: %v", err)
	}
	t.Cleanup(func() { _ = store.Close() })
	return store
}

// Committed returns the group's committed offset of each partition (-1:
// none), failing t after 10s.
func (e *Env) Committed(t testing.TB) map[int]int64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	offs, err := kafkaadmin.Committed(ctx, e.admin, e.Topic, e.Group, e.Parts)
	if err != nil {
		t.Fatalf("kafkaadmin.Committed: %v", err)
	}
	return offs
}

// Lag returns the group's total lag: messages after the committed offsets.
// It fails t after 10s.
func (e *Env) Lag(t testing.TB) int64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	lag, err := kafkaadmin.Lag(ctx, e.admin, e.Topic, e.Group, e.Parts)
	if err != nil {
		t.Fatalf("kafkaadmin.Lag: %v", err)
	}
	var n int64
	for _, l := range lag {
		n += l
	}
	return n
}

// LagZero waits until the group's lag is 0, failing t after d.
func (e *Env) LagZero(t testing.TB, d time.Duration) {
	t.Helper()
	Eventually(t, d, "lag 0", func() bool { return e.Lag(t) == 0 })
}

// Eventually polls cond every 20ms until it holds, or fails t after d: for
// a state that no signal announces (offsets, lag, counters).
func Eventually(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
