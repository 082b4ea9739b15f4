package dedupetest

import (
	"context"
	"errors"
	"testing"

	"github.com/idemq/idemq/dedupe"
)

// txCommitTests cover what a commit stores and what a lost commit reports.
var txCommitTests = map[string]func(*testing.T, TxHarness){
	"ValueRoundTrips": func(t *testing.T, h TxHarness) {
		s, k := h.store(t), key(t)
		value := []byte{0, 0xff, '\n', 'v', 0, 0xc3} // any bytes: not text
		out, err := s.RunTx(testContext(t), k, nil, func(ctx context.Context) ([]byte, error) {
			return value, h.Effect(ctx, k, "first")
		})
		assertRan(t, out, err, string(value))
		out, err = h.store(t).RunTx(testContext(t), k, nil, notCalled(t))
		assertDuplicate(t, out, err, string(value))
		h.assertEffects(t, k, "first")
	},
	"NilValueIsCommitted": func(t *testing.T, h TxHarness) {
		s, k := h.store(t), key(t)
		out, err := s.RunTx(testContext(t), k, nil, func(ctx context.Context) ([]byte, error) {
			return nil, h.Effect(ctx, k, "first")
		})
		assertRan(t, out, err, "")
		out, err = s.RunTx(testContext(t), k, nil, notCalled(t))
		assertDuplicate(t, out, err, "")
		h.assertEffects(t, k, "first")
	},
	"LostCommitReplyIsUnknown": func(t *testing.T, h TxHarness) {
		s, arm := cutStore(t, h)
		k := key(t)
		_, err := s.RunTx(testContext(t), k, nil, func(ctx context.Context) ([]byte, error) {
			arm(CutAtCommit)
			return []byte("first"), h.Effect(ctx, k, "first")
		})
		if !errors.Is(err, dedupe.ErrCommitUnknown) {
			t.Fatalf("a run whose COMMIT answer was lost = %v, want ErrCommitUnknown", err)
		}
		// The redelivery, through the same store: the server committed, so
		// it finds the value; a second effect would be a double.
		out, err := runEffect(t, h, s, k, "redelivered", nil)
		assertDuplicate(t, out, err, "first")
		h.assertEffects(t, k, "first")
	},
	"LinkCutBeforeCommitRollsBack": func(t *testing.T, h TxHarness) {
		s, arm := cutStore(t, h)
		k := key(t)
		_, err := s.RunTx(testContext(t), k, nil, func(ctx context.Context) ([]byte, error) {
			arm(CutBeforeCommit)
			return []byte("first"), h.Effect(ctx, k, "first")
		})
		if err == nil || errors.Is(err, dedupe.ErrCommitUnknown) {
			t.Fatalf("a run whose link broke before COMMIT = %v, want an error that is not ErrCommitUnknown: nothing was committed", err)
		}
		out, err := runEffect(t, h, s, k, "redelivered", nil)
		assertRan(t, out, err, "redelivered")
		h.assertEffects(t, k, "redelivered")
	},
}

// cutStore returns the harness's Cut, or skips the test without one.
func cutStore(t *testing.T, h TxHarness) (dedupe.TxStore, func(CutPoint)) {
	t.Helper()
	if h.Cut == nil {
		t.Skip("the harness has no Cut hook")
	}
	return h.Cut(t)
}
