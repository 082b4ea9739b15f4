package dedupetest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/idemq/idemq/dedupe"
)

// holdingLine is what HoldKey writes once its function holds the key.
const holdingLine = "dedupetest: holding\n"

// HoldKey is the other process of the suite's KilledProcessFreesKeyAtOnce
// case (see TxHarness.Process): it runs key on s with a function that
// writes the effect "holder" with effect (TxHarness.Effect), writes a line
// to w, and then waits until ctx ends; the suite SIGKILLs the process
// before. It returns RunTx's error.
func HoldKey(ctx context.Context, s dedupe.TxStore, key string, effect func(ctx context.Context, key, run string) error, w io.Writer) error {
	_, err := s.RunTx(ctx, key, nil, func(ctx context.Context) ([]byte, error) {
		if err := effect(ctx, key, "holder"); err != nil {
			return nil, err
		}
		if _, err := io.WriteString(w, holdingLine); err != nil {
			return nil, err
		}
		<-ctx.Done()
		return nil, context.Cause(ctx)
	})
	if err != nil {
		return fmt.Errorf("dedupetest: HoldKey %q: %w", key, err)
	}
	return nil
}

// holdingProcess is a started Process hook's command.
type holdingProcess struct {
	out    *lineWatch
	stderr *lockedBuffer
	kill   func(t *testing.T)
}

// startHoldingProcess starts the harness's Process for key and returns
// once it holds the key; it is killed at the end of the test at the latest.
func startHoldingProcess(t *testing.T, h TxHarness, key string) *holdingProcess {
	t.Helper()
	cmd := h.Process(t, key)
	p := &holdingProcess{out: &lineWatch{line: holdingLine, seen: make(chan struct{})}, stderr: &lockedBuffer{}}
	cmd.Stdout, cmd.Stderr = p.out, p.stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting the holding process: %v", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	var once sync.Once
	p.kill = func(t *testing.T) {
		once.Do(func() {
			if err := cmd.Process.Kill(); err != nil {
				t.Errorf("SIGKILL: %v", err)
			}
			<-exited
			if cmd.ProcessState.Exited() {
				t.Errorf("the holding process ended on its own (%v) before the SIGKILL; its stderr:\n%s", cmd.ProcessState, p.stderr)
			}
		})
	}
	t.Cleanup(func() { p.kill(t) })
	select {
	case <-p.out.seen:
	case <-time.After(promptBound):
		t.Fatalf("the holding process has not held %q after %v; its stderr:\n%s", key, promptBound, p.stderr)
	}
	return p
}

// lineWatch is a process's stdout: it closes seen at the first line.
type lineWatch struct {
	line string
	seen chan struct{}
	mu   sync.Mutex
	buf  strings.Builder
	once sync.Once
}

func (w *lineWatch) Write(b []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(b)
	if strings.Contains(w.buf.String(), w.line) {
		w.once.Do(func() { close(w.seen) })
	}
	return len(b), nil
}

// lockedBuffer is a process's stderr, read while the process may write.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
