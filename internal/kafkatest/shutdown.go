package kafkatest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/idemq/idemq/dedupe"
	"github.com/idemq/idemq/internal/testwait"
)

var shutdownScenarios = map[string]scenario{
	"Drains":       drains,
	"DrainTimeout": drainTimeout,
	"RunTwice":     runTwice,
}

// drains: when Run's ctx is cancelled, a running handler finishes (its ctx
// is not cancelled) and its offset is committed before Run returns nil.
func drains(t *testing.T, d Driver) {
	e := setup(t, d, 1)
	started, release := make(chan struct{}), make(chan struct{})
	handlerErr := make(chan error, 1)
	cfg := e.config()
	cfg.Handle = func(ctx context.Context, m Message, end dedupe.End[string]) error {
		close(started)
		<-release
		handlerErr <- ctx.Err()
		end("ok")
		return nil
	}
	r := e.start(t, cfg)
	e.produce(t, msg(0, "k", "v"))
	testwait.Recv(t, started, "the handler running")
	r.Cancel(errors.New("kafkatest: shut down"))
	select {
	case <-r.done:
		t.Fatal("Run returned while a handler was running")
	default:
	}
	close(release)
	if err := r.Wait(t, time.Minute); err != nil {
		t.Errorf("Run = %v, want nil", err)
	}
	if err := testwait.Recv(t, handlerErr, "the handler's end"); err != nil {
		t.Errorf("the draining handler's ctx was cancelled: %v", err)
	}
	if lag := e.Lag(t); lag != 0 {
		t.Errorf("lag after Run returned = %d, want 0 (the drained message committed)", lag)
	}
}

// drainTimeout: a handler that outlives DrainTimeout sees its ctx
// cancelled with the adapter's ErrDrainTimeout, and its offset stays
// uncommitted.
func drainTimeout(t *testing.T, d Driver) {
	e := setup(t, d, 1)
	started := make(chan struct{})
	cause := make(chan error, 1)
	cfg := e.config()
	cfg.DrainTimeout = 200 * time.Millisecond
	cfg.Handle = func(ctx context.Context, m Message, end dedupe.End[string]) error {
		close(started)
		<-ctx.Done()
		cause <- context.Cause(ctx)
		return ctx.Err()
	}
	r := e.start(t, cfg)
	e.produce(t, msg(0, "k", "v"))
	testwait.Recv(t, started, "the handler running")
	if err := r.Stop(t); err != nil {
		t.Errorf("Run = %v, want nil", err)
	}
	if got := testwait.Recv(t, cause, "the handler's cancellation"); !errors.Is(got, d.Adapter().ErrDrainTimeout) {
		t.Errorf("handler ctx cause = %v, want ErrDrainTimeout", got)
	}
	if lag := e.Lag(t); lag != 1 {
		t.Errorf("lag = %d, want 1 (the cancelled message is not committed)", lag)
	}
	if s := r.Stats(); s.Processed != 0 || s.Retries != 0 || s.DeadLettered != 0 {
		t.Errorf("Stats = %+v, want nothing processed, retried or dead-lettered", s)
	}
}

// runTwice: Run refuses to run twice at once.
func runTwice(t *testing.T, d Driver) {
	e := setup(t, d, 1)
	cfg := e.config()
	cfg.Handle = func(ctx context.Context, m Message, end dedupe.End[string]) error { end("ok"); return nil }
	e.produce(t, msg(0, "k", "v"))
	r := e.start(t, cfg)
	e.LagZero(t, time.Minute)
	if err := r.Run(context.Background()); !errors.Is(err, d.Adapter().ErrRunning) {
		t.Errorf("second Run = %v, want ErrRunning", err)
	}
}
