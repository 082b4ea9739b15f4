package idemqkafka_test

import (
	"context"
	"errors"
	"testing"
	"time"

	kafkago "github.com/segmentio/kafka-go"

	idemqkafka "github.com/idemq/idemq/adapters/kafka"
	"github.com/idemq/idemq/dedupe"
)

// TestShutdown proves behaviour 7: when Run's ctx is cancelled, running
// handlers finish (their ctx is not cancelled) and their offsets are
// committed before Run returns nil; a handler that outlives DrainTimeout
// sees its ctx cancelled with ErrDrainTimeout and its offset stays
// uncommitted. TestMain's goleak check covers the goroutines.
func TestShutdown(t *testing.T) {
	t.Parallel()
	t.Run("DrainsRunningHandlers", func(t *testing.T) {
		t.Parallel()
		e := setup(t, 1)
		started, release := make(chan struct{}), make(chan struct{})
		handlerErr := make(chan error, 1)
		cfg := e.config()
		cfg.Handle = func(ctx context.Context, m kafkago.Message, end dedupe.End[string]) error {
			close(started)
			<-release
			handlerErr <- ctx.Err()
			end("ok")
			return nil
		}
		c := mustConsumer(t, cfg)
		r := start(t, c)
		e.produce(t, msg("k", "v"))
		<-started
		r.cancel(errors.New("test: shut down"))
		select {
		case <-r.done:
			t.Fatal("Run returned while a handler was running")
		default:
		}
		close(release)
		if err := r.wait(t, time.Minute); err != nil {
			t.Errorf("Run = %v, want nil", err)
		}
		if err := <-handlerErr; err != nil {
			t.Errorf("the draining handler's ctx was cancelled: %v", err)
		}
		if lag := e.lag(t); lag != 0 {
			t.Errorf("lag after Run returned = %d, want 0 (the drained message committed)", lag)
		}
	})
	t.Run("DrainTimeout", func(t *testing.T) {
		t.Parallel()
		e := setup(t, 1)
		started := make(chan struct{})
		cause := make(chan error, 1)
		cfg := e.config()
		cfg.DrainTimeout = 200 * time.Millisecond
		cfg.Handle = func(ctx context.Context, m kafkago.Message, end dedupe.End[string]) error {
			close(started)
			<-ctx.Done()
			cause <- context.Cause(ctx)
			return ctx.Err()
		}
		c := mustConsumer(t, cfg)
		r := start(t, c)
		e.produce(t, msg("k", "v"))
		<-started
		if err := r.stop(t); err != nil {
			t.Errorf("Run = %v, want nil", err)
		}
		if got := <-cause; !errors.Is(got, idemqkafka.ErrDrainTimeout) {
			t.Errorf("handler ctx cause = %v, want ErrDrainTimeout", got)
		}
		if lag := e.lag(t); lag != 1 {
			t.Errorf("lag = %d, want 1 (the cancelled message is not committed)", lag)
		}
		if s := c.Stats(); s.Processed != 0 || s.Retries != 0 || s.DeadLettered != 0 {
			t.Errorf("Stats = %+v, want nothing processed, retried or dead-lettered", s)
		}
	})
}

// TestRunTwice proves Run refuses to run twice at once.
func TestRunTwice(t *testing.T) {
	t.Parallel()
	e := setup(t, 1)
	cfg := e.config()
	cfg.Handle = func(ctx context.Context, m kafkago.Message, end dedupe.End[string]) error { end("ok"); return nil }
	c := mustConsumer(t, cfg)
	e.produce(t, msg("k", "v"))
	start(t, c)
	eventually(t, time.Minute, "lag 0", func() bool { return e.lag(t) == 0 })
	if err := c.Run(context.Background()); !errors.Is(err, idemqkafka.ErrRunning) {
		t.Errorf("second Run = %v, want ErrRunning", err)
	}
}
