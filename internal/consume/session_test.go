package consume

import (
	"context"
	"errors"
	"github.com/idemq/idemq/consumer"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/idemq/idemq/dedupe"
	"github.com/idemq/idemq/internal/testwait"
)

var errRebalance = errors.New("rebalance")

// oneMessage is a fake log of one partition with the given messages, in one batch.
func oneMessage(ms ...msg) fakePartitions {
	return fakePartitions{msgs: map[int][]msg{0: ms}, sizes: []int{len(ms)}}
}

// TestCancelStopsHandlersAndCommitsNothingOfThem: Cancel (a rebalance)
// cancels a running handler's ctx with its cause; the message gets no
// outcome and no commit passes it, while the message before it is
// committed.
func TestCancelStopsHandlersAndCommitsNothingOfThem(t *testing.T) {
	t.Parallel()
	store := dedupe.NewMemoryStore()
	defer store.Close()
	started := make(chan struct{})
	cfg := testConfig(store)
	var cause error
	cfg.Handle = func(ctx context.Context, m msg, end dedupe.End[string]) error {
		if m.offset == 1 {
			end("first")
			return nil
		}
		close(started)
		<-ctx.Done()
		cause = context.Cause(ctx)
		return ctx.Err()
	}
	e, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	r := newRun(t, e, oneMessage(msg{offset: 1, key: "a"}, msg{offset: 2, key: "b"}))
	s, stop := r.start(testContext(t))
	<-started
	s.Halt(errRebalance)
	s.Cancel(errRebalance)
	if err := stop(); err != nil {
		t.Fatalf("End = %v", err)
	}
	if !errors.Is(cause, errRebalance) {
		t.Errorf("handler ctx cause = %v, want the session's cancel cause", cause)
	}
	r.check()
	if _, done := r.finished[msg{offset: 2, key: "b"}]; done || len(r.finished) != 1 {
		t.Fatalf("finished = %v, want only the first message", r.finished)
	}
	if last := r.commits[len(r.commits)-1][Partition{Topic: "t"}]; last != 2 {
		t.Errorf("last commit = %d, want 2 (after the first message, not past the cancelled one)", last)
	}
	// The release is sent in the background; Close waits for it, and
	// reports a claim the engine never released (ErrEndNotCalled).
	if err := e.Close(); err != nil {
		t.Fatalf("Close = %v, want nil: the cancelled message's claim released", err)
	}
	if rec, err := store.Get(context.Background(), "b"); err != nil || rec.State != dedupe.Absent {
		t.Errorf("the cancelled message's key = %+v, %v; want released", rec, err)
	}
}

// TestHaltLetsRunningHandlersFinish: Halt (a shutdown) starts nothing new,
// lets the running handler finish, and End commits it before returning.
func TestHaltLetsRunningHandlersFinish(t *testing.T) {
	t.Parallel()
	store := dedupe.NewMemoryStore()
	defer store.Close()
	started, finish := make(chan struct{}), make(chan struct{})
	var second atomic.Int32
	cfg := testConfig(store)
	cfg.Handle = func(ctx context.Context, m msg, end dedupe.End[string]) error {
		if m.offset == 2 {
			second.Add(1) // checked below; it must not close started again
			return nil
		}
		close(started)
		<-finish
		end("ok")
		return nil
	}
	e := newTestEngine(t, cfg)
	r := newRun(t, e, oneMessage(msg{offset: 1, key: "a"}, msg{offset: 2, key: "b"}))
	s, stop := r.start(testContext(t))
	<-started
	s.Halt(context.Canceled)
	close(finish)
	if err := stop(); err != nil {
		t.Fatalf("End = %v", err)
	}
	r.check()
	if second.Load() != 0 {
		t.Error("a handler started after Halt")
	}
	if last := r.commits[len(r.commits)-1][Partition{Topic: "t"}]; last != 2 {
		t.Errorf("last commit = %d, want 2: the handler that finished during the drain", last)
	}
}

// gatedStarts holds every ticket's Start until gate is closed, after
// reporting it on started: Start then answers as the store's confirmation
// would when it arrives (or was there already) while the session halts.
type gatedStarts struct {
	guard[string]
	started chan<- struct{}
	gate    <-chan struct{}
}

func (g *gatedStarts) Claim(ctx context.Context, keys ...dedupe.ClaimKey) ([]ticket[string], error) {
	ts, err := g.guard.Claim(ctx, keys...)
	for i, t := range ts {
		ts[i] = gatedTicket{ticket: t, g: g}
	}
	return ts, err
}

type gatedTicket struct {
	ticket[string]
	g *gatedStarts
}

func (t gatedTicket) Start(ctx context.Context) error {
	t.g.started <- struct{}{}
	<-t.g.gate
	return t.ticket.Start(ctx)
}

// TestNoHandlerStartsAfterHalt: a job whose Start returns after the
// session was halted and cancelled (a rebalance) does not run: its handler
// would start on a cancelled ctx, after its partition was taken away. Its
// claim is released and it gets no outcome.
func TestNoHandlerStartsAfterHalt(t *testing.T) {
	t.Parallel()
	store := dedupe.NewMemoryStore()
	defer store.Close()
	started, gate := make(chan struct{}, 1), make(chan struct{})
	var ran atomic.Int32
	cfg := testConfig(store)
	cfg.Handle = func(ctx context.Context, m msg, end dedupe.End[string]) error {
		ran.Add(1)
		end("ok") // a handler that does not look at its ctx
		return nil
	}
	e := newTestEngine(t, cfg)
	e.guard = &gatedStarts{guard: e.guard, started: started, gate: gate}
	r := newRun(t, e, oneMessage(msg{offset: 1, key: "a"}))
	s, stop := r.start(testContext(t))
	testwait.Recv(t, started, "the job's Start")
	s.Halt(errRebalance)
	s.Cancel(errRebalance)
	close(gate)
	if err := stop(); err != nil {
		t.Fatalf("End = %v", err)
	}
	if n := ran.Load(); n != 0 || len(r.finished) != 0 {
		t.Errorf("handler ran %d times after Halt, outcomes %v; want 0 and none", n, r.finished)
	}
	if err := e.Close(); err != nil {
		t.Fatalf("Close = %v, want nil: the job's claim released", err)
	}
	if rec, err := store.Get(context.Background(), "a"); err != nil || rec.State != dedupe.Absent {
		t.Errorf("the job's key = %+v, %v; want released", rec, err)
	}
}

// TestPermanentDeadLetterErrorStops: a dead-letter write that fails with
// ErrPermanent is not retried: the session fails with MessageError's error
// naming the message and wrapping the cause, and nothing at or past it is
// committed. A transient failure before it was retried.
func TestPermanentDeadLetterErrorStops(t *testing.T) {
	t.Parallel()
	store := dedupe.NewMemoryStore()
	defer store.Close()
	cfg := testConfig(store)
	cfg.Attempts = 1
	cfg.Handle = func(ctx context.Context, m msg, end dedupe.End[string]) error {
		if m.offset == 2 {
			return errors.New("bad message")
		}
		end("ok")
		return nil
	}
	var writes, transient atomic.Int32
	cfg.Metrics.DeadLetterErrors = func(n int64) { transient.Add(int32(n)) }
	tooLarge := errors.New("message too large")
	cfg.DeadLetter = func(ctx context.Context, m msg, key string, cause error) error {
		if writes.Add(1) == 1 {
			return errors.New("leader moving")
		}
		return errors.Join(ErrPermanent, tooLarge)
	}
	e := newTestEngine(t, cfg)
	r := newRun(t, e, oneMessage(msg{offset: 1, key: "a"}, msg{offset: 2, key: "b"}, msg{offset: 3, key: "c"}))
	_, stop := r.start(testContext(t))
	err := stop()
	var me *msgError
	if !errors.As(err, &me) || me.m.offset != 2 || !errors.Is(err, tooLarge) {
		t.Fatalf("End = %v, want the message error of offset 2 wrapping the sink's error", err)
	}
	if writes.Load() != 2 || transient.Load() != 1 {
		t.Errorf("dead-letter writes = %d (transient failures counted %d), want 2 (1): a transient failure is retried, a permanent one is not", writes.Load(), transient.Load())
	}
	r.check()
	for _, c := range r.commits {
		if c[Partition{Topic: "t"}] > 2 {
			t.Errorf("committed %d: past the message whose dead letter failed", c[Partition{Topic: "t"}])
		}
	}
}

// TestOptimisticLoserIsDuplicate runs the same key in two optimistic
// engines at once: both handlers run, one commit wins, and the other
// message's outcome is Duplicate, with OnDuplicate given the winner's value.
func TestOptimisticLoserIsDuplicate(t *testing.T) {
	t.Parallel()
	store := dedupe.NewMemoryStore()
	defer store.Close()
	both := make(chan struct{})
	var running atomic.Int32
	winners := make(chan string, 2)
	newE := func(name string) *Engine[msg, string] {
		cfg := testConfig(store)
		cfg.Guard = []dedupe.BatchOption{dedupe.WithOptimistic()}
		cfg.Handle = func(ctx context.Context, m msg, end dedupe.End[string]) error {
			if running.Add(1) == 2 {
				close(both)
			}
			select { // both run at once: no claim
			case <-both:
			case <-ctx.Done():
				return ctx.Err()
			}
			end(name)
			return nil
		}
		cfg.OnDuplicate = func(ctx context.Context, m msg, winner string) error {
			winners <- winner
			return nil
		}
		return newTestEngine(t, cfg)
	}
	a, b := newE("a"), newE("b")
	ctx := testContext(t)
	outcomes := make(chan consumer.Outcome, 2)
	for _, e := range []*Engine[msg, string]{a, b} {
		go func() {
			o, err := e.Process(ctx, msg{offset: 1, key: "k"})
			if err != nil {
				t.Errorf("Process = %v", err)
			}
			outcomes <- o
		}()
	}
	got := map[consumer.Outcome]int{<-outcomes: 1}
	got[<-outcomes]++
	if got[consumer.Processed] != 1 || got[consumer.Duplicate] != 1 {
		t.Fatalf("outcomes = %v, want one Processed and one Duplicate", got)
	}
	rec, err := store.Get(ctx, "k")
	if err != nil {
		t.Fatal(err)
	}
	if w := <-winners; `"`+w+`"` != string(rec.Value) {
		t.Errorf("OnDuplicate got %q, the store holds %s", w, rec.Value)
	}
}

// TestKeyPolicies: a message without a valid key stops the consumer
// (KeyReject), runs without the guard (KeyProcess), or is dead-lettered
// (KeyDeadLetter).
func TestKeyPolicies(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		policy  consumer.KeyPolicy
		outcome consumer.Outcome
	}{{consumer.KeyReject, 0}, {consumer.KeyProcess, consumer.ProcessedWithoutKey}, {consumer.KeyDeadLetter, consumer.DeadLettered}} {
		store := dedupe.NewMemoryStore()
		defer store.Close()
		cfg := testConfig(store)
		cfg.Handle = ok
		cfg.InvalidKey = c.policy
		cfg.DeadLetter = func(context.Context, msg, string, error) error { return nil }
		e := newTestEngine(t, cfg)
		o, err := e.Process(testContext(t), msg{offset: 1})
		var me *msgError
		switch {
		case c.policy == consumer.KeyReject && !errors.As(err, &me):
			t.Errorf("KeyReject: Process = %v, %v; want a message error", o, err)
		case c.policy != consumer.KeyReject && (err != nil || o != c.outcome):
			t.Errorf("policy %d: Process = %v, %v; want %v", c.policy, o, err, c.outcome)
		}
	}
}

// TestHoldAndWaitOnMemoryStore is TestNoHoldAndWaitDeadlock's scenario in
// a session: two engines on one store, partitions [x, k] and [k, x],
// claims staged so each holds what the other waits for. Both finish.
func TestHoldAndWaitOnMemoryStore(t *testing.T) {
	t.Parallel()
	store := dedupe.NewMemoryStore()
	defer store.Close()
	var runs atomic.Int32
	var ready sync.WaitGroup
	ready.Add(2)
	newRunOf := func(keys ...string) *run {
		cfg := testConfig(store)
		cfg.Handle = func(ctx context.Context, m msg, end dedupe.End[string]) error {
			runs.Add(1)
			end("ok")
			return nil
		}
		e := newTestEngine(t, cfg)
		e.guard = &stagedGuard{guard: e.guard, ready: &ready}
		ms := make([]msg, len(keys))
		for i, k := range keys {
			ms[i] = msg{offset: int64(i + 1), key: k}
		}
		return newRun(t, e, oneMessage(ms...))
	}
	a, b := newRunOf("x", "k"), newRunOf("k", "x")
	ctx, cancel := context.WithTimeout(testContext(t), 10*time.Second)
	defer cancel()
	_, stopA := a.start(ctx)
	_, stopB := b.start(ctx)
	if err := stopA(); err != nil {
		t.Fatal(err)
	}
	if err := stopB(); err != nil {
		t.Fatal(err)
	}
	if ctx.Err() != nil {
		t.Fatal("the sessions did not finish: deadlock")
	}
	a.check()
	b.check()
	if n := runs.Load(); n != 2 {
		t.Errorf("handlers ran %d times, want 2 (x and k once each)", n)
	}
}

// TestReusedKeyFollowsKeyPolicy: a key committed for one payload and sent
// again with another is an invalid key: the consumer stops (KeyReject),
// dead-letters it (KeyDeadLetter) or runs it unguarded (KeyProcess); the
// same payload again is a plain duplicate.
func TestReusedKeyFollowsKeyPolicy(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		policy  consumer.KeyPolicy
		outcome consumer.Outcome
	}{{consumer.KeyReject, 0}, {consumer.KeyDeadLetter, consumer.DeadLettered}, {consumer.KeyProcess, consumer.ProcessedWithoutKey}} {
		store := dedupe.NewMemoryStore()
		defer store.Close()
		var runs atomic.Int32
		cfg := testConfig(store)
		cfg.InvalidKey = c.policy
		cfg.Fingerprint = func(m msg) []byte { return []byte(m.body) }
		cfg.DeadLetter = func(context.Context, msg, string, error) error { return nil }
		cfg.Handle = func(ctx context.Context, m msg, end dedupe.End[string]) error {
			runs.Add(1)
			end("ok")
			return nil
		}
		e := newTestEngine(t, cfg)
		ctx := testContext(t)
		if o, err := e.Process(ctx, msg{offset: 1, key: "k", body: "10 EUR"}); err != nil || o != consumer.Processed {
			t.Fatalf("first = %v, %v", o, err)
		}
		if o, err := e.Process(ctx, msg{offset: 2, key: "k", body: "10 EUR"}); err != nil || o != consumer.Duplicate {
			t.Fatalf("same payload = %v, %v; want Duplicate", o, err)
		}
		o, err := e.Process(ctx, msg{offset: 3, key: "k", body: "99 EUR"})
		var reused *dedupe.KeyReusedError
		switch {
		case c.policy == consumer.KeyReject && !errors.As(err, &reused):
			t.Errorf("KeyReject: = %v, %v; want a message error wrapping *dedupe.KeyReusedError", o, err)
		case c.policy != consumer.KeyReject && (err != nil || o != c.outcome):
			t.Errorf("policy %d: = %v, %v; want %v", c.policy, o, err, c.outcome)
		}
		if want := map[consumer.KeyPolicy]int32{consumer.KeyReject: 1, consumer.KeyDeadLetter: 1, consumer.KeyProcess: 2}[c.policy]; runs.Load() != want {
			t.Errorf("policy %d: handler ran %d times, want %d", c.policy, runs.Load(), want)
		}
	}
}

// slowFirstClaims answers the first Exec (the batch's claims) after a
// delay, as a Redis stalled for longer than the queued lease would.
type slowFirstClaims struct {
	dedupe.BatchStore
	delay time.Duration
	once  sync.Once
}

func (s *slowFirstClaims) Exec(ctx context.Context, ops []dedupe.Op) []dedupe.OpResult {
	res := s.BatchStore.Exec(ctx, ops)
	s.once.Do(func() { time.Sleep(s.delay) })
	return res
}

// TestLateClaimsAreReleased: claims that answer after their lease are lost
// at once; the chain sends the first back to be claimed and drops the rest,
// and must release every one of them (the Batch reports a held ticket at
// Close otherwise). The messages then run once each.
func TestLateClaimsAreReleased(t *testing.T) {
	t.Parallel()
	store := dedupe.NewMemoryStore()
	defer store.Close()
	cfg := testConfig(&slowFirstClaims{BatchStore: store, delay: 400 * time.Millisecond})
	cfg.Guard = []dedupe.BatchOption{dedupe.WithClaim(300 * time.Millisecond)}
	var runs atomic.Int32
	cfg.Handle = func(ctx context.Context, m msg, end dedupe.End[string]) error {
		runs.Add(1)
		end("ok")
		return nil
	}
	e, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	r := newRun(t, e, oneMessage(msg{offset: 1, key: "a"}, msg{offset: 2, key: "b"}, msg{offset: 3, key: "c"}))
	_, stop := r.start(testContext(t))
	if err := stop(); err != nil {
		t.Fatalf("End = %v", err)
	}
	r.check()
	if err := e.Close(); err != nil {
		t.Fatalf("Close = %v, want nil: every late claim released", err)
	}
	if runs.Load() != 3 {
		t.Errorf("handlers ran %d times, want 3", runs.Load())
	}
}

// TestNoSlotOnceStopping: a stopping session takes no handler slot, even
// with slots free (a select between the two would pick either), so no job
// without a key or on a TxStore starts after Halt.
func TestNoSlotOnceStopping(t *testing.T) {
	t.Parallel()
	store := dedupe.NewMemoryStore()
	defer store.Close()
	e := newTestEngine(t, testConfig(store))
	stop, cancel := context.WithCancel(context.Background())
	cancel()
	sc := &scope{stop: stop, work: context.Background()}
	for i := range 200 {
		if e.takeSlot(sc) {
			t.Fatalf("takeSlot #%d = true on a stopping session, want false", i)
		}
	}
	if n := len(e.slots); n != 0 {
		t.Errorf("%d slots held after the refusals, want 0", n)
	}
}
