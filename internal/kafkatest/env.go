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

	"github.com/idemq/idemq/consumer"
	"github.com/idemq/idemq/dedupe"
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

// env is one scenario's Env, with the Driver and the Redis server under
// its store.
type env struct {
	*Env
	d     Driver
	redis testenv.RedisServer
}

func setup(t *testing.T, d Driver, partitions int) *env {
	t.Helper()
	return setupOn(t, d, testenv.Redis(t), partitions)
}

func setupOn(t *testing.T, d Driver, srv testenv.RedisServer, partitions int) *env {
	t.Helper()
	return &env{Env: NewEnv(t, srv, partitions), d: d, redis: srv}
}

// config returns a Config with fast test settings; the caller sets Handle.
func (e *env) config() Config { return FastConfig(e.Group, e.Topic, e.Store) }

// FastConfig returns a Config of a member of group on topic with store,
// with fast test settings (keys in the Idempotency-Key header, backoffs of
// 10-100ms, a 5s lease, commits every 100ms, no logs); the caller sets
// Handle. An adapter's own tests translate it with their Driver.
func FastConfig(group, topic string, store dedupe.Store) Config {
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
	return e.Kafka.Topic(t, 1)
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
		e.d.Produce(t, e.Topic, msgs...)
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

// stored returns the committed value of key in the store ("" if none).
func (e *env) stored(t *testing.T, key string) string {
	t.Helper()
	rec, err := e.Store.Get(context.Background(), key)
	if err != nil {
		t.Fatalf("Get(%q): %v", key, err)
	}
	if rec.State != dedupe.Committed {
		return ""
	}
	return string(rec.Value)
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
