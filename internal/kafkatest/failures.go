package kafkatest

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/idemq/idemq/consumer"
	"github.com/idemq/idemq/dedupe"
)

var failureScenarios = map[string]scenario{
	"RetrySucceeds":        retrySucceeds,
	"DeadLettered":         deadLettered,
	"StopsWithoutDLT":      stopsWithoutDeadLetter,
	"InvalidKey":           invalidKey,
	"FingerprintReusedKey": fingerprintReusedKey,
}

// retrySucceeds: a failing handler is retried in place with backoff, and
// succeeds.
func retrySucceeds(t *testing.T, d Driver) {
	e := setup(t, d, 1)
	var calls atomic.Int32
	cfg := e.config()
	cfg.Handle = func(ctx context.Context, m Message, end dedupe.End[string]) error {
		if calls.Add(1) < 3 {
			return errBoom
		}
		end("ok")
		return nil
	}
	e.produce(t, msg(0, "k", "v"))
	c := e.start(t, cfg)
	e.LagZero(t, time.Minute)
	s := c.Stats()
	if calls.Load() != 3 || s.Retries != 2 || s.Processed != 1 || s.DeadLettered != 0 {
		t.Errorf("calls = %d, Stats = %+v; want 3 calls, Retries 2, Processed 1, DeadLettered 0", calls.Load(), s)
	}
}

// deadLettered: after its last attempt a failing message goes to the
// dead-letter topic, and so does a message without a key under
// KeyDeadLetter, each with its value and headers and those saying where it
// came from and why; only then are their offsets committed.
func deadLettered(t *testing.T, d Driver) {
	e := setup(t, d, 1)
	dlt := e.deadLetterTopic(t)
	var calls atomic.Int32
	cfg := e.config()
	cfg.DeadLetterTopic = dlt
	cfg.Attempts = 4
	cfg.InvalidKey = consumer.KeyDeadLetter
	cfg.Handle = func(ctx context.Context, m Message, end dedupe.End[string]) error {
		if string(m.Value) == "bad" {
			calls.Add(1)
			return errBoom
		}
		end("ok")
		return nil
	}
	e.produce(t, msg(0, "k0", "good1"), msg(0, "k1", "bad"), msg(0, "", "nokey"), msg(0, "k3", "good2"))
	c := e.start(t, cfg)
	dls := e.d.Read(t, dlt, 2)
	e.LagZero(t, time.Minute)
	if calls.Load() != 4 {
		t.Errorf("handler ran %d times for the bad message, want 4", calls.Load())
	}
	for i, want := range []struct {
		value, keyHeader, offset, key, err string
		whole                              bool // the error header is err, not just contains it
	}{
		{"bad", "k1", "1", "k1", errBoom.Error(), true},
		{"nokey", "", "2", "", e.d.Adapter().ErrNoKey.Error(), false},
	} {
		got := dls[i]
		if string(got.Value) != want.value || got.Header(keyHeader) != want.keyHeader {
			t.Errorf("dead letter %d = %q with key header %q, want the original %q with %q", i, got.Value, got.Header(keyHeader), want.value, want.keyHeader)
		}
		for name, wantHeader := range map[string]string{
			headerOriginalTopic: e.Topic, headerOriginalPartition: "0", headerOriginalOffset: want.offset, headerIdempotencyKey: want.key,
		} {
			if h := got.Header(name); h != wantHeader {
				t.Errorf("dead letter %d: header %s = %q, want %q", i, name, h, wantHeader)
			}
		}
		if h := got.Header(headerError); !strings.Contains(h, want.err) || want.whole && h != want.err {
			t.Errorf("dead letter %d: header %s = %q, want %q (whole: %v)", i, headerError, h, want.err, want.whole)
		}
	}
	if s := c.Stats(); s.DeadLettered != 2 || s.Retries != 3 || s.Processed != 2 {
		t.Errorf("Stats = %+v, want DeadLettered 2, Retries 3, Processed 2", s)
	}
}

// stopsWithoutDeadLetter: without a dead-letter topic a message that failed
// every attempt stops the consumer with an error naming it; nothing at or
// past it is committed, and the message after it never runs.
func stopsWithoutDeadLetter(t *testing.T, d Driver) {
	e := setup(t, d, 1)
	var after atomic.Int32
	cfg := e.config()
	cfg.Attempts = 2
	cfg.Handle = func(ctx context.Context, m Message, end dedupe.End[string]) error {
		switch string(m.Value) {
		case "bad":
			return errBoom
		case "after":
			after.Add(1)
		}
		end("ok")
		return nil
	}
	e.produce(t, msg(0, "k0", "v0"), msg(0, "k1", "v1"), msg(0, "k2", "bad"), msg(0, "k3", "after"))
	err := e.start(t, cfg).Wait(t, time.Minute)
	me, ok := e.d.Adapter().MessageError(err)
	if !ok || !errors.Is(err, errBoom) || me.Topic != e.Topic || me.Offset != 2 || me.Partition != 0 || me.Key != "k2" || me.Attempts != 2 {
		t.Fatalf("Run = %v, want a *MessageError for partition 0 offset 2 key k2 after 2 attempts wrapping errBoom", err)
	}
	if got := e.Committed(t)[0]; got != 2 {
		t.Errorf("committed offset = %d, want 2 (everything before the failed message, nothing past it)", got)
	}
	if after.Load() != 0 {
		t.Errorf("the message after the failed one ran %d times, want 0 (ordered by partition)", after.Load())
	}
}

// invalidKey: a message whose key header is missing, empty or too long
// follows Config.InvalidKey: the consumer stops with an error naming it
// and never commits it (KeyReject, the default), it is processed without
// deduplication, every copy of it (KeyProcess), or it is dead-lettered
// (KeyDeadLetter).
func invalidKey(t *testing.T, d Driver) {
	bad := map[string]struct {
		m    Message
		want error // the error KeyReject stops with
	}{
		"Missing": {msg(0, "", "bad"), d.Adapter().ErrNoKey},
		"Empty":   {Message{Key: []byte("bad"), Value: []byte("bad"), Headers: []Header{{Key: keyHeader}}}, dedupe.ErrInvalidKey},
		"TooLong": {msg(0, strings.Repeat("k", dedupe.MaxKeyLen+1), "bad"), dedupe.ErrInvalidKey},
	}
	for name, tc := range bad {
		t.Run(name+"/KeyReject", func(t *testing.T) {
			t.Parallel()
			e := setup(t, d, 1)
			var handled counts
			cfg := e.config()
			cfg.Handle = countingHandler(&handled)
			e.produce(t, msg(0, "k0", "good"), tc.m, msg(0, "k2", "good"))
			err := e.start(t, cfg).Wait(t, time.Minute)
			me, ok := e.d.Adapter().MessageError(err)
			if !ok || me.Offset != 1 || me.Partition != 0 || me.Attempts != 0 || !errors.Is(err, tc.want) {
				t.Fatalf("Run = %v, want a *MessageError for partition 0 offset 1 wrapping %v", err, tc.want)
			}
			if got := e.Committed(t)[0]; got != 1 || handled.total() != 1 {
				t.Errorf("committed = %d, handled = %d; want 1 and 1 (the message before only)", got, handled.total())
			}
		})
		t.Run(name+"/KeyProcess", func(t *testing.T) {
			t.Parallel()
			e := setup(t, d, 1)
			var handled counts
			cfg := e.config()
			cfg.InvalidKey = consumer.KeyProcess
			cfg.Handle = countingHandler(&handled)
			e.produce(t, msg(0, "k0", "good"), tc.m, tc.m, msg(0, "k3", "good"))
			c := e.start(t, cfg)
			e.LagZero(t, time.Minute)
			n, s := handled.get(tc.m.Header(keyHeader)+"/bad"), c.Stats()
			if n != 2 || handled.total() != 4 || s.Processed != 4 || s.Duplicates != 0 {
				t.Errorf("the invalid key's copies ran %d times, %d runs in all, Stats = %+v; want 2 (no dedupe without a key), 4 and Processed 4",
					n, handled.total(), s)
			}
		})
		t.Run(name+"/KeyDeadLetter", func(t *testing.T) {
			t.Parallel()
			e := setup(t, d, 1)
			dlt := e.deadLetterTopic(t)
			var handled counts
			cfg := e.config()
			cfg.InvalidKey = consumer.KeyDeadLetter
			cfg.DeadLetterTopic = dlt
			cfg.Handle = countingHandler(&handled)
			e.produce(t, msg(0, "k0", "good"), tc.m, msg(0, "k2", "good"))
			c := e.start(t, cfg)
			got := e.d.Read(t, dlt, 1)[0]
			e.LagZero(t, time.Minute)
			if string(got.Value) != "bad" || got.Header(headerOriginalOffset) != "1" || got.Header(headerError) == "" {
				t.Errorf("dead letter = %q, offset header %q, error header %q; want the bad message from offset 1 with its error",
					got.Value, got.Header(headerOriginalOffset), got.Header(headerError))
			}
			if handled.total() != 2 || c.Stats().DeadLettered != 1 {
				t.Errorf("handled = %d, Stats = %+v; want 2 and DeadLettered 1", handled.total(), c.Stats())
			}
		})
	}
}

// countingHandler counts the runs of each key and value ("key/value") and
// ends.
func countingHandler(n *counts) HandleFunc {
	return func(ctx context.Context, m Message, end dedupe.End[string]) error {
		n.add(m.Header(keyHeader) + "/" + string(m.Value))
		end("ok")
		return nil
	}
}

// fingerprintReusedKey: with FingerprintFunc, a message that reuses a
// committed key with another payload follows InvalidKey (here
// KeyDeadLetter) instead of being acked as a duplicate; the same payload
// again is a duplicate.
func fingerprintReusedKey(t *testing.T, d Driver) {
	e := setup(t, d, 1)
	dlt := e.deadLetterTopic(t)
	var runs atomic.Int32
	cfg := e.config()
	cfg.Fingerprint = true
	cfg.InvalidKey = consumer.KeyDeadLetter
	cfg.DeadLetterTopic = dlt
	cfg.Handle = func(ctx context.Context, m Message, end dedupe.End[string]) error {
		runs.Add(1)
		end("receipt")
		return nil
	}
	e.produce(t, msg(0, "order-7", "10 EUR"), msg(0, "order-7", "10 EUR"), msg(0, "order-7", "99 EUR"))
	c := e.start(t, cfg)
	got := e.d.Read(t, dlt, 1)[0]
	e.LagZero(t, time.Minute)
	if string(got.Value) != "99 EUR" || !strings.Contains(got.Header(headerError), "reused for another payload") {
		t.Errorf("dead letter = %q, error %q; want the reused key's message", got.Value, got.Header(headerError))
	}
	if s := c.Stats(); runs.Load() != 1 || s.Duplicates != 1 || s.DeadLettered != 1 {
		t.Errorf("runs %d, Stats %+v; want 1 run, 1 duplicate, 1 dead letter", runs.Load(), s)
	}
}
