package idemqwatermill_test

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"

	idemqwatermill "github.com/idemq/idemq/adapters/watermill"
)

func TestLogger(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	var runs atomic.Int32
	store := memoryStore(t)
	h := newDedup(t, store, idemqwatermill.Config{Logger: logger}).Middleware(countingHandler(&runs))
	for _, key := range []string{"k1", "k1", ""} {
		_, _ = h(newMsg(key, "a"))
	}
	failing := newDedup(t, &faultStore{Store: store, commitErr: errors.New("i/o timeout")}, idemqwatermill.Config{Logger: logger})
	_, _ = failing.Middleware(countingHandler(&runs))(newMsg("k2", "a"))

	for _, want := range []string{
		`level=DEBUG msg="idemqwatermill: duplicate message"`,
		`key=k1 stored=2`,
		`level=WARN msg="idemqwatermill: message without a valid idempotency key"`,
		`level=INFO msg="idemqwatermill: deduplicating keys under a scope; every instance must use the same one"`,
		`policy=reject`,
		`level=WARN msg="idemqwatermill: guard failed; the message will be nacked"`,
		`key=k2`,
	} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("log lacks %q; log:\n%s", want, buf.String())
		}
	}
}

// TestNilLoggerIsDefault: without a Logger, warnings go to slog.Default
// (this test swaps it, so it does not run in parallel).
func TestNilLoggerIsDefault(t *testing.T) {
	var buf bytes.Buffer
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&buf, nil)))
	defer slog.SetDefault(prev)
	var runs atomic.Int32
	h := newDedup(t, memoryStore(t), idemqwatermill.Config{}).Middleware(countingHandler(&runs))
	for _, key := range []string{"k1", "k1", ""} {
		_, _ = h(newMsg(key, "a"))
	}
	if runs.Load() != 1 {
		t.Errorf("runs = %d, want 1", runs.Load())
	}
	if !strings.Contains(buf.String(), "message without a valid idempotency key") {
		t.Errorf("slog.Default got %q, want the missing key's warning", buf.String())
	}
}
