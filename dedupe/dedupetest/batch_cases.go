package dedupetest

import (
	"context"
	"errors"
	"fmt"
	"github.com/idemq/idemq/internal/testwait"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/idemq/idemq/dedupe"
)

// batchTests cover the batch path (dedupe.Batch): claim, renew, commit and
// release many keys of one owner, with the guarantees of claim-first Run.
var batchTests = map[string]func(*testing.T, Backend){
	"Race32BatchesEveryKeyRunsOnce": func(t *testing.T, b Backend) {
		const batches, perBatch, pool = 32, 200, 400
		stores := openStores(t, b, batches)
		keys := make([]string, pool)
		for i := range keys {
			keys[i] = key(t)
		}
		var runs sync.Map // key → *atomic.Int32
		learned := make([]map[string]string, batches)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i, s := range stores {
			mine := pick(keys, perBatch)
			wg.Go(func() {
				<-start
				learned[i] = raceBatch(t, s, mine, fmt.Sprint("batch-", i), &runs)
			})
		}
		close(start)
		wg.Wait()
		checkBatchRace(t, stores[0], &runs, learned)
	},
	"DuplicatesInOneBatchWaitInMemory": func(t *testing.T, b Backend) {
		s, ctx := openStore(t, b), testContext(t)
		batch := newBatch[string](t, s)
		k, other := key(t), key(t)
		tickets := claim(t, batch, k, other, k)
		assertErr(t, tickets[0].Err(), nil)
		assertErr(t, tickets[1].Err(), nil)
		assertErr(t, tickets[2].Err(), dedupe.ErrInProgress)
		later := claim(t, batch, k)[0] // a second Claim call of the same Batch
		assertErr(t, later.Err(), dedupe.ErrInProgress)
		before := batch.Stats().RoundTrips
		mustEnd(t, tickets[0], "first")
		if err := tickets[0].Result(ctx); err != nil {
			t.Fatalf("owner's Result = %v, want nil", err)
		}
		for _, dup := range []*dedupe.Ticket[string]{tickets[2], later} {
			assertConflict(t, dup.Await(ctx), "first")
		}
		if got := batch.Stats().RoundTrips - before; got != 1 {
			t.Errorf("duplicates cost %d round trips besides the commit's one, want 0", got-1)
		}
		mustRelease(t, tickets[1])
	},
	"CommittedKeyIsDuplicate": func(t *testing.T, b Backend) {
		s, ctx, k := openStore(t, b), testContext(t), key(t)
		commitValue(t, s, k, "winner")
		ticket := claim(t, newBatch[string](t, s), k)[0]
		assertConflict(t, ticket.Err(), "winner")
		assertErr(t, ticket.End("again"), dedupe.ErrNotOwned)
		assertErr(t, ticket.Release(), dedupe.ErrNotOwned)
		assertConflict(t, ticket.Result(ctx), "winner")
		assertConflict(t, ticket.Await(ctx), "winner")
	},
	"MisuseGivesClearErrors": func(t *testing.T, b Backend) {
		s, ctx := openStore(t, b), testContext(t)
		batch := newBatch[int](t, s)
		if _, err := batch.Claim(ctx, ""); !errors.Is(err, dedupe.ErrInvalidKey) {
			t.Errorf("Claim of an empty key = %v, want ErrInvalidKey", err)
		}
		ticket := claim(t, batch, key(t))[0]
		assertErr(t, ticket.Result(ctx), dedupe.ErrEndNotCalled)
		mustEnd(t, ticket, 1)
		assertErr(t, ticket.End(2), dedupe.ErrEndCalledTwice)
		assertErr(t, ticket.Release(), dedupe.ErrNotOwned)
		assertErr(t, ticket.Result(ctx), nil)
		if _, err := dedupe.NewBatch[int](nil); !errors.Is(err, dedupe.ErrInvalidOption) {
			t.Errorf("NewBatch(nil) = %v, want ErrInvalidOption", err)
		}
	},
	"ReleaseWakesWaiterInAnotherStore": func(t *testing.T, b Backend) {
		ctx, k := testContext(t), key(t)
		owner := claim(t, newBatch[int](t, openStore(t, b)), k)[0]
		waiter := claim(t, newBatch[int](t, openStore(t, b)), k)[0]
		assertErr(t, waiter.Err(), dedupe.ErrInProgress)
		got := make(chan error, 1)
		go func() { got <- waiter.Await(ctx) }()
		mustRelease(t, owner)
		if err := testwait.Recv(t, got, "got"); err != nil {
			t.Fatalf("waiter's Await after the owner released = %v, want nil (owned)", err)
		}
		mustEnd(t, waiter, 2)
		assertErr(t, waiter.Result(ctx), nil)
	},
	"WaiterGetsCommittedValue": func(t *testing.T, b Backend) {
		ctx, k := testContext(t), key(t)
		owner := claim(t, newBatch[string](t, openStore(t, b)), k)[0]
		waiter := claim(t, newBatch[string](t, openStore(t, b)), k)[0]
		got := make(chan error, 1)
		go func() { got <- waiter.Await(ctx) }()
		mustEnd(t, owner, "owner")
		assertConflict(t, testwait.Recv(t, got, "got"), "owner")
	},
	"AwaitInAnotherStoreHearsCommitPromptly": func(t *testing.T, b Backend) {
		ctx, k, ws := testContext(t), key(t), openStore(t, b)
		owner := claim(t, newBatch[string](t, openStore(t, b), dedupe.WithClaim(time.Minute)), k)[0]
		waiter := claim(t, newBatch[string](t, ws, dedupe.WithClaim(time.Minute)), k)[0]
		got := make(chan error, 1)
		go func() { got <- waiter.Await(ctx) }()
		awaitInterest(t, ws)
		mustEnd(t, owner, "owner")
		select {
		case err := <-got:
			assertConflict(t, err, "owner")
		case <-time.After(promptBound):
			t.Fatalf("Await did not hear the owner's commit within %v (the lease is a minute)", promptBound)
		}
	},
	"LostKeyIsFencedOthersCommit": func(t *testing.T, b Backend) {
		ctx, lost, kept := testContext(t), key(t), key(t)
		// The kept key is renewed every lease/3 and lost 2/3 of the lease
		// after its last renewal: 1.5s leaves a loaded machine's renewals a
		// second of slack (300ms failed under CI load).
		lease := 1500 * time.Millisecond
		stalled := &dropRenewals{Store: openStore(t, b), key: lost}
		batch := newBatch[string](t, stalled, dedupe.WithClaim(lease))
		tickets := claim(t, batch, lost, kept)
		lostCtx, cancelLost := tickets[0].Context(ctx)
		defer cancelLost()
		keptCtx, cancelKept := tickets[1].Context(ctx)
		defer cancelKept()
		testwait.Recv(t, lostCtx.Done(), "the lost ticket's ctx to end") // cancelled by the local clock, before the lease ends
		if cause := context.Cause(lostCtx); !errors.Is(cause, dedupe.ErrLeaseLost) {
			t.Fatalf("lost ticket's ctx cause = %v, want ErrLeaseLost", cause)
		}
		taker := claim(t, newBatch[string](t, openStore(t, b), dedupe.WithClaim(lease)), lost)[0]
		if err := taker.Await(ctx); err != nil {
			t.Fatalf("taker's Await = %v, want to own the key after the lease", err)
		}
		mustEnd(t, taker, "taker")
		assertErr(t, taker.Result(ctx), nil)
		if keptCtx.Err() != nil {
			t.Fatalf("the renewed key's ctx ended: %v", context.Cause(keptCtx))
		}
		mustEnd(t, tickets[0], "stale") // a handler that ignored its ctx
		mustEnd(t, tickets[1], "kept")
		err := tickets[0].Result(ctx)
		assertErr(t, err, dedupe.ErrLeaseLost)
		assertConflict(t, err, "taker")
		assertErr(t, tickets[1].Result(ctx), nil)
	},
	"CloseReleasesClaims": func(t *testing.T, b Backend) {
		s, ctx := openStore(t, b), testContext(t)
		batch, err := dedupe.NewBatch[int](s, dedupe.WithClaim(time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		keys := []string{key(t), key(t), key(t)}
		tickets := claim(t, batch, keys...)
		held, cancel := tickets[0].Context(ctx)
		defer cancel()
		mustEnd(t, tickets[2], 3)
		err = batch.Close()
		if !errors.Is(err, dedupe.ErrEndNotCalled) || !strings.Contains(err.Error(), keys[0]) || !strings.Contains(err.Error(), keys[1]) {
			t.Fatalf("Close with two owned tickets = %v, want ErrEndNotCalled naming both keys", err)
		}
		if cause := context.Cause(held); !errors.Is(cause, dedupe.ErrBatchClosed) {
			t.Errorf("held ticket's ctx cause after Close = %v, want ErrBatchClosed", cause)
		}
		for _, k := range keys[:2] {
			if rec, err := s.Get(ctx, k); err != nil || rec.State != dedupe.Absent {
				t.Errorf("key after Close = %v, %v; want absent (released)", rec.State, err)
			}
		}
		assertErr(t, tickets[2].Result(ctx), nil) // the queued commit went out first
		assertErr(t, tickets[0].Result(ctx), dedupe.ErrBatchClosed)
		assertErr(t, tickets[0].Err(), dedupe.ErrBatchClosed)
		assertErr(t, tickets[1].End(1), dedupe.ErrBatchClosed)
		if _, err := batch.Claim(ctx, key(t)); !errors.Is(err, dedupe.ErrBatchClosed) {
			t.Errorf("Claim after Close = %v, want ErrBatchClosed", err)
		}
	},
	"CloseEndsAwait": func(t *testing.T, b Backend) {
		ctx, k := testContext(t), key(t)
		owner := claim(t, newBatch[int](t, openStore(t, b)), k)[0]
		batch, err := dedupe.NewBatch[int](openStore(t, b))
		if err != nil {
			t.Fatal(err)
		}
		waiter := claim(t, batch, k)[0]
		got := make(chan error, 1)
		go func() { got <- waiter.Await(ctx) }()
		if err := batch.Close(); err != nil {
			t.Fatal(err)
		}
		assertErr(t, testwait.Recv(t, got, "got"), dedupe.ErrBatchClosed)
		mustRelease(t, owner)
	},
	"NoWaitAwaitReturnsInProgress": func(t *testing.T, b Backend) {
		ctx, k := testContext(t), key(t)
		owner := claim(t, newBatch[int](t, openStore(t, b)), k)[0]
		waiter := claim(t, newBatch[int](t, openStore(t, b), dedupe.WithNoWait()), k)[0]
		assertErr(t, waiter.Await(ctx), dedupe.ErrInProgress)
		mustRelease(t, owner)
	},
	"FallbackWithoutExec": func(t *testing.T, b Backend) {
		s, ctx := &singleKeyStore{openStore(t, b)}, testContext(t)
		batch := newBatch[string](t, s)
		k := key(t)
		tickets := claim(t, batch, k, key(t))
		mustEnd(t, tickets[0], "v")
		mustRelease(t, tickets[1])
		assertErr(t, tickets[0].Result(ctx), nil)
		assertErr(t, tickets[1].Result(ctx), dedupe.ErrReleased)
		assertConflict(t, claim(t, newBatch[string](t, s), k)[0].Err(), "v")
	},
	"LateClaimReplyIsLostAtOnce": func(t *testing.T, b Backend) {
		ctx, lease := testContext(t), 300*time.Millisecond
		late := &lateReplyStore{Store: openStore(t, b), delay: lease * 3 / 2}
		ticket := claim(t, newBatch[int](t, late, dedupe.WithClaim(lease)), key(t))[0]
		work, cancel := ticket.Context(ctx)
		defer cancel()
		assertErr(t, ticket.Err(), dedupe.ErrLeaseLost)
		if cause := context.Cause(work); !errors.Is(cause, dedupe.ErrLeaseLost) {
			t.Fatalf("ctx of a ticket whose claim answered after its lease = %v, want cancelled with ErrLeaseLost", cause)
		}
		mustRelease(t, ticket)
	},
	"ConcurrentAwaitsOfOneTicket": func(t *testing.T, b Backend) {
		ctx := testContext(t)
		k := key(t)
		tickets := claim(t, newBatch[string](t, openStore(t, b)), k, k)
		results := make(chan error, 2)
		for range 2 {
			go func() { results <- tickets[1].Await(ctx) }()
		}
		mustEnd(t, tickets[0], "v")
		for range 2 {
			assertConflict(t, testwait.Recv(t, results, "results"), "v")
		}
	},
	"EndTwiceAfterCommit": func(t *testing.T, b Backend) {
		ctx := testContext(t)
		ticket := claim(t, newBatch[int](t, openStore(t, b)), key(t))[0]
		mustEnd(t, ticket, 1)
		assertErr(t, ticket.Result(ctx), nil)
		assertErr(t, ticket.End(2), dedupe.ErrEndCalledTwice)
	},
	"RenewalSayingGoneLosesAtOnce": func(t *testing.T, b Backend) {
		ctx, k, lease := testContext(t), key(t), 3*time.Second
		batch := newBatch[int](t, &goneRenewals{Store: openStore(t, b), key: k}, dedupe.WithClaim(lease))
		claimed := time.Now()
		ticket := claim(t, batch, k)[0]
		work, cancel := ticket.Context(ctx)
		defer cancel()
		testwait.Recv(t, work.Done(), "the work ctx to end")
		// The first renewal (at lease/3) says the claim is gone: lost then,
		// not at the local deadline (2/3 lease).
		if took := time.Since(claimed); took >= lease*2/3 {
			t.Fatalf("a ticket whose renewal said the claim is gone lost its lease after %v, want at the renewal (~%v)", took, lease/3)
		}
		assertErr(t, context.Cause(work), dedupe.ErrLeaseLost)
		mustRelease(t, ticket)
	},
	"FlushWaitsForOutcomes": func(t *testing.T, b Backend) {
		ctx := testContext(t)
		batch := newBatch[int](t, openStore(t, b))
		keys := make([]string, 50)
		for i := range keys {
			keys[i] = key(t)
		}
		tickets := claim(t, batch, keys...)
		for _, ticket := range tickets {
			mustEnd(t, ticket, 1)
		}
		if err := batch.Flush(ctx); err != nil {
			t.Fatalf("Flush: %v", err)
		}
		done, cancel := context.WithCancel(ctx)
		cancel() // Result may not wait: Flush said every outcome is known
		for _, ticket := range tickets {
			assertErr(t, ticket.Result(done), nil)
		}
	},
	"StoreCloseLosesTickets": func(t *testing.T, b Backend) {
		s := b.Store(t)
		batch := newBatch[int](t, s)
		ticket := claim(t, batch, key(t))[0]
		work, cancel := ticket.Context(testContext(t))
		defer cancel()
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		testwait.Recv(t, work.Done(), "the work ctx to end")
		if _, ok := s.(interface{ Done() <-chan struct{} }); ok {
			assertErr(t, context.Cause(work), dedupe.ErrStoreClosed)
		}
		mustRelease(t, ticket)
	},
}

// raceBatch claims keys in one batch of store s, runs every owned key's
// "handler" (counting runs), waits for keys held elsewhere, and returns the
// value this batch learned for every key.
func raceBatch(t *testing.T, s dedupe.Store, keys []string, value string, runs *sync.Map) map[string]string {
	ctx := testContext(t)
	batch := newBatch[string](t, s)
	tickets := claim(t, batch, keys...)
	learned := map[string]string{}
	run := func(ticket *dedupe.Ticket[string]) {
		n, _ := runs.LoadOrStore(ticket.Key(), new(atomic.Int32))
		n.(*atomic.Int32).Add(1)
		mustEnd(t, ticket, value)
	}
	var waiting []*dedupe.Ticket[string]
	for _, ticket := range tickets { // end what we own before waiting: no hold-and-wait
		if ticket.Err() == nil {
			run(ticket)
		} else {
			waiting = append(waiting, ticket)
		}
	}
	for len(waiting) > 0 {
		var again []*dedupe.Ticket[string]
		for _, ticket := range waiting {
			if err := ticket.Await(ctx); err == nil {
				run(ticket)
				again = append(again, ticket) // read its Result below
			} else {
				learned[ticket.Key()] = conflictValue(t, err)
			}
		}
		tickets = append(tickets, again...)
		waiting = nil
	}
	for _, ticket := range tickets {
		if _, ok := learned[ticket.Key()]; ok {
			continue
		}
		switch err := ticket.Result(ctx); {
		case err == nil:
			learned[ticket.Key()] = value
		default:
			learned[ticket.Key()] = conflictValue(t, err)
		}
	}
	return learned
}

func conflictValue(t *testing.T, err error) string {
	c, ok := asConflict[string](err)
	if !ok {
		t.Errorf("err = %v, want a *dedupe.ConflictError", err)
		return ""
	}
	return c.Value
}

// checkBatchRace checks that every key ran once and every batch learned the
// stored value.
func checkBatchRace(t *testing.T, s dedupe.Store, runs *sync.Map, learned []map[string]string) {
	t.Helper()
	ctx := testContext(t)
	runs.Range(func(k, n any) bool {
		if got := n.(*atomic.Int32).Load(); got != 1 {
			t.Errorf("key %v ran %d times, want 1", k, got)
		}
		return true
	})
	for i, m := range learned {
		for k, v := range m {
			rec, err := s.Get(ctx, k)
			if err != nil || string(rec.Value) != fmt.Sprintf("%q", v) {
				t.Fatalf("batch %d learned %q for key %s; stored %s, %v", i, v, k, rec.Value, err)
			}
		}
	}
}

// pick returns n distinct keys of keys, in random order.
func pick(keys []string, n int) []string {
	p := rand.Perm(len(keys))[:n]
	out := make([]string, n)
	for i, j := range p {
		out[i] = keys[j]
	}
	return out
}

func newBatch[V any](t *testing.T, s dedupe.Store, opts ...dedupe.BatchOption) *dedupe.Batch[V] {
	t.Helper()
	opts = append([]dedupe.BatchOption{dedupe.WithClaim(time.Minute)}, opts...)
	batch, err := dedupe.NewBatch[V](s, opts...)
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

func claim[V any](t *testing.T, batch *dedupe.Batch[V], keys ...string) []*dedupe.Ticket[V] {
	t.Helper()
	tickets, err := batch.Claim(testContext(t), keys...)
	if err != nil {
		t.Fatalf("Claim: %v", err)
	}
	if len(tickets) != len(keys) {
		t.Fatalf("Claim returned %d tickets for %d keys", len(tickets), len(keys))
	}
	return tickets
}

func mustEnd[V any](t *testing.T, ticket *dedupe.Ticket[V], v V) {
	t.Helper()
	if err := ticket.End(v); err != nil {
		t.Fatalf("End(%v) of %q: %v", v, ticket.Key(), err)
	}
}

func mustRelease[V any](t *testing.T, ticket *dedupe.Ticket[V]) {
	t.Helper()
	if err := ticket.Release(); err != nil {
		t.Fatalf("Release of %q: %v", ticket.Key(), err)
	}
}

// assertErr checks errors.Is(got, want), or got == nil for want == nil.
func assertErr(t *testing.T, got, want error) {
	t.Helper()
	if want == nil && got != nil || want != nil && !errors.Is(got, want) {
		t.Fatalf("err = %v, want %v", got, want)
	}
}

// dropRenewals is a store whose renewals of one key never reach the
// backend, as for an owner whose link stalls for that key's shard.
type dropRenewals struct {
	dedupe.Store
	key string
}

func (s *dropRenewals) Renew(ctx context.Context, key, token string, lease time.Duration) (bool, error) {
	if key == s.key {
		return false, errors.New("dedupetest: renewal dropped")
	}
	return s.Store.Renew(ctx, key, token, lease)
}

func (s *dropRenewals) Exec(ctx context.Context, ops []dedupe.Op) []dedupe.OpResult {
	results := make([]dedupe.OpResult, len(ops))
	var pass []dedupe.Op
	var idx []int
	for i, op := range ops {
		if op.Kind == dedupe.OpRenew && op.Key == s.key {
			results[i].Err = errors.New("dedupetest: renewal dropped")
			continue
		}
		pass, idx = append(pass, op), append(idx, i)
	}
	for j, r := range execAll(ctx, s.Store, pass) {
		results[idx[j]] = r
	}
	return results
}

// singleKeyStore hides a store's Exec, so the batch path falls back to the
// single-key methods.
type singleKeyStore struct{ dedupe.Store }

func execSingle(ctx context.Context, s dedupe.Store, op dedupe.Op) dedupe.OpResult {
	var r dedupe.OpResult
	switch op.Kind {
	case dedupe.OpClaim:
		r.Current, r.OK, r.Err = s.Claim(ctx, op.Key, op.Token, op.Lease)
	case dedupe.OpRenew:
		r.OK, r.Err = s.Renew(ctx, op.Key, op.Token, op.Lease)
	case dedupe.OpCommit:
		r.Current, r.OK, r.Err = s.Commit(ctx, op.Key, dedupe.Commit{Token: op.Token, Fenced: op.Fenced, Value: op.Value, TTL: op.TTL})
	case dedupe.OpRelease:
		r.OK, r.Err = s.Release(ctx, op.Key, op.Token)
	case dedupe.OpGet:
		r.Current, r.Err = s.Get(ctx, op.Key)
	}
	return r
}
