package idemqfranz_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	idemqfranz "github.com/idemq/idemq/adapters/franz"
	"github.com/idemq/idemq/consumer"
	"github.com/idemq/idemq/dedupe"
)

var errBoom = errors.New("boom")

// TestOutcomesOfFailures proves the failure rows of the outcome table: a
// handler that fails every attempt, and a record without a key under
// KeyDeadLetter, are dead-lettered with headers saying where they came from
// and why, then committed; KeyProcess runs a keyless record without dedupe;
// without a dead-letter client (KeyReject, or a failing handler) Run stops
// with a *MessageError naming the record and commits nothing at or past it.
func TestOutcomesOfFailures(t *testing.T) {
	t.Parallel()
	failOn := func(value string) idemqfranz.HandleFunc[string] {
		return func(ctx context.Context, r *kgo.Record, end dedupe.End[string]) error {
			if string(r.Value) == value {
				return errBoom
			}
			end("ok")
			return nil
		}
	}
	t.Run("DeadLettered", func(t *testing.T) {
		t.Parallel()
		e := setup(t, 1)
		dlt := topic(t, e.k, 1)
		cfg := e.config()
		cfg.Attempts = 2
		cfg.InvalidKey = consumer.KeyDeadLetter
		cfg.DeadLetter, cfg.DeadLetterTopic = e.producer(t), dlt
		cfg.Handle = failOn("bad")
		e.produce(t, rec(0, "k0", "ok"), rec(0, "k1", "bad"), rec(0, "", "nokey"), rec(0, "k3", "ok"))
		c := mustConsumer(t, cfg)
		start(t, c)
		eventually(t, time.Minute, "lag 0", func() bool { return e.lag(t) == 0 })
		dls := e.read(t, dlt, 2)
		for i, want := range []struct{ offset, key, err string }{{"1", "k1", "boom"}, {"2", "", idemqfranz.ErrNoKey.Error()}} {
			got := dls[i]
			if header(got, idemqfranz.HeaderOriginalTopic) != e.topic || header(got, idemqfranz.HeaderOriginalPartition) != "0" ||
				header(got, idemqfranz.HeaderOriginalOffset) != want.offset || header(got, idemqfranz.HeaderIdempotencyKey) != want.key ||
				!strings.Contains(header(got, idemqfranz.HeaderError), want.err) {
				t.Errorf("dead letter %d has headers %v, want offset %s, key %q, error containing %q", i, got.Headers, want.offset, want.key, want.err)
			}
		}
		if s := c.Stats(); s.Processed != 2 || s.DeadLettered != 2 || s.Retries != 1 {
			t.Errorf("Stats = %+v, want Processed 2, DeadLettered 2, Retries 1", s)
		}
	})
	t.Run("KeyProcess", func(t *testing.T) {
		t.Parallel()
		e := setup(t, 1)
		var runs atomic.Int32
		cfg := e.config()
		cfg.InvalidKey = consumer.KeyProcess
		cfg.Handle = func(ctx context.Context, r *kgo.Record, end dedupe.End[string]) error {
			runs.Add(1)
			end("ok")
			return nil
		}
		e.produce(t, rec(0, "", "a"), rec(0, "", "a"))
		start(t, mustConsumer(t, cfg))
		eventually(t, time.Minute, "lag 0", func() bool { return e.lag(t) == 0 })
		if n := runs.Load(); n != 2 {
			t.Errorf("handler ran %d times for two keyless records, want 2 (no dedupe without a key)", n)
		}
	})
	for name, tc := range map[string]struct {
		bad    *kgo.Record
		handle idemqfranz.HandleFunc[string]
		code   error
	}{
		"KeyReject":          {rec(0, "", "nokey"), failOn("none"), idemqfranz.ErrNoKey},
		"FailedNoDeadLetter": {rec(0, "k1", "bad"), failOn("bad"), errBoom},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			e := setup(t, 1)
			cfg := e.config()
			cfg.Attempts = 2
			cfg.Handle = tc.handle
			e.produce(t, rec(0, "k0", "ok"), tc.bad, rec(0, "k2", "ok"))
			r := start(t, mustConsumer(t, cfg))
			err := r.wait(t, time.Minute)
			var me *idemqfranz.MessageError
			if !errors.As(err, &me) || me.Offset != 1 || me.Partition != 0 || !errors.Is(err, tc.code) {
				t.Fatalf("Run = %v, want a *MessageError for offset 1 wrapping %v", err, tc.code)
			}
			if got := e.committed(t)[0]; got != 1 {
				t.Errorf("committed offset = %d, want 1 (not past the record that failed)", got)
			}
		})
	}
}

// TestOneKeyOnTwoPartitions proves that one key delivered on two
// partitions at once runs its handler once: the second waits for the
// first's claim, then ends as a duplicate with its value.
func TestOneKeyOnTwoPartitions(t *testing.T) {
	t.Parallel()
	e := setup(t, 2)
	var runs atomic.Int32
	var both sync.WaitGroup
	both.Add(1)
	release := make(chan struct{})
	var dups counts
	cfg := e.config()
	cfg.Handle = func(ctx context.Context, r *kgo.Record, end dedupe.End[string]) error {
		runs.Add(1)
		both.Done()
		select { // hold the claim until the other partition's copy has been fetched
		case <-release:
		case <-ctx.Done():
			return context.Cause(ctx)
		}
		end("p" + strconv.Itoa(int(r.Partition)))
		return nil
	}
	cfg.OnDuplicate = func(ctx context.Context, r *kgo.Record, winner string) error {
		dups.add(winner)
		return nil
	}
	c := mustConsumer(t, cfg)
	start(t, c)
	e.produce(t, rec(0, "same", "a"), rec(1, "same", "b"))
	both.Wait()
	eventually(t, time.Minute, "the second copy waiting for the claim", func() bool { return c.Stats().InFlightConflicts > 0 })
	close(release)
	eventually(t, time.Minute, "lag 0", func() bool { return e.lag(t) == 0 })
	if n := runs.Load(); n != 1 {
		t.Errorf("handler ran %d times, want 1", n)
	}
	if dups.get("p0")+dups.get("p1") != 1 {
		t.Errorf("OnDuplicate winners = %v, want one call with the winner's value", dups.m)
	}
}
