package consume

import (
	"context"
	"errors"
	"github.com/idemq/idemq/consumer"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/idemq/idemq/dedupe"
)

// memTx is a transactional store in memory: one transaction per key at a
// time; a committed value is kept with the writes fn made (effects).
type memTx struct {
	mu        sync.Mutex
	locks     map[string]*sync.Mutex
	values    map[string][]byte
	effects   map[string]int
	unknownAt int // the commit number whose answer is lost (0: none)
	commits   int
}

type memTxKey struct{}

// effect is a write in the transaction of ctx.
func effect(ctx context.Context) { *ctx.Value(memTxKey{}).(*int)++ }

func (s *memTx) RunTx(ctx context.Context, key string, fp []byte, fn func(context.Context) ([]byte, error)) (dedupe.TxOutcome, error) {
	s.mu.Lock()
	if s.locks == nil {
		s.locks, s.values, s.effects = map[string]*sync.Mutex{}, map[string][]byte{}, map[string]int{}
	}
	l := s.locks[key]
	if l == nil {
		l = &sync.Mutex{}
		s.locks[key] = l
	}
	s.mu.Unlock()
	l.Lock()
	defer l.Unlock()
	s.mu.Lock()
	v, done := s.values[key]
	s.mu.Unlock()
	if done {
		return dedupe.TxOutcome{Value: v, Duplicate: true}, nil
	}
	var writes int
	data, err := fn(context.WithValue(ctx, memTxKey{}, &writes))
	if err != nil {
		return dedupe.TxOutcome{}, err // rolled back: writes dropped
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.values[key] = data
	s.effects[key] += writes
	s.commits++
	if s.commits == s.unknownAt {
		return dedupe.TxOutcome{}, dedupe.ErrCommitUnknown
	}
	return dedupe.TxOutcome{Value: data}, nil
}

func txConfig(store *memTx) Config[msg, string] {
	cfg := testConfig(nil)
	cfg.Store, cfg.Guard = nil, nil
	cfg.Tx, cfg.Codec = store, dedupe.JSONCodec{}
	return cfg
}

// TestTxRunsEachKeyOnce: on a transactional store a key's handler commits
// once; its duplicates get the committed value; a failed attempt is
// rolled back and retried in a transaction of its own; a commit whose
// answer was lost is run again and finds the committed value.
func TestTxRunsEachKeyOnce(t *testing.T) {
	t.Parallel()
	store := &memTx{unknownAt: 2}
	var calls atomic.Int32
	var failed atomic.Bool
	winners := make(chan string, 10)
	cfg := txConfig(store)
	cfg.Handle = func(ctx context.Context, m msg, end dedupe.End[string]) error {
		calls.Add(1)
		effect(ctx)
		if m.key == "flaky" && !failed.Swap(true) {
			return errors.New("first attempt fails")
		}
		end("done " + m.key)
		return nil
	}
	cfg.OnDuplicate = func(ctx context.Context, m msg, winner string) error {
		winners <- winner
		return nil
	}
	e := newTestEngine(t, cfg)
	r := newRun(t, e, oneMessage(
		msg{offset: 0, key: "a"}, msg{offset: 1, key: "flaky"}, msg{offset: 2, key: "a"}, msg{offset: 3, key: "b"},
	))
	_, wait := r.start(testContext(t))
	if err := wait(); err != nil {
		t.Fatal(err)
	}
	r.check()
	want := map[string]consumer.Outcome{"a": consumer.Processed, "flaky": consumer.Duplicate, "b": consumer.Processed}
	for m, o := range r.finished {
		if m.offset == 2 {
			if o != consumer.Duplicate {
				t.Errorf("the second a: %v, want Duplicate", o)
			}
			continue
		}
		if o != want[m.key] {
			t.Errorf("%s@%d: %v, want %v", m.key, m.offset, o, want[m.key])
		}
	}
	for key, n := range store.effects {
		if n != 1 {
			t.Errorf("committed effects of %s = %d, want 1", key, n)
		}
	}
	if n := calls.Load(); n != 4 { // a, flaky twice, b
		t.Errorf("handler calls = %d, want 4", n)
	}
	close(winners)
	got := map[string]int{}
	for w := range winners {
		got[w]++
	}
	if got["done a"] != 1 || got["done flaky"] != 1 || len(got) != 2 {
		t.Errorf("OnDuplicate winners = %v, want done a and done flaky once each", got)
	}
}
