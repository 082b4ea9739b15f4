package kafka_test

import (
	"context"
	"errors"
	"log/slog"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	kafkago "github.com/segmentio/kafka-go"

	idemqkafka "github.com/idemq/idemq/adapters/kafka"
	"github.com/idemq/idemq/dedupe"
)

var errBoom = errors.New("boom")

// TestHandlerErrors proves behaviour 3: a failing handler is retried in
// place with backoff; after the last attempt the message goes to the
// dead-letter topic with headers saying where it came from and why, and
// only then is its offset committed. Without a dead-letter topic the
// consumer stops with an error naming the message and commits nothing past
// it.
func TestHandlerErrors(t *testing.T) {
	t.Parallel()
	t.Run("RetrySucceeds", func(t *testing.T) {
		t.Parallel()
		e := setup(t, 1)
		var calls atomic.Int32
		cfg := e.config()
		cfg.Handle = func(ctx context.Context, m kafkago.Message, end dedupe.End[string]) error {
			if calls.Add(1) < 3 {
				return errBoom
			}
			end("ok")
			return nil
		}
		c := mustConsumer(t, cfg)
		e.produce(t, msg("k", "v"))
		start(t, c)
		eventually(t, time.Minute, "lag 0", func() bool { return e.lag(t) == 0 })
		s := c.Stats()
		if calls.Load() != 3 || s.Retries != 2 || s.Processed != 1 || s.DeadLettered != 0 {
			t.Errorf("calls = %d, Stats = %+v; want 3 calls, Retries 2, Processed 1, DeadLettered 0", calls.Load(), s)
		}
	})
	t.Run("DeadLetteredAfterAttempts", func(t *testing.T) {
		t.Parallel()
		e := setup(t, 2)
		dlt, w := e.deadLetterTopic(t)
		var calls atomic.Int32
		cfg := e.config()
		cfg.DeadLetter = w
		cfg.Attempts = 4
		cfg.Handle = func(ctx context.Context, m kafkago.Message, end dedupe.End[string]) error {
			if string(m.Value) == "bad" {
				calls.Add(1)
				return errBoom
			}
			end("ok")
			return nil
		}
		c := mustConsumer(t, cfg)
		e.produce(t, msg("k1", "good1"), msg("k2", "bad"), msg("k3", "good2"))
		start(t, c)
		got := e.readAll(t, dlt, 1)[0]
		eventually(t, time.Minute, "lag 0", func() bool { return e.lag(t) == 0 })
		if calls.Load() != 4 {
			t.Errorf("handler ran %d times for the bad message, want 4", calls.Load())
		}
		if string(got.Value) != "bad" || header(got, "Idempotency-Key") != "k2" {
			t.Errorf("dead letter = %q with key header %q, want the original message", got.Value, header(got, "Idempotency-Key"))
		}
		for name, want := range map[string]string{
			idemqkafka.HeaderOriginalTopic: e.topic, idemqkafka.HeaderIdempotencyKey: "k2", idemqkafka.HeaderError: errBoom.Error(),
		} {
			if h := header(got, name); h != want {
				t.Errorf("dead-letter header %s = %q, want %q", name, h, want)
			}
		}
		if _, err := strconv.Atoi(header(got, idemqkafka.HeaderOriginalPartition)); err != nil {
			t.Errorf("dead-letter header %s: %v", idemqkafka.HeaderOriginalPartition, err)
		}
		if _, err := strconv.ParseInt(header(got, idemqkafka.HeaderOriginalOffset), 10, 64); err != nil {
			t.Errorf("dead-letter header %s: %v", idemqkafka.HeaderOriginalOffset, err)
		}
		if s := c.Stats(); s.DeadLettered != 1 || s.Retries != 3 || s.Processed != 2 {
			t.Errorf("Stats = %+v, want DeadLettered 1, Retries 3, Processed 2", s)
		}
	})
	t.Run("StopsWithoutDeadLetter", func(t *testing.T) {
		t.Parallel()
		e := setup(t, 1)
		var after atomic.Int32
		cfg := e.config()
		cfg.Attempts = 2
		cfg.Handle = func(ctx context.Context, m kafkago.Message, end dedupe.End[string]) error {
			switch string(m.Value) {
			case "bad":
				return errBoom
			case "after":
				after.Add(1)
			}
			end("ok")
			return nil
		}
		c := mustConsumer(t, cfg)
		e.produce(t, msg("k0", "v0"), msg("k1", "v1"), msg("k2", "bad"), msg("k3", "after"))
		err := start(t, c).wait(t, time.Minute)
		var me *idemqkafka.MessageError
		if !errors.As(err, &me) || !errors.Is(err, errBoom) || me.Offset != 2 || me.Partition != 0 || me.Key != "k2" || me.Attempts != 2 {
			t.Fatalf("Run = %v, want a *MessageError for partition 0 offset 2 key k2 after 2 attempts wrapping errBoom", err)
		}
		if got := e.committed(t)[0]; got != 2 {
			t.Errorf("committed offset = %d, want 2 (everything before the failed message, nothing past it)", got)
		}
		if after.Load() != 0 {
			t.Errorf("the message after the failed one ran %d times, want 0 (ordered by partition)", after.Load())
		}
	})
}

func mustConsumer[V any](t *testing.T, cfg idemqkafka.Config[V]) *idemqkafka.Consumer[V] {
	t.Helper()
	c, err := idemqkafka.NewConsumer(cfg)
	if err != nil {
		t.Fatalf("NewConsumer: %v", err)
	}
	return c
}

// TestDeadLetterWriteFails proves that a message is never skipped silently:
// while its dead-letter write fails, its offset is not committed and the
// write is retried.
func TestDeadLetterWriteFails(t *testing.T) {
	t.Parallel()
	e := setup(t, 1)
	w := e.k.Writer(t, "missing-"+e.topic) // a topic that does not exist
	w.MaxAttempts = 1
	logs := &logCounter{match: "kafka: dead-letter write failed; retrying"}
	cfg := e.config()
	cfg.DeadLetter = w
	cfg.Attempts = 1
	cfg.Logger = slog.New(logs)
	cfg.Handle = func(ctx context.Context, m kafkago.Message, end dedupe.End[string]) error {
		if string(m.Value) == "bad" {
			return errBoom
		}
		end("ok")
		return nil
	}
	c := mustConsumer(t, cfg)
	e.produce(t, msg("k0", "good"), msg("k1", "bad"), msg("k2", "good"))
	start(t, c)
	eventually(t, time.Minute, "two failed dead-letter writes", func() bool { return logs.n.Load() >= 2 })
	eventually(t, time.Minute, "the first message committed", func() bool { return e.committed(t)[0] >= 1 })
	if got := e.committed(t)[0]; got != 1 {
		t.Errorf("committed offset = %d, want 1 (not past the message whose dead letter failed)", got)
	}
	if s := c.Stats(); s.DeadLettered != 0 {
		t.Errorf("DeadLettered = %d, want 0", s.DeadLettered)
	}
}

// logCounter is a slog.Handler counting the records with one message.
type logCounter struct {
	match string
	n     atomic.Int32
}

func (l *logCounter) Enabled(context.Context, slog.Level) bool { return true }
func (l *logCounter) Handle(_ context.Context, r slog.Record) error {
	if r.Message == l.match {
		l.n.Add(1)
	}
	return nil
}
func (l *logCounter) WithAttrs([]slog.Attr) slog.Handler { return l }
func (l *logCounter) WithGroup(string) slog.Handler      { return l }
