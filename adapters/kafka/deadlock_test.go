package kafka

import (
	"context"
	"sync"
	"testing"
	"time"

	kafkago "github.com/segmentio/kafka-go"

	"github.com/idemq/idemq/dedupe"
	"github.com/idemq/idemq/internal/testenv"
)

// stagedGuard makes two pipelines' first claims interleave: each claims
// its first key, waits until the other has too, then claims the rest. With
// batches [x, k] and [k, x], the first holds k and finds x in progress, the
// second holds x and finds k in progress: the hold-and-wait deadlock, if a
// chain waited while holding.
type stagedGuard struct {
	guard[string]
	ready *sync.WaitGroup
	once  sync.Once
}

func (g *stagedGuard) Claim(ctx context.Context, keys ...string) ([]ticket[string], error) {
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

// TestNoHoldAndWaitDeadlock runs two pipelines (two processes: two
// batches on one Redis) on batches [x, k] and [k, x] whose claims
// interleave so that each holds the key the other waits for. Both finish:
// each key runs once, and its other message is a duplicate.
func TestNoHoldAndWaitDeadlock(t *testing.T) {
	t.Parallel()
	srv := testenv.Redis(t)
	store, err := dedupe.NewRedisStore(srv.Client, dedupe.WithPrefix(srv.Prefix))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close() })
	var mu sync.Mutex
	runs := map[string]int{}
	var ready sync.WaitGroup
	ready.Add(2)
	newP := func() *pipeline[string] {
		cfg, err := withDefaults(Config[string]{Store: store, Handle: func(ctx context.Context, m kafkago.Message, end dedupe.End[string]) error {
			mu.Lock()
			runs[string(m.Value)]++
			mu.Unlock()
			end("ok")
			return nil
		}})
		if err != nil {
			t.Fatal(err)
		}
		m, _ := newMetrics(cfg.MeterProvider)
		p, err := newPipeline(&cfg, m)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			if err := p.close(); err != nil {
				t.Errorf("close = %v", err)
			}
		})
		p.guard = &stagedGuard{guard: p.guard, ready: &ready}
		return p
	}
	batch := func(p *pipeline[string], keys ...string) []*job[string] {
		jobs := make([]*job[string], len(keys))
		for i, k := range keys {
			jobs[i] = p.newJob(kafkago.Message{Offset: int64(i), Value: []byte(k),
				Headers: []kafkago.Header{{Key: DefaultKeyHeader, Value: []byte(k)}}})
		}
		return jobs
	}
	a, b := newP(), newP()
	ja, jb := batch(a, "x", "k"), batch(b, "k", "x")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	for _, run := range []struct {
		p    *pipeline[string]
		jobs []*job[string]
	}{{a, ja}, {b, jb}} {
		wg.Go(func() {
			if err := run.p.runBatch(&scope[string]{stop: ctx, work: ctx}, run.jobs); err != nil {
				t.Errorf("runBatch = %v", err)
			}
		})
	}
	wg.Wait()
	if ctx.Err() != nil {
		t.Fatal("the pipelines did not finish: deadlock")
	}
	for _, j := range append(ja, jb...) {
		if !j.done {
			t.Errorf("job %s@%d has no outcome", j.key, j.msg.Offset)
		}
	}
	if runs["x"] != 1 || runs["k"] != 1 {
		t.Errorf("handler runs = %v, want x and k once each", runs)
	}
}
