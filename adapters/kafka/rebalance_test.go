package idemqkafka_test

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"github.com/idemq/idemq/consumer"
	"math/rand/v2"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	kafkago "github.com/segmentio/kafka-go"

	idemqkafka "github.com/idemq/idemq/adapters/kafka"
	"github.com/idemq/idemq/dedupe"
	"github.com/idemq/idemq/internal/testenv"
)

// TestRebalanceCancelsHandlers proves the first part of behaviour 6: when
// the generation ends, a running handler's ctx is cancelled with cause
// ErrRebalance, nothing is committed for it, and the message runs again
// in the next generation (here once more in total).
func TestRebalanceCancelsHandlers(t *testing.T) {
	t.Parallel()
	e := setup(t, 2)
	started := make(chan struct{})
	cause := make(chan error, 1)
	var calls atomic.Int32
	cfg := e.config()
	cfg.Handle = func(ctx context.Context, m kafkago.Message, end dedupe.End[string]) error {
		if calls.Add(1) == 1 {
			close(started)
			<-ctx.Done()
			cause <- context.Cause(ctx)
			return ctx.Err()
		}
		end("ok")
		return nil
	}
	a := mustConsumer(t, cfg)
	start(t, a)
	e.produce(t, msg("k", "v"))
	<-started
	b := mustConsumer(t, cfg)
	start(t, b)
	if got := <-cause; !errors.Is(got, idemqkafka.ErrRebalance) {
		t.Errorf("handler ctx cause = %v, want ErrRebalance", got)
	}
	eventually(t, time.Minute, "lag 0", func() bool { return e.lag(t) == 0 })
	if n := calls.Load(); n != 2 {
		t.Errorf("handler ran %d times, want 2 (cancelled, then done)", n)
	}
	if s := a.Stats(); s.Retries != 0 || s.DeadLettered != 0 {
		t.Errorf("Stats = %+v, want no retry and no dead letter for a rebalance", s)
	}
}

// TestRebalanceExactlyOnce is behaviour 6's scenario: two consumers in one
// group consume 20,000 messages on 8 partitions, 20% of them sent again
// with the same idempotency key (new offsets, often on another partition);
// a third consumer joins and the first leaves mid-stream, stopped cleanly
// or cancelled abruptly in the middle of a handler. The handler's effect,
// an INCR per key done before end, ends at exactly 1 for every key; the
// group's lag is 0; and no offset commit of a generation completes after a
// newer generation started.
func TestRebalanceExactlyOnce(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		redis  func(testing.TB) testenv.RedisServer
		abrupt bool
	}{
		{"Standalone/CleanStop", testenv.Redis, false},
		{"Standalone/AbruptCancel", testenv.Redis, true},
		{"Cluster/CleanStop", testenv.RedisCluster, false},
		{"Cluster/AbruptCancel", testenv.RedisCluster, true},
		{"Valkey/CleanStop", testenv.Valkey, false},
		{"Valkey/AbruptCancel", testenv.Valkey, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := tc.redis(t)
			e := setupOn(t, srv, 8)
			s := newScenario(t, e, srv)
			s.run(t, tc.abrupt)
		})
	}
}

const (
	uniqueKeys = 16_000
	resent     = 4_000
)

type scenario struct {
	e       *env
	srv     testenv.RedisServer
	effects atomic.Int64 // INCRs done
	drained atomic.Int64 // handlers cancelled by the drain timeout
	gens    *generations
	msgs    []kafkago.Message
}

func newScenario(t *testing.T, e *env, srv testenv.RedisServer) *scenario {
	type slotted struct {
		slot float64
		m    kafkago.Message
	}
	all := make([]slotted, 0, uniqueKeys+resent)
	for i := range uniqueKeys {
		m := msg(key(i), "first")
		m.Key = []byte("a-" + strconv.Itoa(i))
		all = append(all, slotted{float64(i), m})
	}
	// Each resend follows its original by a random distance, under
	// another Kafka key: a new offset, most often on another partition.
	r := rand.New(rand.NewPCG(1, 2))
	for i := range resent {
		k := i * (uniqueKeys / resent)
		m := msg(key(k), "again")
		m.Key = []byte("b-" + strconv.Itoa(k))
		all = append(all, slotted{float64(k) + 0.5 + float64(r.IntN(3000)), m})
	}
	slices.SortStableFunc(all, func(a, b slotted) int { return cmp.Compare(a.slot, b.slot) })
	msgs := make([]kafkago.Message, len(all))
	for i, s := range all {
		msgs[i] = s.m
	}
	return &scenario{e: e, srv: srv, gens: &generations{start: map[int32]time.Time{}}, msgs: msgs}
}

// consumer returns a member of the group whose handler does the INCR.
// When midHandler is not nil the handler signals it (once armed) and then
// works a little longer, so the test can cancel Run mid-handler.
func (s *scenario) consumer(t *testing.T, midHandler chan<- struct{}, drain time.Duration) *idemqkafka.Consumer[int64] {
	cfg := idemqkafka.Config[int64]{
		Reader: s.e.config().Reader, Store: s.e.store, KeyFunc: idemqkafka.HeaderKey("Idempotency-Key"),
		Backoff:        consumer.Backoff{Min: 10 * time.Millisecond, Max: 200 * time.Millisecond},
		Guard:          consumer.Guard{Lease: 5 * time.Second},
		BatchSize:      200,
		CommitInterval: 50 * time.Millisecond,
		DrainTimeout:   drain,
	}
	client := s.srv.Client
	cfg.Handle = func(ctx context.Context, m kafkago.Message, end dedupe.End[int64]) error {
		work := time.Duration(0)
		if midHandler != nil {
			select {
			case midHandler <- struct{}{}:
				work = 10 * time.Second // until Run is cancelled
			default:
			}
		} else if m.Offset%50 == 0 {
			work = time.Millisecond
		}
		if work > 0 {
			select {
			case <-time.After(work):
			case <-ctx.Done(): // cancelled before the effect: nothing done
				if errors.Is(context.Cause(ctx), idemqkafka.ErrDrainTimeout) {
					s.drained.Add(1)
				}
				return context.Cause(ctx)
			}
		}
		if err := ctx.Err(); err != nil {
			return context.Cause(ctx)
		}
		// The effect is not cancellable once started, and end follows it.
		n, err := client.Incr(context.WithoutCancel(ctx), s.srv.Prefix+"effect:"+header(m, "Idempotency-Key")).Result()
		if err != nil {
			return err
		}
		s.effects.Add(1)
		end(n)
		return nil
	}
	c := mustConsumer(t, cfg)
	idemqkafka.SetHooks(c, s.gens.started, s.gens.committed)
	return c
}

func (s *scenario) run(t *testing.T, abrupt bool) {
	third := len(s.msgs) / 3
	s.e.produce(t, s.msgs[:third]...)
	c1mid := make(chan struct{})
	var mid chan struct{}
	drain := 10 * time.Second
	if abrupt {
		mid, drain = c1mid, time.Millisecond
	}
	c1 := start(t, s.consumer(t, mid, drain))
	start(t, s.consumer(t, nil, 10*time.Second))
	eventually(t, 2*time.Minute, "a quarter of the effects", func() bool { return s.effects.Load() >= uniqueKeys/4 })
	start(t, s.consumer(t, nil, 10*time.Second))
	s.e.produce(t, s.msgs[third:2*third]...)
	eventually(t, 2*time.Minute, "half of the effects", func() bool { return s.effects.Load() >= uniqueKeys/2 })
	last := s.msgs[2*third:]
	if abrupt {
		s.e.produce(t, last...) // c1 must have messages to be in a handler
		last = nil
		select {
		case <-c1mid: // c1 is in a handler, before its effect
		case <-time.After(time.Minute):
			t.Fatal("the leaving consumer ran no handler")
		}
	}
	if err := c1.stop(t); err != nil {
		t.Errorf("leaving consumer's Run = %v, want nil", err)
	}
	if abrupt && s.drained.Load() == 0 {
		t.Error("no handler of the leaving consumer saw ErrDrainTimeout")
	}
	s.e.produce(t, last...)
	eventually(t, 3*time.Minute, "lag 0", func() bool { return s.e.lag(t) == 0 })
	s.checkEffects(t)
	s.gens.check(t)
}

// checkEffects reads every key's INCR count: exactly 1.
func (s *scenario) checkEffects(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	cmds := make([]*redis.StringCmd, uniqueKeys)
	if _, err := s.srv.Client.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i := range cmds {
			cmds[i] = p.Get(ctx, s.srv.Prefix+"effect:"+key(i))
		}
		return nil
	}); err != nil && !errors.Is(err, redis.Nil) {
		t.Fatalf("reading the effects: %v", err)
	}
	wrong := 0
	for i, cmd := range cmds {
		if n, err := cmd.Int(); err != nil || n != 1 {
			if wrong++; wrong <= 10 {
				t.Errorf("effect of %s = %d (%v), want 1", key(i), n, err)
			}
		}
	}
	if wrong > 0 {
		t.Errorf("%d of %d keys have an effect count other than 1", wrong, uniqueKeys)
	}
	if got := s.effects.Load(); got != uniqueKeys {
		t.Errorf("effects = %d, want %d", got, uniqueKeys)
	}
}

// generations records when each generation started and when each offset
// commit completed, across the members of the group.
type generations struct {
	mu      sync.Mutex
	start   map[int32]time.Time // earliest start of each generation in any member
	commits []commitAt
}

type commitAt struct {
	gen int32
	at  time.Time
}

func (g *generations) started(gen *kafkago.Generation) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if _, ok := g.start[gen.ID]; !ok {
		g.start[gen.ID] = time.Now()
	}
}

func (g *generations) committed(gen *kafkago.Generation, _ map[string]map[int]int64) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.commits = append(g.commits, commitAt{gen.ID, time.Now()})
}

// check fails for a commit of generation n that completed after a
// generation newer than n started.
func (g *generations) check(t *testing.T) {
	t.Helper()
	g.mu.Lock()
	defer g.mu.Unlock()
	if len(g.start) < 3 {
		t.Errorf("saw %d generations, want >= 3 (two joins and a leave)", len(g.start))
	}
	late := 0
	for _, c := range g.commits {
		for id, at := range g.start {
			if id > c.gen && at.Before(c.at) {
				if late++; late <= 5 {
					t.Errorf("a commit of generation %d completed %v after generation %d started", c.gen, c.at.Sub(at), id)
				}
			}
		}
	}
	if len(g.commits) == 0 {
		t.Error("no commits recorded")
	}
	_ = fmt.Sprint
}
