package idemqfranz_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	idemqfranz "github.com/idemq/idemq/adapters/franz"
	"github.com/idemq/idemq/dedupe"
	"github.com/idemq/idemq/internal/kafkatest"
	"github.com/idemq/idemq/internal/testenv"
)

// member is one consumer of a test's group, recording what its handler did.
type member struct {
	mu        sync.Mutex
	ended     map[string]int      // key -> successful ends
	partition map[int32]bool      // partitions whose records it handled
	cancelled map[int32]error     // partition -> cause of a cancelled hold
	holding   map[int32]chan bool // partition -> closed when its hold record runs
}

func newMember() *member {
	return &member{ended: map[string]int{}, partition: map[int32]bool{}, cancelled: map[int32]error{}, holding: map[int32]chan bool{}}
}

// handle ends every record; a record whose value starts with "hold" waits
// for release (or its ctx) first.
func (m *member) handle(release <-chan struct{}) idemqfranz.HandleFunc[string] {
	return func(ctx context.Context, r *kgo.Record, end dedupe.End[string]) error {
		if strings.HasPrefix(string(r.Value), "hold") && release != nil {
			close(m.hold(r.Partition))
			select {
			case <-release:
			case <-ctx.Done():
				m.mu.Lock()
				m.cancelled[r.Partition] = context.Cause(ctx)
				m.mu.Unlock()
				return context.Cause(ctx)
			}
		}
		m.mu.Lock()
		m.ended[header(r, "Idempotency-Key")]++
		m.partition[r.Partition] = true
		m.mu.Unlock()
		end("ok")
		return nil
	}
}

func (m *member) hold(p int32) chan bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.holding[p] == nil {
		m.holding[p] = make(chan bool)
	}
	return m.holding[p]
}

func (m *member) endedCount(key string) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.ended[key]
}

func (m *member) snapshot() (partitions map[int32]bool, cancelled map[int32]error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	partitions, cancelled = map[int32]bool{}, map[int32]error{}
	for p := range m.partition {
		partitions[p] = true
	}
	for p, err := range m.cancelled {
		cancelled[p] = err
	}
	return partitions, cancelled
}

// produceRound writes n keyed records to each partition, keys named after
// the round, and, if hold, a last record per partition that holds.
func (e *env) produceRound(t *testing.T, round string, n int, hold bool) []string {
	var rs []*kgo.Record
	var keys []string
	for p := range int32(e.Parts) {
		for i := range n {
			k := round + "-" + strconv.Itoa(int(p)) + "-" + strconv.Itoa(i)
			rs, keys = append(rs, rec(p, k, "v")), append(keys, k)
		}
		if hold {
			k := round + "-hold-" + strconv.Itoa(int(p))
			rs, keys = append(rs, rec(p, k, "hold")), append(keys, k)
		}
	}
	e.produce(t, rs...)
	return keys
}

// TestCooperativeRebalance proves that when a second member joins, only the
// partitions that move stop: their running handlers are cancelled with
// ErrRevoked and their finished prefix is committed, while the first
// member's other partitions keep their running handlers through the
// rebalance and go on committing; every key ends once in all.
func TestCooperativeRebalance(t *testing.T) {
	t.Parallel()
	cooperativeRebalance(t, false)
}

// TestNextGenRebalance is TestCooperativeRebalance under the next-generation
// consumer group protocol (KIP-848, Kafka 4.0+), where the broker assigns
// partitions and a member's heartbeat carries its reconciliation.
func TestNextGenRebalance(t *testing.T) {
	t.Parallel()
	cooperativeRebalance(t, true)
}

// cooperativeRebalance runs the cooperative rebalance scenario, under the
// next-generation protocol if nextGen (and then checks that the broker runs
// the group under it).
func cooperativeRebalance(t *testing.T, nextGen bool) {
	e := setup(t, 4)
	var opts []kgo.Opt
	if nextGen {
		opts = []kgo.Opt{kgo.ServerSideBalancer(), kgo.Balancers(kgo.CooperativeStickyBalancer())}
	}
	keys := e.produceRound(t, "r1", 20, false)
	a, b := newMember(), newMember()
	release := make(chan struct{})
	cfgA := e.config(t)
	cfgA.Client = e.clientOpts(opts...)
	cfgA.Handle = a.handle(release)
	ca := mustConsumer(t, cfgA)
	var kept sync.Map // partition -> offsets A committed after B had its assignment
	var bReady atomic.Bool
	idemqfranz.SetCommitHook(ca, func(_ string, p int32, off int64) {
		if bReady.Load() {
			kept.Store(p, off)
		}
	})
	ra := kafkatest.Start(t, ca.Run)
	kafkatest.Eventually(t, time.Minute, "A's first records committed on every partition", func() bool {
		c := e.Committed(t)
		return c[0] == 20 && c[1] == 20 && c[2] == 20 && c[3] == 20
	})
	keys = append(keys, e.produceRound(t, "r2", 0, true)...) // one held record per partition
	for p := range int32(4) {
		<-a.hold(p)
	}

	cfgB := e.config(t)
	cfgB.Client = e.clientOpts(opts...)
	cfgB.Handle = b.handle(nil)
	cb := mustConsumer(t, cfgB)
	kafkatest.Start(t, cb.Run)
	kafkatest.Eventually(t, time.Minute, "B running its partitions' held records", func() bool {
		return cb.Stats().Processed == 2
	})
	bReady.Store(true)
	if nextGen {
		e.wantNextGenGroup(t, 2)
	}
	_, cancelled := a.snapshot()
	if len(cancelled) != 2 {
		t.Fatalf("A's held handlers cancelled on partitions %v, want exactly the 2 that moved to B", cancelled)
	}
	for p, cause := range cancelled {
		if !errors.Is(cause, idemqfranz.ErrRevoked) {
			t.Errorf("partition %d's handler cancelled with %v, want ErrRevoked", p, cause)
		}
	}
	close(release)
	e.LagZero(t, time.Minute)
	for _, k := range keys {
		if n := a.endedCount(k) + b.endedCount(k); n != 1 {
			t.Errorf("key %s ended %d times, want 1", k, n)
		}
	}
	if s := ca.Stats(); s.PartitionsAssigned != 4 || s.PartitionsRevoked != 2 || s.PartitionsLost != 0 {
		t.Errorf("A's Stats = %+v, want 4 assigned, 2 revoked, 0 lost", s)
	}
	// The broker takes a commit before the hook records it: stop A so that
	// every commit it made is recorded.
	if err := ra.Stop(t); err != nil {
		t.Fatalf("A's Run = %v", err)
	}
	for p := range int32(4) {
		_, moved := cancelled[p]
		if off, ok := kept.Load(p); moved == ok || ok && off.(int64) != 21 {
			t.Errorf("partition %d: moved %v, A committed %v after B joined; want a commit of 21 by A exactly on the kept partitions", p, moved, off)
		}
	}
}

// TestStaticMembership proves that a member restarted with the same
// InstanceID within the session timeout gets its partitions back without a
// rebalance - the other member keeps its own and is assigned nothing new -
// and that no key runs twice across the restart.
func TestStaticMembership(t *testing.T) {
	t.Parallel()
	e := setup(t, 4)
	keys := e.produceRound(t, "r1", 20, false)
	a, a2, c := newMember(), newMember(), newMember()
	static := func(m *member, id string) *idemqfranz.Consumer[string] {
		cfg := e.config(t)
		cfg.Client = e.clientOpts(kgo.InstanceID(id), kgo.SessionTimeout(20*time.Second))
		cfg.Handle = m.handle(nil)
		return mustConsumer(t, cfg)
	}
	id := testenv.Name(t)
	ca, cc := static(a, "a-"+id), static(c, "c-"+id)
	ra := kafkatest.Start(t, ca.Run)
	kafkatest.Eventually(t, time.Minute, "A assigned", func() bool { return ca.Stats().PartitionsAssigned == 4 })
	kafkatest.Start(t, cc.Run)
	kafkatest.Eventually(t, time.Minute, "C assigned its share", func() bool { return cc.Stats().PartitionsAssigned == 2 })
	e.LagZero(t, time.Minute)
	if err := ra.Stop(t); err != nil {
		t.Fatalf("A's Run = %v", err)
	}
	keys = append(keys, e.produceRound(t, "r2", 20, false)...)
	ca2 := static(a2, "a-"+id)
	kafkatest.Start(t, ca2.Run)
	kafkatest.Eventually(t, time.Minute, "lag 0 after A's restart", func() bool { return e.Lag(t) == 0 })

	if s := cc.Stats(); s.PartitionsAssigned != 2 || s.PartitionsRevoked != 0 {
		t.Errorf("C's Stats = %+v, want 2 assigned and none revoked: A's restart must not rebalance", s)
	}
	if s := ca2.Stats(); s.PartitionsAssigned != 2 {
		t.Errorf("restarted A's Stats = %+v, want its 2 partitions back", s)
	}
	cParts, _ := c.snapshot()
	a2Parts, _ := a2.snapshot()
	for p := range a2Parts {
		if cParts[p] {
			t.Errorf("partition %d was handled by C and by the restarted A", p)
		}
	}
	for _, k := range keys {
		if n := a.endedCount(k) + a2.endedCount(k) + c.endedCount(k); n != 1 {
			t.Errorf("key %s ended %d times, want 1", k, n)
		}
	}
}

// wantNextGenGroup fails t unless the broker runs e's group under the
// next-generation protocol with members members.
func (e *env) wantNextGenGroup(t *testing.T, members int) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(e.Kafka.Brokers...))
	if err != nil {
		t.Fatalf("kgo.NewClient: %v", err)
	}
	defer cl.Close()
	req := kmsg.NewPtrConsumerGroupDescribeRequest()
	req.Groups = []string{e.Group}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	resp, err := req.RequestWith(ctx, cl)
	if err != nil {
		t.Fatalf("ConsumerGroupDescribe: %v", err)
	}
	if len(resp.Groups) != 1 || resp.Groups[0].ErrorCode != 0 || len(resp.Groups[0].Members) != members {
		t.Fatalf("ConsumerGroupDescribe(%s) = %+v, want one next-generation group with %d members", e.Group, resp.Groups, members)
	}
}
