package idemqkafka_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	kafkago "github.com/segmentio/kafka-go"

	"github.com/idemq/idemq/dedupe"
	"github.com/idemq/idemq/dedupe/redisstore"
)

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
	e.store = store
	return p
}

// TestStoreErrors proves behaviour 4: store failures are not handler
// failures. While Redis is unreachable nothing is dead-lettered and no
// offset is committed; the consumer retries with backoff and resumes by
// itself once Redis answers.
func TestStoreErrors(t *testing.T) {
	t.Parallel()
	t.Run("RedisDown", func(t *testing.T) {
		t.Parallel()
		e := setup(t, 2)
		p := storeBehindProxy(t, e)
		_, w := e.deadLetterTopic(t)
		var handled counts
		cfg := e.config()
		cfg.DeadLetter = w
		cfg.Guard.Lease = 600 * time.Millisecond // a claim times out after 300ms
		cfg.Handle = func(ctx context.Context, m kafkago.Message, end dedupe.End[string]) error {
			handled.add(string(m.Value))
			end("ok")
			return nil
		}
		c := mustConsumer(t, cfg)
		start(t, c)
		e.produce(t, msg("k0", "v0"))
		eventually(t, time.Minute, "the first message committed", func() bool { return e.lag(t) == 0 })
		before := e.committed(t)

		p.setDown(true)
		var msgs []kafkago.Message
		for i := 1; i <= 20; i++ {
			msgs = append(msgs, msg(key(i), key(i)))
		}
		e.produce(t, msgs...)
		eventually(t, time.Minute, "store errors", func() bool { return c.Stats().StoreErrors >= 2 })
		if got := e.committed(t); !equalOffsets(got, before) || handled.len() != 1 {
			t.Errorf("while Redis is down: committed %v (want %v), handled %d (want 1)", got, before, handled.len())
		}

		p.setDown(false)
		eventually(t, time.Minute, "lag 0 after Redis is back", func() bool { return e.lag(t) == 0 })
		for i := 1; i <= 20; i++ {
			if n := handled.get(key(i)); n != 1 {
				t.Errorf("%s handled %d times, want 1", key(i), n)
			}
		}
		if s := c.Stats(); s.DeadLettered != 0 || s.Retries != 0 || s.Processed != 21 {
			t.Errorf("Stats = %+v, want DeadLettered 0, Retries 0, Processed 21", s)
		}
	})
	for _, tc := range []struct {
		name string
		// mid runs in the handler's first call with Redis down, and returns
		// what the handler returns.
		mid       func(ctx context.Context, end dedupe.End[string]) error
		wantCause error
		// wantCalls: a handler that returned an error (its lease lost) runs
		// again; one that finished never does: its value is committed once
		// Redis is back.
		wantCalls int32
		wantValue string
	}{
		{"LeaseLost", func(ctx context.Context, end dedupe.End[string]) error {
			<-ctx.Done() // the renewals fail: the claim could expire
			return context.Cause(ctx)
		}, dedupe.ErrLeaseLost, 2, "second"},
		{"CommitUnknown", func(ctx context.Context, end dedupe.End[string]) error {
			end("first") // the commit cannot reach Redis
			return nil
		}, nil, 1, "first"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := setup(t, 1)
			p := storeBehindProxy(t, e)
			var calls atomic.Int32
			causes := make(chan error, 1)
			cfg := e.config()
			cfg.Guard.Lease = 300 * time.Millisecond
			cfg.Handle = func(ctx context.Context, m kafkago.Message, end dedupe.End[string]) error {
				if calls.Add(1) > 1 {
					end("second")
					return nil
				}
				p.setDown(true)
				err := tc.mid(ctx, end)
				causes <- err
				return err
			}
			c := mustConsumer(t, cfg)
			start(t, c)
			e.produce(t, msg("k", "v"))
			if got := <-causes; !errors.Is(got, tc.wantCause) {
				t.Errorf("first call ended with %v, want %v", got, tc.wantCause)
			}
			eventually(t, time.Minute, "a store error", func() bool { return c.Stats().StoreErrors > 0 })
			if got := e.committed(t)[0]; got >= 0 {
				t.Errorf("committed offset %d while the outcome is unknown, want none", got)
			}
			p.setDown(false)
			eventually(t, time.Minute, "lag 0 after Redis is back", func() bool { return e.lag(t) == 0 })
			if s := c.Stats(); calls.Load() != tc.wantCalls || s.Retries != 0 || s.DeadLettered != 0 || s.Processed != 1 {
				t.Errorf("calls = %d, Stats = %+v; want %d calls, Retries 0, DeadLettered 0, Processed 1", calls.Load(), s, tc.wantCalls)
			}
			if got := e.stored(t, "k"); got != `"`+tc.wantValue+`"` {
				t.Errorf("stored %s, want %q", got, tc.wantValue)
			}
		})
	}
}

func equalOffsets(a, b map[int]int64) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}
