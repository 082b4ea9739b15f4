package idemqkafka_test

import (
	"context"
	"errors"
	"github.com/idemq/idemq/consumer"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	kafkago "github.com/segmentio/kafka-go"

	idemqkafka "github.com/idemq/idemq/adapters/kafka"
	"github.com/idemq/idemq/dedupe"
)

func TestMessageKey(t *testing.T) {
	t.Parallel()
	if got, err := idemqkafka.MessageKey()(kafkago.Message{Key: []byte("order-1")}); got != "order-1" || err != nil {
		t.Errorf("MessageKey = %q, %v; want \"order-1\", nil", got, err)
	}
	if _, err := idemqkafka.MessageKey()(kafkago.Message{}); !errors.Is(err, idemqkafka.ErrNoKey) {
		t.Errorf("MessageKey of a message without key = %v, want ErrNoKey", err)
	}
}

func TestHeaderKey(t *testing.T) {
	t.Parallel()
	h := func(kv ...string) []kafkago.Header {
		var hs []kafkago.Header
		for i := 0; i < len(kv); i += 2 {
			hs = append(hs, kafkago.Header{Key: kv[i], Value: []byte(kv[i+1])})
		}
		return hs
	}
	for _, tc := range []struct {
		name    string
		headers []kafkago.Header
		want    string
		wantErr error
	}{
		{"Present", h("Idempotency-Key", "k1"), "k1", nil},
		{"LastWins", h("Idempotency-Key", "k1", "Other", "x", "Idempotency-Key", "k2"), "k2", nil},
		{"Missing", h("Other", "x"), "", idemqkafka.ErrNoKey},
		{"CaseSensitive", h("idempotency-key", "k1"), "", idemqkafka.ErrNoKey},
		{"Empty", h("Idempotency-Key", ""), "", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := idemqkafka.HeaderKey("Idempotency-Key")(kafkago.Message{Headers: tc.headers})
			if got != tc.want || !errors.Is(err, tc.wantErr) {
				t.Errorf("HeaderKey = %q, %v; want %q, %v", got, err, tc.want, tc.wantErr)
			}
		})
	}
}

// TestInvalidKeyPolicy proves behaviour 5: a message whose key header is
// missing, empty or too long follows Config.InvalidKey - processed without
// deduplication, dead-lettered, or (the default) the consumer stops with an
// error naming it and never commits it.
func TestInvalidKeyPolicy(t *testing.T) {
	t.Parallel()
	bad := map[string]kafkago.Message{
		"Missing": msg("", "bad"),
		"Empty":   {Value: []byte("bad"), Headers: []kafkago.Header{{Key: "Idempotency-Key"}}},
		"TooLong": msg(strings.Repeat("k", dedupe.MaxKeyLen+1), "bad"),
	}
	for name, m := range bad {
		t.Run(name+"/KeyReject", func(t *testing.T) {
			t.Parallel()
			e := setup(t, 1)
			var handled atomic.Int32
			cfg := e.config()
			cfg.Handle = countingHandler(&handled)
			e.produce(t, msg("k0", "good"), m, msg("k2", "good"))
			err := start(t, mustConsumer(t, cfg)).wait(t, time.Minute)
			var me *idemqkafka.MessageError
			if !errors.As(err, &me) || me.Offset != 1 || me.Attempts != 0 {
				t.Fatalf("Run = %v, want a *MessageError for offset 1", err)
			}
			if !errors.Is(err, idemqkafka.ErrNoKey) && !errors.Is(err, dedupe.ErrInvalidKey) {
				t.Errorf("Run = %v, want ErrNoKey or dedupe.ErrInvalidKey", err)
			}
			if got := e.committed(t)[0]; got != 1 || handled.Load() != 1 {
				t.Errorf("committed = %d, handled = %d; want 1 and 1 (the message before only)", got, handled.Load())
			}
		})
		t.Run(name+"/KeyProcess", func(t *testing.T) {
			t.Parallel()
			e := setup(t, 1)
			var handled atomic.Int32
			cfg := e.config()
			cfg.InvalidKey = consumer.KeyProcess
			cfg.Handle = countingHandler(&handled)
			e.produce(t, msg("k0", "good"), m, msg("k2", "good"))
			c := mustConsumer(t, cfg)
			start(t, c)
			eventually(t, time.Minute, "lag 0", func() bool { return e.lag(t) == 0 })
			if handled.Load() != 3 || c.Stats().Processed != 3 {
				t.Errorf("handled = %d, Stats = %+v; want 3 and Processed 3", handled.Load(), c.Stats())
			}
		})
		t.Run(name+"/KeyDeadLetter", func(t *testing.T) {
			t.Parallel()
			e := setup(t, 1)
			dlt, w := e.deadLetterTopic(t)
			var handled atomic.Int32
			cfg := e.config()
			cfg.InvalidKey = consumer.KeyDeadLetter
			cfg.DeadLetter = w
			cfg.Handle = countingHandler(&handled)
			e.produce(t, msg("k0", "good"), m, msg("k2", "good"))
			c := mustConsumer(t, cfg)
			start(t, c)
			got := e.readAll(t, dlt, 1)[0]
			eventually(t, time.Minute, "lag 0", func() bool { return e.lag(t) == 0 })
			if string(got.Value) != "bad" || header(got, idemqkafka.HeaderOriginalOffset) != "1" || header(got, idemqkafka.HeaderError) == "" {
				t.Errorf("dead letter = %q, offset header %q, error header %q; want the bad message from offset 1 with its error",
					got.Value, header(got, idemqkafka.HeaderOriginalOffset), header(got, idemqkafka.HeaderError))
			}
			if handled.Load() != 2 || c.Stats().DeadLettered != 1 {
				t.Errorf("handled = %d, Stats = %+v; want 2 and DeadLettered 1", handled.Load(), c.Stats())
			}
		})
	}
}

func countingHandler(n *atomic.Int32) idemqkafka.HandleFunc[string] {
	return func(ctx context.Context, m kafkago.Message, end dedupe.End[string]) error {
		n.Add(1)
		end("ok")
		return nil
	}
}

// TestFingerprintReusedKeyIsDeadLettered: with FingerprintFunc, a message
// that reuses a committed key with another payload follows InvalidKey (here
// KeyDeadLetter) instead of being acked as a duplicate; the same payload
// again is a duplicate.
func TestFingerprintReusedKeyIsDeadLettered(t *testing.T) {
	t.Parallel()
	e := setup(t, 1)
	dlt, w := e.deadLetterTopic(t)
	var runs atomic.Int32
	cfg := e.config()
	cfg.FingerprintFunc = idemqkafka.PayloadFingerprint
	cfg.InvalidKey = consumer.KeyDeadLetter
	cfg.DeadLetter = w
	cfg.Handle = func(ctx context.Context, m kafkago.Message, end dedupe.End[string]) error {
		runs.Add(1)
		end("receipt")
		return nil
	}
	c := mustConsumer(t, cfg)
	e.produce(t, msg("order-7", "10 EUR"), msg("order-7", "10 EUR"), msg("order-7", "99 EUR"))
	start(t, c)
	got := e.readAll(t, dlt, 1)[0]
	eventually(t, time.Minute, "lag 0", func() bool { return e.lag(t) == 0 })
	if string(got.Value) != "99 EUR" || !strings.Contains(header(got, idemqkafka.HeaderError), "reused for another payload") {
		t.Errorf("dead letter = %q, error %q; want the reused key's message", got.Value, header(got, idemqkafka.HeaderError))
	}
	if s := c.Stats(); runs.Load() != 1 || s.Duplicates != 1 || s.DeadLettered != 1 {
		t.Errorf("runs %d, Stats %+v; want 1 run, 1 duplicate, 1 dead letter", runs.Load(), s)
	}
}
