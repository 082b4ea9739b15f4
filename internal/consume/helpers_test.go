package consume

import (
	"context"
	"fmt"
	"github.com/idemq/idemq/consumer"
	"log/slog"
	"testing"
	"time"

	"github.com/idemq/idemq/dedupe"
)

// msg is a message of the fake log the engine's tests feed it.
type msg struct {
	part   int
	offset int64
	order  string // the message key, for ByKey
	key    string // the idempotency key ("" : none)
	body   string // the payload, for fingerprints
}

// fakeLog describes msg to the engine.
type fakeLog struct{}

func (fakeLog) Offset(m msg) int64    { return m.offset }
func (fakeLog) OrderKey(m msg) []byte { return []byte(m.order) }
func (fakeLog) Attrs(m msg) slog.Attr {
	return slog.Group("message", "partition", m.part, "offset", m.offset)
}

// msgError is the MessageError of the fake log.
type msgError struct {
	m        msg
	attempts int
	err      error
}

func (e *msgError) Error() string {
	return fmt.Sprintf("message %d@%d (key %q) failed %d attempts: %v", e.m.part, e.m.offset, e.m.key, e.attempts, e.err)
}

func (e *msgError) Unwrap() error { return e.err }

// testConfig returns an engine configuration on store with fast settings;
// the caller sets Handle.
func testConfig(store dedupe.Store) Config[msg, string] {
	return Config[msg, string]{
		Name:  "test",
		Store: store,
		Guard: []dedupe.BatchOption{dedupe.WithClaim(5 * time.Second)},
		Log:   fakeLog{},
		Key: func(m msg) (string, error) {
			if m.key == "" {
				return "", fmt.Errorf("no key")
			}
			return m.key, nil
		},
		MessageError: func(m msg, key string, attempts int, err error) error {
			return &msgError{m: m, attempts: attempts, err: err}
		},
		MaxInFlight:  64,
		Attempts:     3,
		Backoff:      consumer.Backoff{Min: time.Millisecond, Max: 10 * time.Millisecond},
		ClaimTimeout: 5 * time.Second,
		Logger:       slog.New(slog.DiscardHandler),
	}
}

// newTestEngine returns an engine on cfg, closed at the end of the test.
func newTestEngine(t *testing.T, cfg Config[msg, string]) *Engine[msg, string] {
	t.Helper()
	e, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() {
		if err := e.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return e
}

// testContext is bounded: a test that hangs fails instead.
func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// ok is a handler that commits "ok".
func ok(ctx context.Context, m msg, end dedupe.End[string]) error {
	end("ok")
	return nil
}
