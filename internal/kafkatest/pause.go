package kafkatest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/idemq/idemq/dedupe"
	"github.com/idemq/idemq/internal/testenv"
	"github.com/idemq/idemq/internal/testwait"
)

// redisPaused: the consumer at the README's defaults (claim-first; the
// default lease, 30s; a redisstore.Store on a default go-redis client; the
// header key), two live members of one group on 8 partitions, 2,000 keys
// of which 10% are sent again on another partition, and a handler whose
// effect, a little work and then an INCR of the key's counter on the same
// Redis, is sent without cancellation so that it waits out a stall. When a
// third of the effects have begun, Redis is paused for writes (CLIENT
// PAUSE 6000 WRITE), longer than the queued lease (5s) and go-redis's read
// timeout (3s): the effects in flight wait it out, and so do the claims,
// renewals and commits. Nothing is killed and nobody leaves the group
// (its session timeout is kafka-go's default, 30s), so every key's effect
// must happen exactly once (none twice, none lost), the group's lag must
// end at 0, and no handler may start on a lease already lost (its ctx
// cancelled before it ran). Like a user's handler, this one does not look
// at its ctx before its effect: a handler started on a lost lease makes it.
//
// The server is the test's own, since it is paused. The effects go through
// a client without read timeout or retries, so that an INCR is sent and
// applied once: go-redis's default client sends again a command whose
// reply timed out, which could apply an INCR twice by itself.
func redisPaused(t *testing.T, d Driver) {
	const (
		keys       = 2000
		resent     = keys / 10
		parts      = 8
		pause      = 6 * time.Second
		effectTime = 2 * time.Millisecond
		pauseAfter = keys / 3 // effects begun when the pause starts
	)
	srv := testenv.OwnRedis(t)
	e := setupOn(t, d, srv, parts)
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
	handle := func(ctx context.Context, m Message, end dedupe.End[string]) error {
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
		time.Sleep(effectTime) // the work
		n, err := effects.Incr(context.WithoutCancel(ctx), effectKey(m.Header(keyHeader))).Result()
		if first {
			heldUntil.Store(time.Now().UnixNano())
		}
		if err != nil {
			return err
		}
		end(strconv.FormatInt(n, 10))
		return nil
	}

	// The README's defaults: everything zero but the Kafka plumbing; e's
	// store is on a default go-redis client.
	cfg := Config{Group: e.Group, Topic: e.Topic, Store: e.Store, KeyHeader: keyHeader, Handle: handle,
		Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelWarn})), SessionTimeout: 30 * time.Second}
	members := make([]*running, 2)
	for i := range members {
		members[i] = e.start(t, cfg)
	}
	t.Cleanup(release) // runs before the members stop: a handler may wait for it
	Eventually(t, time.Minute, "both members holding every partition", func() bool {
		return members[0].Assigned() > 0 && members[1].Assigned() > 0 && members[0].Assigned()+members[1].Assigned() == parts
	})

	e.produce(t, orderMessages(keys, resent, parts)...)

	select {
	case <-pauseAt:
	case <-time.After(testwait.Bound):
		t.Fatalf("%d of %d effects begun after %v, want %d before the pause", begun.Load(), keys, testwait.Bound, pauseAfter)
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
		if lag = e.Lag(t); lag == 0 {
			break
		}
	}
	for i, r := range members {
		if err := r.Stop(t); err != nil {
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
	twice, lost := countEffects(t, srv.Client, keys, func(i int) string { return effectKey(orderKey(i)) })
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

// countEffects reads the INCR counters of keys 0 to n-1 (at effectKey(i))
// and returns those above 1 ("key=count") and those never set.
func countEffects(t *testing.T, client redis.UniversalClient, n int, effectKey func(i int) string) (twice, lost []string) {
	t.Helper()
	ctx := context.Background()
	cmds := make([]*redis.StringCmd, n)
	if _, err := client.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i := range cmds {
			cmds[i] = p.Get(ctx, effectKey(i))
		}
		return nil
	}); err != nil && !errors.Is(err, redis.Nil) {
		t.Fatalf("reading the effects: %v", err)
	}
	for i, cmd := range cmds {
		c, err := cmd.Int()
		switch {
		case errors.Is(err, redis.Nil):
			lost = append(lost, effectKey(i))
		case err != nil:
			t.Fatalf("GET %s: %v", effectKey(i), err)
		case c > 1:
			twice = append(twice, fmt.Sprintf("%s=%d", effectKey(i), c))
		}
	}
	return twice, lost
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
