package kafkatest

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/idemq/idemq/consumer"
	"github.com/idemq/idemq/dedupe"
	"github.com/idemq/idemq/internal/testenv"
)

// processorScenarios prove that the exported single-message Processor has
// the consumer's semantics: an Outcome (commit) only when the outcome is
// final, an error (do not commit) otherwise.
var processorScenarios = map[string]scenario{
	"ProcessedThenDuplicate": processedThenDuplicate,
	"FailureCommitsNothing":  failureCommitsNothing,
	"SameKeyAtOnce":          sameKeyAtOnce,
	"WithoutKey":             processWithoutKey,
	"CancelledHasNoOutcome":  cancelledHasNoOutcome,
}

// newProcessor returns d's Processor on a real Redis store with fast
// retries, closed (and checked) at the end of t.
func newProcessor(t *testing.T, d Driver, cfg Config) Processor {
	t.Helper()
	cfg.Store, cfg.KeyHeader, cfg.Logger = redisStore(t, testenv.Redis(t)), keyHeader, slog.New(slog.DiscardHandler)
	cfg.Backoff = consumer.Backoff{Min: time.Millisecond, Max: 10 * time.Millisecond}
	p, err := d.NewProcessor(t, cfg)
	if err != nil {
		t.Fatalf("NewProcessor = %v", err)
	}
	t.Cleanup(func() {
		if err := p.Close(); err != nil {
			t.Errorf("Processor.Close = %v", err)
		}
	})
	return p
}

func processedThenDuplicate(t *testing.T, d Driver) {
	var calls atomic.Int32
	var winner atomic.Value
	p := newProcessor(t, d, Config{
		Handle: func(ctx context.Context, m Message, end dedupe.End[string]) error {
			calls.Add(1)
			end("value-of-" + string(m.Value))
			return nil
		},
		OnDuplicate: func(ctx context.Context, m Message, w string) error { winner.Store(w); return nil },
	})
	ctx := context.Background()
	o1, err1 := p.Process(ctx, msg(0, "k", "first"))
	o2, err2 := p.Process(ctx, msg(0, "k", "second"))
	if o1 != consumer.Processed || err1 != nil || o2 != consumer.Duplicate || err2 != nil {
		t.Errorf("Process = (%v, %v), (%v, %v); want processed, duplicate", o1, err1, o2, err2)
	}
	if w, _ := winner.Load().(string); calls.Load() != 1 || w != "value-of-first" {
		t.Errorf("handler calls = %d, OnDuplicate winner = %q; want 1, %q", calls.Load(), w, "value-of-first")
	}
	if s := p.Stats(); s.Processed != 1 || s.Duplicates != 1 || s.OffsetCommits != 0 {
		t.Errorf("Stats = %+v, want 1 processed, 1 duplicate, no offset commit", s)
	}
}

func failureCommitsNothing(t *testing.T, d Driver) {
	var calls atomic.Int32
	p := newProcessor(t, d, Config{
		Attempts: 2,
		Handle: func(ctx context.Context, m Message, end dedupe.End[string]) error {
			if calls.Add(1) <= 2 {
				return errBoom
			}
			end("ok")
			return nil
		},
	})
	ctx := context.Background()
	_, err := p.Process(ctx, msg(0, "k", "v"))
	me, ok := d.Adapter().MessageError(err)
	if !ok || me.Attempts != 2 || !errors.Is(err, errBoom) {
		t.Fatalf("Process = %v, want a *MessageError after 2 attempts", err)
	}
	if o, err := p.Process(ctx, msg(0, "k", "v")); o != consumer.Processed || err != nil {
		t.Errorf("redelivery: Process = %v, %v; want processed (nothing was marked)", o, err)
	}
}

func sameKeyAtOnce(t *testing.T, d Driver) {
	var running, most, calls atomic.Int32
	p := newProcessor(t, d, Config{
		Handle: func(ctx context.Context, m Message, end dedupe.End[string]) error {
			calls.Add(1)
			n := running.Add(1)
			defer running.Add(-1)
			for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
			}
			time.Sleep(20 * time.Millisecond) // work, so that the others arrive meanwhile
			end("ok")
			return nil
		},
	})
	var wg sync.WaitGroup
	outcomes := make([]consumer.Outcome, 8)
	for i := range outcomes {
		wg.Go(func() {
			o, err := p.Process(context.Background(), msg(0, "k", "v"))
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
}

func processWithoutKey(t *testing.T, d Driver) {
	p := newProcessor(t, d, Config{
		InvalidKey: consumer.KeyProcess,
		Handle: func(ctx context.Context, m Message, end dedupe.End[string]) error {
			end("ok")
			return nil
		},
	})
	if o, err := p.Process(context.Background(), msg(0, "", "v")); o != consumer.ProcessedWithoutKey || err != nil {
		t.Errorf("Process = %v, %v; want processed without key", o, err)
	}
	if s := p.Stats(); s.Processed != 1 || s.GuardRoundTrips != 0 {
		t.Errorf("Stats = %+v, want Processed 1 and no guard round trip", s)
	}
}

func cancelledHasNoOutcome(t *testing.T, d Driver) {
	p := newProcessor(t, d, Config{
		Handle: func(ctx context.Context, m Message, end dedupe.End[string]) error {
			<-ctx.Done()
			return ctx.Err()
		},
	})
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if o, err := p.Process(ctx, msg(0, "k", "v")); o != 0 || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Process = %v, %v; want no outcome and the ctx's error", o, err)
	}
	if s := p.Stats(); s.Retries != 0 || s.Processed != 0 {
		t.Errorf("Stats = %+v, want no retry and nothing processed", s)
	}
}
