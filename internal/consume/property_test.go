package consume

import (
	"context"
	"errors"
	"fmt"
	"github.com/idemq/idemq/consumer"
	"math/rand/v2"
	"strconv"
	"sync"
	"testing"

	"github.com/idemq/idemq/dedupe"
)

// scenario is one random workload: partitions of messages whose keys repeat
// (within and across partitions), handlers that succeed, fail a few times,
// or fail every attempt (then are dead-lettered, the sink itself failing
// now and then), an ordering mode and batch sizes.
type scenario struct {
	seed     uint64
	ordering consumer.Ordering
	log      fakePartitions
	failures map[msg]int // handler failures before success; >= Attempts: always
	dlqFails map[msg]int // transient dead-letter failures before the write succeeds
}

func newScenario(seed uint64) scenario {
	r := rand.New(rand.NewPCG(seed, 7))
	sc := scenario{seed: seed, ordering: consumer.Ordering(r.IntN(3)), failures: map[msg]int{}, dlqFails: map[msg]int{},
		log: fakePartitions{msgs: map[int][]msg{}, sizes: []int{1 + r.IntN(16), 1 + r.IntN(16), 1 + r.IntN(4)}}}
	keys := 20 + r.IntN(60)
	for p := range 1 + r.IntN(4) {
		var offset int64
		for range 20 + r.IntN(80) {
			offset += 1 + int64(r.IntN(2)) // offsets need not be contiguous
			m := msg{part: p, offset: offset, order: "o" + strconv.Itoa(r.IntN(5)), key: "k" + strconv.Itoa(r.IntN(keys))}
			sc.log.msgs[p] = append(sc.log.msgs[p], m)
			switch x := r.IntN(20); {
			case x == 0:
				sc.failures[m] = 99 // every attempt
				sc.dlqFails[m] = r.IntN(3)
			case x < 4:
				sc.failures[m] = 1 + r.IntN(2) // retried in place, then succeeds
			}
		}
	}
	return sc
}

// observed is what the handlers saw.
type observed struct {
	mu        sync.Mutex
	running   map[string]int   // per ordering unit (see unit): handlers running now
	last      map[string]int64 // per ordering unit: offset of the last handler started
	calls     map[msg]int
	committed map[string]int // per key: handler successes (end called)
	bad       []string
}

// unit is what must not run at once, and in offset order: a partition
// (ByPartition), a partition's order key (ByKey); nothing for Unordered.
func unit(o consumer.Ordering, m msg) string {
	switch o {
	case consumer.ByPartition:
		return strconv.Itoa(m.part)
	case consumer.ByKey:
		return strconv.Itoa(m.part) + "/" + m.order
	}
	return ""
}

func (ob *observed) enter(o consumer.Ordering, m msg) {
	ob.mu.Lock()
	defer ob.mu.Unlock()
	ob.calls[m]++
	if u := unit(o, m); u != "" {
		if ob.running[u] > 0 {
			ob.bad = append(ob.bad, fmt.Sprintf("two handlers of %s at once", u))
		}
		if last, ok := ob.last[u]; ok && m.offset < last {
			ob.bad = append(ob.bad, fmt.Sprintf("%s: offset %d ran after %d", u, m.offset, last))
		}
		ob.running[u]++
		ob.last[u] = m.offset
	}
}

func (ob *observed) leave(o consumer.Ordering, m msg, succeeded bool) {
	ob.mu.Lock()
	defer ob.mu.Unlock()
	if u := unit(o, m); u != "" {
		ob.running[u]--
	}
	if succeeded {
		ob.committed[m.key]++
	}
}

// TestRandomScenarios runs random workloads on the memory store and checks
// the engine's rules: every message gets exactly one final outcome; no
// commit passes an unfinished message, and the last one covers everything;
// a key's handler succeeds at most once, and a duplicate's key succeeded;
// handlers of one ordering unit never overlap and run in offset order.
func TestRandomScenarios(t *testing.T) {
	t.Parallel()
	for seed := range uint64(40) {
		t.Run(strconv.FormatUint(seed, 10), func(t *testing.T) {
			t.Parallel()
			runScenario(t, newScenario(seed))
		})
	}
}

func runScenario(t *testing.T, sc scenario) {
	store := dedupe.NewMemoryStore()
	defer store.Close()
	ob := &observed{running: map[string]int{}, last: map[string]int64{}, calls: map[msg]int{}, committed: map[string]int{}}
	cfg := testConfig(store)
	cfg.Ordering = sc.ordering
	cfg.Handle = func(ctx context.Context, m msg, end dedupe.End[string]) error {
		ob.enter(sc.ordering, m)
		ob.mu.Lock()
		fail := ob.calls[m] <= sc.failures[m]
		ob.mu.Unlock()
		defer ob.leave(sc.ordering, m, !fail)
		if fail {
			return errors.New("handler failed")
		}
		end("by " + strconv.Itoa(m.part) + "@" + strconv.FormatInt(m.offset, 10))
		return nil
	}
	var dlqMu sync.Mutex
	dlqCalls := map[msg]int{}
	cfg.DeadLetter = func(ctx context.Context, m msg, key string, cause error) error {
		dlqMu.Lock()
		defer dlqMu.Unlock()
		if dlqCalls[m]++; dlqCalls[m] <= sc.dlqFails[m] {
			return errors.New("sink unavailable")
		}
		return nil
	}
	e := newTestEngine(t, cfg)
	r := newRun(t, e, sc.log)
	_, stop := r.start(testContext(t))
	if err := stop(); err != nil {
		t.Fatalf("seed %d: End = %v", sc.seed, err)
	}
	r.check()
	checkOutcomes(t, sc, r, ob)
}

func checkOutcomes(t *testing.T, sc scenario, r *run, ob *observed) {
	t.Helper()
	if len(r.finished) != r.total {
		t.Fatalf("seed %d (%v): %d of %d messages finished", sc.seed, sc.ordering, len(r.finished), r.total)
	}
	for _, b := range ob.bad {
		t.Errorf("seed %d (%v): %s", sc.seed, sc.ordering, b)
	}
	processed := map[string]bool{}
	for m, o := range r.finished {
		switch {
		case o == consumer.Processed:
			processed[m.key] = true
		case o == consumer.DeadLettered && sc.failures[m] < cfgAttempts:
			t.Errorf("seed %d: %v dead-lettered, but its handler fails only %d times", sc.seed, m, sc.failures[m])
		}
	}
	for key, n := range ob.committed {
		if n > 1 {
			t.Errorf("seed %d: key %s: handler succeeded %d times, want at most once", sc.seed, key, n)
		}
	}
	for m, o := range r.finished {
		if o == consumer.Duplicate && !processed[m.key] {
			t.Errorf("seed %d: %v is a duplicate, but no message of key %s was processed", sc.seed, m, m.key)
		}
	}
}

// cfgAttempts is testConfig's Attempts.
const cfgAttempts = 3
