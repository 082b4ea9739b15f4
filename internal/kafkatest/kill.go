package kafkatest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/idemq/idemq/dedupe"
	"github.com/idemq/idemq/dedupe/redisstore"
	"github.com/idemq/idemq/internal/testwait"
)

// Members of the SIGKILL scenario: the names their effects and committed
// values carry.
const (
	childName    = "child"
	survivorName = "survivor"
)

// sigkill: two members of one group on 4 partitions, one of them another
// process (the test binary again), consume 1,200 keys of which 10% are
// sent again on another partition; each handler's effect is an RPUSH of
// its member's name to the key's list, done before end, which commits the
// name. After its 150th effect the child holds that key's handler, and the
// test SIGKILLs it: no Run returns, no commit or leave is sent. The
// survivor must then take over the child's partitions and finish (lag 0):
// no key lost (every key has an effect and a committed value), and a key
// runs twice only within the documented bound: a handler that was running
// on the killed member and had not committed, run again by the survivor
// once its lease ran out (the list is [child survivor] and the survivor's
// value is committed). The held key must be such a key.
func sigkill(t *testing.T, d Driver) {
	const (
		keys      = 1200
		resent    = keys / 10
		parts     = 4
		killAfter = 150
	)
	e := setup(t, d, parts)
	effects := redis.NewClient(&redis.Options{Addr: e.redis.Addrs[0], MaxRetries: -1})
	t.Cleanup(func() { _ = effects.Close() })
	spec := childSpec{Group: e.Group, Topic: e.Topic, Redis: e.redis.Addrs[0], Prefix: e.redis.Prefix, KillAfter: killAfter}

	survivor := e.start(t, spec.config(e.Store, effects, survivorName, nil))
	child := startChild(t, spec)
	Eventually(t, time.Minute, "the child holding half the partitions", func() bool { return survivor.Assigned() == parts/2 })
	msgs := orderMessages(keys, resent, parts)
	e.produce(t, msgs...)

	held := child.awaitHeld(t)
	child.kill(t)
	e.LagZero(t, 2*time.Minute)
	if err := survivor.Stop(t); err != nil {
		t.Errorf("the survivor's Run = %v, want nil", err)
	}

	lists := effectLists(t, effects, spec, keys)
	var twice, lost, wrong []string
	byMember := map[string]int{}
	for i, list := range lists {
		k := orderKey(i)
		for _, m := range list {
			byMember[m]++
		}
		value := e.stored(t, k)
		switch {
		case len(list) == 0 || value == "":
			lost = append(lost, fmt.Sprintf("%s%v=%s", k, list, value))
		case len(list) > 1:
			twice = append(twice, k)
			if !slices.Equal(list, []string{childName, survivorName}) || value != `"`+survivorName+`"` {
				wrong = append(wrong, fmt.Sprintf("%s%v=%s", k, list, value))
			}
		}
	}
	if len(lost) > 0 {
		t.Errorf("%d keys lost (no effect or no committed value), want 0: %s", len(lost), head(lost, 10))
	}
	if len(wrong) > 0 {
		t.Errorf("%d keys ran twice outside the bound, want 0 (only a key running on the killed member, uncommitted, may run again, on the survivor): %s",
			len(wrong), head(wrong, 10))
	}
	if !slices.Contains(twice, held) {
		t.Errorf("the key the child held, %s, ran %v; want [child survivor]: its lease ran out and the survivor ran it", held, lists[keyIndex(held)])
	}
	if byMember[childName] < killAfter || byMember[survivorName] == 0 {
		t.Errorf("effects by member = %v, want >= %d by the child and some by the survivor", byMember, killAfter)
	}
	t.Logf("effects by member %v; keys run twice (the child's, in flight at the SIGKILL): %d %v", byMember, len(twice), twice)
}

// keyIndex is the i of orderKey(i).
func keyIndex(k string) int {
	var i int
	_, _ = fmt.Sscanf(k, "order-%d", &i)
	return i
}

// effectLists reads the effect lists of keys 0 to n-1.
func effectLists(t *testing.T, client *redis.Client, spec childSpec, n int) [][]string {
	t.Helper()
	ctx := context.Background()
	cmds := make([]*redis.StringSliceCmd, n)
	if _, err := client.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i := range cmds {
			cmds[i] = p.LRange(ctx, spec.effectKey(orderKey(i)), 0, -1)
		}
		return nil
	}); err != nil {
		t.Fatalf("reading the effects: %v", err)
	}
	lists := make([][]string, n)
	for i, cmd := range cmds {
		lists[i] = cmd.Val()
	}
	return lists
}

// childEnv carries a childSpec to the test binary the SIGKILL scenario
// starts: Run then runs the child member.
const childEnv = "IDEMQ_KAFKATEST_CHILD"

// heldLine starts the line the child writes when it holds a key.
const heldLine = "kafkatest: holding "

// childSpec is what the child member needs to know.
type childSpec struct {
	Group, Topic  string
	Redis, Prefix string // the store's and the effects' Redis, and the store's prefix
	KillAfter     int    // the child holds its KillAfter-th effect's key
}

func (s childSpec) effectKey(k string) string { return s.Prefix + "effect:" + k }

// config returns the Config of a member named name: its handler pushes
// name to the key's effect list, with effects, and commits name. When hold
// is not nil the handler calls it after each effect with the count of
// effects so far; hold returns whether to hold the key until ctx ends.
func (s childSpec) config(store dedupe.Store, effects *redis.Client, name string, hold func(k string, n int64) bool) Config {
	cfg := FastConfig(s.Group, s.Topic, store)
	var n atomic.Int64
	cfg.Handle = func(ctx context.Context, m Message, end dedupe.End[string]) error {
		time.Sleep(time.Millisecond) // the work
		k := m.Header(keyHeader)
		if err := effects.RPush(context.WithoutCancel(ctx), s.effectKey(k), name).Err(); err != nil {
			return err
		}
		if hold != nil && hold(k, n.Add(1)) {
			<-ctx.Done()
			return context.Cause(ctx)
		}
		end(name)
		return nil
	}
	return cfg
}

// runChild is the child process: a member that holds its KillAfter-th key
// and writes heldLine with it, until it is killed.
func runChild(t *testing.T, d Driver, raw string) {
	var spec childSpec
	if err := json.Unmarshal([]byte(raw), &spec); err != nil {
		t.Fatalf("kafkatest: child spec: %v", err)
	}
	client := redis.NewClient(&redis.Options{Addr: spec.Redis})
	effects := redis.NewClient(&redis.Options{Addr: spec.Redis, MaxRetries: -1})
	store, err := redisstore.New(client, redisstore.WithPrefix(spec.Prefix))
	if err != nil {
		t.Fatalf("kafkatest: child: %v", err)
	}
	var once sync.Once
	cfg := spec.config(store, effects, childName, func(k string, n int64) bool {
		if n != int64(spec.KillAfter) {
			return false
		}
		once.Do(func() { fmt.Fprintln(os.Stdout, heldLine+k) })
		return true
	})
	c, err := d.NewConsumer(t, cfg)
	if err != nil {
		t.Fatalf("kafkatest: child: %v", err)
	}
	t.Fatalf("kafkatest: child: Run returned before the SIGKILL: %v", c.Run(context.Background()))
}

// child is the started child process.
type child struct {
	held   chan string   // the key it holds, once
	exited chan struct{} // closed once it has exited
	output *lockedBuffer // its stdout and stderr
	kill   func(t *testing.T)
}

// awaitHeld returns the key the child holds once it says so, failing t if
// it exits first or says nothing within testwait.Bound.
func (c *child) awaitHeld(t *testing.T) string {
	t.Helper()
	timer := time.NewTimer(testwait.Bound)
	defer timer.Stop()
	select {
	case k := <-c.held:
		return k
	case <-c.exited:
		t.Fatalf("the child exited before it held a key; its output:\n%s", c.output)
	case <-timer.C:
		t.Fatalf("the child held no key within %v; its output:\n%s", testwait.Bound, c.output)
	}
	return ""
}

// startChild re-executes the test binary as a member of spec's group; it is
// SIGKILLed at the end of the test at the latest.
func startChild(t *testing.T, spec childSpec) *child {
	t.Helper()
	raw, err := json.Marshal(spec)
	if err != nil {
		t.Fatal(err)
	}
	top, _, _ := strings.Cut(t.Name(), "/")
	cmd := exec.Command(os.Args[0], "-test.run=^"+top+"$", "-test.count=1", "-test.timeout=10m")
	cmd.Env = append(os.Environ(), childEnv+"="+string(raw))
	cmd.SysProcAttr = dieWithParent()
	c := &child{held: make(chan string, 1), exited: make(chan struct{}), output: &lockedBuffer{}}
	stdout := &lineWriter{line: func(l string) {
		if k, ok := strings.CutPrefix(l, heldLine); ok {
			select {
			case c.held <- k:
			default:
			}
		}
		_, _ = c.output.Write([]byte(l + "\n"))
	}}
	cmd.Stdout, cmd.Stderr = stdout, c.output
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting the child: %v", err)
	}
	go func() { _ = cmd.Wait(); close(c.exited) }()
	var once sync.Once
	c.kill = func(t *testing.T) {
		once.Do(func() {
			if err := cmd.Process.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
				t.Errorf("SIGKILL: %v", err)
			}
			testwait.Recv(t, c.exited, "the child's exit")
			if cmd.ProcessState.Exited() {
				t.Errorf("the child ended on its own (%v) before the SIGKILL; its output:\n%s", cmd.ProcessState, c.output)
			}
			if s := c.output.String(); strings.Contains(s, "DATA RACE") {
				t.Errorf("the child reported a data race:\n%s", s)
			}
		})
	}
	t.Cleanup(func() { c.kill(t) })
	return c
}

// lineWriter calls line for each complete line written to it.
type lineWriter struct {
	line func(string)
	mu   sync.Mutex
	buf  bytes.Buffer
}

func (w *lineWriter) Write(b []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(b)
	for {
		l, err := w.buf.ReadString('\n')
		if err != nil { // no full line yet: keep it
			w.buf.Reset()
			w.buf.WriteString(l)
			return len(b), nil
		}
		w.line(strings.TrimSuffix(l, "\n"))
	}
}

// lockedBuffer is a process's output, read while the process may write.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
