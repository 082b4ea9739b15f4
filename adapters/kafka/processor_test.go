package idemqkafka_test

import (
	"context"
	"errors"
	"github.com/idemq/idemq/consumer"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	kafkago "github.com/segmentio/kafka-go"

	idemqkafka "github.com/idemq/idemq/adapters/kafka"
	"github.com/idemq/idemq/dedupe"
	"github.com/idemq/idemq/dedupe/redisstore"
	"github.com/idemq/idemq/internal/testenv"
)

// newProcessor returns a Processor on a real Redis store with fast retries.
func newProcessor(t *testing.T, cfg idemqkafka.Config[string]) *idemqkafka.Processor[string] {
	t.Helper()
	srv := testenv.Redis(t)
	store, err := redisstore.New(srv.Client, redisstore.WithPrefix(srv.Prefix))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close() })
	cfg.Store = store
	cfg.Backoff = consumer.Backoff{Min: time.Millisecond, Max: 10 * time.Millisecond}
	p, err := idemqkafka.NewProcessor(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := p.Close(); err != nil {
			t.Errorf("Processor.Close = %v", err)
		}
	})
	return p
}

// TestProcessor proves that the exported single-message piece has the
// consumer's semantics: an Outcome (commit) only when the outcome is final,
// an error (do not commit) otherwise.
func TestProcessor(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	t.Run("ProcessedThenDuplicate", func(t *testing.T) {
		t.Parallel()
		var calls atomic.Int32
		var winner string
		p := newProcessor(t, idemqkafka.Config[string]{
			Handle: func(ctx context.Context, m kafkago.Message, end dedupe.End[string]) error {
				calls.Add(1)
				end("value-of-" + string(m.Value))
				return nil
			},
			OnDuplicate: func(ctx context.Context, m kafkago.Message, w string) error { winner = w; return nil },
		})
		o1, err1 := p.Process(ctx, msg("k", "first"))
		o2, err2 := p.Process(ctx, msg("k", "second"))
		if o1 != consumer.Processed || err1 != nil || o2 != consumer.Duplicate || err2 != nil {
			t.Errorf("Process = (%v, %v), (%v, %v); want processed, duplicate", o1, err1, o2, err2)
		}
		if calls.Load() != 1 || winner != "value-of-first" {
			t.Errorf("handler calls = %d, OnDuplicate winner = %q; want 1, %q", calls.Load(), winner, "value-of-first")
		}
	})
	t.Run("FailureCommitsNothing", func(t *testing.T) {
		t.Parallel()
		var calls atomic.Int32
		p := newProcessor(t, idemqkafka.Config[string]{
			Attempts: 2,
			Handle: func(ctx context.Context, m kafkago.Message, end dedupe.End[string]) error {
				if calls.Add(1) <= 2 {
					return errBoom
				}
				end("ok")
				return nil
			},
		})
		_, err := p.Process(ctx, msg("k", "v"))
		var me *idemqkafka.MessageError
		if !errors.As(err, &me) || me.Attempts != 2 || !errors.Is(err, errBoom) {
			t.Fatalf("Process = %v, want a *MessageError after 2 attempts", err)
		}
		if o, err := p.Process(ctx, msg("k", "v")); o != consumer.Processed || err != nil {
			t.Errorf("redelivery: Process = %v, %v; want processed (nothing was marked)", o, err)
		}
	})
	t.Run("SameKeyAtOnce", func(t *testing.T) {
		t.Parallel()
		var running, most, calls atomic.Int32
		p := newProcessor(t, idemqkafka.Config[string]{
			Handle: func(ctx context.Context, m kafkago.Message, end dedupe.End[string]) error {
				calls.Add(1)
				n := running.Add(1)
				defer running.Add(-1)
				for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
				}
				time.Sleep(20 * time.Millisecond)
				end("ok")
				return nil
			},
		})
		var wg sync.WaitGroup
		outcomes := make([]consumer.Outcome, 8)
		for i := range outcomes {
			wg.Go(func() {
				o, err := p.Process(ctx, msg("k", "v"))
				if err != nil {
					t.Errorf("Process = %v", err)
				}
				outcomes[i] = o
			})
		}
		wg.Wait()
		dups := 0
		for _, o := range outcomes {
			if o == consumer.Duplicate {
				dups++
			}
		}
		if calls.Load() != 1 || dups != 7 || most.Load() != 1 {
			t.Errorf("handler calls = %d (max at once %d), duplicates = %d; want 1, 1, 7", calls.Load(), most.Load(), dups)
		}
	})
	t.Run("WithoutKey", func(t *testing.T) {
		t.Parallel()
		p := newProcessor(t, idemqkafka.Config[string]{
			InvalidKey: consumer.KeyProcess,
			Handle: func(ctx context.Context, m kafkago.Message, end dedupe.End[string]) error {
				end("ok")
				return nil
			},
		})
		if o, err := p.Process(ctx, msg("", "v")); o != consumer.ProcessedWithoutKey || err != nil {
			t.Errorf("Process = %v, %v; want processed without key", o, err)
		}
		if s := p.Stats(); s.Processed != 1 || s.GuardRoundTrips != 0 {
			t.Errorf("Stats = %+v, want Processed 1 and no guard round trip", s)
		}
	})
	t.Run("CancelledHasNoOutcome", func(t *testing.T) {
		t.Parallel()
		p := newProcessor(t, idemqkafka.Config[string]{
			Handle: func(ctx context.Context, m kafkago.Message, end dedupe.End[string]) error {
				<-ctx.Done()
				return ctx.Err()
			},
		})
		ctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
		defer cancel()
		if o, err := p.Process(ctx, msg("k", "v")); o != 0 || !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Process = %v, %v; want no outcome and the ctx's error", o, err)
		}
		if s := p.Stats(); s.Retries != 0 || s.Processed != 0 {
			t.Errorf("Stats = %+v, want no retry and nothing processed", s)
		}
	})
}
