package consume

import (
	"context"
	"sync"
	"testing"

	"github.com/idemq/idemq/dedupe"
	"github.com/idemq/idemq/dedupe/redisstore"
	"github.com/idemq/idemq/internal/testenv"
)

// stagedGuard makes two engines' first claims interleave: each claims its
// first key, waits until the other has too, then claims the rest. With
// batches [x, k] and [k, x], the first holds k and finds x in progress, the
// second holds x and finds k in progress: the hold-and-wait deadlock, if a
// chain waited while holding.
type stagedGuard struct {
	guard[string]
	ready *sync.WaitGroup
	once  sync.Once
}

func (g *stagedGuard) Claim(ctx context.Context, keys ...dedupe.ClaimKey) ([]ticket[string], error) {
	first := true
	g.once.Do(func() { first = false })
	if first || len(keys) < 2 {
		return g.guard.Claim(ctx, keys...)
	}
	last, err := g.guard.Claim(ctx, keys[len(keys)-1])
	if err != nil {
		return nil, err
	}
	g.ready.Done()
	g.ready.Wait()
	rest, err := g.guard.Claim(ctx, keys[:len(keys)-1]...)
	if err != nil {
		return nil, err
	}
	return append(rest, last...), nil
}

// TestNoHoldAndWaitDeadlock runs two engines (two processes: two Batches on
// one Redis) on batches [x, k] and [k, x] whose claims interleave so that
// each holds the key the other waits for. Both finish: each key runs once,
// and its other message is a duplicate.
func TestNoHoldAndWaitDeadlock(t *testing.T) {
	t.Parallel()
	srv := testenv.Redis(t)
	store, err := redisstore.New(srv.Client, redisstore.WithPrefix(srv.Prefix))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close() })
	var mu sync.Mutex
	runs := map[string]int{}
	var ready sync.WaitGroup
	ready.Add(2)
	newE := func() *Engine[msg, string] {
		cfg := testConfig(store)
		cfg.Handle = func(ctx context.Context, m msg, end dedupe.End[string]) error {
			mu.Lock()
			runs[m.key]++
			mu.Unlock()
			end("ok")
			return nil
		}
		e := newTestEngine(t, cfg)
		e.guard = &stagedGuard{guard: e.guard, ready: &ready}
		return e
	}
	batch := func(e *Engine[msg, string], keys ...string) []*job[msg, string] {
		msgs := make([]msg, len(keys))
		for i, k := range keys {
			msgs[i] = msg{offset: int64(i), key: k}
		}
		return e.newJobs(msgs)
	}
	a, b := newE(), newE()
	ja, jb := batch(a, "x", "k"), batch(b, "k", "x")
	ctx := testContext(t)
	var wg sync.WaitGroup
	for _, run := range []struct {
		e    *Engine[msg, string]
		jobs []*job[msg, string]
	}{{a, ja}, {b, jb}} {
		wg.Go(func() {
			if err := run.e.runBatch(&scope{stop: ctx, work: ctx}, run.jobs); err != nil {
				t.Errorf("runBatch = %v", err)
			}
		})
	}
	wg.Wait()
	if ctx.Err() != nil {
		t.Fatal("the engines did not finish: deadlock")
	}
	for _, j := range append(ja, jb...) {
		if !j.done() {
			t.Errorf("job %s@%d has no outcome", j.key, j.offset)
		}
	}
	if runs["x"] != 1 || runs["k"] != 1 {
		t.Errorf("handler runs = %v, want x and k once each", runs)
	}
}
