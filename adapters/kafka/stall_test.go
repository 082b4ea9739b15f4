package idemqkafka_test

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
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

// TestRedisWritePauseRunsEachKeyOnce is issue 21's scenario: the consumer
// at the README's defaults (claim-first; the lease left to default to the
// group's SessionTimeout, itself left to kafka-go's 30s as in the README's
// example; a redisstore.Store on a default go-redis client; HeaderKey), two live
// members of one group on 8 partitions, 2,000 keys of which 10% are sent
// again on another partition, and a handler whose effect, a little work and
// then an INCR of the key's counter on the same Redis, is sent without
// cancellation so that it waits out a stall. When a third of the effects
// have begun, Redis is paused for writes (CLIENT PAUSE 6000 WRITE), longer
// than the queued lease (5s) and go-redis's read timeout (3s): the effects
// in flight wait it out, and so do the claims, renewals and commits.
// Nothing is killed and nobody leaves the group, so every key's effect must
// happen exactly once (none twice, none lost), the group's lag must end at
// 0, and no handler may start on a lease already lost (its ctx cancelled
// before it ran). Like the handler, this one does not look at its
// ctx before its effect: a handler started on a lost lease makes it.
//
// The server is the test's own, since it is paused. The effects go through
// a client without read timeout or retries, so that an INCR is sent and
// applied once: go-redis's default client sends again a command whose reply
// timed out, which could apply an INCR twice by itself.
func TestRedisWritePauseRunsEachKeyOnce(t *testing.T) {
	t.Parallel()
	const (
		keys       = 2000
		resent     = keys / 10
		parts      = 8
		pause      = 6 * time.Second
		effectTime = 2 * time.Millisecond
		pauseAfter = keys / 3 // effects begun when the pause starts
	)
	srv := testenv.OwnRedis(t)
	e := setupOn(t, srv, parts)
	ctx := context.Background()
	effects := redis.NewClient(&redis.Options{Addr: srv.Addrs[0], ReadTimeout: -1, MaxRetries: -1, PoolSize: 32})
	t.Cleanup(func() { _ = effects.Close() })
	effectKey := func(k string) string { return srv.Prefix + "effect:" + k }

	var (
		begun       atomic.Int64             // effects begun
		inEffect    atomic.Int64             // effects begun and not returned
		deadAtStart atomic.Int64             // handlers called with their ctx already cancelled
		cancelledIn atomic.Int64             // handlers whose ctx was cancelled while they ran
		pauseAt     = make(chan struct{}, 1) // the effect that begins the pause is ready
		paused      = make(chan struct{})    // closed once Redis is paused (or the test gave up)
		release     = sync.OnceFunc(func() { close(paused) })
		heldUntil   atomic.Int64 // when that effect's INCR returned, in Unix ns
		logs        = &logBuffer{}
	)
	handle := func(ctx context.Context, m kafkago.Message, end dedupe.End[int64]) error {
		if ctx.Err() != nil {
			deadAtStart.Add(1)
		} else {
			defer func() {
				if ctx.Err() != nil {
					cancelledIn.Add(1)
				}
			}()
		}
		// The effect, as a user writes it: once begun it runs to the end.
		inEffect.Add(1)
		defer inEffect.Add(-1)
		first := begun.Add(1) == pauseAfter
		if first {
			pauseAt <- struct{}{}
			<-paused
		}
		time.Sleep(effectTime)
		n, err := effects.Incr(context.WithoutCancel(ctx), effectKey(header(m, "Idempotency-Key"))).Result()
		if first {
			heldUntil.Store(time.Now().UnixNano())
		}
		if err != nil {
			return err
		}
		end(n)
		return nil
	}

	rc := e.k.ReaderConfig(e.topic, e.group)
	rc.SessionTimeout = 0 // kafka-go's 30s, as in the README: the lease's default
	cfg := idemqkafka.Config[int64]{
		Reader:  rc,
		Store:   e.store,
		KeyFunc: idemqkafka.HeaderKey("Idempotency-Key"),
		Handle:  handle,
		Logger:  slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelWarn})),
	}
	var gens memberGenerations
	members := make([]*idemqkafka.Consumer[int64], 2)
	runs := make([]*running, 2)
	for i := range members {
		members[i] = mustConsumer(t, cfg)
		idemqkafka.SetHooks(members[i], func(g *kafkago.Generation) { gens.started(i, g) }, nil)
		runs[i] = start(t, members[i])
	}
	t.Cleanup(release) // runs before the members stop: a handler may wait for it
	eventually(t, time.Minute, "both members in one generation with every partition", func() bool { return gens.settled(len(members), parts) })

	w := e.k.Writer(t, e.topic)
	w.Balancer = kafkago.BalancerFunc(func(m kafkago.Message, partitions ...int) int {
		p, _ := strconv.Atoi(string(m.Key[:bytes.IndexByte(m.Key, '/')]))
		return partitions[p%len(partitions)]
	})
	wctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if err := w.WriteMessages(wctx, stallMessages(keys, resent, parts)...); err != nil {
		t.Fatalf("WriteMessages: %v", err)
	}

	select {
	case <-pauseAt:
	case <-time.After(time.Minute):
		t.Fatalf("%d of %d effects begun after a minute, want %d before the pause", begun.Load(), keys, pauseAfter)
	}
	pausing := time.Now()
	err := srv.Client.Do(ctx, "CLIENT", "PAUSE", pause.Milliseconds(), "WRITE").Err()
	inFlight := inEffect.Load()
	release()
	if err != nil {
		t.Fatalf("CLIENT PAUSE: %v", err)
	}

	lag := int64(-1)
	for deadline := pausing.Add(pause + 30*time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if lag = e.lag(t); lag == 0 {
			break
		}
	}
	for i, r := range runs {
		if err := r.stop(t); err != nil {
			t.Errorf("member %d: Run = %v, want nil", i, err)
		}
	}

	// The pause began after pausing and ends pause later by Redis's clock:
	// an effect sent meanwhile cannot return before.
	if held := time.Duration(heldUntil.Load() - pausing.UnixNano()); held < pause-100*time.Millisecond {
		t.Errorf("the effect sent at the pause returned %v after it began, want >= %v (the pause held no write)", held, pause-100*time.Millisecond)
	}
	if lag != 0 {
		t.Errorf("group lag %v after the pause began = %d, want 0", pause+30*time.Second, lag)
	}
	cmds := make([]*redis.StringCmd, keys)
	if _, err := srv.Client.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i := range cmds {
			cmds[i] = p.Get(ctx, effectKey(stallKey(i)))
		}
		return nil
	}); err != nil && !errors.Is(err, redis.Nil) {
		t.Fatalf("reading the effects: %v", err)
	}
	var twice, lost []string
	for i, cmd := range cmds {
		n, err := cmd.Int()
		switch {
		case errors.Is(err, redis.Nil):
			lost = append(lost, stallKey(i))
		case err != nil:
			t.Fatalf("GET %s: %v", effectKey(stallKey(i)), err)
		case n > 1:
			twice = append(twice, fmt.Sprintf("%s=%d", stallKey(i), n))
		}
	}
	if len(twice) != 0 {
		t.Errorf("keys whose effect ran more than once = %d of %d, want 0: %s", len(twice), keys, head(twice, 10))
	}
	if len(lost) != 0 {
		t.Errorf("keys whose effect never ran = %d of %d, want 0: %s", len(lost), keys, head(lost, 10))
	}
	if n := deadAtStart.Load(); n != 0 {
		t.Errorf("handlers called with their ctx already cancelled = %d, want 0 (a handler starts on a live lease)", n)
	}
	t.Logf("effects in flight when the pause began: %d; handlers whose ctx was cancelled while they ran: %d", inFlight, cancelledIn.Load())
	for i, c := range members {
		t.Logf("member %d: %+v", i, c.Stats())
	}
	if t.Failed() {
		t.Logf("the members' first warnings:\n%s", logs.head(10))
	}
}

func stallKey(i int) string { return fmt.Sprintf("order-%04d", i) }

// stallMessages returns keys messages, key i on partition i%parts, and
// resent more: every (keys/resent)th key sent again a little later
// (0 to 300 keys later) on another partition. A message's Kafka key is
// "partition/n", read by the test's balancer.
func stallMessages(keys, resent, parts int) []kafkago.Message {
	type slotted struct {
		slot float64
		m    kafkago.Message
	}
	mk := func(i, p int, value string) kafkago.Message {
		m := msg(stallKey(i), value)
		m.Key = []byte(strconv.Itoa(p) + "/" + value + "-" + strconv.Itoa(i))
		return m
	}
	r := rand.New(rand.NewPCG(21, 21))
	all := make([]slotted, 0, keys+resent)
	for i := range keys {
		all = append(all, slotted{float64(i), mk(i, i%parts, "first")})
	}
	for j := range resent {
		i := j * (keys / resent)
		p := (i%parts + 1 + r.IntN(parts-1)) % parts // never i%parts
		all = append(all, slotted{float64(i) + 0.5 + float64(r.IntN(300)), mk(i, p, "again")})
	}
	slices.SortStableFunc(all, func(a, b slotted) int { return cmp.Compare(a.slot, b.slot) })
	msgs := make([]kafkago.Message, len(all))
	for i, s := range all {
		msgs[i] = s.m
	}
	return msgs
}

// memberGenerations is the latest generation each member of a group started.
type memberGenerations struct {
	mu     sync.Mutex
	latest map[int]*kafkago.Generation
}

func (g *memberGenerations) started(member int, gen *kafkago.Generation) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.latest == nil {
		g.latest = map[int]*kafkago.Generation{}
	}
	g.latest[member] = gen
}

// settled reports whether all members started one generation whose
// assignments cover parts partitions.
func (g *memberGenerations) settled(members, parts int) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if len(g.latest) != members {
		return false
	}
	id, assigned := g.latest[0].ID, 0
	for _, gen := range g.latest {
		if gen.ID != id {
			return false
		}
		for _, as := range gen.Assignments {
			assigned += len(as)
		}
	}
	return assigned == parts
}

// logBuffer keeps the first 64 KiB a logger writes.
type logBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.b.Len() < 64<<10 {
		l.b.Write(p)
	}
	return len(p), nil
}

// head returns the first n lines written.
func (l *logBuffer) head(n int) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	lines := strings.SplitAfter(l.b.String(), "\n")
	return strings.Join(lines[:min(n, len(lines))], "")
}

func head(s []string, n int) string {
	if len(s) > n {
		return strings.Join(s[:n], " ") + " ..."
	}
	return strings.Join(s, " ")
}
