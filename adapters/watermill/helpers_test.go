package idemqwatermill_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	wm "github.com/ThreeDotsLabs/watermill"
	wmessage "github.com/ThreeDotsLabs/watermill/message"

	idemqwatermill "github.com/idemq/idemq/adapters/watermill"
	"github.com/idemq/idemq/dedupe"
	"github.com/idemq/idemq/dedupe/redisstore"
	"github.com/idemq/idemq/internal/testenv"
)

const keyField = idemqwatermill.DefaultKeyMetadata

var errBoom = errors.New("boom")

// newMsg returns a message with a new UUID, the idempotency key and payload.
func newMsg(key, payload string) *wmessage.Message {
	m := wmessage.NewMessage(wm.NewUUID(), []byte(payload))
	if key != "" {
		m.Metadata.Set(keyField, key)
	}
	return m
}

// newDedup builds a Deduplicator or fails the test.
func newDedup(t testing.TB, store dedupe.Store, cfg idemqwatermill.Config) *idemqwatermill.Deduplicator {
	t.Helper()
	d, err := idemqwatermill.New(store, cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return d
}

func memoryStore(t testing.TB) *dedupe.MemoryStore {
	s := dedupe.NewMemoryStore()
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// within returns srv with a prefix of its own under srv's, for a subtest.
// Subtests share their parent's testenv.Redis, whose cleanup deletes the
// prefix with a SCAN of the whole keyspace (slow on a busy shared server),
// and stay isolated.
func within(t testing.TB, srv testenv.RedisServer) testenv.RedisServer {
	srv.Prefix += testenv.Name(t) + ":"
	return srv
}

// redisStore returns a store on its own client of srv (one "process").
func redisStore(t testing.TB, srv testenv.RedisServer) *redisstore.Store {
	t.Helper()
	s, err := redisstore.New(srv.NewClient(t), redisstore.WithPrefix(srv.Prefix))
	if err != nil {
		t.Fatalf("redisstore.New: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// output returns a produced message with metadata, as handlers do.
func output(uuid, key, payload string) *wmessage.Message {
	m := wmessage.NewMessage(uuid, []byte(payload))
	m.Metadata.Set("key", key)
	return m
}

// sameMessages reports whether got and want hold equal messages (UUID,
// metadata, payload) in order.
func sameMessages(got, want []*wmessage.Message) bool {
	if len(got) != len(want) {
		return false
	}
	for i := range got {
		if !got[i].Equals(want[i]) {
			return false
		}
	}
	return true
}

// startRouter runs r until the end of the test.
func startRouter(t testing.TB, r *wmessage.Router) {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- r.Run(context.Background()) }()
	select {
	case <-r.Running():
	case err := <-done:
		t.Fatalf("router stopped at start: %v", err)
	}
	t.Cleanup(func() {
		if err := r.Close(); err != nil {
			t.Errorf("closing router: %v", err)
		}
		if err := <-done; err != nil {
			t.Errorf("router: %v", err)
		}
	})
}

func newRouter(t testing.TB) *wmessage.Router {
	t.Helper()
	r, err := wmessage.NewRouter(wmessage.RouterConfig{CloseTimeout: 10 * time.Second}, wm.NopLogger{})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// chanSubscriber hands the router the messages sent on ch and never
// redelivers, so a test can read the router's verdict on each message.
type chanSubscriber struct {
	ch   chan *wmessage.Message
	once sync.Once
}

func newChanSubscriber() *chanSubscriber { return &chanSubscriber{ch: make(chan *wmessage.Message)} }

// Subscribe returns a channel that, as Watermill's Subscriber contract
// says, is closed when ctx is cancelled or the subscriber closed: the
// router's Close may cancel ctx without closing the subscriber, and then
// waits for the channel to close.
func (s *chanSubscriber) Subscribe(ctx context.Context, _ string) (<-chan *wmessage.Message, error) {
	out := make(chan *wmessage.Message)
	go func() {
		defer close(out)
		for {
			select {
			case m, ok := <-s.ch:
				if !ok {
					return
				}
				select {
				case out <- m:
				case <-ctx.Done():
					return
				}
			case <-ctx.Done():
				return
			}
		}
	}()
	return out, nil
}

func (s *chanSubscriber) Close() error {
	s.once.Do(func() { close(s.ch) })
	return nil
}

// verdict delivers m and returns "ack" or "nack".
func (s *chanSubscriber) verdict(t testing.TB, m *wmessage.Message) string {
	t.Helper()
	s.ch <- m
	select {
	case <-m.Acked():
		return "ack"
	case <-m.Nacked():
		return "nack"
	case <-time.After(10 * time.Second):
		t.Fatalf("message %s neither acked nor nacked", m.UUID)
		return ""
	}
}

// recordingPublisher keeps what it publishes; the next fail publishes fail.
type recordingPublisher struct {
	mu        sync.Mutex
	published []*wmessage.Message
	fail      int
}

func (p *recordingPublisher) Publish(_ string, msgs ...*wmessage.Message) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, m := range msgs {
		if p.fail > 0 {
			p.fail--
			return errBoom
		}
		p.published = append(p.published, m)
	}
	return nil
}

func (p *recordingPublisher) failNext(n int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.fail = n
}

func (p *recordingPublisher) Close() error { return nil }

func (p *recordingPublisher) messages() []*wmessage.Message {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]*wmessage.Message(nil), p.published...)
}

// faultStore wraps a store to inject failures and to act as another owner.
type faultStore struct {
	dedupe.Store
	claimErr   error
	commitErr  error
	blockWatch bool          // Watch hangs: Redis never confirms the subscription
	busy       bool          // Claim reports another owner's claim
	corrupt    bool          // Claim reports a committed value that does not decode
	waiting    chan struct{} // closed when a Claim first finds another owner's claim
	contended  *atomic.Int64 // counts Claims that found another owner's claim

	mu     sync.Mutex
	key    string // last key claimed, and its token
	token  string
	waited sync.Once
}

func (s *faultStore) Watch(ctx context.Context, key string) (dedupe.Interest, error) {
	if s.blockWatch {
		<-ctx.Done() // Redis never confirms the subscription
		return nil, context.Cause(ctx)
	}
	return s.Store.Watch(ctx, key)
}

func (s *faultStore) Claim(ctx context.Context, key, token string, lease time.Duration) (dedupe.Record, bool, error) {
	switch {
	case s.claimErr != nil:
		return dedupe.Record{}, false, s.claimErr
	case s.corrupt:
		return dedupe.Record{State: dedupe.Committed, Value: []byte("not json")}, false, nil
	case s.busy:
		return dedupe.Record{State: dedupe.Claimed, Token: "other", TTL: time.Minute}, false, nil
	}
	rec, claimed, err := s.Store.Claim(ctx, key, token, lease)
	s.mu.Lock()
	defer s.mu.Unlock()
	if claimed {
		s.key, s.token = key, token
	} else if rec.State == dedupe.Claimed && s.waiting != nil {
		s.waited.Do(func() { close(s.waiting) }) // a duplicate is about to wait
	}
	if !claimed && rec.State == dedupe.Claimed && s.contended != nil {
		s.contended.Add(1)
	}
	return rec, claimed, err
}

func (s *faultStore) Commit(ctx context.Context, key string, c dedupe.Commit) (dedupe.Record, bool, error) {
	if s.commitErr != nil {
		return dedupe.Record{}, false, s.commitErr
	}
	return s.Store.Commit(ctx, key, c)
}

// releaseOwner releases the last claim, as if its lease had run out.
func (s *faultStore) releaseOwner(t testing.TB) (key string) {
	t.Helper()
	s.mu.Lock()
	key, token := s.key, s.token
	s.mu.Unlock()
	if ok, err := s.Store.Release(context.Background(), key, token); !ok || err != nil {
		t.Fatalf("releasing the owner's claim: %v, %v", ok, err)
	}
	return key
}
