package idemqwatermill_test

import (
	"bytes"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"

	wmessage "github.com/ThreeDotsLabs/watermill/message"

	idemqwatermill "github.com/idemq/idemq/adapters/watermill"
	"github.com/idemq/idemq/internal/testenv"
)

// TestScopeAcrossInstances is the trap Config.Scope closes: two routers
// (two instances, each with its own store on one Redis) register the same
// handler under different names, "h-a" and "h-b", and each message goes to
// one of them at random, as a consumer group would send it. 600 messages,
// 30% of them repeating an earlier key.
//
// With the default scope (the handler's name) the instances deduplicate
// nothing between them: keys whose repeat went to the other router run
// twice, and each router logs its own scope, which is how a user sees it.
// With one explicit Scope, every key runs exactly once.
func TestScopeAcrossInstances(t *testing.T) {
	t.Parallel()
	srv := testenv.Redis(t)
	msgs := scopeWorkload(600, 0.3)
	t.Run("DefaultScopeIsTheHandlerName", func(t *testing.T) {
		t.Parallel()
		runs, logs := runTwoNamedRouters(t, within(t, srv), "", msgs)
		twice := 0
		for _, n := range runs {
			if n > 1 {
				twice++
			}
		}
		if twice == 0 {
			t.Errorf("no key ran twice across two routers with different handler names; the trap this test shows is gone?")
		}
		for _, name := range []string{"h-a", "h-b"} {
			if !strings.Contains(logs, "scope="+name) {
				t.Errorf("no log line names the scope %q; log:\n%s", name, logs)
			}
		}
	})
	t.Run("ExplicitScopeIsShared", func(t *testing.T) {
		t.Parallel()
		runs, logs := runTwoNamedRouters(t, within(t, srv), "orders", msgs)
		for k, n := range runs {
			if n != 1 {
				t.Errorf("key %s ran %d times, want 1", k, n)
			}
		}
		if want := len(uniqueKeys(msgs)); len(runs) != want {
			t.Errorf("%d keys ran, want %d", len(runs), want)
		}
		if !strings.Contains(logs, "scope=orders") || !strings.Contains(logs, "from=Config.Scope") {
			t.Errorf("the shared scope is not logged; log:\n%s", logs)
		}
	})
}

// scopeWorkload returns n messages of which share repeat an earlier key.
func scopeWorkload(n int, share float64) []string {
	r := rand.New(rand.NewPCG(5, 6))
	keys := make([]string, n)
	for i := range keys {
		keys[i] = fmt.Sprintf("order-%d", i)
		if i > 0 && r.Float64() < share {
			keys[i] = keys[r.IntN(i)]
		}
	}
	return keys
}

func uniqueKeys(keys []string) map[string]bool {
	u := map[string]bool{}
	for _, k := range keys {
		u[k] = true
	}
	return u
}

// runTwoNamedRouters runs the handler under the names h-a and h-b on two
// routers with their own stores and the given Scope, sends each key to one
// of them at random, and returns the runs per key and both routers' logs.
func runTwoNamedRouters(t *testing.T, srv testenv.RedisServer, scope string, keys []string) (map[string]int, string) {
	ps := newGoChannel(t)
	var mu sync.Mutex
	runs := map[string]int{}
	var logs syncBuffer
	for i, name := range []string{"h-a", "h-b"} {
		d := newDedup(t, redisStore(t, srv), idemqwatermill.Config{
			Scope:  scope,
			Logger: slog.New(slog.NewTextHandler(&logs, nil)),
		})
		r := newRouter(t)
		r.AddMiddleware(d.Middleware)
		r.AddConsumerHandler(name, fmt.Sprintf("in-%d", i), ps, func(msg *wmessage.Message) error {
			mu.Lock()
			defer mu.Unlock()
			runs[msg.Metadata.Get(keyField)]++
			return nil
		})
		startRouter(t, r)
	}
	msgs := make([]*wmessage.Message, len(keys))
	for i, k := range keys {
		msgs[i] = newMsg(k, "payload")
	}
	r := rand.New(rand.NewPCG(7, 8))
	routes := make([]int, len(keys))
	for i := range routes {
		routes[i] = r.IntN(2)
	}
	publishEach(t, ps, msgs, func(i int) string { return fmt.Sprintf("in-%d", routes[i]) })
	mu.Lock()
	defer mu.Unlock()
	return runs, logs.String()
}

// syncBuffer is a bytes.Buffer for two loggers at once.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
