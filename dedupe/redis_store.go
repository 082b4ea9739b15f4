package dedupe

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/redis/go-redis/v9"
)

// DefaultPrefix is the namespace of keys and channels when WithPrefix is not given.
const DefaultPrefix = "idemq:"

// RedisStore is a Store on Redis, shared by every process that uses the same
// Redis and prefix. It accepts any redis.UniversalClient: a single node, a
// Cluster (keys and channels share a hash slot, notifications use sharded
// pub/sub) or a Sentinel-backed failover client.
//
// Layout: the key K is stored at PREFIX{K} and notified on PREFIX{K}:events.
// The stored string is 'V' followed by the encoded value, or 'C' followed by
// a claim's owner token.
//
// One RedisStore keeps one pub/sub connection per Redis master it needs
// notifications from (one in total on a single node), shared by all guards.
// Close it when done; it does not close the client.
type RedisStore struct {
	client  redis.UniversalClient
	prefix  string
	publish string // PUBLISH, or SPUBLISH on a Cluster
	sub     *subscriber
}

var _ Store = (*RedisStore)(nil)

// StoreOption configures NewRedisStore.
type StoreOption func(*storeConfig)

type storeConfig struct {
	prefix string
	logger *slog.Logger
}

// WithPrefix sets the namespace of keys and channels (default DefaultPrefix,
// "idemq:"). An empty prefix is allowed and means no namespace.
func WithPrefix(prefix string) StoreOption { return func(c *storeConfig) { c.prefix = prefix } }

// WithLogger sets where the store logs pub/sub connection problems (default:
// nowhere).
func WithLogger(l *slog.Logger) StoreOption { return func(c *storeConfig) { c.logger = l } }

//go:embed scripts/commit.lua
var commitLua string

//go:embed scripts/claim.lua
var claimLua string

//go:embed scripts/renew.lua
var renewLua string

//go:embed scripts/release.lua
var releaseLua string

var (
	commitScript  = redis.NewScript(commitLua)
	claimScript   = redis.NewScript(claimLua)
	renewScript   = redis.NewScript(renewLua)
	releaseScript = redis.NewScript(releaseLua)
)

// NewRedisStore returns a store on client. It starts the pub/sub goroutines;
// call Close to stop them.
func NewRedisStore(client redis.UniversalClient, opts ...StoreOption) (*RedisStore, error) {
	if client == nil {
		return nil, fmt.Errorf("%w: NewRedisStore needs a client", ErrInvalidOption)
	}
	cfg := storeConfig{prefix: DefaultPrefix}
	for _, opt := range opts {
		if opt != nil {
			opt(&cfg)
		}
	}
	if cfg.logger == nil {
		cfg.logger = slog.New(slog.DiscardHandler)
	}
	_, sharded := client.(*redis.ClusterClient)
	s := &RedisStore{client: client, prefix: cfg.prefix, publish: "PUBLISH"}
	if sharded {
		s.publish = "SPUBLISH"
	}
	s.sub = newSubscriber(client, sharded, cfg.logger)
	return s, nil
}

// recordKey and channel share the hash tag {key}, so they share a slot.
func (s *RedisStore) recordKey(key string) string { return s.prefix + "{" + key + "}" }
func (s *RedisStore) channel(key string) string   { return s.recordKey(key) + ":events" }

// Watch implements Store: it returns once Redis confirmed the subscription.
func (s *RedisStore) Watch(ctx context.Context, key string) (Interest, error) {
	return s.sub.watch(ctx, s.channel(key))
}

// ActiveInterests reports how many keys have at least one live Interest.
func (s *RedisStore) ActiveInterests() int { return s.sub.active() }

// Get implements Store.
func (s *RedisStore) Get(ctx context.Context, key string) (Record, error) {
	if s.sub.isClosed() {
		return Record{}, ErrStoreClosed
	}
	v, err := s.client.Get(ctx, s.recordKey(key)).Result()
	if errors.Is(err, redis.Nil) {
		return Record{}, nil
	}
	if err != nil {
		return Record{}, err
	}
	return parseRecord(key, v)
}

// Commit implements Store.
func (s *RedisStore) Commit(ctx context.Context, key, token string, value []byte, ttl time.Duration) (Record, bool, error) {
	if s.sub.isClosed() {
		return Record{}, false, ErrStoreClosed
	}
	res, err := commitScript.Run(ctx, s.client, []string{s.recordKey(key), s.channel(key)},
		token, value, ttl.Milliseconds(), s.publish).Slice()
	if err != nil {
		return Record{}, false, err
	}
	if won, _ := res[0].(int64); won == 1 {
		return Record{State: Committed, Value: value, TTL: ttl}, true, nil
	}
	if len(res) < 2 {
		return Record{}, false, nil
	}
	cur, err := parseRecord(key, res[1].(string))
	return cur, false, err
}

// Claim implements Store.
func (s *RedisStore) Claim(ctx context.Context, key, token string, lease time.Duration) (Record, bool, error) {
	if s.sub.isClosed() {
		return Record{}, false, ErrStoreClosed
	}
	res, err := claimScript.Run(ctx, s.client, []string{s.recordKey(key)}, token, lease.Milliseconds()).Slice()
	if err != nil {
		return Record{}, false, err
	}
	if ok, _ := res[0].(int64); ok == 1 {
		return Record{State: Claimed, Token: token, TTL: lease}, true, nil
	}
	v, _ := res[1].(string)
	cur, err := parseRecord(key, v)
	if pttl, _ := res[2].(int64); pttl > 0 {
		cur.TTL = time.Duration(pttl) * time.Millisecond
	}
	return cur, false, err
}

// Renew implements Store.
func (s *RedisStore) Renew(ctx context.Context, key, token string, lease time.Duration) (bool, error) {
	if s.sub.isClosed() {
		return false, ErrStoreClosed
	}
	n, err := renewScript.Run(ctx, s.client, []string{s.recordKey(key)}, token, lease.Milliseconds()).Int()
	return n == 1, err
}

// Release implements Store.
func (s *RedisStore) Release(ctx context.Context, key, token string) (bool, error) {
	if s.sub.isClosed() {
		return false, ErrStoreClosed
	}
	n, err := releaseScript.Run(ctx, s.client, []string{s.recordKey(key), s.channel(key)}, token, s.publish).Int()
	return n == 1, err
}

// Close implements Store. It stops the pub/sub goroutines; the client stays open.
func (s *RedisStore) Close() error {
	s.sub.close()
	return nil
}

// parseRecord reads the stored string of key.
func parseRecord(key, v string) (Record, error) {
	switch {
	case v == "":
		return Record{}, nil
	case v[0] == 'V':
		return Record{State: Committed, Value: []byte(v[1:])}, nil
	case v[0] == 'C':
		return Record{State: Claimed, Token: v[1:]}, nil
	}
	return Record{}, &DecodeError{Key: key, Err: fmt.Errorf("stored string starts with %q, not 'V' or 'C'", v[0])}
}

// parseEvent reads a notification payload.
func parseEvent(payload string) (Event, bool) {
	switch {
	case payload == "R":
		return Event{Kind: EventRelease}, true
	case len(payload) > 0 && payload[0] == 'V':
		return Event{Kind: EventCommit, Value: []byte(payload[1:])}, true
	}
	return Event{}, false
}
