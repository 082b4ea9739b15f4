package kafkatest

import (
	"cmp"
	"context"
	"errors"
	"math/rand/v2"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/idemq/idemq/consumer"
	"github.com/idemq/idemq/dedupe"
	"github.com/idemq/idemq/internal/testenv"
	"github.com/idemq/idemq/internal/testwait"
)

var rebalanceScenarios = map[string]scenario{
	"CancelsHandlers": rebalanceCancelsHandlers,
	"ExactlyOnce":     rebalanceExactlyOnce,
}

// rebalanceCancelsHandlers: when a second member joins, the running
// handlers of the partitions that move (every partition of the member,
// unless the adapter rebalances cooperatively) have their ctx cancelled
// with the adapter's rebalance cause; nothing is committed for them, and
// each runs once more, where its partition went. A handler whose partition
// stays is not cancelled. Every key ends once.
func rebalanceCancelsHandlers(t *testing.T, d Driver) {
	e := setup(t, d, 2)
	var calls, ended counts
	held := make(chan string, 2)
	release := make(chan struct{})
	var causes sync.Map // key -> the cause of its cancelled first run
	cfg := e.config()
	cfg.Handle = func(ctx context.Context, m Message, end dedupe.End[string]) error {
		k := m.Header(keyHeader)
		if calls.add(k) == 1 {
			held <- k
			select {
			case <-release:
			case <-ctx.Done():
				causes.Store(k, context.Cause(ctx))
				return context.Cause(ctx)
			}
		}
		ended.add(k)
		end("ok")
		return nil
	}
	a := e.start(t, cfg)
	e.produce(t, msg(0, "k0", "v"), msg(1, "k1", "v")) // one held handler per partition
	testwait.Recv(t, held, "a first handler held")
	testwait.Recv(t, held, "a second handler held")
	b := e.start(t, cfg)
	Eventually(t, time.Minute, "the joining member running a moved key", func() bool { return b.Stats().Processed >= 1 })
	moved := 0
	causes.Range(func(k, cause any) bool {
		moved++
		if !errors.Is(cause.(error), d.Adapter().ErrRebalance) {
			t.Errorf("%s: handler ctx cause = %v, want the adapter's rebalance cause", k, cause)
		}
		return true
	})
	if want := map[bool]int{true: 1, false: 2}[d.Adapter().CooperativeRebalance]; moved != want {
		t.Errorf("%d held handlers cancelled, want %d (cooperative rebalance: %v)", moved, want, d.Adapter().CooperativeRebalance)
	}
	close(release)
	e.LagZero(t, time.Minute)
	for _, k := range []string{"k0", "k1"} {
		_, cancelled := causes.Load(k)
		if want := map[bool]int{true: 2, false: 1}[cancelled]; calls.get(k) != want || ended.get(k) != 1 {
			t.Errorf("%s ran %d times and ended %d times, want %d and 1 (cancelled: %v)", k, calls.get(k), ended.get(k), want, cancelled)
		}
	}
	if s := a.Stats(); s.Retries != 0 || s.DeadLettered != 0 {
		t.Errorf("Stats = %+v, want no retry and no dead letter for a rebalance", s)
	}
}

// rebalanceExactlyOnce: two members of one group consume 20,000 messages on
// 8 partitions, 20% of them sent again with the same idempotency key (new
// offsets, on another partition); a third member joins and the first
// leaves mid-stream, stopped cleanly or cancelled abruptly in the middle of
// a handler. The handler's effect, an INCR per key done before end, ends at
// exactly 1 for every key; the group's lag is 0; the joining member gets
// partitions and, once the first has left, the other two hold them all.
func rebalanceExactlyOnce(t *testing.T, d Driver) {
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
			newRebalance(setupOn(t, d, srv, rebalanceParts), srv).run(t, tc.abrupt)
		})
	}
}

const (
	uniqueKeys     = 16_000
	resent         = 4_000
	rebalanceParts = 8
)

type rebalance struct {
	e       *env
	srv     testenv.RedisServer
	effects atomic.Int64 // INCRs done
	drained atomic.Int64 // handlers cancelled by the drain timeout
	msgs    []Message
}

func newRebalance(e *env, srv testenv.RedisServer) *rebalance {
	type slotted struct {
		slot float64
		m    Message
	}
	all := make([]slotted, 0, uniqueKeys+resent)
	for i := range uniqueKeys {
		m := msg(i%rebalanceParts, key(i), "first")
		m.Key = []byte("a-" + strconv.Itoa(i))
		all = append(all, slotted{float64(i), m})
	}
	// Each resend follows its original by a random distance, under
	// another Kafka key, on another partition.
	r := rand.New(rand.NewPCG(1, 2))
	for i := range resent {
		k := i * (uniqueKeys / resent)
		m := msg((k+1+r.IntN(rebalanceParts-1))%rebalanceParts, key(k), "again")
		m.Key = []byte("b-" + strconv.Itoa(k))
		all = append(all, slotted{float64(k) + 0.5 + float64(r.IntN(3000)), m})
	}
	slices.SortStableFunc(all, func(a, b slotted) int { return cmp.Compare(a.slot, b.slot) })
	msgs := make([]Message, len(all))
	for i, s := range all {
		msgs[i] = s.m
	}
	return &rebalance{e: e, srv: srv, msgs: msgs}
}

// config returns a member's Config whose handler does the INCR. When
// midHandler is not nil the handler signals it (once armed) and then works
// a little longer, so the test can cancel Run mid-handler.
func (s *rebalance) config(midHandler chan<- struct{}, drain time.Duration) Config {
	cfg := s.e.config()
	cfg.Backoff = consumer.Backoff{Min: 10 * time.Millisecond, Max: 200 * time.Millisecond}
	cfg.BatchSize = 200
	cfg.CommitInterval = 50 * time.Millisecond
	cfg.DrainTimeout = drain
	client := s.srv.Client
	cfg.Handle = func(ctx context.Context, m Message, end dedupe.End[string]) error {
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
			timer := time.NewTimer(work)
			defer timer.Stop()
			select {
			case <-timer.C:
			case <-ctx.Done(): // cancelled before the effect: nothing done
				if errors.Is(context.Cause(ctx), s.e.d.Adapter().ErrDrainTimeout) {
					s.drained.Add(1)
				}
				return context.Cause(ctx)
			}
		}
		if err := ctx.Err(); err != nil {
			return context.Cause(ctx)
		}
		// The effect is not cancellable once started, and end follows it.
		n, err := client.Incr(context.WithoutCancel(ctx), s.srv.Prefix+"effect:"+m.Header(keyHeader)).Result()
		if err != nil {
			return err
		}
		s.effects.Add(1)
		end(strconv.FormatInt(n, 10))
		return nil
	}
	return cfg
}

func (s *rebalance) run(t *testing.T, abrupt bool) {
	third := len(s.msgs) / 3
	s.e.produce(t, s.msgs[:third]...)
	c1mid := make(chan struct{})
	var mid chan struct{}
	drain := 10 * time.Second
	if abrupt {
		mid, drain = c1mid, time.Millisecond
	}
	c1 := s.e.start(t, s.config(mid, drain))
	c2 := s.e.start(t, s.config(nil, 10*time.Second))
	Eventually(t, 2*time.Minute, "a quarter of the effects", func() bool { return s.effects.Load() >= uniqueKeys/4 })
	c3 := s.e.start(t, s.config(nil, 10*time.Second))
	s.e.produce(t, s.msgs[third:2*third]...)
	Eventually(t, 2*time.Minute, "half of the effects", func() bool { return s.effects.Load() >= uniqueKeys/2 })
	Eventually(t, time.Minute, "the third member assigned partitions", func() bool { return c3.Stats().Assignments > 0 })
	last := s.msgs[2*third:]
	if abrupt {
		s.e.produce(t, last...) // c1 must have messages to be in a handler
		last = nil
		testwait.Recv(t, c1mid, "the leaving member in a handler, before its effect")
	}
	if err := c1.Stop(t); err != nil {
		t.Errorf("leaving member's Run = %v, want nil", err)
	}
	if abrupt && s.drained.Load() == 0 {
		t.Error("no handler of the leaving member saw ErrDrainTimeout")
	}
	s.e.produce(t, last...)
	s.e.LagZero(t, 3*time.Minute)
	Eventually(t, time.Minute, "the two members left holding every partition", func() bool {
		return c2.Assigned()+c3.Assigned() == rebalanceParts
	})
	s.checkEffects(t)
	if n := c1.Stats().OffsetCommits + c2.Stats().OffsetCommits + c3.Stats().OffsetCommits; n == 0 {
		t.Error("no offset commits")
	}
}

// checkEffects reads every key's INCR count: exactly 1.
func (s *rebalance) checkEffects(t *testing.T) {
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
