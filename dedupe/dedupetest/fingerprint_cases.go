package dedupetest

import (
	"context"
	"errors"
	"github.com/idemq/idemq/internal/testwait"
	"sync"
	"testing"
	"time"

	"github.com/idemq/idemq/dedupe"
)

// fingerprintTests cover WithFingerprint and ClaimKeys: a key reused for
// another payload is a *KeyReusedError, never a duplicate; the same payload
// (or a side without fingerprint) is an ordinary duplicate.
var fingerprintTests = map[string]func(*testing.T, Backend){
	"SamePayloadIsDuplicate": func(t *testing.T, b Backend) {
		for _, mode := range modes {
			s, ctx, k := openStore(t, b), testContext(t), key(t)
			opts := append(mode.opts, dedupe.WithFingerprint([]byte("order 1: 10 EUR")))
			commitValue(t, s, k, "receipt", dedupe.WithFingerprint([]byte("order 1: 10 EUR")))
			_, err := dedupe.Run(ctx, s, k, notRun[string](t), opts...)
			assertConflict(t, err, "receipt")
		}
	},
	"OtherPayloadIsReused": func(t *testing.T, b Backend) {
		for _, mode := range modes {
			s, ctx, k := openStore(t, b), testContext(t), key(t)
			commitValue(t, s, k, "receipt", dedupe.WithFingerprint([]byte("order 1: 10 EUR")))
			_, err := dedupe.Run(ctx, s, k, notRun[string](t), append(mode.opts, dedupe.WithFingerprint([]byte("order 1: 99 EUR")))...)
			assertReused(t, err, k)
		}
	},
	"WithoutFingerprintIsNotCompared": func(t *testing.T, b Backend) {
		s, ctx := openStore(t, b), testContext(t)
		k1, k2 := key(t), key(t)
		commitValue(t, s, k1, "plain")
		_, err := dedupe.Run(ctx, s, k1, notRun[string](t), dedupe.WithFingerprint([]byte("x")))
		assertConflict(t, err, "plain")
		commitValue(t, s, k2, "printed", dedupe.WithFingerprint([]byte("x")))
		_, err = dedupe.Run(ctx, s, k2, notRun[string](t))
		assertConflict(t, err, "printed")
	},
	"ClaimOfOtherPayloadDoesNotWait": func(t *testing.T, b Backend) {
		s, ctx, k := openStore(t, b), testContext(t), key(t)
		holding, finish := make(chan struct{}), make(chan struct{})
		done := make(chan error, 1)
		go func() {
			_, err := dedupe.Run(ctx, s, k, func(ctx context.Context, end dedupe.End[string]) (int, error) {
				close(holding)
				<-finish
				end("first")
				return 1, nil
			}, dedupe.WithClaim(time.Minute), dedupe.WithFingerprint([]byte("a")))
			done <- err
		}()
		testwait.Recv(t, holding, "holding")
		release := sync.OnceFunc(func() { close(finish) })
		defer release()
		// A run that waited for the owner would end with this deadline
		// instead: the owner holds the key for a minute.
		quick, cancel := context.WithTimeout(ctx, promptBound)
		defer cancel()
		_, err := dedupe.Run(quick, openStore(t, b), k, notRun[string](t), dedupe.WithClaim(time.Minute), dedupe.WithFingerprint([]byte("b")))
		assertReused(t, err, k)
		release()
		assertErr(t, testwait.Recv(t, done, "done"), nil)
	},
	"RetriedCommitWithFingerprintWins": func(t *testing.T, b Backend) {
		s := &retryingStore{openStore(t, b)}
		for _, mode := range modes {
			_, err := dedupe.Run(testContext(t), s, key(t), func(ctx context.Context, end dedupe.End[string]) (int, error) {
				end("mine")
				return 1, nil
			}, append(mode.opts, dedupe.WithFingerprint([]byte("p")))...)
			assertErr(t, err, nil)
		}
	},
	"BatchWaiterOfOtherPayloadDoesNotWait": func(t *testing.T, b Backend) {
		k := key(t)
		owner := claimKeys(t, newBatch[string](t, openStore(t, b)), dedupe.ClaimKey{Key: k, Fingerprint: []byte("p")})[0]
		waiter := claimKeys(t, newBatch[string](t, openStore(t, b)), dedupe.ClaimKey{Key: k, Fingerprint: []byte("q")})[0]
		assertReused(t, waiter.Err(), k)
		assertReused(t, waiter.Await(testContext(t)), k)
		mustRelease(t, owner)
	},
	"BatchClaimKeysComparesFingerprints": func(t *testing.T, b Backend) {
		s, ctx := openStore(t, b), testContext(t)
		same, other, fresh := key(t), key(t), key(t)
		commitValue(t, s, same, "s", dedupe.WithFingerprint([]byte("p")))
		commitValue(t, s, other, "o", dedupe.WithFingerprint([]byte("p")))
		batch := newBatch[string](t, s)
		tickets, err := batch.ClaimKeys(ctx,
			dedupe.ClaimKey{Key: same, Fingerprint: []byte("p")},
			dedupe.ClaimKey{Key: other, Fingerprint: []byte("q")},
			dedupe.ClaimKey{Key: fresh, Fingerprint: []byte("q")})
		if err != nil {
			t.Fatal(err)
		}
		assertConflict(t, tickets[0].Err(), "s")
		assertReused(t, tickets[1].Err(), other)
		assertErr(t, tickets[2].Err(), nil)
		mustEnd(t, tickets[2], "f")
		assertErr(t, tickets[2].Result(ctx), nil)
		again := claimKeys(t, newBatch[string](t, s), dedupe.ClaimKey{Key: fresh, Fingerprint: []byte("r")})
		assertReused(t, again[0].Err(), fresh)
		if _, ok := dedupe.WithFingerprint([]byte("p")).(dedupe.BatchOption); ok {
			t.Error("WithFingerprint is a BatchOption: a Batch takes fingerprints per key")
		}
	},
	"EveryKeyReusedIsNotAStoreFailure": func(t *testing.T, b Backend) {
		s, ctx, k := openStore(t, b), testContext(t), key(t)
		commitValue(t, s, k, "v", dedupe.WithFingerprint([]byte("p")))
		tickets, err := newBatch[string](t, s).ClaimKeys(ctx, dedupe.ClaimKey{Key: k, Fingerprint: []byte("q")})
		if err != nil || len(tickets) != 1 {
			t.Fatalf("ClaimKeys = %v, %v; want one ticket (reused), not an error", tickets, err)
		}
		assertReused(t, tickets[0].Err(), k)
	},
	"AwaitOfUnprintedOwnerIsDuplicate": func(t *testing.T, b Backend) {
		ctx, k, ws := testContext(t), key(t), openStore(t, b)
		owner := claimKeys(t, newBatch[string](t, openStore(t, b)), dedupe.ClaimKey{Key: k})[0]
		waiter := claimKeys(t, newBatch[string](t, ws), dedupe.ClaimKey{Key: k, Fingerprint: []byte("q")})[0]
		assertErr(t, waiter.Err(), dedupe.ErrInProgress) // the owner's claim has no fingerprint
		got := make(chan error, 1)
		go func() { got <- waiter.Await(ctx) }()
		awaitInterest(t, ws)
		mustEnd(t, owner, "owner")
		select {
		case err := <-got:
			assertConflict(t, err, "owner") // no fingerprint stored: not compared
		case <-time.After(promptBound):
			t.Fatal("Await did not hear the owner's commit")
		}
	},
}

// notRun is a function that fails the test if the guard calls it.
func notRun[V any](t *testing.T) dedupe.Func[int, V] {
	return func(ctx context.Context, end dedupe.End[V]) (int, error) {
		t.Error("fn ran for a key that is committed or reused")
		return 0, nil
	}
}

func claimKeys[V any](t *testing.T, batch *dedupe.Batch[V], keys ...dedupe.ClaimKey) []*dedupe.Ticket[V] {
	t.Helper()
	tickets, err := batch.ClaimKeys(testContext(t), keys...)
	if err != nil {
		t.Fatalf("ClaimKeys: %v", err)
	}
	return tickets
}

// assertReused checks that err is a *KeyReusedError for k with both digests.
func assertReused(t *testing.T, err error, k string) {
	t.Helper()
	var reused *dedupe.KeyReusedError
	if !errors.As(err, &reused) || reused.Key != k || reused.Stored == "" || reused.Given == "" || reused.Stored == reused.Given {
		t.Fatalf("err = %v (%T), want a *dedupe.KeyReusedError for %q with two different digests", err, err, k)
	}
}
