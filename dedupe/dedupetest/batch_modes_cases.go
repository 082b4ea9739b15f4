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

// batchModeTests cover the optimistic Batch and the queued lease of a
// claim-first Batch.
var batchModeTests = map[string]func(*testing.T, Backend){
	"OptimisticFreeKeysRunAndFirstCommitWins": func(t *testing.T, b Backend) {
		ctx, k, fresh := testContext(t), key(t), key(t)
		first := claim(t, newOptimisticBatch[string](t, openStore(t, b)), k, fresh)
		second := claim(t, newOptimisticBatch[string](t, openStore(t, b)), k)[0]
		for _, ticket := range []*dedupe.Ticket[string]{first[0], first[1], second} {
			assertErr(t, ticket.Err(), nil) // free: both may run
		}
		mustEnd(t, second, "second")
		assertErr(t, second.Result(ctx), nil)
		mustEnd(t, first[0], "first")
		assertConflict(t, first[0].Result(ctx), "second") // lost at its commit, with the winner's value
		if _, ok := asConflict[string](first[0].Result(ctx)); !ok || errors.Is(first[0].Result(ctx), dedupe.ErrLeaseLost) {
			t.Fatalf("an optimistic loser's Result = %v, want a plain *ConflictError", first[0].Result(ctx))
		}
		mustRelease(t, first[1])
		assertErr(t, first[1].Result(ctx), dedupe.ErrReleased)
		rec, err := openStore(t, b).Get(ctx, fresh)
		if err != nil || rec.State != dedupe.Absent {
			t.Fatalf("a released optimistic key = %+v, %v; want absent (it held nothing)", rec, err)
		}
	},
	"OptimisticCommittedKeyIsDuplicate": func(t *testing.T, b Backend) {
		s, k := openStore(t, b), key(t)
		commitValue(t, s, k, "stored")
		assertConflict(t, claim(t, newOptimisticBatch[string](t, s), k)[0].Err(), "stored")
	},
	"OptimisticAwaitsClaimThenRuns": func(t *testing.T, b Backend) {
		ctx, k, ws := testContext(t), key(t), openStore(t, b)
		owner := claim(t, newBatch[string](t, openStore(t, b)), k)[0]
		waiter := claim(t, newOptimisticBatch[string](t, ws), k)[0]
		assertErr(t, waiter.Err(), dedupe.ErrInProgress)
		got := make(chan error, 1)
		go func() { got <- waiter.Await(ctx) }()
		awaitInterest(t, ws)
		mustRelease(t, owner)
		select {
		case err := <-got:
			assertErr(t, err, nil)
		case <-time.After(promptBound):
			t.Fatalf("an optimistic Await did not hear the claim's release within %v", promptBound)
		}
		mustEnd(t, waiter, "waiter")
		assertErr(t, waiter.Result(ctx), nil)
	},
	"OptimisticAwaitGetsClaimOwnersValue": func(t *testing.T, b Backend) {
		ctx, k, ws := testContext(t), key(t), openStore(t, b)
		owner := claim(t, newBatch[string](t, openStore(t, b)), k)[0]
		waiter := claim(t, newOptimisticBatch[string](t, ws), k)[0]
		got := make(chan error, 1)
		go func() { got <- waiter.Await(ctx) }()
		awaitInterest(t, ws)
		mustEnd(t, owner, "owner")
		select {
		case err := <-got:
			assertConflict(t, err, "owner")
		case <-time.After(promptBound):
			t.Fatalf("an optimistic Await did not hear the claim's commit within %v", promptBound)
		}
	},
	"OptimisticDuplicatesInOneBatchWaitInMemory": func(t *testing.T, b Backend) {
		ctx, k := testContext(t), key(t)
		tickets := claim(t, newOptimisticBatch[string](t, openStore(t, b)), k, k)
		assertErr(t, tickets[0].Err(), nil)
		assertErr(t, tickets[1].Err(), dedupe.ErrInProgress)
		got := make(chan error, 1)
		go func() { got <- tickets[1].Await(ctx) }()
		mustEnd(t, tickets[0], "v")
		assertConflict(t, testwait.Recv(t, got, "got"), "v")
	},
	"OptimisticCloseReportsOwnedTickets": func(t *testing.T, b Backend) {
		batch, err := dedupe.NewBatch[int](openStore(t, b), dedupe.WithOptimistic())
		if err != nil {
			t.Fatal(err)
		}
		ticket := claim(t, batch, key(t))[0]
		work, cancel := ticket.Context(testContext(t))
		defer cancel()
		if err := batch.Close(); !errors.Is(err, dedupe.ErrEndNotCalled) {
			t.Fatalf("Close with an owned ticket = %v, want ErrEndNotCalled", err)
		}
		assertErr(t, context.Cause(work), dedupe.ErrBatchClosed)
	},
	"QueuedClaimsOfDeadOwnerFreeAfterQueuedLease": func(t *testing.T, b Backend) {
		dead := &mutedRenewals{Store: openStore(t, b)}
		dead.mute() // the owner dies right after its claim: nothing is ever renewed
		owner := newBatch[int](t, dead, dedupe.WithClaim(time.Minute), dedupe.WithQueuedLease(300*time.Millisecond))
		began, k := time.Now(), key(t)
		ticket := claim(t, owner, k)[0]
		waitFree(t, openStore(t, b), k, 5*time.Second)
		if took := time.Since(began); took > 2*time.Second {
			t.Fatalf("the dead owner's queued key was free after %v, want within the 300ms queued lease", took)
		}
		mustRelease(t, ticket)
	},
	"StartedClaimKeepsFullLeaseQueuedOneDoesNot": func(t *testing.T, b Backend) {
		ctx, running, queued := testContext(t), key(t), key(t)
		dead := &mutedRenewals{Store: openStore(t, b)}
		owner := newBatch[int](t, dead, dedupe.WithClaim(time.Minute), dedupe.WithQueuedLease(300*time.Millisecond))
		tickets := claim(t, owner, running, queued)
		work, cancel := tickets[0].Context(ctx) // started: renewed with the full lease
		defer cancel()
		waitRenewed(t, dead, running, time.Minute)
		dead.mute() // the owner dies: nothing is renewed any more
		began := time.Now()
		other := openStore(t, b)
		waitFree(t, other, queued, 5*time.Second)
		if took := time.Since(began); took > 2*time.Second {
			t.Fatalf("the dead owner's queued key was free after %v, want within the 300ms queued lease", took)
		}
		if rec, err := other.Get(ctx, running); err != nil || rec.State != dedupe.Claimed || rec.TTL < 30*time.Second {
			t.Fatalf("the dead owner's started key = %+v, %v; want claimed with most of the 1m lease left", rec, err)
		}
		assertErr(t, context.Cause(work), nil) // its local clock still holds: 2/3 of a minute
		mustRelease(t, tickets[0])
		mustRelease(t, tickets[1])
	},
	"StartReturnsOnceTheFullLeaseIsHeld": func(t *testing.T, b Backend) {
		ctx, k := testContext(t), key(t)
		owner := newBatch[int](t, openStore(t, b), dedupe.WithClaim(time.Minute), dedupe.WithQueuedLease(300*time.Millisecond))
		ticket := claim(t, owner, k)[0]
		assertErr(t, ticket.Start(ctx), nil)
		if rec, err := openStore(t, b).Get(ctx, k); err != nil || rec.State != dedupe.Claimed || rec.TTL < 30*time.Second {
			t.Fatalf("after Start the key = %+v, %v; want claimed with most of the 1m lease left", rec, err)
		}
		assertErr(t, ticket.Start(ctx), nil) // promoted already: at once
		mustEnd(t, ticket, 1)
		assertErr(t, ticket.Result(ctx), nil)
	},
	"PromotedClaimStartsWithoutARenewal": func(t *testing.T, b Backend) {
		ctx, promoted, queued := testContext(t), key(t), key(t)
		stalled := &mutedRenewals{Store: openStore(t, b)}
		stalled.mute() // no renewal ever lands: only the claim can hold the full lease
		owner := newBatch[int](t, stalled, dedupe.WithClaim(time.Minute), dedupe.WithQueuedLease(time.Second))
		tickets := claimKeys(t, owner, dedupe.ClaimKey{Key: promoted, Promote: true}, dedupe.ClaimKey{Key: queued})
		assertErr(t, tickets[0].Start(ctx), nil) // at once: claimed on the full lease
		other := openStore(t, b)
		if rec, err := other.Get(ctx, promoted); err != nil || rec.State != dedupe.Claimed || rec.TTL < 30*time.Second {
			t.Fatalf("the key claimed promoted = %+v, %v; want claimed with most of the 1m lease left", rec, err)
		}
		if rec, err := other.Get(ctx, queued); err != nil || rec.State != dedupe.Claimed || rec.TTL > time.Second {
			t.Fatalf("the key claimed queued = %+v, %v; want claimed with at most the 1s queued lease", rec, err)
		}
		mustEnd(t, tickets[0], 1)
		assertErr(t, tickets[0].Result(ctx), nil)
		mustRelease(t, tickets[1])
	},
	"StartWithoutTheStoreLosesTheLease": func(t *testing.T, b Backend) {
		ctx, k := testContext(t), key(t)
		stalled := &mutedRenewals{Store: openStore(t, b)}
		stalled.mute() // renewals never arrive, as in a stalled store
		owner := newBatch[int](t, stalled, dedupe.WithClaim(time.Minute), dedupe.WithQueuedLease(300*time.Millisecond))
		ticket := claim(t, owner, k)[0]
		ticket.Promote()
		began := time.Now()
		assertErr(t, ticket.Start(ctx), dedupe.ErrLeaseLost) // the work must not start
		if took := time.Since(began); took > 2*time.Second {
			t.Errorf("Start returned after %v, want within the 300ms queued lease", took)
		}
		rec, err := openStore(t, b).Get(ctx, k)
		if err != nil || rec.State == dedupe.Claimed && rec.TTL > 300*time.Millisecond {
			t.Fatalf("the key = %+v, %v; want its queued claim at most, never promoted", rec, err)
		}
		mustRelease(t, ticket)
	},
	"StartEndsWithClose": func(t *testing.T, b Backend) {
		stalled := &mutedRenewals{Store: openStore(t, b)}
		stalled.mute()
		owner, err := dedupe.NewBatch[int](stalled, dedupe.WithClaim(time.Minute), dedupe.WithQueuedLease(5*time.Second))
		if err != nil {
			t.Fatalf("NewBatch: %v", err)
		}
		ticket := claim(t, owner, key(t))[0]
		started := make(chan error, 1)
		go func() { started <- ticket.Start(testContext(t)) }()
		if err := owner.Close(); !errors.Is(err, dedupe.ErrEndNotCalled) {
			t.Errorf("Close = %v, want ErrEndNotCalled naming the held key", err)
		}
		assertErr(t, testwait.Recv(t, started, "started"), dedupe.ErrBatchClosed)
	},
	"QueuedLeaseCannotOutliveLease": func(t *testing.T, b Backend) {
		_, err := dedupe.NewBatch[int](openStore(t, b), dedupe.WithClaim(time.Second), dedupe.WithQueuedLease(time.Minute))
		assertErr(t, err, dedupe.ErrInvalidOption)
		_, err = dedupe.NewBatch[int](openStore(t, b), dedupe.WithOptimistic(), dedupe.WithQueuedLease(time.Second))
		assertErr(t, err, dedupe.ErrInvalidOption)
		_, err = dedupe.NewBatch[int](openStore(t, b), dedupe.WithQueuedLease(time.Millisecond))
		assertErr(t, err, dedupe.ErrInvalidOption)
		// The options of one of Run and NewBatch only do not compile with the
		// other: WithQueuedLease is no RunOption, WithEagerStart and
		// WithFingerprint are no BatchOptions.
		if _, ok := any(dedupe.WithQueuedLease(time.Second)).(dedupe.RunOption); ok {
			t.Error("WithQueuedLease is a RunOption: Run(..., WithQueuedLease(d)) would compile")
		}
		for name, o := range map[string]dedupe.RunOption{"WithEagerStart": dedupe.WithEagerStart(), "WithFingerprint": dedupe.WithFingerprint([]byte("p"))} {
			if _, ok := o.(dedupe.BatchOption); ok {
				t.Errorf("%s is a BatchOption: NewBatch(..., %s) would compile", name, name)
			}
		}
	},
}

func newOptimisticBatch[V any](t *testing.T, s dedupe.Store, opts ...dedupe.BatchOption) *dedupe.Batch[V] {
	t.Helper()
	batch, err := dedupe.NewBatch[V](s, append([]dedupe.BatchOption{dedupe.WithOptimistic()}, opts...)...)
	if err != nil {
		t.Fatalf("NewBatch: %v", err)
	}
	t.Cleanup(func() {
		if err := batch.Close(); err != nil {
			t.Errorf("Batch.Close: %v", err)
		}
	})
	return batch
}

// mutedRenewals is a store whose renewals (single or in a batch's Exec),
// once muted, never reach the backend, as for an owner that died; it
// remembers the lease of each key's last renewal that did.
type mutedRenewals struct {
	dedupe.Store
	mu     sync.Mutex
	muted  bool
	leases map[string]time.Duration
}

func (s *mutedRenewals) mute() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.muted = true
}

var errDeadOwner = errors.New("dedupetest: the owner is dead")

func (s *mutedRenewals) Renew(ctx context.Context, key, token string, lease time.Duration) (bool, error) {
	if s.isMuted() {
		return false, errDeadOwner
	}
	held, err := s.Store.Renew(ctx, key, token, lease)
	if held && err == nil {
		s.renewed(key, lease)
	}
	return held, err
}

// Exec does the same for a batch's renewals, so that the store's own Exec
// is shown to give each renewal the lease it asks for.
func (s *mutedRenewals) Exec(ctx context.Context, ops []dedupe.Op) []dedupe.OpResult {
	results := make([]dedupe.OpResult, len(ops))
	muted := s.isMuted()
	var pass []dedupe.Op
	var idx []int
	for i, op := range ops {
		if op.Kind == dedupe.OpRenew && muted {
			results[i].Err = errDeadOwner
			continue
		}
		pass, idx = append(pass, op), append(idx, i)
	}
	for j, r := range execAll(ctx, s.Store, pass) {
		results[idx[j]] = r
		if op := pass[j]; op.Kind == dedupe.OpRenew && r.OK && r.Err == nil {
			s.renewed(op.Key, op.Lease)
		}
	}
	return results
}

func (s *mutedRenewals) isMuted() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.muted
}

func (s *mutedRenewals) renewed(key string, lease time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.leases == nil {
		s.leases = map[string]time.Duration{}
	}
	s.leases[key] = lease
}

// renewedWith returns the lease of key's last successful renewal (0: none).
func (s *mutedRenewals) renewedWith(key string) time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.leases[key]
}

// waitRenewed polls until key was renewed with lease (the heartbeat runs
// every queued lease/3).
func waitRenewed(t *testing.T, s *mutedRenewals, key string, lease time.Duration) {
	t.Helper()
	deadline := time.Now().Add(promptBound)
	for s.renewedWith(key) != lease {
		if time.Now().After(deadline) {
			t.Fatalf("key %q was not renewed with %v within %v", key, lease, promptBound)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
