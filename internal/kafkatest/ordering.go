package kafkatest

import (
	"context"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/idemq/idemq/consumer"
	"github.com/idemq/idemq/dedupe"
	"github.com/idemq/idemq/internal/testwait"
)

var orderingScenarios = map[string]scenario{
	"Modes":                   orderingModes,
	"SameKeyNeverAtOnce":      sameKeyNeverAtOnce,
	"OneKeyOnTwoPartitions":   oneKeyOnTwoPartitions,
	"CommitsContiguousPrefix": commitsContiguousPrefix,
}

// orderingModes: ByPartition runs a partition's messages one at a time in
// offset order; ByKey keeps order per Kafka key and runs keys at once;
// Unordered runs up to MaxInFlight at once.
func orderingModes(t *testing.T, d Driver) {
	for _, tc := range []struct {
		name       string
		ordering   consumer.Ordering
		partitions int
		group      func(m Message) string
		perGroup   int // the most that may run at once per group
		wantMax    int // the most that may run at once in total
	}{
		{"ByPartition", consumer.ByPartition, 4, func(m Message) string { return strconv.Itoa(m.Partition) }, 1, 4},
		{"ByKey", consumer.ByKey, 1, func(m Message) string { return string(m.Key) }, 1, 8},
		{"Unordered", consumer.Unordered, 1, func(m Message) string { return "all" }, 8, 8},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := setup(t, d, tc.partitions)
			tr := newTracker()
			cfg := e.config()
			cfg.Ordering = tc.ordering
			cfg.MaxInFlight = 8
			cfg.Handle = func(ctx context.Context, m Message, end dedupe.End[string]) error {
				g, k := tc.group(m), m.Header(keyHeader)
				tr.enter(g, k, m.Offset)
				defer tr.leave(g, k)
				time.Sleep(2 * time.Millisecond) // the work
				end("ok")
				return nil
			}
			var msgs []Message
			for i := range 200 {
				m := msg(i%10%tc.partitions, key(i), "v") // a Kafka key's messages on one partition
				m.Key = []byte("kafka-key-" + strconv.Itoa(i%10))
				msgs = append(msgs, m)
			}
			e.produce(t, msgs...)
			c := e.start(t, cfg)
			e.LagZero(t, time.Minute)
			for g := range tr.groups() {
				if tc.perGroup == 1 {
					tr.ordered(t, g)
				}
				if got := tr.maxOf(g); got > tc.perGroup {
					t.Errorf("group %s ran %d at once, want <= %d", g, got, tc.perGroup)
				}
			}
			if most := tr.maxOf(""); most > tc.wantMax || most < 2 {
				t.Errorf("ran %d at once in total, want 2..%d", most, tc.wantMax)
			}
			if s := c.Stats(); s.Processed != 200 {
				t.Errorf("Processed = %d, want 200", s.Processed)
			}
		})
	}
}

// sameKeyNeverAtOnce: in any ordering mode, messages that share an
// idempotency key never run at once in one process, even across
// partitions. The handler always fails, so each message's claim is
// released and the next one with the key runs: all of them run, never two
// at once.
func sameKeyNeverAtOnce(t *testing.T, d Driver) {
	for _, ordering := range []consumer.Ordering{consumer.ByPartition, consumer.ByKey, consumer.Unordered} {
		t.Run(strconv.Itoa(int(ordering)), func(t *testing.T) {
			t.Parallel()
			e := setup(t, d, 2)
			tr := newTracker()
			cfg := e.config()
			cfg.Ordering = ordering
			cfg.Attempts = 1
			cfg.DeadLetterTopic = e.deadLetterTopic(t)
			cfg.Handle = func(ctx context.Context, m Message, end dedupe.End[string]) error {
				k := m.Header(keyHeader)
				tr.enter("all", k, m.Offset)
				defer tr.leave("all", k)
				time.Sleep(5 * time.Millisecond) // the work
				return errBoom
			}
			var msgs []Message
			for i := range 40 {
				m := msg(i%2, key(i%4), "v") // each key on both partitions
				m.Key = []byte(strconv.Itoa(i))
				msgs = append(msgs, m)
			}
			e.produce(t, msgs...)
			c := e.start(t, cfg)
			e.LagZero(t, time.Minute)
			for i := range 4 {
				if got := tr.maxOf("key:" + key(i)); got != 1 {
					t.Errorf("%s ran %d at once, want 1", key(i), got)
				}
			}
			if s := c.Stats(); s.DeadLettered != 40 {
				t.Errorf("DeadLettered = %d, want 40 (every message ran and failed)", s.DeadLettered)
			}
		})
	}
}

// oneKeyOnTwoPartitions: one key delivered on two partitions at once runs
// its handler once: the second copy waits for the first's claim, then ends
// as a duplicate with its value.
func oneKeyOnTwoPartitions(t *testing.T, d Driver) {
	e := setup(t, d, 2)
	var runs atomic.Int32
	running := make(chan struct{}, 2)
	release := make(chan struct{})
	var dups counts
	cfg := e.config()
	cfg.Handle = func(ctx context.Context, m Message, end dedupe.End[string]) error {
		runs.Add(1)
		running <- struct{}{}
		select { // hold the claim until the other partition's copy waits for it
		case <-release:
		case <-ctx.Done():
			return context.Cause(ctx)
		}
		end("p" + strconv.Itoa(m.Partition))
		return nil
	}
	cfg.OnDuplicate = func(ctx context.Context, m Message, winner string) error {
		dups.add(winner)
		return nil
	}
	c := e.start(t, cfg)
	e.produce(t, msg(0, "same", "a"), msg(1, "same", "b"))
	testwait.Recv(t, running, "the first copy running")
	Eventually(t, time.Minute, "the second copy waiting for the claim", func() bool { return c.Stats().InFlightConflicts > 0 })
	close(release)
	e.LagZero(t, time.Minute)
	if n := runs.Load(); n != 1 {
		t.Errorf("handler ran %d times, want 1", n)
	}
	if dups.get("p0")+dups.get("p1") != 1 || dups.len() != 1 {
		t.Errorf("OnDuplicate winners = %v, want one call with the winner's value", dups.snapshot())
	}
}

// commitsContiguousPrefix: with messages finishing out of order, the
// committed offset never passes an unfinished message.
func commitsContiguousPrefix(t *testing.T, d Driver) {
	e := setup(t, d, 1)
	release := make(chan struct{})
	var handled counts
	cfg := e.config()
	cfg.Ordering = consumer.Unordered
	cfg.Handle = func(ctx context.Context, m Message, end dedupe.End[string]) error {
		if m.Offset == 3 {
			select {
			case <-release:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		handled.add(strconv.FormatInt(m.Offset, 10))
		end("ok")
		return nil
	}
	var msgs []Message
	for i := range 10 {
		msgs = append(msgs, msg(0, key(i), "v"))
	}
	e.produce(t, msgs...)
	e.start(t, cfg)
	Eventually(t, time.Minute, "9 messages handled", func() bool { return handled.len() == 9 })
	Eventually(t, time.Minute, "the prefix committed", func() bool { return e.Committed(t)[0] == 3 })
	time.Sleep(3 * cfg.CommitInterval) // not a synchronisation: time for a wrong commit to show
	if got := e.Committed(t)[0]; got != 3 {
		t.Fatalf("committed offset = %d while offset 3 runs, want 3", got)
	}
	close(release)
	e.LagZero(t, time.Minute)
}

// tracker records what ran, in which order, and how many ran at once:
// overall (""), per group (partition or Kafka key) and per idempotency key
// ("key:"+key).
type tracker struct {
	mu      sync.Mutex
	order   map[string][]int64 // group -> offsets in start order
	running map[string]int     // "", group or "key:"+idempotency key -> running now
	max     map[string]int
}

func newTracker() *tracker {
	return &tracker{order: map[string][]int64{}, running: map[string]int{}, max: map[string]int{}}
}

// enter records the start of a message of group with an idempotency key.
func (tr *tracker) enter(group, key string, offset int64) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	tr.order[group] = append(tr.order[group], offset)
	for _, k := range []string{"", group, "key:" + key} {
		tr.running[k]++
		tr.max[k] = max(tr.max[k], tr.running[k])
	}
}

func (tr *tracker) leave(group, key string) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	for _, k := range []string{"", group, "key:" + key} {
		tr.running[k]--
	}
}

func (tr *tracker) maxOf(k string) int {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	return tr.max[k]
}

// groups returns the groups that ran something.
func (tr *tracker) groups() map[string]bool {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	gs := map[string]bool{}
	for g := range tr.order {
		gs[g] = true
	}
	return gs
}

func (tr *tracker) ordered(t *testing.T, group string) {
	t.Helper()
	tr.mu.Lock()
	defer tr.mu.Unlock()
	offs := tr.order[group]
	for i := 1; i < len(offs); i++ {
		if offs[i] <= offs[i-1] {
			t.Errorf("group %s ran offset %d after %d: out of order", group, offs[i], offs[i-1])
			return
		}
	}
}
