// Package dedupetest is the conformance suite every dedupe.Store must pass,
// and the one every transactional store (dedupe.TxStore) must pass.
//
//	func TestMyStore(t *testing.T) {
//		dedupetest.Run(t, func(t *testing.T) dedupetest.Backend { return myBackend(t) })
//	}
//
// The suite is grouped by behaviour: store primitives, commit, validation,
// codec, notification and concurrency (including a 32-way race with separate
// connections), lifecycle (close, leaks) and claim mode.
//
// RunTx is the suite of transactional stores: it takes a TxHarness, whose
// hooks bring in what only the store's test can do with its database
// (write and count effects, kill a session, break a link at COMMIT,
// clean up, start another process), since the suite imports no database
// client. Its groups: concurrency (100 runs of one key: one effect),
// failure (a failed, panicking, killed or SIGKILLed owner: nothing stored,
// the key free at once), commit (values; a lost COMMIT answer is
// dedupe.ErrCommitUnknown and the redelivery finds the value), expiry,
// cleanup under concurrent claims, fingerprints and validation.
// dedupe/pgstore's conformance_test.go is a worked example.
package dedupetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"testing"
	"time"

	"github.com/idemq/idemq/dedupe"
)

// Backend is one isolated namespace on a store implementation, made fresh for
// every test. Stores from one Backend share their keys.
type Backend interface {
	// Store returns a store on the backend. Where the implementation has
	// connections, each call returns a store with its own (a new client), so
	// that races between stores are races between connections. The suite
	// closes it at the end of the test.
	Store(t *testing.T) dedupe.Store
}

// SubscriberCounter is implemented by backends that can count, on the
// server, the subscribers of the given keys' notification channels. The suite
// then checks that no subscription outlives its guards.
type SubscriberCounter interface {
	Subscribers(t *testing.T, keys []string) int
}

// Run runs the whole suite. newBackend is called once per (sub)test.
func Run(t *testing.T, newBackend func(t *testing.T) Backend) {
	groups := []struct {
		name  string
		tests map[string]func(*testing.T, Backend)
	}{
		{"Store", storeTests},
		{"Commit", commitTests},
		{"Validation", validationTests},
		{"Codec", codecTests},
		{"Notification", notificationTests},
		{"Lifecycle", lifecycleTests},
		{"Claim", claimTests},
		{"Takeover", takeoverTests},
		{"MaxWait", maxWaitTests},
		{"Batch", batchTests},
		{"BatchModes", batchModeTests},
		{"Fingerprint", fingerprintTests},
		{"Faults", faultTests},
		{"Semantics", semanticsTests},
	}
	for _, g := range groups {
		t.Run(g.name, func(t *testing.T) {
			t.Parallel()
			for name, test := range g.tests {
				t.Run(name, func(t *testing.T) {
					t.Parallel()
					test(t, newBackend(t))
				})
			}
		})
	}
}

// interestCounter is implemented by stores that report live interests.
type interestCounter interface{ ActiveInterests() int }

// promptBound is how soon a waiter must hear of an owner's commit or
// release, with a lease far longer than that.
const promptBound = 10 * time.Second

// awaitInterest polls until s has a live interest (a waiter subscribed), for
// stores that report them; for other stores it returns at once.
func awaitInterest(t *testing.T, s dedupe.Store) {
	t.Helper()
	c, ok := s.(interestCounter)
	if !ok {
		return
	}
	deadline := time.Now().Add(promptBound)
	for c.ActiveInterests() == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("no waiter subscribed within %v", promptBound)
		}
		time.Sleep(time.Millisecond)
	}
}

func openStore(t *testing.T, b Backend) dedupe.Store {
	t.Helper()
	s := b.Store(t)
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

// openStores opens n stores on the backend (n connections where it has them).
func openStores(t *testing.T, b Backend, n int) []dedupe.Store {
	t.Helper()
	stores := make([]dedupe.Store, n)
	for i := range stores {
		stores[i] = openStore(t, b)
	}
	return stores
}

// key returns a key unique to this call.
func key(t *testing.T) string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return "k-" + hex.EncodeToString(b[:])
}

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// commitValue runs one optimistic Run that commits v and fails the test otherwise.
func commitValue[V any](t *testing.T, s dedupe.Store, k string, v V, opts ...dedupe.RunOption) {
	t.Helper()
	_, err := dedupe.Run(testContext(t), s, k, func(ctx context.Context, end dedupe.End[V]) (struct{}, error) {
		end(v)
		return struct{}{}, nil
	}, append([]dedupe.RunOption{dedupe.WithOptimistic()}, opts...)...)
	if err != nil {
		t.Fatalf("committing %q: %v", k, err)
	}
}

// assertConflict checks that err is a *ConflictError[V] with the wanted value.
func assertConflict[V comparable](t *testing.T, err error, want V) {
	t.Helper()
	conflict, ok := asConflict[V](err)
	if !ok {
		t.Fatalf("err = %v (%T), want *dedupe.ConflictError[%T]", err, err, want)
	}
	if conflict.Value != want {
		t.Fatalf("conflict value = %v, want %v", conflict.Value, want)
	}
}

func asConflict[V any](err error) (*dedupe.ConflictError[V], bool) {
	var conflict *dedupe.ConflictError[V]
	ok := errors.As(err, &conflict)
	return conflict, ok
}

// waitFree polls until the key holds nothing (an expiry has no signal to wait on).
func waitFree(t *testing.T, s dedupe.Store, k string, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		rec, err := s.Get(testContext(t), k)
		if err != nil {
			t.Fatalf("Get: %v", err)
		}
		if rec.State == dedupe.Absent {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("key %q still %v after %v", k, rec.State, within)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
