package dedupetest

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/idemq/idemq/dedupe"
)

// holder is a RunTx whose function has written its effect and holds the
// key until the test finishes it.
type holder struct {
	entered chan struct{} // closed once the function wrote its effect
	kill    func(ctx context.Context) error
	once    sync.Once
	finishc chan error    // what the function returns: nil (its value) or an error
	done    chan struct{} // closed when RunTx returned
	out     dedupe.TxOutcome
	err     error
}

// errReleased ends a holder the test did not finish.
var errReleased = errors.New("dedupetest: holder released at the end of the test")

// startHolder starts RunTx of key on s whose function writes run's effect,
// takes its session's kill function and waits for finish; it returns once
// the function waits. The holder is released at the end of the test.
func startHolder(t *testing.T, h TxHarness, s dedupe.TxStore, key, run string, fp []byte) *holder {
	t.Helper()
	hd := &holder{entered: make(chan struct{}), finishc: make(chan error, 1), done: make(chan struct{})}
	ctx := testContext(t)
	go func() {
		defer close(hd.done)
		hd.out, hd.err = s.RunTx(ctx, key, fp, func(ctx context.Context) ([]byte, error) {
			kill, err := h.KillSession(ctx)
			if err != nil {
				return nil, err
			}
			if err := h.Effect(ctx, key, run); err != nil {
				return nil, err
			}
			hd.kill = kill
			close(hd.entered)
			if err := <-hd.finishc; err != nil {
				return nil, err
			}
			return []byte(run), nil
		})
	}()
	t.Cleanup(func() {
		hd.finish(errReleased)
		<-hd.done
	})
	select {
	case <-hd.entered:
	case <-hd.done:
		t.Fatalf("the holder of %q ended before its function waited: %+v, %v", key, hd.out, hd.err)
	case <-time.After(promptBound):
		t.Fatalf("the holder of %q has not entered its function after %v", key, promptBound)
	}
	return hd
}

// finish lets the function return: its value when err is nil, else err.
func (hd *holder) finish(err error) { hd.once.Do(func() { hd.finishc <- err }) }

// wait returns the holder's RunTx result, at most promptBound after it was finished.
func (hd *holder) wait(t *testing.T) (dedupe.TxOutcome, error) {
	t.Helper()
	select {
	case <-hd.done:
		return hd.out, hd.err
	case <-time.After(promptBound):
		t.Fatalf("the holder's RunTx has not returned after %v", promptBound)
		return dedupe.TxOutcome{}, nil
	}
}
