package idemqwatermill_test

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"

	wmessage "github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/message/router/middleware"

	idemqwatermill "github.com/idemq/idemq/adapters/watermill"
	"github.com/idemq/idemq/dedupe"
	"github.com/idemq/idemq/internal/testenv"
)

// orderHandler fails the first attempt of key "flaky", panics on "broken"
// until fixed, and counts attempts per key.
type orderHandler struct {
	fixed    atomic.Bool
	mu       sync.Mutex
	attempts map[string]int
}

func (o *orderHandler) handle(msg *wmessage.Message) ([]*wmessage.Message, error) {
	k := msg.Metadata.Get(keyField)
	o.mu.Lock()
	if o.attempts == nil {
		o.attempts = map[string]int{}
	}
	o.attempts[k]++
	n := o.attempts[k]
	o.mu.Unlock()
	switch {
	case k == "flaky" && n == 1:
		return nil, errBoom
	case k == "broken" && !o.fixed.Load():
		panic("broken handler")
	}
	return []*wmessage.Message{output("out-"+k, k, "done "+k)}, nil
}

func (o *orderHandler) count(k string) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.attempts[k]
}

func retry() middleware.Retry {
	return middleware.Retry{MaxRetries: 2, InitialInterval: time.Millisecond, MaxElapsedTime: 5 * time.Second}
}

// TestMiddlewareOrder proves the documented order, outer to inner:
// PoisonQueue (filtered by Poisonable), the Deduplicator, Retry, Recoverer,
// handler.
func TestMiddlewareOrder(t *testing.T) {
	t.Parallel()

	t.Run("InRouter", func(t *testing.T) {
		t.Parallel()
		srv := testenv.Redis(t)
		ps := newGoChannel(t)
		outputs, poisoned := collect(t, ps, "out"), collect(t, ps, "poison")
		poison, err := middleware.PoisonQueueWithFilter(ps, "poison", idemqwatermill.Poisonable)
		if err != nil {
			t.Fatal(err)
		}
		d := newDedup(t, redisStore(t, srv), idemqwatermill.Config{})
		var h orderHandler
		r := newRouter(t)
		r.AddMiddleware(poison, d.Middleware, retry().Middleware, middleware.Recoverer)
		r.AddHandler("h", "in", ps, "out", ps, h.handle)
		startRouter(t, r)

		// A handler that fails once is retried in place, inside one claim.
		publishAll(t, ps, "in", []*wmessage.Message{newMsg("flaky", "x")})
		publishAll(t, ps, "in", []*wmessage.Message{newMsg("flaky", "x")})
		if got := h.count("flaky"); got != 2 {
			t.Errorf("flaky: %d attempts, want 2 (one failure, one success, then a duplicate)", got)
		}
		if got := outputs.byKey()["flaky"]; len(got) != 2 || !got[0].Equals(got[1]) {
			t.Errorf("flaky: outputs %v, want the output and its re-emitted copy", got)
		}

		// A handler that always panics is retried, then poisoned (acked),
		// and nothing is committed: the poisoned message, replayed once
		// the bug is fixed, runs.
		publishAll(t, ps, "in", []*wmessage.Message{newMsg("broken", "x")})
		if got := h.count("broken"); got != 3 {
			t.Errorf("broken: %d attempts, want 3 (MaxRetries 2)", got)
		}
		bad := poisoned.byKey()[""]
		if len(bad) != 1 || bad[0].Metadata.Get(keyField) != "broken" {
			t.Fatalf("poison queue holds %v, want the broken message", bad)
		}
		h.fixed.Store(true)
		publishAll(t, ps, "in", []*wmessage.Message{bad[0].Copy()})
		if got := h.count("broken"); got != 4 {
			t.Errorf("broken: %d attempts after the replay, want 4 (the replay runs)", got)
		}
		if got := outputs.byKey()["broken"]; len(got) != 1 {
			t.Errorf("broken: %d outputs after the replay, want 1", len(got))
		}
	})

	t.Run("GuardErrorIsNackedNotPoisonedNorRetried", func(t *testing.T) {
		t.Parallel()
		closed := dedupe.NewMemoryStore()
		_ = closed.Close()
		poisonPub := &recordingPublisher{}
		poison, err := middleware.PoisonQueueWithFilter(poisonPub, "poison", idemqwatermill.Poisonable)
		if err != nil {
			t.Fatal(err)
		}
		var h orderHandler
		chain := poison(newDedup(t, closed, idemqwatermill.Config{}).Middleware(retry().Middleware(middleware.Recoverer(h.handle))))
		if _, err := chain(newMsg("k1", "x")); err == nil {
			t.Errorf("chain error = nil, want the guard error (a nack)")
		}
		if n := len(poisonPub.messages()); n != 0 || h.count("k1") != 0 {
			t.Errorf("poisoned %d, handler attempts %d; want 0, 0", n, h.count("k1"))
		}
	})

	// Why PoisonQueue goes outside: inside the guard it turns a failure into
	// a success, the guard commits it, and the replay of the poisoned
	// message is dropped as a duplicate.
	t.Run("PoisonQueueInsideTheGuardLosesTheReplay", func(t *testing.T) {
		t.Parallel()
		poisonPub := &recordingPublisher{}
		poison, err := middleware.PoisonQueue(poisonPub, "poison")
		if err != nil {
			t.Fatal(err)
		}
		var h orderHandler
		chain := newDedup(t, memoryStore(t), idemqwatermill.Config{}).Middleware(poison(middleware.Recoverer(h.handle)))
		if _, err := chain(newMsg("broken", "x")); err != nil || len(poisonPub.messages()) != 1 {
			t.Fatalf("broken message: %v, %d poisoned; want nil, 1", err, len(poisonPub.messages()))
		}
		h.fixed.Store(true)
		if _, err := chain(poisonPub.messages()[0]); err != nil || h.count("broken") != 1 {
			t.Errorf("replay: %v with %d attempts; want nil with 1 (dropped as a duplicate)", err, h.count("broken"))
		}
	})
}

// failingPublisher refuses every publish, as a poison topic whose broker is
// down.
type failingPublisher struct{}

func (failingPublisher) Publish(string, ...*wmessage.Message) error { return errBoom }
func (failingPublisher) Close() error                               { return nil }

// TestPoisonPublishFailureNacks: when the poison queue cannot take a failed
// message, PoisonQueue returns its publish error (a nack) and nothing was
// committed, so the redelivery runs the handler again; no message is lost.
func TestPoisonPublishFailureNacks(t *testing.T) {
	t.Parallel()
	poison, err := middleware.PoisonQueueWithFilter(failingPublisher{}, "poison", idemqwatermill.Poisonable)
	if err != nil {
		t.Fatal(err)
	}
	o := &orderHandler{}
	d := newDedup(t, memoryStore(t), idemqwatermill.Config{})
	h := poison(d.Middleware(o.handle))
	if _, err := h(newMsg("flaky", "a")); err == nil {
		t.Fatal("the first delivery's handler failed and the poison publish failed: want an error (nack), got nil (ack)")
	}
	if out, err := h(newMsg("flaky", "a")); err != nil || len(out) != 1 {
		t.Fatalf("redelivery = %v, %v; want the handler's output", out, err)
	}
	if n := o.count("flaky"); n != 2 {
		t.Errorf("handler attempts = %d, want 2: the failed delivery committed nothing", n)
	}
}
