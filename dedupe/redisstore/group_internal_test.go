package redisstore

import (
	"context"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/idemq/idemq/dedupe"
	"github.com/idemq/idemq/internal/testwait"
)

// fakeSend is a group's send: it reports the keys of each round trip when
// it starts, returns once gate lets it (closed: at once), and answers each
// op with its key as the record's token.
type fakeSend struct {
	sent chan []string
	gate chan struct{}
}

func newFakeSend() *fakeSend {
	return &fakeSend{sent: make(chan []string, 8), gate: make(chan struct{})}
}

func (f *fakeSend) send(_ context.Context, ops []dedupe.Op) []dedupe.OpResult {
	keys := make([]string, len(ops))
	results := make([]dedupe.OpResult, len(ops))
	for i, op := range ops {
		keys[i] = op.Key
		results[i].Current.Token = op.Key
	}
	f.sent <- keys
	<-f.gate
	return results
}

// answer is a result a test goroutine got for key.
type answer struct {
	key string
	r   dedupe.OpResult
}

// TestGroupExecQueuedCalls: calls made while maxInFlight round trips are
// in flight go out together in the next one, whoever is left to send it: a
// caller that waits, or a goroutine of the group's own when only calls of
// start (whose callers do not wait) are queued. Every call gets its own
// result.
func TestGroupExecQueuedCalls(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name         string
		async, waits []string // queued calls of start, then of exec1
	}{
		{"StartedCallsAlone", []string{"c", "d"}, nil},
		{"StartedAndWaitingCalls", []string{"c", "d"}, []string{"e"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f, ctx := newFakeSend(), context.Background()
			g := &groupExec{send: f.send}
			answers := make(chan answer, 8)
			exec1 := func(key string) {
				go func() { answers <- answer{key, g.exec1(ctx, dedupe.Op{Kind: dedupe.OpGet, Key: key})} }()
			}
			for _, k := range []string{"a", "b"} { // the round trips in flight
				exec1(k)
				testwait.Recv(t, f.sent, "a round trip of one call")
			}
			for _, k := range tc.async {
				g.start(ctx, dedupe.Op{Kind: dedupe.OpGet, Key: k}, func(r dedupe.OpResult) { answers <- answer{k, r} })
			}
			for _, k := range tc.waits {
				exec1(k)
			}
			waitQueued(t, g, len(tc.async)+len(tc.waits))
			close(f.gate)
			queued := slices.Concat(tc.async, tc.waits)
			if got := testwait.Recv(t, f.sent, "the queued calls' round trip"); !sameKeys(got, queued) {
				t.Errorf("the next round trip carried %q, want the queued calls %q", got, queued)
			}
			for range 2 + len(queued) {
				a := testwait.Recv(t, answers, "a call's result")
				if a.r.Current.Token != a.key {
					t.Errorf("call of %q got the result of %q", a.key, a.r.Current.Token)
				}
			}
			select {
			case keys := <-f.sent:
				t.Errorf("an extra round trip carried %q", keys)
			default:
			}
		})
	}
}

// waitQueued waits until n calls are queued: a caller of exec1 queues its
// call in its own goroutine, with no signal to wait for.
func waitQueued(t *testing.T, g *groupExec, n int) {
	t.Helper()
	for deadline := time.Now().Add(testwait.Bound); ; runtime.Gosched() {
		g.mu.Lock()
		queued := len(g.queue)
		g.mu.Unlock()
		switch {
		case queued == n:
			return
		case time.Now().After(deadline):
			t.Fatalf("%d calls queued after %v, want %d", queued, testwait.Bound, n)
		}
	}
}

func sameKeys(got, want []string) bool {
	return slices.Equal(slices.Sorted(slices.Values(got)), slices.Sorted(slices.Values(want)))
}
