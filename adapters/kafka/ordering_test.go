package idemqkafka_test

import (
	"context"
	"github.com/idemq/idemq/consumer"
	"strconv"
	"sync"
	"testing"
	"time"

	kafkago "github.com/segmentio/kafka-go"

	"github.com/idemq/idemq/dedupe"
)

// tracker records what ran, in which order, and how many ran at once:
// overall, per group (partition or Kafka key) and per idempotency key.
type tracker struct {
	mu      sync.Mutex
	order   map[string][]int64 // group -> offsets in start order
	running map[string]int     // group or "key:"+idempotency key -> running now
	max     map[string]int
	total   int
	maxAll  int
}

func newTracker() *tracker {
	return &tracker{order: map[string][]int64{}, running: map[string]int{}, max: map[string]int{}}
}

// enter records the start of m in group and under its idempotency key.
func (tr *tracker) enter(group, key string, offset int64) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	tr.order[group] = append(tr.order[group], offset)
	tr.total++
	tr.maxAll = max(tr.maxAll, tr.total)
	for _, k := range []string{group, "key:" + key} {
		tr.running[k]++
		tr.max[k] = max(tr.max[k], tr.running[k])
	}
}

func (tr *tracker) leave(group, key string) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	tr.total--
	tr.running[group]--
	tr.running["key:"+key]--
}

func (tr *tracker) maxOf(k string) int {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	return tr.max[k]
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

// TestOrdering proves behaviour 2: ByPartition runs a partition's messages
// one at a time in offset order; ByKey keeps order per Kafka key and runs
// keys at once; Unordered runs up to MaxInFlight at once.
func TestOrdering(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name       string
		ordering   consumer.Ordering
		partitions int
		group      func(m kafkago.Message) string
		perGroup   int // the most that may run at once per group
		wantMax    int // the most that may run at once in total
	}{
		{"ByPartition", consumer.ByPartition, 4, func(m kafkago.Message) string { return strconv.Itoa(m.Partition) }, 1, 4},
		{"ByKey", consumer.ByKey, 1, func(m kafkago.Message) string { return string(m.Key) }, 1, 8},
		{"Unordered", consumer.Unordered, 1, func(m kafkago.Message) string { return "all" }, 8, 8},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := setup(t, tc.partitions)
			tr := newTracker()
			cfg := e.config()
			cfg.Ordering = tc.ordering
			cfg.MaxInFlight = 8
			cfg.Handle = func(ctx context.Context, m kafkago.Message, end dedupe.End[string]) error {
				g, k := tc.group(m), header(m, "Idempotency-Key")
				tr.enter(g, k, m.Offset)
				defer tr.leave(g, k)
				time.Sleep(2 * time.Millisecond) // the work
				end("ok")
				return nil
			}
			var msgs []kafkago.Message
			for i := range 200 {
				m := msg(key(i), "v")
				m.Key = []byte("kafka-key-" + strconv.Itoa(i%10))
				msgs = append(msgs, m)
			}
			e.produce(t, msgs...)
			c := mustConsumer(t, cfg)
			start(t, c)
			eventually(t, time.Minute, "lag 0", func() bool { return e.lag(t) == 0 })
			for g := range tr.order {
				if tc.perGroup == 1 {
					tr.ordered(t, g)
				}
				if got := tr.maxOf(g); got > tc.perGroup {
					t.Errorf("group %s ran %d at once, want <= %d", g, got, tc.perGroup)
				}
			}
			if tr.maxAll > tc.wantMax || tr.maxAll < 2 {
				t.Errorf("ran %d at once in total, want 2..%d", tr.maxAll, tc.wantMax)
			}
			if s := c.Stats(); s.Processed != 200 {
				t.Errorf("Processed = %d, want 200", s.Processed)
			}
		})
	}
}

// TestSameKeyNeverRunsAtOnce proves the other half of behaviour 2: in any
// ordering mode, messages that share an idempotency key never run at once
// in one process, even across partitions. The handler always fails, so
// each message's claim is released and the next one with the key runs:
// all of them run, never two at once.
func TestSameKeyNeverRunsAtOnce(t *testing.T) {
	t.Parallel()
	for _, ordering := range []consumer.Ordering{consumer.ByPartition, consumer.ByKey, consumer.Unordered} {
		t.Run(strconv.Itoa(int(ordering)), func(t *testing.T) {
			t.Parallel()
			e := setup(t, 2)
			_, w := e.deadLetterTopic(t)
			tr := newTracker()
			cfg := e.config()
			cfg.Ordering = ordering
			cfg.Attempts = 1
			cfg.DeadLetter = w
			cfg.Handle = func(ctx context.Context, m kafkago.Message, end dedupe.End[string]) error {
				k := header(m, "Idempotency-Key")
				tr.enter("all", k, m.Offset)
				defer tr.leave("all", k)
				time.Sleep(5 * time.Millisecond)
				return errBoom
			}
			var msgs []kafkago.Message
			for i := range 40 {
				m := msg(key(i%4), "v")
				m.Key = []byte(strconv.Itoa(i)) // spread over both partitions
				msgs = append(msgs, m)
			}
			e.produce(t, msgs...)
			c := mustConsumer(t, cfg)
			start(t, c)
			eventually(t, time.Minute, "lag 0", func() bool { return e.lag(t) == 0 })
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

// TestCommitsContiguousPrefix proves the commit rule of behaviour 2: with
// messages finishing out of order, the committed offset never passes an
// unfinished message.
func TestCommitsContiguousPrefix(t *testing.T) {
	t.Parallel()
	e := setup(t, 1)
	release := make(chan struct{})
	var handled counts
	cfg := e.config()
	cfg.Ordering = consumer.Unordered
	cfg.Handle = func(ctx context.Context, m kafkago.Message, end dedupe.End[string]) error {
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
	var msgs []kafkago.Message
	for i := range 10 {
		msgs = append(msgs, msg(key(i), "v"))
	}
	e.produce(t, msgs...)
	c := mustConsumer(t, cfg)
	start(t, c)
	eventually(t, time.Minute, "9 messages handled", func() bool { return handled.len() == 9 })
	eventually(t, time.Minute, "the prefix committed", func() bool { return e.committed(t)[0] == 3 })
	time.Sleep(3 * cfg.CommitInterval) // not a synchronisation: time for a wrong commit to show
	if got := e.committed(t)[0]; got != 3 {
		t.Fatalf("committed offset = %d while offset 3 runs, want 3", got)
	}
	close(release)
	eventually(t, time.Minute, "lag 0", func() bool { return e.lag(t) == 0 })
}
