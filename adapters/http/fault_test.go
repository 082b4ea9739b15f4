package idemqhttp_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	idemqhttp "github.com/idemq/idemq/adapters/http"
	"github.com/idemq/idemq/consumer"
	"github.com/idemq/idemq/dedupe"
	"github.com/idemq/idemq/dedupe/redisstore"
	"github.com/idemq/idemq/internal/testenv"
)

// TestStoreDown: while Redis does not answer, a guarded request gets 503
// with Retry-After and its handler does not run; once Redis is back, the
// retry runs once.
func TestStoreDown(t *testing.T) {
	t.Parallel()
	srv := testenv.Redis(t)
	proxy := testenv.NewProxy(t, srv.Addrs[0])
	client := redis.NewClient(&redis.Options{Addr: proxy.Addr(), ReadTimeout: time.Second,
		WriteTimeout: time.Second, MaxRetries: -1})
	t.Cleanup(func() { _ = client.Close() })
	store, err := redisstore.New(client, redisstore.WithPrefix(srv.Prefix))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close() })
	h := &orders{}
	m := newMiddleware(t, store, idemqhttp.Config{RetryAfter: 1500 * time.Millisecond})
	api := serve(t, m.Handler(h))
	if res := do(t, api, request{key: "before"}); res.status != http.StatusCreated {
		t.Fatalf("with Redis up: %d, want 201", res.status)
	}

	proxy.Freeze()
	down := do(t, api, request{key: "k1"})
	p := wantProblem(t, down, http.StatusServiceUnavailable, idemqhttp.ProblemUnavailable)
	if got := down.header.Get("Retry-After"); got != "2" {
		t.Errorf("Retry-After = %q, want 2 (1.5s rounded up)", got)
	}
	if n := h.charges.Load(); n != 1 {
		t.Fatalf("charges = %d with Redis down, want 1 (only the request before)", n)
	}
	t.Logf("503 detail: %s", p.Detail)
	proxy.Cut() // the frozen claim never reaches Redis
	proxy.Thaw()

	res := do(t, api, request{key: "k1"})
	if res.status != http.StatusCreated || res.replayed() || h.charges.Load() != 2 {
		t.Errorf("retry after Redis came back: %d, replayed %v, charges %d; want a fresh 201, 2 charges", res.status, res.replayed(), h.charges.Load())
	}
	if s := m.Stats(); s.GuardErrors != 1 {
		t.Errorf("Stats.GuardErrors = %d, want 1", s.GuardErrors)
	}
}

// TestCommitUnknown: a commit whose outcome is unknown is a 503 that says
// the request may have been carried out, never the handler's response
// (nothing may replay it) and never a replay of nothing; the claim stays
// until its lease ends, so a retry meanwhile gets 409.
func TestCommitUnknown(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, store dedupe.Store) {
		h := &orders{}
		spy := &spyStore{Store: store, commitErr: dedupe.ErrReplicaAcks} // not retried: at once
		srv := serve(t, newMiddleware(t, spy, idemqhttp.Config{}).Handler(h))
		p := wantProblem(t, do(t, srv, request{key: "k1"}), http.StatusServiceUnavailable, idemqhttp.ProblemUnavailable)
		if want := "the request may or may not have been carried out; retry with the same key"; p.Detail != want {
			t.Errorf("detail = %q, want %q", p.Detail, want)
		}
		if n := h.charges.Load(); n != 1 {
			t.Errorf("charges = %d, want 1", n)
		}
		healthy := serve(t, newMiddleware(t, store, idemqhttp.Config{}).Handler(h))
		wantProblem(t, do(t, healthy, request{key: "k1"}), http.StatusConflict, idemqhttp.ProblemInProgress) // the claim holds until its lease ends
	})
}

// TestHandlerOutlivesLease: when the guard loses a running handler's
// lease (the store reports the claim gone) the handler's context is
// cancelled with dedupe.ErrLeaseLost. A handler that gives up stores
// nothing: the client gets 503 and the retry runs. One that finishes
// anyway has done the work: its response is committed if no other owner
// took the key meanwhile, and replayed.
func TestHandlerOutlivesLease(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, store dedupe.Store) {
		spy := &spyStore{Store: store, lostLease: true}
		cancelled := make(chan error, 2)
		h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			<-r.Context().Done()
			cancelled <- context.Cause(r.Context())
			if r.URL.Query().Has("give-up") {
				http.Error(w, "gave up", http.StatusServiceUnavailable)
				return
			}
			w.WriteHeader(http.StatusCreated)
		})
		// The lease is lost at the first renewal, a third of it in; it must
		// be long enough for the claim's reply to come back within 2/3 of it
		// on a loaded machine, or the handler does not start at all.
		cfg := idemqhttp.Config{Guard: consumer.Guard{Lease: 600 * time.Millisecond}}
		srv := serve(t, newMiddleware(t, spy, cfg).Handler(h))

		wantProblem(t, do(t, srv, request{key: "k1", path: "/orders?give-up"}), http.StatusServiceUnavailable, idemqhttp.ProblemUnavailable)
		if cause := await(t, cancelled, "the handler's cancellation"); cause != dedupe.ErrLeaseLost {
			t.Errorf("the handler's context ended with %v, want dedupe.ErrLeaseLost", cause)
		}
		healthy := serve(t, newMiddleware(t, store, idemqhttp.Config{}).Handler(&orders{}))
		if res := do(t, healthy, request{key: "k1", path: "/orders?give-up"}); res.status != http.StatusCreated || res.replayed() {
			t.Errorf("retry: %d, replayed %v; want a fresh 201 (nothing stored, the key free)", res.status, res.replayed())
		}

		first := do(t, srv, request{key: "k2"})
		await(t, cancelled, "the handler's cancellation")
		again := do(t, healthy, request{key: "k2"})
		if first.status != http.StatusCreated || !again.replayed() {
			t.Errorf("finished anyway: %d, the retry replayed %v; want 201 stored and replayed", first.status, again.replayed())
		}
	})
}

// TestClientGone: a client that disconnects while its handler runs does
// not stop the response from being stored: its retry gets it, and the
// handler ran once.
func TestClientGone(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, store dedupe.Store) {
		h := newBlocking()
		guarded := newMiddleware(t, store, idemqhttp.Config{}).Handler(h)
		served := make(chan struct{}, 1)
		srv := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			guarded.ServeHTTP(w, r)
			served <- struct{}{}
		}))
		ctx, cancel := context.WithCancel(t.Context())
		gone := make(chan error, 1)
		go func() {
			_, err := send(ctx, srv, request{key: "k1"})
			gone <- err
		}()
		await(t, h.started, "the handler")
		cancel()
		if err := await(t, gone, "the client"); err == nil {
			t.Fatal("the cancelled client got a response")
		}
		close(h.release) // the handler finishes after its client left
		await(t, served, "the middleware")
		res := do(t, srv, request{key: "k1"})
		if res.status != http.StatusCreated || !res.replayed() || res.body != "run 1" || h.runs.Load() != 1 {
			t.Errorf("retry: %d %q, replayed %v, runs %d; want the stored 201 run 1", res.status, res.body, res.replayed(), h.runs.Load())
		}
		await(t, served, "the middleware") // the retry's
	})
}
