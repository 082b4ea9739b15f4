package kafkatest

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math/rand/v2"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	kafkago "github.com/segmentio/kafka-go"

	"github.com/idemq/idemq/consumer"
	"github.com/idemq/idemq/dedupe"
	"github.com/idemq/idemq/dedupe/redisstore"
	"github.com/idemq/idemq/internal/kafkaadmin"
	"github.com/idemq/idemq/internal/testenv"
)

// keyHeader is the header the scenarios carry their idempotency keys in.
const keyHeader = "Idempotency-Key"

// Header names of a dead letter, as both adapters write them.
const (
	headerOriginalTopic     = "idemq-original-topic"
	headerOriginalPartition = "idemq-original-partition"
	headerOriginalOffset    = "idemq-original-offset"
	headerIdempotencyKey    = "idemq-idempotency-key"
	headerError             = "idemq-error"
)

var errBoom = errors.New("boom")

// env is one scenario's topic, consumer group and Redis-backed store.
type env struct {
	d     Driver
	k     testenv.KafkaBroker
	admin *kafkago.Client // offsets and lag
	redis testenv.RedisServer
	store *redisstore.Store
	topic string
	group string
	parts int
}

func setup(t *testing.T, d Driver, partitions int) *env {
	t.Helper()
	return setupOn(t, d, testenv.Redis(t), partitions)
}

func setupOn(t *testing.T, d Driver, srv testenv.RedisServer, partitions int) *env {
	t.Helper()
	k := testenv.Kafka(t)
	store, err := redisstore.New(srv.Client, redisstore.WithPrefix(srv.Prefix))
	if err != nil {
		t.Fatalf("redisstore.New: %v", err)
	}
	t.Cleanup(func() { _ = store.Close() })
	return &env{d: d, k: k, admin: k.Client(t), redis: srv, store: store,
		topic: k.Topic(t, partitions), group: k.Group(t), parts: partitions}
}

// config returns a Config with fast test settings; the caller sets Handle.
func (e *env) config() Config { return fastConfig(e.group, e.topic, e.store) }

// fastConfig returns a Config of a member of group on topic with store,
// with fast test settings.
func fastConfig(group, topic string, store dedupe.Store) Config {
	return Config{
		Group:          group,
		Topic:          topic,
		Store:          store,
		KeyHeader:      keyHeader,
		Backoff:        consumer.Backoff{Min: 10 * time.Millisecond, Max: 100 * time.Millisecond},
		Guard:          consumer.Guard{Lease: 5 * time.Second},
		CommitInterval: 100 * time.Millisecond,
		DrainTimeout:   10 * time.Second,
		Logger:         slog.New(slog.DiscardHandler),
	}
}

// deadLetterTopic creates a topic of one partition for dead letters.
func (e *env) deadLetterTopic(t *testing.T) string {
	t.Helper()
	return e.k.Topic(t, 1)
}

// msg returns a message for partition p with an idempotency key header
// (none if key is "") and value as its Kafka key and value.
func msg(p int, key, value string) Message {
	m := Message{Partition: p, Key: []byte(value), Value: []byte(value)}
	if key != "" {
		m.Headers = []Header{{Key: keyHeader, Value: []byte(key)}}
	}
	return m
}

func key(i int) string { return "key-" + strconv.Itoa(i) }

func orderKey(i int) string { return fmt.Sprintf("order-%04d", i) }

// orderMessages returns keys messages, key i on partition i%parts, and
// resent more: every (keys/resent)th key sent again a little later (0 to
// 300 keys later) on another partition.
func orderMessages(keys, resent, parts int) []Message {
	type slotted struct {
		slot float64
		m    Message
	}
	mk := func(i, p int, value string) Message {
		m := msg(p, orderKey(i), value)
		m.Key = []byte(value + "-" + strconv.Itoa(i))
		return m
	}
	r := rand.New(rand.NewPCG(21, 21))
	all := make([]slotted, 0, keys+resent)
	for i := range keys {
		all = append(all, slotted{float64(i), mk(i, i%parts, "first")})
	}
	for j := range resent {
		i := j * (keys / resent)
		p := (i%parts + 1 + r.IntN(parts-1)) % parts // never i%parts
		all = append(all, slotted{float64(i) + 0.5 + float64(r.IntN(300)), mk(i, p, "again")})
	}
	slices.SortStableFunc(all, func(a, b slotted) int { return cmp.Compare(a.slot, b.slot) })
	msgs := make([]Message, len(all))
	for i, s := range all {
		msgs[i] = s.m
	}
	return msgs
}

// produce writes msgs to e's topic.
func (e *env) produce(t *testing.T, msgs ...Message) {
	t.Helper()
	if len(msgs) > 0 {
		e.d.Produce(t, e.topic, msgs...)
	}
}

// mustConsumer returns a consumer of cfg, failing t if it is refused.
func (e *env) mustConsumer(t *testing.T, cfg Config) Consumer {
	t.Helper()
	c, err := e.d.NewConsumer(t, cfg)
	if err != nil {
		t.Fatalf("NewConsumer: %v", err)
	}
	return c
}

// start runs a new consumer of cfg until the test ends (or stop is called).
func (e *env) start(t *testing.T, cfg Config) *running {
	t.Helper()
	return start(t, e.mustConsumer(t, cfg))
}

// running is a Consumer's Run in the background.
type running struct {
	Consumer
	cancel context.CancelCauseFunc
	done   chan struct{}
	err    error
}

// start runs c until the test ends (or stop is called).
func start(t *testing.T, c Consumer) *running {
	t.Helper()
	ctx, cancel := context.WithCancelCause(context.Background())
	r := &running{Consumer: c, cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(r.done)
		r.err = c.Run(ctx)
	}()
	t.Cleanup(func() {
		if err := r.stop(t); errors.Is(err, dedupe.ErrEndNotCalled) {
			t.Errorf("Run = %v: a claim was neither ended nor released", err)
		}
	})
	return r
}

// stop cancels Run and returns its error, failing the test if Run does not
// return within a minute.
func (r *running) stop(t *testing.T) error {
	t.Helper()
	r.cancel(errors.New("kafkatest: stop"))
	return r.wait(t, time.Minute)
}

// wait returns Run's error once it returns, failing the test after d.
func (r *running) wait(t *testing.T, d time.Duration) error {
	t.Helper()
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-r.done:
		return r.err
	case <-timer.C:
		t.Fatalf("Run did not return within %v", d)
		return nil
	}
}

// committed returns the group's committed offset of each partition (-1:
// none).
func (e *env) committed(t *testing.T) map[int]int64 {
	t.Helper()
	return Committed(t, e.admin, e.topic, e.group, e.parts)
}

// lag is the group's total lag: messages after the committed offsets.
func (e *env) lag(t *testing.T) int64 {
	t.Helper()
	return Lag(t, e.admin, e.topic, e.group, e.parts)
}

// Committed returns group's committed offset of each of topic's first parts
// partitions (-1: none), failing t after 10s.
func Committed(t testing.TB, admin *kafkago.Client, topic, group string, parts int) map[int]int64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	offs, err := kafkaadmin.Committed(ctx, admin, topic, group, parts)
	if err != nil {
		t.Fatalf("kafkaadmin.Committed: %v", err)
	}
	return offs
}

// Lag returns group's total lag on topic's first parts partitions: messages
// after the committed offsets. It fails t after 10s.
func Lag(t testing.TB, admin *kafkago.Client, topic, group string, parts int) int64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	lag, err := kafkaadmin.Lag(ctx, admin, topic, group, parts)
	if err != nil {
		t.Fatalf("kafkaadmin.Lag: %v", err)
	}
	var n int64
	for _, l := range lag {
		n += l
	}
	return n
}

// lagZero waits until the group's lag is 0, failing the test after d.
func (e *env) lagZero(t *testing.T, d time.Duration) {
	t.Helper()
	Eventually(t, d, "lag 0", func() bool { return e.lag(t) == 0 })
}

// stored returns the committed value of key in the store ("" if none).
func (e *env) stored(t *testing.T, key string) string {
	t.Helper()
	rec, err := e.store.Get(context.Background(), key)
	if err != nil {
		t.Fatalf("Get(%q): %v", key, err)
	}
	if rec.State != dedupe.Committed {
		return ""
	}
	return string(rec.Value)
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

// counts is a concurrency-safe multiset of strings.
type counts struct {
	mu sync.Mutex
	m  map[string]int
}

func (c *counts) add(k string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[string]int{}
	}
	c.m[k]++
	return c.m[k]
}

func (c *counts) get(k string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.m[k]
}

// total is the sum of the counts.
func (c *counts) total() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, v := range c.m {
		n += v
	}
	return n
}

// snapshot returns a copy of the counts.
func (c *counts) snapshot() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return maps.Clone(c.m)
}

func (c *counts) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.m)
}

// values is a concurrency-safe map of strings.
type values struct {
	mu sync.Mutex
	m  map[string]string
}

func (v *values) set(k, val string) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.m == nil {
		v.m = map[string]string{}
	}
	v.m[k] = val
}

func (v *values) get(k string) string {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.m[k]
}
