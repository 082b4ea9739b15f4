package redisstore

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/idemq/idemq/dedupe"
)

// DefaultPrefix is the namespace of keys and channels when WithPrefix is not given.
const DefaultPrefix = "idemq:"

// Store is a Store on Redis, shared by every process that uses the same
// Redis and prefix. It accepts any redis.UniversalClient: a single node, a
// Cluster (keys and channels share a hash slot, notifications use sharded
// pub/sub) or a Sentinel-backed failover client.
//
// Layout: the key K is stored at PREFIX{K} and notified on PREFIX{K}:events.
// A key that contains '{' or '}' is stored at PREFIX{#H}:K instead, where H is
// a hash of K, so that the record and its channel always share one Cluster
// slot. The stored string is 'C' followed by a claim's owner token ('W'
// once a waiter marked the claim, so that its commit or release is
// published), or 'V', the committing run's token, ':' and the encoded value
// (see record.go).
//
// One Store keeps one pub/sub connection per Redis master it needs
// notifications from (one in total on a single node), shared by all guards.
// Close it when done; it does not close the client.
type Store struct {
	client  redis.UniversalClient
	prefix  string
	sharded bool   // a Cluster: one hash slot per script call, sharded pub/sub
	publish string // PUBLISH, or SPUBLISH on a Cluster
	sub     *subscriber
	group   *groupExec   // nil without group commit
	cas     atomic.Int32 // casUnknown, casNative or casScript

	replicas       int           // replicas a commit must reach (WithReplicaAcks); 0: none
	replicaTimeout time.Duration // how long WAIT waits for them
}

var _ dedupe.Store = (*Store)(nil)

// Option configures New.
type Option func(*config)

type config struct {
	prefix           string
	logger           *slog.Logger
	subscribeTimeout time.Duration
	noGroupCommit    bool
	replicas         int           // WithReplicaAcks
	replicaTimeout   time.Duration // WithReplicaAcks
}

// WithoutGroupCommit turns group commit off: every store call is its own
// round trip. With group commit (the default), calls that concurrent guards
// make while another call is in flight go out together in the next round
// trip; an idle store sends a call at once.
func WithoutGroupCommit() Option { return func(c *config) { c.noGroupCommit = true } }

// DefaultSubscribeTimeout bounds how long Watch waits for Redis to confirm a
// subscription when WithSubscribeTimeout is not given.
const DefaultSubscribeTimeout = 5 * time.Second

// WithSubscribeTimeout bounds how long Watch (the first step of an
// optimistic Run, and of a claim-first duplicate that must wait) waits for
// Redis to confirm the subscription to a key's notifications (default
// DefaultSubscribeTimeout). While the pub/sub connection cannot be made at
// all, Watch fails at once. Values <= 0 mean the default.
func WithSubscribeTimeout(d time.Duration) Option {
	return func(c *config) {
		if d > 0 {
			c.subscribeTimeout = d
		}
	}
}

// WithPrefix sets the namespace of keys and channels (default DefaultPrefix,
// "idemq:"). An empty prefix is allowed and means no namespace.
func WithPrefix(prefix string) Option { return func(c *config) { c.prefix = prefix } }

// WithLogger sets where the store logs pub/sub connection problems (default:
// nowhere).
func WithLogger(l *slog.Logger) Option { return func(c *config) { c.logger = l } }

// New returns a store on client. It starts the pub/sub goroutines;
// call Close to stop them. A nil client, or a nil *redis.Client or
// *redis.ClusterClient, is refused (ErrInvalidOption).
//
// A *redis.Ring is refused (ErrInvalidOption): it shards keys on the client
// side but has no pub/sub routing, so notifications could not reach the
// guards. A prefix containing '{' or '}' is refused too: it would change the
// hash tag that keeps a key and its channel in one Cluster slot.
func New(client redis.UniversalClient, opts ...Option) (*Store, error) {
	switch c := client.(type) {
	case nil:
		return nil, fmt.Errorf("%w: redisstore.New needs a client", dedupe.ErrInvalidOption)
	case *redis.Client:
		if c == nil {
			return nil, fmt.Errorf("%w: redisstore.New needs a client, got a nil *redis.Client", dedupe.ErrInvalidOption)
		}
	case *redis.ClusterClient:
		if c == nil {
			return nil, fmt.Errorf("%w: redisstore.New needs a client, got a nil *redis.ClusterClient", dedupe.ErrInvalidOption)
		}
	case *redis.Ring:
		return nil, fmt.Errorf("%w: redisstore.New does not support *redis.Ring (no pub/sub routing); use a Client, ClusterClient or failover client", dedupe.ErrInvalidOption)
	}
	cfg := config{prefix: DefaultPrefix, subscribeTimeout: DefaultSubscribeTimeout}
	for _, opt := range opts {
		if opt != nil {
			opt(&cfg)
		}
	}
	if strings.ContainsAny(cfg.prefix, "{}") {
		return nil, fmt.Errorf("%w: WithPrefix(%q): the prefix must not contain '{' or '}'", dedupe.ErrInvalidOption, cfg.prefix)
	}
	if cfg.logger == nil {
		cfg.logger = slog.New(slog.DiscardHandler)
	}
	_, sharded := client.(*redis.ClusterClient)
	if err := cfg.checkReplicas(sharded); err != nil {
		return nil, err
	}
	s := &Store{client: client, prefix: cfg.prefix, sharded: sharded, publish: "PUBLISH",
		replicas: cfg.replicas, replicaTimeout: cfg.replicaTimeout}
	if sharded {
		s.publish = "SPUBLISH"
	}
	s.sub = newSubscriber(client, sharded, cfg.logger, cfg.subscribeTimeout)
	if !cfg.noGroupCommit {
		s.group = &groupExec{send: s.execNow}
	}
	return s, nil
}

// recordKey and channel share their hash tag, so they share a slot: {key},
// or {#hash} for a key with braces (or none at all), which would end or
// empty the tag.
func (s *Store) recordKey(key string) string {
	if plainTag(key) {
		return s.prefix + "{" + key + "}"
	}
	sum := sha256.Sum256([]byte(key))
	return s.prefix + "{#" + hex.EncodeToString(sum[:8]) + "}:" + key
}

// appendRecordKey appends recordKey(key) to b.
func (s *Store) appendRecordKey(b []byte, key string) []byte {
	if !plainTag(key) {
		return append(b, s.recordKey(key)...)
	}
	return append(append(append(append(b, s.prefix...), '{'), key...), '}')
}

// plainTag reports whether key is its record key's hash tag as it is.
func plainTag(key string) bool {
	return key != "" && strings.IndexByte(key, '{') < 0 && strings.IndexByte(key, '}') < 0
}

func (s *Store) channel(key string) string { return s.recordKey(key) + ":events" }

// Watch implements Store: it returns once Redis confirmed the subscription.
func (s *Store) Watch(ctx context.Context, key string) (dedupe.Interest, error) {
	return s.sub.watch(ctx, s.channel(key))
}

// ActiveInterests reports how many keys have at least one live Interest.
func (s *Store) ActiveInterests() int { return s.sub.active() }

// Get implements Store: an OpGet. A claim's remaining lease costs a second
// command; a key this store watches is read, and another owner's claim
// marked as watched, by one script call instead.
func (s *Store) Get(ctx context.Context, key string) (dedupe.Record, error) {
	r := s.exec1(ctx, dedupe.Op{Kind: dedupe.OpGet, Key: key})
	return r.Current, r.Err
}

// Commit implements Store.
func (s *Store) Commit(ctx context.Context, key string, c dedupe.Commit) (dedupe.Record, bool, error) {
	r := s.exec1(ctx, dedupe.Op{Kind: dedupe.OpCommit, Key: key, Token: c.Token, Fenced: c.Fenced, Value: c.Value, TTL: c.TTL})
	return r.Current, r.OK, r.Err
}

// Claim implements Store.
func (s *Store) Claim(ctx context.Context, key, token string, lease time.Duration) (dedupe.Record, bool, error) {
	r := s.exec1(ctx, dedupe.Op{Kind: dedupe.OpClaim, Key: key, Token: token, Lease: lease})
	return r.Current, r.OK, r.Err
}

// Renew implements Store.
func (s *Store) Renew(ctx context.Context, key, token string, lease time.Duration) (bool, error) {
	r := s.exec1(ctx, dedupe.Op{Kind: dedupe.OpRenew, Key: key, Token: token, Lease: lease})
	return r.OK, r.Err
}

// Release implements Store.
func (s *Store) Release(ctx context.Context, key, token string) (bool, error) {
	r := s.exec1(ctx, dedupe.Op{Kind: dedupe.OpRelease, Key: key, Token: token})
	return r.OK, r.Err
}

// ExecAsync runs op as Exec would, without its caller waiting: it returns
// at once, and done gets the op's result from another goroutine. With group
// commit (the default) the op goes out with the next group and no
// goroutine waits for it; without, a goroutine runs it. A claim-mode or
// optimistic dedupe.Run sends its commit so, and so needs no goroutine of
// its own for it. ctx's values reach the client; its cancellation does not.
func (s *Store) ExecAsync(ctx context.Context, op dedupe.Op, done func(dedupe.OpResult)) {
	if s.group != nil {
		s.group.start(ctx, op, done)
		return
	}
	go func() { done(s.exec1(context.WithoutCancel(ctx), op)) }()
}

func (s *Store) exec1(ctx context.Context, op dedupe.Op) dedupe.OpResult {
	if s.group != nil {
		return s.group.exec1(ctx, op)
	}
	return s.execNow(ctx, []dedupe.Op{op})[0]
}

// Done returns a channel that is closed when the store closes.
func (s *Store) Done() <-chan struct{} { return s.sub.done }

// AfterClose calls f in its own goroutine once the store closes (at once
// if it is closed), as context.AfterFunc does; stop undoes it, and reports
// whether that kept f from running. A claim-mode dedupe.Run uses it to
// learn that its store closed.
func (s *Store) AfterClose(f func()) (stop func() bool) { return context.AfterFunc(s.sub.ctx, f) }

// Close implements Store. It stops the pub/sub goroutines; the client stays open.
func (s *Store) Close() error {
	s.sub.close()
	return nil
}
