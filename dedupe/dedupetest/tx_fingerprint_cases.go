package dedupetest

import (
	"testing"
)

// txFingerprintTests cover fingerprints: a key committed for one payload
// is a *dedupe.KeyReusedError for another, and a duplicate for the same.
var txFingerprintTests = map[string]func(*testing.T, TxHarness){
	"SamePayloadIsDuplicate": func(t *testing.T, h TxHarness) {
		s, k := h.store(t), key(t)
		out, err := runEffect(t, h, s, k, "order A", []byte("A"))
		assertRan(t, out, err, "order A")
		out, err = s.RunTx(testContext(t), k, []byte("A"), notCalled(t))
		assertDuplicate(t, out, err, "order A")
		h.assertEffects(t, k, "order A")
	},
	"OtherPayloadIsReused": func(t *testing.T, h TxHarness) {
		s, k := h.store(t), key(t)
		out, err := runEffect(t, h, s, k, "order A", []byte("A"))
		assertRan(t, out, err, "order A")
		_, err = s.RunTx(testContext(t), k, []byte("B"), notCalled(t))
		assertReused(t, err, k)
		h.assertEffects(t, k, "order A")
	},
	"WithoutFingerprintIsNotCompared": func(t *testing.T, h TxHarness) {
		s, plain, printed := h.store(t), key(t), key(t)
		out, err := runEffect(t, h, s, plain, "plain", nil)
		assertRan(t, out, err, "plain")
		out, err = s.RunTx(testContext(t), plain, []byte("X"), notCalled(t))
		assertDuplicate(t, out, err, "plain")
		out, err = runEffect(t, h, s, printed, "printed", []byte("X"))
		assertRan(t, out, err, "printed")
		out, err = s.RunTx(testContext(t), printed, nil, notCalled(t))
		assertDuplicate(t, out, err, "printed")
	},
	"WaiterOfOtherPayloadIsReused": func(t *testing.T, h TxHarness) {
		k := key(t)
		owner := startHolder(t, h, h.store(t), k, "order A", []byte("A"))
		waiter := goRunTx(testContext(t), h.store(t), k, []byte("B"), notCalled(t))
		h.awaitWaiters(t, 1)
		owner.finish(nil)
		out, err := owner.wait(t)
		assertRan(t, out, err, "order A")
		assertReused(t, result(t, waiter, "the waiter").err, k)
		h.assertEffects(t, k, "order A")
	},
}
