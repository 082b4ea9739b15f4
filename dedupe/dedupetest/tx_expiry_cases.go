package dedupetest

import (
	"testing"
	"time"

	"github.com/idemq/idemq/dedupe"
)

// shortTTL is the TTL of records a case lets expire: long enough for the
// case to see the record live first, even on a loaded machine.
const shortTTL = time.Second

// txExpiryTests cover the TTL: an expired record counts as absent.
var txExpiryTests = map[string]func(*testing.T, TxHarness){
	"ExpiredRecordIsAbsent": func(t *testing.T, h TxHarness) {
		s, k := h.Store(t, TxStoreOptions{TTL: shortTTL}), key(t)
		out, err := runEffect(t, h, s, k, "first", nil)
		assertRan(t, out, err, "first")
		committed := time.Now()
		out, err = runEffect(t, h, s, k, "early", nil)
		assertDuplicate(t, out, err, "first")
		awaitExpiry(committed, shortTTL)
		out, err = runEffect(t, h, h.store(t), k, "second", nil)
		assertRan(t, out, err, "second")
		out, err = runEffect(t, h, s, k, "third", nil)
		assertDuplicate(t, out, err, "second")
		h.assertEffects(t, k, "first", "second")
	},
	"ExpiredRecordIsNotCompared": func(t *testing.T, h TxHarness) {
		s, k := h.Store(t, TxStoreOptions{TTL: shortTTL}), key(t)
		out, err := runEffect(t, h, s, k, "order A", []byte("A"))
		assertRan(t, out, err, "order A")
		committed := time.Now()
		awaitExpiry(committed, shortTTL)
		out, err = runEffect(t, h, h.store(t), k, "order B", []byte("B"))
		assertRan(t, out, err, "order B")
		_, err = runEffect(t, h, s, k, "order A again", []byte("A"))
		assertReused(t, err, k)
		h.assertEffects(t, k, "order A", "order B")
	},
}

// awaitExpiry sleeps until a record committed before committed with ttl
// has expired by the server's clock (the same machine's; 100ms spare):
// expiry has no signal to wait on.
func awaitExpiry(committed time.Time, ttl time.Duration) {
	time.Sleep(time.Until(committed.Add(ttl + 100*time.Millisecond)))
}

// commitExpiring commits each key with the effect "first" on a store of
// shortTTL, and returns when all of them have expired.
func commitExpiring(t *testing.T, h TxHarness, keys []string) {
	t.Helper()
	s := h.Store(t, TxStoreOptions{TTL: shortTTL})
	for _, k := range keys {
		out, err := runEffect(t, h, s, k, "first", nil)
		assertRan(t, out, err, "first")
	}
	awaitExpiry(time.Now(), shortTTL)
}

// keys returns n keys unique to this call.
func keys(t *testing.T, n int) []string {
	ks := make([]string, n)
	for i := range ks {
		ks[i] = key(t)
	}
	return ks
}

// assertCommitted checks that each key is a duplicate with want, and that
// its effects are effects.
func assertCommitted(t *testing.T, h TxHarness, s dedupe.TxStore, keys []string, want string, effects ...string) {
	t.Helper()
	for _, k := range keys {
		out, err := s.RunTx(testContext(t), k, nil, notCalled(t))
		assertDuplicate(t, out, err, want)
		h.assertEffects(t, k, effects...)
	}
}
