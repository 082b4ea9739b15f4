package watermill_test

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
		`level=DEBUG msg="watermill: duplicate message"`,
		`key=k1 reemitted=2`,
		`level=WARN msg="watermill: message without a usable idempotency key"`,
		`policy=reject`,
		`level=WARN msg="watermill: guard failed; the message will be nacked"`,
		`key=k2`,
	} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("log lacks %q; log:\n%s", want, buf.String())
		}
	}
}

func TestNilLoggerIsSilent(t *testing.T) {
	t.Parallel()
	var runs atomic.Int32
	h := newDedup(t, memoryStore(t), idemqwatermill.Config{}).Middleware(countingHandler(&runs))
	for _, key := range []string{"k1", "k1", ""} {
		_, _ = h(newMsg(key, "a")) // must not panic on the nil Logger
	}
	if runs.Load() != 1 {
		t.Errorf("runs = %d, want 1", runs.Load())
	}
}
