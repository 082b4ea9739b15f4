package kafkatest

import (
	"context"
	"errors"
	"maps"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/idemq/idemq/dedupe"
	"github.com/idemq/idemq/dedupe/redisstore"
	"github.com/idemq/idemq/internal/testwait"
)

var faultScenarios = map[string]scenario{
	"RedisDown":     redisDown,
	"LeaseLost":     leaseLost,
	"CommitUnknown": commitUnknown,
	"RedisPaused":   redisPaused,
	"SIGKILL":       sigkill,
}

// storeBehindProxy points e's store at Redis through a proxy the test can
// take down.
func storeBehindProxy(t *testing.T, e *env) *proxy {
	t.Helper()
	p := newProxy(t, e.redis.Addrs[0])
	client := redis.NewClient(&redis.Options{Addr: p.addr(), MaxRetries: -1, DialTimeout: time.Second,
		ReadTimeout: time.Second, WriteTimeout: time.Second})
	t.Cleanup(func() { _ = client.Close() })
	store, err := redisstore.New(client, redisstore.WithPrefix(e.redis.Prefix))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close() })
	e.Store = store
	return p
}

// redisDown: store failures are not handler failures. While Redis is
// unreachable nothing is dead-lettered and no offset is committed; the
// consumer retries with backoff and resumes by itself once Redis answers.
func redisDown(t *testing.T, d Driver) {
	e := setup(t, d, 2)
	p := storeBehindProxy(t, e)
	var handled counts
	cfg := e.config()
	cfg.DeadLetterTopic = e.deadLetterTopic(t)
	cfg.Guard.Lease = 600 * time.Millisecond // a claim times out after 300ms
	cfg.Handle = func(ctx context.Context, m Message, end dedupe.End[string]) error {
		handled.add(string(m.Value))
		end("ok")
		return nil
	}
	c := e.start(t, cfg)
	e.produce(t, msg(0, "k0", "v0"))
	Eventually(t, time.Minute, "the first message committed", func() bool { return e.Lag(t) == 0 })
	before := e.Committed(t)

	p.setDown(true)
	var msgs []Message
	for i := 1; i <= 20; i++ {
		msgs = append(msgs, msg(i%2, key(i), key(i)))
	}
	e.produce(t, msgs...)
	Eventually(t, time.Minute, "store errors", func() bool { return c.Stats().StoreErrors >= 2 })
	if got := e.Committed(t); !maps.Equal(got, before) || handled.len() != 1 {
		t.Errorf("while Redis is down: committed %v (want %v), handled %d (want 1)", got, before, handled.len())
	}

	p.setDown(false)
	Eventually(t, time.Minute, "lag 0 after Redis is back", func() bool { return e.Lag(t) == 0 })
	for i := 1; i <= 20; i++ {
		if n := handled.get(key(i)); n != 1 {
			t.Errorf("%s handled %d times, want 1", key(i), n)
		}
	}
	if s := c.Stats(); s.DeadLettered != 0 || s.Retries != 0 || s.Processed != 21 {
		t.Errorf("Stats = %+v, want DeadLettered 0, Retries 0, Processed 21", s)
	}
}

// leaseLost: Redis goes away while the handler runs, so its lease cannot
// be renewed: its ctx is cancelled with dedupe.ErrLeaseLost, nothing is
// committed while the outcome is unknown, and once Redis is back the
// message runs again and commits the second run's value.
func leaseLost(t *testing.T, d Driver) {
	storeFault(t, d, func(ctx context.Context, end dedupe.End[string]) error {
		<-ctx.Done() // the renewals fail: the claim could expire
		return context.Cause(ctx)
	}, dedupe.ErrLeaseLost, 2, "second")
}

// commitUnknown: Redis goes away after the handler ended, so its commit
// cannot land: nothing is committed while the outcome is unknown, and once
// Redis is back the finished handler's value is committed without running
// it again.
func commitUnknown(t *testing.T, d Driver) {
	storeFault(t, d, func(ctx context.Context, end dedupe.End[string]) error {
		end("first") // the commit cannot reach Redis
		return nil
	}, nil, 1, "first")
}

// storeFault runs the handler's first call with Redis down: mid runs
// there and returns what the handler returns; wantCause is what it must
// return, wantCalls the handler's calls in all and wantValue the value
// committed at the end.
func storeFault(t *testing.T, d Driver, mid func(ctx context.Context, end dedupe.End[string]) error, wantCause error, wantCalls int32, wantValue string) {
	e := setup(t, d, 1)
	p := storeBehindProxy(t, e)
	var calls atomic.Int32
	causes := make(chan error, 1)
	cfg := e.config()
	cfg.Guard.Lease = 300 * time.Millisecond
	cfg.Handle = func(ctx context.Context, m Message, end dedupe.End[string]) error {
		if calls.Add(1) > 1 {
			end("second")
			return nil
		}
		p.setDown(true)
		err := mid(ctx, end)
		causes <- err
		return err
	}
	c := e.start(t, cfg)
	e.produce(t, msg(0, "k", "v"))
	if got := testwait.Recv(t, causes, "the first call's end"); !errors.Is(got, wantCause) {
		t.Errorf("first call ended with %v, want %v", got, wantCause)
	}
	Eventually(t, time.Minute, "a store error", func() bool { return c.Stats().StoreErrors > 0 })
	if got := e.Committed(t)[0]; got >= 0 {
		t.Errorf("committed offset %d while the outcome is unknown, want none", got)
	}
	p.setDown(false)
	Eventually(t, time.Minute, "lag 0 after Redis is back", func() bool { return e.Lag(t) == 0 })
	if s := c.Stats(); calls.Load() != wantCalls || s.Retries != 0 || s.DeadLettered != 0 || s.Processed != 1 {
		t.Errorf("calls = %d, Stats = %+v; want %d calls, Retries 0, DeadLettered 0, Processed 1", calls.Load(), s, wantCalls)
	}
	if got := e.stored(t, "k"); got != `"`+wantValue+`"` {
		t.Errorf("stored %s, want %q", got, wantValue)
	}
}
