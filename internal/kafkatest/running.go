package kafkatest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/idemq/idemq/dedupe"
)

// Running is a consumer's Run in the background, started by Start.
type Running struct {
	cancel context.CancelCauseFunc
	done   chan struct{}
	err    error
}

// Start calls run (a consumer's Run) in the background until the test ends
// or Stop is called. At the end of t it stops run, failing t if run returns
// an error matching dedupe.ErrEndNotCalled: a claim left held.
func Start(t testing.TB, run func(context.Context) error) *Running {
	t.Helper()
	ctx, cancel := context.WithCancelCause(context.Background())
	r := &Running{cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(r.done)
		r.err = run(ctx)
	}()
	t.Cleanup(func() {
		if err := r.Stop(t); errors.Is(err, dedupe.ErrEndNotCalled) {
			t.Errorf("Run = %v: a claim was neither ended nor released", err)
		}
	})
	return r
}

// Cancel cancels run's ctx with cause and returns at once.
func (r *Running) Cancel(cause error) { r.cancel(cause) }

// Stop cancels run's ctx and returns run's error, failing t if run does not
// return within a minute.
func (r *Running) Stop(t testing.TB) error {
	t.Helper()
	r.Cancel(errors.New("kafkatest: stop"))
	return r.Wait(t, time.Minute)
}

// Wait returns run's error once it returns, failing t after d.
func (r *Running) Wait(t testing.TB, d time.Duration) error {
	t.Helper()
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-r.done:
		return r.err
	case <-timer.C:
		t.Fatalf("Run did not return within %v", d)
		return nil
	}
}

// running is a scenario's Consumer and its Run in the background.
type running struct {
	Consumer
	*Running
}

// start runs c until the test ends (or Stop is called).
func start(t *testing.T, c Consumer) *running {
	t.Helper()
	return &running{Consumer: c, Running: Start(t, c.Run)}
}
