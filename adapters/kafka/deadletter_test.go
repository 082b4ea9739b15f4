package idemqkafka_test

import (
	"context"
	"errors"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	kafkago "github.com/segmentio/kafka-go"

	idemqkafka "github.com/idemq/idemq/adapters/kafka"
	"github.com/idemq/idemq/dedupe"
	"github.com/idemq/idemq/internal/kafkatest"
)

// TestDeadLetterFailures proves that a dead letter is never dropped and
// never retried for ever in silence: a transient failure (the broker
// unreachable) is retried with backoff, counted in Stats and logged, until
// the write succeeds; a permanent one (an unknown topic, a message larger
// than the writer takes) ends Run with a *MessageError naming the message
// and wrapping the cause, its offset not committed; a long handler error is
// cut to fit, so the dead letter of a normal message is written.
func TestDeadLetterFailures(t *testing.T) {
	t.Parallel()
	failing := func(t *testing.T, e *env, w *kafkago.Writer, bad kafkago.Message) (*idemqkafka.Consumer[string], *kafkatest.Running) {
		cfg := e.config(t)
		cfg.DeadLetter = w
		cfg.Attempts = 1
		cfg.Handle = func(ctx context.Context, m kafkago.Message, end dedupe.End[string]) error {
			if string(m.Key) == "bad" {
				return errBoom
			}
			end("ok")
			return nil
		}
		c := mustConsumer(t, cfg)
		e.produce(t, msg("k0", "good"), bad, msg("k2", "after"))
		return c, kafkatest.Start(t, c.Run)
	}
	t.Run("TransientIsRetried", func(t *testing.T) {
		t.Parallel()
		e := setup(t, 1)
		dlt, w := e.deadLetterTopic(t)
		var dials atomic.Int32
		dialer := &net.Dialer{}
		transport := &kafkago.Transport{Dial: func(ctx context.Context, network, addr string) (net.Conn, error) {
			if dials.Add(1) <= 1 { // the broker is unreachable for the first write
				return nil, errors.New("test: connection refused")
			}
			return dialer.DialContext(ctx, network, addr)
		}}
		t.Cleanup(transport.CloseIdleConnections)
		w.Transport = transport
		w.MaxAttempts = 1
		c, _ := failing(t, e, w, bad("v"))
		got := readAll(t, e.Kafka, dlt, 1)[0]
		e.LagZero(t, time.Minute)
		if header(got, idemqkafka.HeaderIdempotencyKey) != "k1" {
			t.Errorf("dead letter = %+v, want the bad message", got)
		}
		if s := c.Stats(); s.DeadLettered != 1 || s.DeadLetterErrors < 1 {
			t.Errorf("Stats = %+v, want DeadLettered 1 and the failed writes counted in DeadLetterErrors", s)
		}
	})
	t.Run("UnknownTopicStops", func(t *testing.T) {
		t.Parallel()
		e := setup(t, 1)
		w := e.Kafka.Writer(t, "missing-"+e.Topic) // a topic that does not exist
		w.MaxAttempts = 1
		c, r := failing(t, e, w, bad("v"))
		assertStopsAt(t, e, r.Wait(t, time.Minute), kafkago.UnknownTopicOrPartition)
		if s := c.Stats(); s.DeadLettered != 0 {
			t.Errorf("DeadLettered = %d, want 0", s.DeadLettered)
		}
	})
	t.Run("MessageTooLargeStops", func(t *testing.T) {
		t.Parallel()
		e := setup(t, 1)
		_, w := e.deadLetterTopic(t)
		w.BatchBytes = 64 << 10 // the bad message's value alone is larger
		_, r := failing(t, e, w, bad(strings.Repeat("x", 100<<10)))
		var tooLarge kafkago.MessageTooLargeError
		err := r.Wait(t, time.Minute)
		if !errors.As(err, &tooLarge) {
			t.Errorf("Run = %v, want it to wrap kafka-go's MessageTooLargeError", err)
		}
		assertStopsAt(t, e, err, nil)
	})
	t.Run("LongErrorIsCut", func(t *testing.T) {
		t.Parallel()
		e := setup(t, 1)
		dlt, w := e.deadLetterTopic(t)
		w.BatchBytes = 64 << 10
		cfg := e.config(t)
		cfg.DeadLetter = w
		cfg.Attempts = 1
		long := errors.New(strings.Repeat("e", 1<<20)) // a 1 MiB error message
		cfg.Handle = func(ctx context.Context, m kafkago.Message, end dedupe.End[string]) error { return long }
		c := mustConsumer(t, cfg)
		m := msg("k", strings.Repeat("v", 60<<10))
		m.Key = []byte("k")
		e.produce(t, m)
		kafkatest.Start(t, c.Run)
		got := readAll(t, e.Kafka, dlt, 1)[0]
		if h := header(got, idemqkafka.HeaderError); len(h) == 0 || len(h) > idemqkafka.MaxErrorHeader || !strings.HasSuffix(h, "...") {
			t.Errorf("error header of %d bytes, want a cut of at most %d ending in ...", len(h), idemqkafka.MaxErrorHeader)
		}
		if len(got.Value) != 60<<10 {
			t.Errorf("dead letter value of %d bytes, want the original %d", len(got.Value), 60<<10)
		}
	})
}

// bad is the message the failing handler refuses, key k1.
func bad(value string) kafkago.Message {
	m := msg("k1", value)
	m.Key = []byte("bad")
	return m
}

// assertStopsAt checks that Run stopped with a *MessageError for offset 1
// (key k1), wrapping code (if not nil), and that nothing at or past it was
// committed.
func assertStopsAt(t *testing.T, e *env, err error, code error) {
	t.Helper()
	var me *idemqkafka.MessageError
	if !errors.As(err, &me) || me.Offset != 1 || me.Key != "k1" || code != nil && !errors.Is(err, code) {
		t.Fatalf("Run = %v, want a *MessageError for offset 1, key k1, wrapping %v", err, code)
	}
	if got := e.Committed(t)[0]; got != 1 {
		t.Errorf("committed offset = %d, want 1 (not past the message whose dead letter failed)", got)
	}
}
