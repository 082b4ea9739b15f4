package idemqkafka_test

import (
	"context"
	"github.com/idemq/idemq/consumer"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	kafkago "github.com/segmentio/kafka-go"

	idemqkafka "github.com/idemq/idemq/adapters/kafka"
	"github.com/idemq/idemq/dedupe"
	"github.com/idemq/idemq/internal/testenv"
)

// TestOutcomesAreCommitted proves behaviour 1 for the two common outcomes:
// a fresh key runs the handler once and is committed; a duplicate (same key,
// new offset, another partition) does not run the handler, OnDuplicate gets
// the winner's value, and its offset is committed too: the group's lag
// ends at 0.
func TestOutcomesAreCommitted(t *testing.T) {
	t.Parallel()
	for name, srv := range map[string]func(testing.TB) testenv.RedisServer{"Redis": testenv.Redis, "Valkey": testenv.Valkey} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			outcomesAreCommitted(t, setupOn(t, srv(t), 4))
		})
	}
}

func outcomesAreCommitted(t *testing.T, e *env) {
	const unique, dups = 200, 50
	var handled, dupCalls counts
	var mu sync.Mutex
	winners := map[string]string{}
	cfg := e.config()
	cfg.Handle = func(ctx context.Context, m kafkago.Message, end dedupe.End[string]) error {
		k, _ := idemqkafka.HeaderKey("Idempotency-Key")(m)
		handled.add(k)
		end("done-" + string(m.Value))
		return nil
	}
	cfg.OnDuplicate = func(ctx context.Context, m kafkago.Message, winner string) error {
		k, _ := idemqkafka.HeaderKey("Idempotency-Key")(m)
		dupCalls.add(k)
		mu.Lock()
		defer mu.Unlock()
		winners[k] = winner
		return nil
	}
	c, err := idemqkafka.NewConsumer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var msgs []kafkago.Message
	for i := range unique {
		msgs = append(msgs, msg(key(i), "first-"+key(i)))
	}
	e.produce(t, msgs...)
	start(t, c)
	eventually(t, time.Minute, "every fresh key handled", func() bool { return handled.len() == unique })
	msgs = msgs[:0]
	for i := range dups {
		msgs = append(msgs, msg(key(i), "again-"+key(i)))
	}
	e.produce(t, msgs...)
	eventually(t, time.Minute, "lag 0", func() bool { return e.lag(t) == 0 })

	for i := range unique {
		if got := handled.get(key(i)); got != 1 {
			t.Errorf("handler ran %d times for %s, want 1", got, key(i))
		}
	}
	for i := range dups {
		if got := dupCalls.get(key(i)); got != 1 {
			t.Errorf("OnDuplicate ran %d times for %s, want 1", got, key(i))
		}
		if want := "done-first-" + key(i); winners[key(i)] != want {
			t.Errorf("OnDuplicate for %s got winner %q, want %q", key(i), winners[key(i)], want)
		}
	}
	s := c.Stats()
	if s.Processed != unique || s.Duplicates != dups || s.DeadLettered != 0 {
		t.Errorf("Stats = %+v, want Processed %d, Duplicates %d, DeadLettered 0", s, unique, dups)
	}
	if s.OffsetCommits == 0 || s.GuardRoundTrips == 0 {
		t.Errorf("Stats = %+v, want OffsetCommits and GuardRoundTrips > 0", s)
	}
}

// TestOptimisticMode proves the optimistic mode is selectable and keeps
// behaviour 1: fresh keys run once, duplicates (here in one process, which
// single-flights a key) do not run, and every offset is committed.
func TestOptimisticMode(t *testing.T) {
	t.Parallel()
	e := setup(t, 2)
	var handled counts
	cfg := e.config()
	cfg.Guard = consumer.Guard{Optimistic: true} // no claim: no lease
	cfg.Ordering = consumer.Unordered
	cfg.Handle = func(ctx context.Context, m kafkago.Message, end dedupe.End[string]) error {
		handled.add(header(m, "Idempotency-Key"))
		time.Sleep(time.Millisecond)
		end("ok")
		return nil
	}
	var msgs []kafkago.Message
	for i := range 100 {
		msgs = append(msgs, msg(key(i%60), "v"))
	}
	e.produce(t, msgs...)
	c := mustConsumer(t, cfg)
	start(t, c)
	eventually(t, time.Minute, "lag 0", func() bool { return e.lag(t) == 0 })
	for i := range 60 {
		if n := handled.get(key(i)); n != 1 {
			t.Errorf("%s handled %d times, want 1", key(i), n)
		}
	}
	if s := c.Stats(); s.Processed != 60 || s.Duplicates != 40 {
		t.Errorf("Stats = %+v, want Processed 60, Duplicates 40", s)
	}
}

// TestCommitBatching proves that offsets are committed in batches: every
// CommitEvery finished messages (here the interval never fires), and once
// more when Run returns.
func TestCommitBatching(t *testing.T) {
	t.Parallel()
	e := setup(t, 1)
	var handled atomic.Int32
	cfg := e.config()
	cfg.CommitEvery = 100
	cfg.CommitInterval = time.Hour
	cfg.Handle = countingHandler(&handled)
	var msgs []kafkago.Message
	for i := range 250 {
		msgs = append(msgs, msg(key(i), "v"))
	}
	e.produce(t, msgs...)
	c := mustConsumer(t, cfg)
	r := start(t, c)
	eventually(t, time.Minute, "a commit after 100 messages", func() bool { return e.committed(t)[0] >= 100 })
	eventually(t, time.Minute, "every message handled", func() bool { return handled.Load() == 250 })
	if err := r.stop(t); err != nil {
		t.Fatal(err)
	}
	if got := e.committed(t)[0]; got != 250 {
		t.Errorf("committed offset after Run returned = %d, want 250", got)
	}
	if n := c.Stats().OffsetCommits; n < 1 || n > 3 {
		t.Errorf("OffsetCommits = %d, want 1..3 for 250 messages in batches of 100 plus the last", n)
	}
}
