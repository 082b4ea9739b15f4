package dedupetest

import (
	"context"
	"os/exec"
	"slices"
	"testing"
	"time"

	"github.com/idemq/idemq/dedupe"
)

// TxHarness is what the transactional suite (RunTx) needs of a
// dedupe.TxStore's test: stores on one fresh namespace, and hooks for what
// only the store's test can do (write an effect in the run's transaction,
// count effects, kill a session, break a link). The suite imports no
// database client; the hooks bring the database in. Store, Effect,
// Effects, Waiters and KillSession are required; a nil optional hook skips
// the cases that need it.
type TxHarness struct {
	// Store returns a store on the namespace with the given settings.
	// Stores of one harness share their records and effects; every RunTx
	// in flight has a transaction, and a connection, of its own.
	Store func(t *testing.T, o TxStoreOptions) dedupe.TxStore
	// Effect writes one effect of key, named run, in the transaction that
	// ctx (a RunTx function's) carries.
	Effect func(ctx context.Context, key, run string) error
	// Effects returns the names of key's committed effects, in any order.
	Effects func(t *testing.T, key string) []string
	// Waiters returns how many RunTx calls on the namespace are waiting
	// for a key that another transaction holds (the server's view).
	Waiters func(ctx context.Context) (int, error)
	// KillSession is called in a RunTx function with its ctx; it returns
	// a function that ends that transaction's session from outside, as the
	// server does when the owner's process dies (pg_terminate_backend).
	KillSession func(ctx context.Context) (kill func(ctx context.Context) error, err error)

	// Cut, optional, returns a store on the namespace whose connections
	// pass through a link the test can break, and a function that arms
	// the break for the next transaction: CutAtCommit or CutBeforeCommit.
	Cut func(t *testing.T) (s dedupe.TxStore, arm func(CutPoint))
	// Cleanup, optional, deletes the namespace's expired records that no
	// transaction holds (the store's janitor or its cleanup call; not part
	// of TxStore) and returns how many it deleted.
	Cleanup func(ctx context.Context) (int64, error)
	// Process, optional, returns a command (not started) that runs
	// HoldKey for key on a store of the namespace, in another process:
	// usually the test binary again, with an environment variable that its
	// TestMain turns into a call of HoldKey.
	Process func(t *testing.T, key string) *exec.Cmd
	// Skip names cases ("Group/Case") the store is known to fail, with the
	// reason: each is skipped with it, so that the known failure stays in
	// view without failing every run.
	Skip map[string]string
}

// TxStoreOptions are the settings a case asks of a store; zero means the
// store's default.
type TxStoreOptions struct {
	TTL         time.Duration // how long a committed record counts
	LockTimeout time.Duration // how long a RunTx waits for a held key before dedupe.ErrInProgress
}

// CutPoint is where Cut's link breaks.
type CutPoint int

const (
	// CutAtCommit: the server gets the next COMMIT and commits; its answer
	// is lost and the connection breaks.
	CutAtCommit CutPoint = iota + 1
	// CutBeforeCommit: the connection breaks after the run's statements
	// and before its COMMIT reaches the server (the answer to the last
	// statement before COMMIT is lost), so the server rolls back.
	CutBeforeCommit
)

// RunTx runs the suite for transactional stores. newHarness is called once
// per case, for a fresh namespace.
//
//	func TestConformance(t *testing.T) {
//		dedupetest.RunTx(t, func(t *testing.T) dedupetest.TxHarness { return myHarness(t) })
//	}
func RunTx(t *testing.T, newHarness func(t *testing.T) TxHarness) {
	groups := []struct {
		name  string
		tests map[string]func(*testing.T, TxHarness)
	}{
		{"Concurrency", txConcurrencyTests},
		{"Failure", txFailureTests},
		{"Commit", txCommitTests},
		{"Expiry", txExpiryTests},
		{"Cleanup", txCleanupTests},
		{"Fingerprint", txFingerprintTests},
		{"Validation", txValidationTests},
	}
	for _, g := range groups {
		t.Run(g.name, func(t *testing.T) {
			t.Parallel()
			for name, test := range g.tests {
				t.Run(name, func(t *testing.T) {
					t.Parallel()
					h := newHarness(t)
					if reason, ok := h.Skip[g.name+"/"+name]; ok {
						t.Skip(reason)
					}
					h.require(t)
					test(t, h)
				})
			}
		})
	}
}

// require fails the test when a required hook is missing.
func (h TxHarness) require(t *testing.T) {
	t.Helper()
	if h.Store == nil || h.Effect == nil || h.Effects == nil || h.Waiters == nil || h.KillSession == nil {
		t.Fatal("dedupetest: TxHarness needs Store, Effect, Effects, Waiters and KillSession")
	}
}

// store returns a store with the store's defaults.
func (h TxHarness) store(t *testing.T) dedupe.TxStore { return h.Store(t, TxStoreOptions{}) }

// assertEffects checks key's committed effects, in any order.
func (h TxHarness) assertEffects(t *testing.T, key string, want ...string) {
	t.Helper()
	got := slices.Sorted(slices.Values(h.Effects(t, key)))
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("effects of %q = %q, want %q", key, got, want)
	}
}

// awaitWaiters polls until at least n RunTx calls wait for a held key.
func (h TxHarness) awaitWaiters(t *testing.T, n int) {
	t.Helper()
	deadline := time.Now().Add(promptBound)
	for {
		got, err := h.Waiters(testContext(t))
		if err != nil {
			t.Fatalf("Waiters: %v", err)
		}
		if got >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d RunTx calls wait for a held key after %v, want %d", got, promptBound, n)
		}
		time.Sleep(5 * time.Millisecond) // the server's state: nothing to wait on
	}
}

// effectRun returns a RunTx function that writes run's effect of key and
// returns run as its value.
func effectRun(h TxHarness, key, run string) func(ctx context.Context) ([]byte, error) {
	return func(ctx context.Context) ([]byte, error) {
		return []byte(run), h.Effect(ctx, key, run)
	}
}

// runEffect runs key on s with effectRun.
func runEffect(t *testing.T, h TxHarness, s dedupe.TxStore, key, run string, fp []byte) (dedupe.TxOutcome, error) {
	return s.RunTx(testContext(t), key, fp, effectRun(h, key, run))
}

// assertRan checks that a RunTx ran its function and committed want.
func assertRan(t *testing.T, out dedupe.TxOutcome, err error, want string) {
	t.Helper()
	if err != nil || out.Duplicate || string(out.Value) != want {
		t.Fatalf("RunTx = %+v, %v; want it to run and commit %q", out, err, want)
	}
}

// assertDuplicate checks that a RunTx found want committed before.
func assertDuplicate(t *testing.T, out dedupe.TxOutcome, err error, want string) {
	t.Helper()
	if err != nil || !out.Duplicate || string(out.Value) != want {
		t.Fatalf("RunTx = {Value:%q Duplicate:%v}, %v; want a duplicate with %q", out.Value, out.Duplicate, err, want)
	}
}

// notCalled is a RunTx function that fails the test if it runs.
func notCalled(t *testing.T) func(context.Context) ([]byte, error) {
	return func(context.Context) ([]byte, error) {
		t.Error("the function ran for a key it must not run")
		return nil, nil
	}
}

type txResult struct {
	out dedupe.TxOutcome
	err error
}

// goRunTx runs RunTx in a goroutine and returns its result's channel.
func goRunTx(ctx context.Context, s dedupe.TxStore, key string, fp []byte, fn func(context.Context) ([]byte, error)) <-chan txResult {
	c := make(chan txResult, 1)
	go func() {
		out, err := s.RunTx(ctx, key, fp, fn)
		c <- txResult{out, err}
	}()
	return c
}

// result waits for a RunTx started with goRunTx, at most promptBound.
func result(t *testing.T, c <-chan txResult, what string) txResult {
	t.Helper()
	select {
	case r := <-c:
		return r
	case <-time.After(promptBound):
		t.Fatalf("%s has not returned after %v", what, promptBound)
		return txResult{}
	}
}
